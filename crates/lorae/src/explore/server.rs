//! The explorer's HTTP server: the page (HTML, JS, CSS compiled into the binary; no CDN, no build
//! step) and a JSON-in, PNG-out API over the runs. A bad request gets 400 with a JSON message, an
//! unknown run or path 404, a wrong method 405, a body over 64 KiB 413, and the server goes on
//! serving; [`Server::run`] returns once `stop` is set, after the requests in flight.
//!
//! | request | body | answer |
//! |---|---|---|
//! | `GET /api/runs` | | `{"runs": [RunInfo…]}` |
//! | `POST /api/runs/ID/decode` | `{"pc": [t₁, …]}` (σ units) | PNG of one image |
//! | `POST /api/runs/ID/samples` | `{"sampler": "gmm", "k": 10, "n": 16, "seed": 1}` | PNG grid |
//! | `POST /api/runs/ID/interpolate` | `{"a": 0, "b": 1, "steps": 8}` | PNG strip |
//! | `GET /api/runs/ID/strip?from=0&n=16` | | PNG strip of evaluation images |

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::view::RunView;
use crate::error::{Error, Result};
use crate::sampler::SamplerKind;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/explore.js");
const STYLE: &str = include_str!("page/explore.css");
/// Largest request body read.
const BODY_LIMIT: u64 = 64 * 1024;

/// A bound server over loaded runs.
pub struct Server {
    http: tiny_http::Server,
    runs: Vec<RunView>,
    addr: SocketAddr,
}

/// One answer: status, content type, body, and the decode time when something was decoded.
struct Reply {
    status: u16,
    kind: &'static str,
    body: Vec<u8>,
    took: Option<Duration>,
}

