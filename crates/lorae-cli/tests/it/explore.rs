//! `lorae explore` over tiny shapes runs: every endpoint's status and payload, bad requests
//! answered 400/404/405/413 with the server still serving, requests from elsewhere (another
//! `Host`, another or no `Origin`, a non-JSON POST) refused 403/415, the security headers, a
//! burst of 200 decodes from 8 clients, Ctrl-C, and the command's bad inputs.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{fails_with, tiny_run};

/// A running `lorae explore RUNS --port 0`, killed when dropped. Its stderr goes to a file (a
/// pipe nobody reads could fill and block it).
pub struct Explorer {
    pub child: Child,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    log: tempfile::NamedTempFile,
}

impl Explorer {
    pub fn start(runs: &[&Path]) -> Explorer {
        Explorer::start_with(runs, &[])
    }

    /// With `extra` flags (`--device wgpu`).
    pub fn start_with(runs: &[&Path], extra: &[&str]) -> Explorer {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_lorae"))
            .arg("explore")
            .args(runs)
            .args(["--port", "0", "--workers", "8"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut ex = Explorer {
            url: String::new(),
            child,
            log,
        };
        match line.split_whitespace().find(|w| w.starts_with("http://")) {
            Some(url) => ex.url = url.to_string(),
            None => panic!("lorae explore printed {line:?}; stderr: {}", ex.stderr()),
        }
        ex
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }

    /// (status, content type, body) of `GET path` or, with a body, `POST path` as the page sends
    /// it (JSON, from its own origin).
    pub fn call(&self, path: &str, body: Option<&str>) -> (u16, String, Vec<u8>) {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let url = format!("{}{}", self.url, path.trim_start_matches('/'));
        let result = match body {
            None => agent.get(&url).call(),
            Some(b) => agent
                .post(&url)
                .set("Origin", &format!("http://{}", self.addr()))
                .set("Content-Type", "application/json")
                .send_string(b),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        let status = response.status();
        let kind = response.content_type().to_string();
        let mut bytes = Vec::new();
        response.into_reader().read_to_end(&mut bytes).unwrap();
        (status, kind, bytes)
    }

    /// The PNG of a 200 answer, decoded.
    pub fn png(&self, path: &str, body: Option<&str>) -> image::RgbImage {
        let (status, kind, bytes) = self.call(path, body);
        assert_eq!(
            status,
            200,
            "{path} {body:?}: {}",
            String::from_utf8_lossy(&bytes)
        );
        assert_eq!(kind, "image/png");
        image::load_from_memory(&bytes).unwrap().to_rgb8()
    }

    /// A 4xx answer's status and JSON message.
    pub fn refused(&self, path: &str, body: Option<&str>) -> (u16, String) {
        let (status, kind, bytes) = self.call(path, body);
        assert_eq!(kind, "application/json", "{path} {body:?}");
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        (status, json["error"].as_str().unwrap().to_string())
    }

    /// Sends `head` (request line and headers, without the blank line; `Connection: close` is
    /// added) and `body` as they are, and returns the answer's status, headers (names in lower
    /// case) and body.
    pub fn raw(&self, head: &str, body: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut socket = std::net::TcpStream::connect(self.addr()).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            socket,
            "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).unwrap();
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{head}: {}", String::from_utf8_lossy(&answer)));
        let text = String::from_utf8(answer[..split].to_vec()).unwrap();
        let mut lines = text.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (
            status.parse().unwrap(),
            headers,
            answer[split + 4..].to_vec(),
        )
    }
}

/// The value of header `name` (lower case) in `headers`.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Shapes are 32×32 RGB; a PNG of `rows × cols` cells has a 2-pixel gap around each.
fn grid_size(rows: u32, cols: u32) -> (u32, u32) {
    (cols * 34 + 2, rows * 34 + 2)
}

#[test]
fn explore_endpoints_answer_and_bad_requests_get_an_error_status() {
    let dir = tempfile::tempdir().unwrap();
    let (ae, irmae) = (dir.path().join("ae"), dir.path().join("irmae"));
    tiny_run(&ae, &["--model", "ae"]);
    tiny_run(&irmae, &["--model", "irmae", "--layers", "2"]);
    let ex = Explorer::start(&[&ae, &irmae]);

    let (status, kind, page) = ex.call("/", None);
    assert_eq!((status, kind.as_str()), (200, "text/html"));
    assert!(String::from_utf8(page).unwrap().contains("explore.js"));
    for (path, kind) in [
        ("/explore.js", "text/javascript"),
        ("/explore.css", "text/css"),
    ] {
        let (status, got, _) = ex.call(path, None);
        assert_eq!((status, got.as_str()), (200, kind), "{path}");
    }

    let (status, _, body) = ex.call("/api/runs", None);
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let runs = info["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["name"], "ae");
    assert_eq!(runs[1]["model"], "irmae");
    for run in runs {
        let rank = run["spectrum"]["effective_rank"].as_u64().unwrap();
        let sliders = run["slider_std"].as_array().unwrap().len() as u64;
        assert_eq!(sliders, rank.clamp(1, 16), "{run}");
        assert_eq!(
            run["spectrum"]["singular_values"].as_array().unwrap().len() as u64,
            run["latent_dim"].as_u64().unwrap()
        );
        assert_eq!(run["eval_images"], 120);
        assert_eq!(run["image_shape"], serde_json::json!([3, 32, 32]));
    }

    // A point: one image; the same point decodes the same, another point differently.
    let at = |pc: &str| ex.png("/api/runs/1/decode", Some(&format!("{{\"pc\": {pc}}}")));
    let mean = at("[]");
    assert_eq!(mean.dimensions(), grid_size(1, 1));
    assert_eq!(at("[0]"), mean, "missing components are 0");
    assert_ne!(at("[2.5]"), mean, "moving along PC 1 changes the image");
    assert_eq!(at("[2.5]"), at("[2.5]"));
    assert_ne!(at("[10]"), at("[-10]"), "±10σ is the widest point accepted");

    // Samples: a near-square grid; the seed decides the draw.
    let samples = |body: &str| ex.png("/api/runs/0/samples", Some(body));
    let gmm = samples(r#"{"sampler": "gmm", "k": 3, "n": 6, "seed": 1}"#);
    assert_eq!(gmm.dimensions(), grid_size(2, 3));
    assert_eq!(
        gmm,
        samples(r#"{"sampler": "gmm", "k": 3, "n": 6, "seed": 1}"#)
    );
    assert_ne!(
        gmm,
        samples(r#"{"sampler": "gmm", "k": 3, "n": 6, "seed": 2}"#)
    );
    let gaussian = samples(r#"{"sampler": "gaussian", "n": 16}"#);
    assert_eq!(gaussian.dimensions(), grid_size(4, 4));

    // Interpolation: the two originals around `steps` decoded points; a strip of originals.
    let line = ex.png(
        "/api/runs/0/interpolate",
        Some(r#"{"a": 3, "b": 7, "steps": 5}"#),
    );
    assert_eq!(line.dimensions(), grid_size(1, 7));
    let strip = ex.png("/api/runs/0/strip?from=3&n=5", None);
    assert_eq!(strip.dimensions(), grid_size(1, 5));
    let cell = |img: &image::RgbImage, i: u32| {
        image::imageops::crop_imm(img, 2 + 34 * i, 2, 32, 32).to_image()
    };
    assert_eq!(cell(&line, 0), cell(&strip, 0), "image 3 starts the line");
    assert_eq!(cell(&line, 6), cell(&strip, 4), "image 7 ends it");
    assert_eq!(
        ex.png("/api/runs/0/strip?from=118&n=10", None).dimensions(),
        grid_size(1, 2),
        "a strip stops at the last evaluation image"
    );

    let bad: &[(&str, Option<&str>, u16, &str)] = &[
        (
            "/api/runs/1/decode",
            Some(r#"{"pc": [NaN]}"#),
            400,
            "not the expected JSON",
        ),
        (
            "/api/runs/1/decode",
            Some(r#"{"pc": [1e999]}"#),
            400,
            "out of range",
        ),
        (
            "/api/runs/1/decode",
            Some(r#"{"pc": [1e308]}"#),
            400,
            "`pc`: 1e308 (slider 1: each slider is a finite number of standard deviations from -10 to 10)",
        ),
        (
            "/api/runs/1/decode",
            Some(r#"{"pc": [11]}"#),
            400,
            "`pc`: 11 (slider 1",
        ),
        (
            "/api/runs/0/decode",
            Some(r#"{"pc": [-10.5]}"#),
            400,
            "from -10 to 10",
        ),
        (
            "/api/runs/1/decode",
            Some(r#"{"pc": "up"}"#),
            400,
            "expected a sequence",
        ),
        (
            "/api/runs/1/decode",
            Some(r#"{"pc": [0], "zoom": 2}"#),
            400,
            "unknown field `zoom`",
        ),
        (
            "/api/runs/1/decode",
            Some("{\"pc\": [0"),
            400,
            "not the expected JSON",
        ),
        (
            "/api/runs/1/decode",
            Some(&format!("{{\"pc\": {:?}}}", vec![0.0; 17])),
            400,
            "sliders",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "gmm", "k": 1000000}"#),
            400,
            "1 to 50 components",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "gmm", "k": 0}"#),
            400,
            "1 to 50 components",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "gmm", "n": 100000}"#),
            400,
            "1 to 64",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "gaussian", "n": 0}"#),
            400,
            "`n`: 0 (give 1 to 64)",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "gaussian", "seed": -1}"#),
            400,
            "not the expected JSON",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "gaussian", "seed": 18446744073709551616}"#),
            400,
            "not the expected JSON",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "gmm", "k": -1}"#),
            400,
            "not the expected JSON",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "flow"}"#),
            400,
            "unknown sampler `flow`",
        ),
        (
            "/api/runs/0/samples",
            Some(r#"{"sampler": "prior"}"#),
            400,
            "only a VAE has a prior",
        ),
        (
            "/api/runs/0/interpolate",
            Some(r#"{"a": 0, "b": 120}"#),
            400,
            "numbered 0 to 119",
        ),
        (
            "/api/runs/0/interpolate",
            Some(r#"{"a": 120, "b": 0}"#),
            400,
            "`a`: 120 (evaluation images are numbered 0 to 119)",
        ),
        (
            "/api/runs/0/interpolate",
            Some(r#"{"a": 0, "b": 1, "steps": 1}"#),
            400,
            "2 to 32 points",
        ),
        (
            "/api/runs/0/interpolate",
            Some(r#"{"a": 0, "b": 1, "steps": 33}"#),
            400,
            "`steps`: 33 (an interpolation has 2 to 32 points)",
        ),
        (
            "/api/runs/0/strip?from=-1",
            None,
            400,
            "non-negative whole number",
        ),
        ("/api/runs/0/strip?from=500", None, 400, "numbered 0 to 119"),
        ("/api/runs/0/strip?n=0", None, 400, "`n`: 0 (give 1 to 64)"),
        ("/api/runs/0/strip?n=65", None, 400, "`n`: 65 (give 1 to 64)"),
        (
            "/api/runs/2/decode",
            Some(r#"{"pc": []}"#),
            404,
            "runs 0 to 1",
        ),
        ("/api/runs/x/strip", None, 404, "no run `x`"),
        ("/api/runs/0/rotate", Some("{}"), 404, "no such endpoint"),
        ("/etc/passwd", None, 404, "no such page"),
        ("/api/runs/0/decode", None, 405, "GET is not allowed"),
        ("/api/runs", Some("{}"), 405, "POST is not allowed"),
    ];
    for &(path, body, status, needle) in bad {
        let (got, message) = ex.refused(path, body);
        assert_eq!(got, status, "{path} {body:?}: {message}");
        assert!(message.contains(needle), "{path} {body:?}: {message}");
        assert_eq!(
            ex.call("/api/runs", None).0,
            200,
            "still serving after {path}"
        );
    }
    match ureq::get(&format!("{}api/runs/0/decode", ex.url)).call() {
        Err(ureq::Error::Status(405, r)) => assert_eq!(r.header("allow"), Some("POST")),
        other => panic!("GET decode: {other:?}"),
    }
    let huge = format!("{{\"pc\": [{}0]}}", "0,".repeat(40_000));
    let (status, message) = ex.refused("/api/runs/0/decode", Some(&huge));
    assert_eq!(status, 413, "{message}");
    // Over the drain limit the 413 comes before the body is read: headers alone get it.
    let addr = ex.url.trim_start_matches("http://").trim_end_matches('/');
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    write!(
        socket,
        "POST /api/runs/0/decode HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    BufReader::new(&socket).read_line(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    assert_eq!(at("[1]"), at("[1]"), "still decoding");
}

#[test]
fn explore_answers_only_its_own_host_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("ae");
    tiny_run(&run, &["--model", "ae"]);
    let ex = Explorer::start(&[&run]);
    let addr = ex.addr().to_string();
    let port = addr.rsplit(':').next().unwrap().to_string();
    let json = |body: &[u8]| -> String {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap();
        value["error"].as_str().unwrap().to_string()
    };

    // Host: the server's own names with its port, nothing else (DNS rebinding).
    let get = |host: &str| ex.raw(&format!("GET /api/runs HTTP/1.1\r\nHost: {host}"), "");
    for host in [
        addr.clone(),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(get(&host).0, 200, "Host: {host}");
    }
    let (status, headers, body) = get("evil.example");
    assert_eq!(status, 403);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let message = json(&body);
    for needle in [
        "Host `evil.example` refused".to_string(),
        addr.clone(),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert!(message.contains(&needle), "{message}");
    }
    for host in ["127.0.0.1", "localhost:1", "evil.example:80"] {
        assert_eq!(get(host).0, 403, "Host: {host}");
    }
    let (status, _, body) = ex.raw("GET /api/runs HTTP/1.1", "");
    assert_eq!(status, 403, "no Host header");
    assert!(json(&body).contains("no Host header"));
    let (status, _, _) = ex.raw(
        &format!("GET http://evil.example/api/runs HTTP/1.1\r\nHost: {addr}"),
        "",
    );
    assert_eq!(status, 403, "an absolute request target on another host");

    // POST: from the page's own origin, as JSON (cross-site requests).
    let samples = r#"{"sampler": "gaussian", "n": 4, "seed": 1}"#;
    let post = |extra: &str| {
        ex.raw(
            &format!("POST /api/runs/0/samples HTTP/1.1\r\nHost: {addr}{extra}"),
            samples,
        )
    };
    let own = format!("\r\nOrigin: http://{addr}");
    let (status, headers, png) = post(&format!("{own}\r\nContent-Type: application/json"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&png));
    assert_eq!(header(&headers, "content-type"), Some("image/png"));
    assert!(image::load_from_memory(&png).is_ok());
    let (status, _, _) = ex.raw(
        &format!(
            "POST /api/runs/0/samples HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\nContent-Type: application/json; charset=utf-8"
        ),
        samples,
    );
    assert_eq!(status, 200, "the page opened at localhost");
    let refused: &[(&str, u16, &str)] = &[
        (
            "\r\nOrigin: http://evil.example\r\nContent-Type: application/json",
            403,
            "POST from origin `http://evil.example` refused",
        ),
        (
            "\r\nOrigin: null\r\nContent-Type: application/json",
            403,
            "origin `null`",
        ),
        (
            "\r\nContent-Type: application/json",
            403,
            "POST without an Origin header refused",
        ),
        (
            "\r\nOrigin: http://evil.example\r\nContent-Type: text/plain",
            403,
            "http://evil.example",
        ),
    ];
    for &(extra, status, needle) in refused {
        let (got, headers, body) = post(extra);
        let message = json(&body);
        assert_eq!(got, status, "{extra:?}: {message}");
        assert!(message.contains(needle), "{extra:?}: {message}");
        assert!(message.contains(&format!("http://{addr}")), "{message}");
        assert_eq!(header(&headers, "access-control-allow-origin"), None);
    }
    for (kind, needle) in [
        ("\r\nContent-Type: text/plain", "Content-Type `text/plain`"),
        ("", "no Content-Type"),
    ] {
        let (status, _, body) = post(&format!("{own}{kind}"));
        let message = json(&body);
        assert_eq!(status, 415, "{kind:?}: {message}");
        assert!(message.contains(needle), "{message}");
        assert!(message.contains("application/json"), "{message}");
    }
    // A foreign page's GET and a CORS preflight are refused, without any CORS header.
    let (status, headers, _) = ex.raw(
        &format!("GET /api/runs HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example"),
        "",
    );
    assert_eq!(status, 403);
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    let (status, headers, _) = ex.raw(
        &format!(
            "OPTIONS /api/runs/0/samples HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST"
        ),
        "",
    );
    assert_eq!(status, 403, "preflight");
    assert_eq!(header(&headers, "access-control-allow-origin"), None);

    // The security headers, on pages, API answers, images and errors alike.
    for (head, status) in [
        (format!("GET / HTTP/1.1\r\nHost: {addr}"), 200),
        (format!("GET /explore.js HTTP/1.1\r\nHost: {addr}"), 200),
        (format!("GET /api/runs HTTP/1.1\r\nHost: {addr}"), 200),
        (
            format!("GET /api/runs/0/strip?n=2 HTTP/1.1\r\nHost: {addr}"),
            200,
        ),
        (format!("GET /nothing HTTP/1.1\r\nHost: {addr}"), 404),
        ("GET / HTTP/1.1\r\nHost: evil.example".to_string(), 403),
    ] {
        let (got, headers, _) = ex.raw(&head, "");
        assert_eq!(got, status, "{head}");
        let has =
            |name: &str| header(&headers, name).unwrap_or_else(|| panic!("{head}: no {name}"));
        assert_eq!(has("x-content-type-options"), "nosniff", "{head}");
        assert_eq!(has("x-frame-options"), "DENY", "{head}");
        assert!(
            has("content-security-policy").contains("frame-ancestors 'none'"),
            "{head}"
        );
        assert_eq!(has("cross-origin-resource-policy"), "same-origin", "{head}");
        assert_eq!(has("cache-control"), "no-store", "{head}");
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            None,
            "{head}"
        );
    }
    assert_eq!(ex.call("/api/runs", None).0, 200, "still serving");
}

#[test]
fn explore_answers_a_burst_of_decodes_from_many_clients_then_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("lorae");
    tiny_run(&run, &["--model", "lorae", "--lambda", "1e-3"]);
    let mut ex = Explorer::start(&[&run]);
    let ex_ref = &ex;
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..8)
            .map(|c| {
                scope.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let t = -3.0 + 6.0 * (c * 25 + i) as f64 / 199.0;
                            ex_ref
                                .call("/api/runs/0/decode", Some(&format!("{{\"pc\": [{t}]}}")))
                                .0
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    assert_eq!(answers.len(), 200);
    assert!(answers.iter().all(|&s| s == 200), "{answers:?}");

    let pid = ex.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = ex.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "lorae explore did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = ex.stderr();
    assert!(status.success(), "exit {status:?}: {err}");
    assert!(err.contains("lorae explore: stopped"), "{err}");
}

#[test]
fn explore_refuses_bad_runs_ports_and_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    fails_with(&["explore", missing.to_str().unwrap()], "missing");
    fails_with(&["explore"], "RUNS");
    fails_with(&["explore", ".", "--host", "example.org"], "--host");
    let gan = dir.path().join("gan");
    tiny_run(&gan, &["--model", "gan"]);
    fails_with(&["explore", gan.to_str().unwrap()], "GAN");
    let ae = dir.path().join("ae");
    tiny_run(&ae, &["--model", "ae"]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    fails_with(
        &["explore", ae.to_str().unwrap(), "--port", &port],
        "cannot listen on 127.0.0.1",
    );
    fails_with(
        &["explore", ae.to_str().unwrap(), "--fit-limit", "1"],
        "fit-limit",
    );
    fails_with(
        &["explore", ae.to_str().unwrap(), "--limit", "1"],
        "--limit 1",
    );
    fails_with(
        &["explore", ae.to_str().unwrap(), "--workers", "0"],
        "--workers",
    );
}

/// One seeded mutation of `seed`: bytes flipped, cut, repeated or replaced by extremes.
fn mutate(seed: &str, rng: &mut rand_chacha::ChaCha8Rng) -> String {
    use rand::Rng;
    const EXTREMES: [&str; 12] = [
        "1e308",
        "-1e308",
        "NaN",
        "-0",
        "18446744073709551616",
        "-1",
        "null",
        "[]",
        "{}",
        "\"x\"",
        "1.5",
        "[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]",
    ];
    let mut s = seed.as_bytes().to_vec();
    for _ in 0..rng.random_range(1..4) {
        let at = rng.random_range(0..=s.len());
        match rng.random_range(0..5) {
            0 if !s.is_empty() => {
                let i = rng.random_range(0..s.len());
                s[i] = rng.random();
            }
            1 => s.truncate(at),
            2 => {
                let piece = s[at..].to_vec();
                s.extend_from_slice(&piece.repeat(rng.random_range(1..50)));
            }
            _ => {
                let e = EXTREMES[rng.random_range(0..EXTREMES.len())];
                s.splice(at..at, e.bytes());
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

#[test]
fn explore_survives_seeded_mutations_of_its_requests() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("irmae");
    tiny_run(&run, &["--model", "irmae", "--layers", "2"]);
    let ex = Explorer::start(&[&run]);
    let host = ex.addr().to_string();
    let origin = format!("http://{host}");
    let posts = [
        ("/api/runs/0/decode", r#"{"pc": [1.5, -2]}"#),
        (
            "/api/runs/0/samples",
            r#"{"sampler": "gmm", "k": 3, "n": 4, "seed": 1}"#,
        ),
        ("/api/runs/0/interpolate", r#"{"a": 0, "b": 1, "steps": 4}"#),
    ];
    let gets = [
        "/api/runs",
        "/api/runs/0/strip?from=0&n=4",
        "/explore.js",
        "/",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
    let mut seen = std::collections::BTreeMap::<u16, usize>::new();
    for case in 0..240 {
        let (method, path, body) = match rng.random_range(0..4) {
            0 | 1 => {
                let (path, body) = posts[rng.random_range(0..posts.len())];
                ("POST", path.to_string(), mutate(body, &mut rng))
            }
            2 => {
                let path = gets[rng.random_range(0..gets.len())];
                ("GET", mutate(path, &mut rng), String::new())
            }
            _ => {
                let methods = ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "GET", "POST"];
                let (path, body) = posts[rng.random_range(0..posts.len())];
                let m = methods[rng.random_range(0..methods.len())];
                (m, mutate(path, &mut rng), body.to_string())
            }
        };
        // The request line must stay one line of visible characters for the test to send it.
        let path: String = path
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '_' })
            .collect();
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nContent-Type: application/json"
        );
        let (status, headers, answer) = ex.raw(&head, &body);
        *seen.entry(status).or_default() += 1;
        assert!(
            matches!(status, 200 | 400 | 404 | 405 | 413 | 415),
            "case {case}: {head:?} {body:?} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        if status >= 400 && method != "HEAD" {
            let json: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_else(|_| {
                panic!("case {case}: {status} without a JSON error: {answer:?}")
            });
            assert!(json["error"].is_string(), "case {case}: {json}");
        }
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    }
    // Both kinds of answers occurred, and the server still decodes.
    assert!(
        seen.contains_key(&200) && seen.contains_key(&400),
        "{seen:?}"
    );
    let (status, _, _) = ex.call("/api/runs/0/decode", Some(r#"{"pc": [1]}"#));
    assert_eq!(status, 200, "{}", ex.stderr());
}
