//! `lorae explore` in a real headless Chromium, driven over WebDriver (chromedriver, W3C
//! protocol, spoken here with ureq): the page loads two runs side by side, a slider moved with
//! the keyboard changes the decoded image, Reseed changes the samples, a click on the strip
//! changes the interpolation; a screenshot is saved to `$CARGO_TARGET_TMPDIR`. It needs Debian's
//! `chromium` and `chromium-driver` (`scripts/test-browser.sh` installs them and runs it) and
//! fails without them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::common::tiny_run;
use crate::explore::Explorer;

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn binary(var: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_string()));
    assert!(
        path.exists(),
        "{} is missing: install Debian's chromium and chromium-driver (scripts/test-browser.sh does) or set {var}",
        path.display()
    );
    path
}

/// A chromedriver process and one browser session, both ended when dropped.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        let chromium = binary("LORAE_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("LORAE_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        // The flags a closed network needs (no background connections), as root (no sandbox).
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1100",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            agent,
        };
        let answer = browser.send("POST", "/session", caps);
        browser.session = answer["sessionId"].as_str().unwrap().to_string();
        browser
    }

    /// A WebDriver command; its `value`.
    fn send(&self, method: &str, path: &str, body: Value) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let result = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {method} {path}: {code} {}",
                    r.into_string().unwrap()
                )
            }
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        };
        let mut value: Value = serde_json::from_str(&response.into_string().unwrap()).unwrap();
        value["value"].take()
    }

    fn script(&self, code: &str) -> Value {
        self.send("POST", "/execute/sync", json!({"script": code, "args": []}))
    }

    fn element(&self, css: &str) -> String {
        let found = self.send(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        found[ELEMENT].as_str().unwrap().to_string()
    }

    /// Waits until `condition` (a JS expression) is true, up to 60 s.
    fn wait(&self, condition: &str, what: &str, server: &Explorer) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.script(&format!("return !!({condition});")) != json!(true) {
            if Instant::now() > deadline {
                let state = self.script(
                    "return [document.getElementById('status').textContent, \
                     ...[...document.querySelectorAll('img')].map(i => \
                       `${i.closest('section').id} ${i.className}: version ${i.dataset.version} pending ${i.dataset.pending}`)];",
                );
                panic!(
                    "timed out waiting for {what}: {state:#}\nserver: {}",
                    server.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `data-NAME` of the first element matching `css`.
    fn data(&self, css: &str, name: &str) -> Value {
        self.script(&format!(
            "return document.querySelector('{css}').dataset['{name}'] || null;"
        ))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = self.agent.delete(&url).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Every image of `css` has loaded at least once and none is waiting for the server.
fn settled(css: &str) -> String {
    format!(
        "[...document.querySelectorAll('{css}')].length > 0 && \
         [...document.querySelectorAll('{css}')].every(i => i.dataset.hash && i.dataset.pending === '0')"
    )
}

#[test]
#[ignore = "needs chromium and chromedriver (scripts/test-browser.sh installs them and runs this)"]
fn browser_moves_a_slider_and_the_decoded_image_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (ae, irmae) = (dir.path().join("ae"), dir.path().join("irmae"));
    tiny_run(&ae, &["--model", "ae"]);
    tiny_run(&irmae, &["--model", "irmae", "--layers", "2"]);
    let explorer = Explorer::start(&[&ae, &irmae]);
    let browser = Browser::start(&dir.path().join("profile"));
    browser.send("POST", "/url", json!({"url": explorer.url}));
    browser.wait(
        &format!(
            "{} && {} && {}",
            settled("img.decoded"),
            settled("img.samples"),
            settled("img.interpolation")
        ),
        "the first images",
        &explorer,
    );
    assert_eq!(
        browser.script("return document.querySelectorAll('section.run').length;"),
        json!(2),
        "two runs side by side"
    );
    let status = browser.script("return document.getElementById('status').textContent;");
    assert_eq!(status, json!("2 runs loaded"));

    // The End key takes the first slider of the first run to +3σ.
    let decoded = "#run-0 img.decoded";
    let (before, version) = (
        browser.data(decoded, "hash"),
        browser.data(decoded, "version"),
    );
    let slider = browser.element("#run-0 input.pc");
    browser.send(
        "POST",
        &format!("/element/{slider}/value"),
        json!({"text": "\u{E010}"}),
    );
    browser.wait(
        &format!(
            "document.querySelector('{decoded}').dataset.version !== {version} && {}",
            settled(decoded)
        ),
        "the decoded image after the slider moved",
        &explorer,
    );
    assert_eq!(
        browser.script("return document.querySelector('#run-0 input.pc').value;"),
        json!("3")
    );
    assert_ne!(
        browser.data(decoded, "hash"),
        before,
        "the decoded image changed"
    );
    assert_eq!(
        browser.data("#run-1 img.decoded", "version"),
        json!("1"),
        "the other run's point did not move"
    );

    // Reseed draws new samples in every run.
    let samples = "#run-1 img.samples";
    let before = browser.data(samples, "hash");
    let reseed = browser.element("#reseed");
    browser.send("POST", &format!("/element/{reseed}/click"), json!({}));
    browser.wait(
        &format!(
            "document.querySelector('{samples}').dataset.version === '2' && {}",
            settled("img.samples")
        ),
        "the reseeded samples",
        &explorer,
    );
    assert_ne!(browser.data(samples, "hash"), before, "new samples");

    // Clicking the strip's fifth image sets the start of the interpolation to it.
    let line = "#run-0 img.interpolation";
    let before = browser.data(line, "hash");
    let strip = browser.element("#run-0 img.strip");
    let x = browser.script(
        "const s = document.querySelector('#run-0 img.strip'); \
         return Math.round((2 + 34 * 4 + 16) * s.clientWidth / s.naturalWidth - s.clientWidth / 2);",
    );
    browser.send(
        "POST",
        "/actions",
        json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
            {"type": "pointerMove", "origin": {ELEMENT: strip}, "x": x, "y": 0},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]}]}),
    );
    browser.wait(
        &format!(
            "document.getElementById('from').value === '4' && document.querySelector('{line}').dataset.version === '2' && {}",
            settled("img.interpolation")
        ),
        "the interpolation from the clicked image",
        &explorer,
    );
    assert_ne!(browser.data(line, "hash"), before, "a new interpolation");

    let shot = browser.send("GET", "/screenshot", json!(null));
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot.as_str().unwrap())
        .unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("explore-browser.png");
    std::fs::write(&path, &png).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert!(img.width() >= 800, "screenshot {}", path.display());
    eprintln!("screenshot: {}", path.display());
}