impl Reply {
    fn ok(kind: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            kind,
            body: body.into(),
            took: None,
        }
    }

    fn error(status: u16, message: impl std::fmt::Display) -> Reply {
        let body = serde_json::json!({ "error": message.to_string() }).to_string();
        Reply {
            status,
            kind: "application/json",
            body: body.into_bytes(),
            took: None,
        }
    }

    /// 400 for a bad value from the request, 500 for anything else.
    fn from_error(e: &Error) -> Reply {
        match e {
            Error::InvalidConfig { .. } | Error::UnknownName { .. } => Reply::error(400, e),
            _ => {
                crate::note!("explore: internal error: {e}");
                Reply::error(500, e)
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecodeBody {
    pc: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SamplesBody {
    sampler: String,
    #[serde(default = "default_k")]
    k: usize,
    #[serde(default = "default_n")]
    n: usize,
    #[serde(default)]
    seed: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InterpolateBody {
    a: usize,
    b: usize,
    #[serde(default = "default_steps")]
    steps: usize,
}

fn default_k() -> usize {
    10
}
fn default_n() -> usize {
    16
}
fn default_steps() -> usize {
    8
}

impl Server {
    /// Binds `host:port` (port 0: any free port) for `runs`.
    pub fn bind(runs: Vec<RunView>, host: IpAddr, port: u16) -> Result<Server> {
        if runs.is_empty() {
            return Err(Error::invalid("runs", 0, "give at least one run directory"));
        }
        let http = tiny_http::Server::http(SocketAddr::new(host, port)).map_err(|e| {
            Error::invalid(
                "port",
                port,
                format!("cannot listen on {host}:{port}: {e}; choose another --port (0 picks a free one)"),
            )
        })?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| Error::Unsupported("the server is not on an IP address".into()))?;
        Ok(Server { http, runs, addr })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves with `workers` threads until `stop` is set; requests in flight are answered.
    pub fn run(&self, workers: usize, stop: &AtomicBool) {
        std::thread::scope(|scope| {
            for _ in 0..workers.max(1) {
                scope.spawn(|| {
                    while !stop.load(Ordering::SeqCst) {
                        match self.http.recv_timeout(Duration::from_millis(100)) {
                            Ok(Some(request)) => self.answer(request),
                            Ok(None) => {}
                            Err(e) => crate::note!("explore: cannot accept a request: {e}"),
                        }
                    }
                });
            }
        });
    }

    fn answer(&self, mut request: tiny_http::Request) {
        let method = request.method().clone();
        let url = request.url().to_string();
        let mut body = Vec::new();
        let read = request
            .as_reader()
            .take(BODY_LIMIT + 1)
            .read_to_end(&mut body);
        let reply = match read {
            Err(e) => Reply::error(400, format!("cannot read the request body: {e}")),
            Ok(_) if body.len() as u64 > BODY_LIMIT => Reply::error(
                413,
                format!("request bodies are at most {BODY_LIMIT} bytes"),
            ),
            Ok(_) => self.route(&method, &url, &body),
        };
        let mut response =
            tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
        response = with_header(response, "Content-Type", reply.kind);
        response = with_header(response, "Cache-Control", "no-store");
        if let Some(took) = reply.took {
            let ms = format!("decode;dur={:.1}", took.as_secs_f64() * 1e3);
            response = with_header(response, "Server-Timing", &ms);
        }
        // A client that went away is not the server's failure.
        let _ = request.respond(response);
    }

    fn route(&self, method: &tiny_http::Method, url: &str, body: &[u8]) -> Reply {
        use tiny_http::Method::{Get, Post};
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, parts.as_slice()) {
            (Get, [""] | ["index.html"]) => Reply::ok("text/html; charset=utf-8", PAGE),
            (Get, ["explore.js"]) => Reply::ok("text/javascript; charset=utf-8", SCRIPT),
            (Get, ["explore.css"]) => Reply::ok("text/css; charset=utf-8", STYLE),
            (Get, ["api", "runs"]) => {
                let runs: Vec<_> = self
                    .runs
                    .iter()
                    .enumerate()
                    .map(|(i, r)| r.info(i))
                    .collect();
                Reply::ok(
                    "application/json",
                    serde_json::json!({ "runs": runs }).to_string(),
                )
            }
            (_, ["api", "runs", id, action]) => {
                let Some(run) = id.parse::<usize>().ok().and_then(|i| self.runs.get(i)) else {
                    return Reply::error(
                        404,
                        format!(
                            "no run `{id}`: this server has runs 0 to {}",
                            self.runs.len() - 1
                        ),
                    );
                };
                match (method, *action) {
                    (Post, "decode") => timed(|| {
                        let b: DecodeBody = parse(body)?;
                        run.decode_point(&b.pc)
                    }),
                    (Post, "samples") => timed(|| {
                        let b: SamplesBody = parse(body)?;
                        run.samples(b.sampler.parse::<SamplerKind>()?, b.k, b.n, b.seed)
                    }),
                    (Post, "interpolate") => timed(|| {
                        let b: InterpolateBody = parse(body)?;
                        run.interpolation(b.a, b.b, b.steps)
                    }),
                    (Get, "strip") => timed(|| {
                        run.strip(query_usize(query, "from", 0)?, query_usize(query, "n", 16)?)
                    }),
                    (_, "decode" | "samples" | "interpolate" | "strip") => {
                        Reply::error(405, format!("{method} is not allowed on {path}"))
                    }
                    _ => Reply::error(404, format!("no such endpoint: {path}")),
                }
            }
            (_, ["" | "index.html" | "explore.js" | "explore.css"] | ["api", "runs"]) => {
                Reply::error(405, format!("{method} is not allowed on {path}"))
            }
            _ => Reply::error(404, format!("no such page: {path}")),
        }
    }
}

/// A PNG made by `f`, with the time it took; an error as its reply.
fn timed(f: impl FnOnce() -> Result<Vec<u8>>) -> Reply {
    let start = Instant::now();
    match f() {
        Ok(png) => Reply {
            took: Some(start.elapsed()),
            ..Reply::ok("image/png", png)
        },
        Err(e) => Reply::from_error(&e),
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::invalid("request body", "not the expected JSON", e.to_string()))
}

/// The `name=` value of `query` as a count, `default` when absent.
fn query_usize(query: &str, name: &'static str, default: usize) -> Result<usize> {
    match query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
    {
        None => Ok(default),
        Some((_, v)) => v
            .parse()
            .map_err(|_| Error::invalid(name, v, "expected a non-negative whole number")),
    }
}

fn with_header<R: Read>(
    response: tiny_http::Response<R>,
    name: &str,
    value: &str,
) -> tiny_http::Response<R> {
    match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
        Ok(h) => response.with_header(h),
        Err(()) => {
            crate::note!("explore: header `{name}: {value}` is not ASCII; left out (a lorae bug)");
            response
        }
    }
}
