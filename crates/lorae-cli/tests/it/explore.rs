//! `lorae explore` over tiny shapes runs: every endpoint's status and payload, bad requests
//! answered 400/404/405/413 with the server still serving, a burst of 200 decodes from 8
//! clients, Ctrl-C, and the command's bad inputs.

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

    /// (status, content type, body) of `GET path` or, with a body, `POST path`.
    pub fn call(&self, path: &str, body: Option<&str>) -> (u16, String, Vec<u8>) {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let url = format!("{}{}", self.url, path.trim_start_matches('/'));
        let result = match body {
            None => agent.get(&url).call(),
            Some(b) => agent
                .post(&url)
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
            Some(r#"{"a": 0, "b": 1, "steps": 1}"#),
            400,
            "2 to 32 points",
        ),
        (
            "/api/runs/0/strip?from=-1",
            None,
            400,
            "non-negative whole number",
        ),
        ("/api/runs/0/strip?from=500", None, 400, "numbered 0 to 119"),
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
        "POST /api/runs/0/decode HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    BufReader::new(&socket).read_line(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    assert_eq!(at("[1]"), at("[1]"), "still decoding");
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
