//! The explorer's HTTP server: the page (HTML, JS, CSS compiled into the binary; no CDN, no build
//! step) and a JSON-in, PNG-out API over the runs. A bad request gets 400 with a JSON message, an
//! unknown run or path 404, a wrong method 405, a body over 64 KiB 413, and the server goes on
//! serving; [`Server::run`] returns once `stop` is set, after the requests in flight. The
//! transport is axum on a small tokio runtime; the handlers are synchronous (decoding is CPU
//! work) and run on its blocking threads.
//!
//! | request | body | answer |
//! |---|---|---|
//! | `GET /api/runs` | | `{"runs": [RunInfo…]}` |
//! | `POST /api/runs/ID/decode` | `{"pc": [t₁, …]}` (σ units) | PNG of one image |
//! | `POST /api/runs/ID/samples` | `{"sampler": "gmm", "k": 10, "n": 16, "seed": 1}` | PNG grid |
//! | `POST /api/runs/ID/interpolate` | `{"a": 0, "b": 1, "steps": 8}` | PNG strip |
//! | `GET /api/runs/ID/strip?from=0&n=16` | | PNG strip of evaluation images |

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::view::RunView;
use crate::error::{Error, Result};
use crate::sampler::SamplerKind;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/explore.js");
const STYLE: &str = include_str!("page/explore.css");
/// Largest request body answered.
const BODY_LIMIT: usize = 64 * 1024;
/// Largest body read (and dropped) before a 413: the client has finished writing when the answer
/// comes, so it reads the 413 instead of a broken pipe. A longer one is refused unread.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// A bound server over loaded runs.
pub struct Server {
    listener: std::net::TcpListener,
    runs: Arc<Runs>,
    addr: SocketAddr,
}

/// The runs, and the routing of a request to one of them.
struct Runs(Vec<RunView>);

/// One answer: status, content type, body, and the decode time when something was decoded.
struct Reply {
    status: u16,
    kind: &'static str,
    body: Vec<u8>,
    took: Option<Duration>,
    /// The methods a 405 names.
    allow: Option<&'static str>,
}

impl Reply {
    fn ok(kind: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            kind,
            body: body.into(),
            took: None,
            allow: None,
        }
    }

    fn error(status: u16, message: impl std::fmt::Display) -> Reply {
        let body = serde_json::json!({ "error": message.to_string() }).to_string();
        Reply {
            status,
            kind: "application/json",
            body: body.into_bytes(),
            took: None,
            allow: None,
        }
    }

    /// 405, naming the method that is allowed.
    fn not_allowed(method: &Method, path: &str, allow: &'static str) -> Reply {
        Reply {
            allow: Some(allow),
            ..Reply::error(
                405,
                format!("{method} is not allowed on {path}: use {allow}"),
            )
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

    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.kind));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(took) = self.took {
            let timing = format!("decode;dur={:.1}", took.as_secs_f64() * 1e3);
            if let Ok(value) = HeaderValue::from_str(&timing) {
                headers.insert("server-timing", value);
            }
        }
        response
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
        let listener = std::net::TcpListener::bind(SocketAddr::new(host, port)).map_err(|e| {
            Error::invalid(
                "port",
                port,
                format!("cannot listen on {host}:{port}: {e}; choose another --port (0 picks a free one)"),
            )
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Unsupported(format!("the listening socket has no address: {e}")))?;
        Ok(Server {
            listener,
            runs: Arc::new(Runs(runs)),
            addr,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `stop` is set, answering up to `workers` requests at a time; the requests
    /// in flight are answered before it returns.
    pub fn run(self, workers: usize, stop: &'static AtomicBool) -> Result<()> {
        let failed = |what: &str, e: std::io::Error| Error::Unsupported(format!("{what}: {e}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(workers.max(1))
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| failed("cannot start the server's threads", e))?;
        let Server { listener, runs, .. } = self;
        runtime.block_on(async move {
            listener
                .set_nonblocking(true)
                .map_err(|e| failed("cannot serve on the socket", e))?;
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| failed("cannot serve on the socket", e))?;
            let app = axum::Router::new().fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Body| {
                    answer(runs.clone(), method, uri, headers, body)
                },
            );
            let stopped = async move {
                while !stop.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
                .map_err(|e| failed("the server failed", e))
        })
    }
}

/// Reads the body (answered up to [`BODY_LIMIT`] bytes, drained up to [`DRAIN_LIMIT`]) and routes
/// the request on a blocking thread.
async fn answer(
    runs: Arc<Runs>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let too_long = || {
        Reply::error(
            413,
            format!("request bodies are at most {BODY_LIMIT} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return too_long().into_response();
    }
    let bytes = match axum::body::to_bytes(body, DRAIN_LIMIT).await {
        Ok(bytes) if bytes.len() > BODY_LIMIT => return too_long().into_response(),
        Ok(bytes) => bytes,
        Err(e) => {
            let cut = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"));
            return if cut {
                too_long()
            } else {
                Reply::error(400, format!("cannot read the request body: {e}"))
            }
            .into_response();
        }
    };
    let url = uri.to_string();
    let routed = tokio::task::spawn_blocking(move || runs.route(&method, &url, &bytes)).await;
    routed
        .unwrap_or_else(|e| Reply::error(500, format!("the request's handler failed: {e}")))
        .into_response()
}

impl Runs {
    fn route(&self, method: &Method, url: &str, body: &[u8]) -> Reply {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (get, post) = (method == Method::GET, method == Method::POST);
        match parts.as_slice() {
            [""] | ["index.html"] if get => Reply::ok("text/html; charset=utf-8", PAGE),
            ["explore.js"] if get => Reply::ok("text/javascript; charset=utf-8", SCRIPT),
            ["explore.css"] if get => Reply::ok("text/css; charset=utf-8", STYLE),
            ["api", "runs"] if get => {
                let runs: Vec<_> = self.0.iter().enumerate().map(|(i, r)| r.info(i)).collect();
                Reply::ok(
                    "application/json",
                    serde_json::json!({ "runs": runs }).to_string(),
                )
            }
            ["api", "runs", id, action] => {
                let Some(run) = id.parse::<usize>().ok().and_then(|i| self.0.get(i)) else {
                    return Reply::error(
                        404,
                        format!(
                            "no run `{id}`: this server has runs 0 to {}",
                            self.0.len() - 1
                        ),
                    );
                };
                match *action {
                    "decode" if post => timed(|| {
                        let b: DecodeBody = parse(body)?;
                        run.decode_point(&b.pc)
                    }),
                    "samples" if post => timed(|| {
                        let b: SamplesBody = parse(body)?;
                        run.samples(b.sampler.parse::<SamplerKind>()?, b.k, b.n, b.seed)
                    }),
                    "interpolate" if post => timed(|| {
                        let b: InterpolateBody = parse(body)?;
                        run.interpolation(b.a, b.b, b.steps)
                    }),
                    "strip" if get => timed(|| {
                        run.strip(query_usize(query, "from", 0)?, query_usize(query, "n", 16)?)
                    }),
                    "decode" | "samples" | "interpolate" => {
                        Reply::not_allowed(method, path, "POST")
                    }
                    "strip" => Reply::not_allowed(method, path, "GET"),
                    _ => Reply::error(404, format!("no such endpoint: {path}")),
                }
            }
            ["" | "index.html" | "explore.js" | "explore.css"] | ["api", "runs"] => {
                Reply::not_allowed(method, path, "GET")
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
