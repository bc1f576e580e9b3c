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
//! | `POST /api/runs/ID/decode` | `{"pc": [t₁, …]}` (σ units, each in ±[`MAX_PC`](super::view::MAX_PC)) | PNG of one image |
//! | `POST /api/runs/ID/samples` | `{"sampler": "gmm", "k": 10, "n": 16, "seed": 1}` (`k` 1 to [`MAX_K`](super::view::MAX_K), `n` 1 to [`MAX_IMAGES`](super::view::MAX_IMAGES), `seed` any `u64`) | PNG grid |
//! | `POST /api/runs/ID/interpolate` | `{"a": 0, "b": 1, "steps": 8}` (`a`, `b` evaluation indices, `steps` 2 to [`MAX_STEPS`](super::view::MAX_STEPS)) | PNG strip |
//! | `GET /api/runs/ID/strip?from=0&n=16` | | PNG strip of evaluation images (`from` an evaluation index, `n` 1 to [`MAX_IMAGES`](super::view::MAX_IMAGES)) |
//!
//! Only the page itself may use it: a web page elsewhere must not drive it, neither by DNS
//! rebinding (a hostile name resolved to 127.0.0.1, the browser then sending `Host: evil.example`)
//! nor by a cross-site request (a form or `fetch` from another origin). Before anything else:
//!
//! | request | answer |
//! |---|---|
//! | `Host` missing, repeated, or not `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` or the bound address with its port | 403 |
//! | an `Origin` header other than `http://` and one of those hosts (any method) | 403 |
//! | a method other than GET and HEAD without an `Origin` header | 403 |
//! | a POST whose `Content-Type` is not `application/json` (so no "simple" cross-site POST) | 415 |
//!
//! Every answer carries `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, a
//! `Content-Security-Policy` (own resources only, `frame-ancestors 'none'`),
//! `Cross-Origin-Resource-Policy: same-origin`, `Referrer-Policy: no-referrer` and
//! `Cache-Control: no-store`, and never `Access-Control-Allow-Origin`.

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

/// The page's content security policy: its own script, style and API; the decoded images as
/// `blob:` URLs; never inside a frame.
const CSP: &str = "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// A bound server over loaded runs.
pub struct Server {
    listener: std::net::TcpListener,
    runs: Arc<Runs>,
    addr: SocketAddr,
    access: Arc<Access>,
}

/// Who may use the server: requests addressed to one of `hosts` (the `Host` header), and, for
/// anything but GET and HEAD, sent by a page from `http://` and one of them (the `Origin`
/// header).
#[derive(Debug, Clone)]
pub struct Access {
    hosts: Vec<String>,
    /// The page's URL, which a refusal points to.
    page: String,
}

impl Access {
    /// For a server bound to `bound`: `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` and, when
    /// it is another address, `bound` itself.
    pub fn new(bound: SocketAddr) -> Access {
        let port = bound.port();
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        let own = bound.to_string();
        let page = if bound.ip().is_unspecified() {
            format!("http://127.0.0.1:{port}/")
        } else {
            format!("http://{own}/")
        };
        if !hosts.contains(&own) {
            hosts.push(own);
        }
        Access { hosts, page }
    }

    /// The accepted `Host` values.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    fn accepts_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    fn accepts_origin(&self, origin: &str) -> bool {
        origin
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
            && self.accepts_host(&origin[7..])
    }

    fn listed(&self, prefix: &str) -> String {
        let all: Vec<String> = self.hosts.iter().map(|h| format!("{prefix}{h}")).collect();
        all.join(", ")
    }

    /// The refusal of a request that is not addressed to this server (403), comes from another
    /// site (403) or posts something other than JSON (415); `None` when it may go on.
    fn check(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Reply> {
        let page = format!("open the page at {}", self.page);
        let forbidden = |what: String| {
            Reply::error(
                403,
                format!(
                    "{what}: this server answers only requests addressed to {} (a guard against \
                     DNS rebinding); {page}",
                    self.listed("")
                ),
            )
        };
        let hosts: Vec<_> = headers.get_all(header::HOST).iter().collect();
        match hosts.as_slice() {
            [] => return Some(forbidden("the request has no Host header".into())),
            [host] => {
                let host = String::from_utf8_lossy(host.as_bytes());
                if !self.accepts_host(&host) {
                    return Some(forbidden(format!("Host `{host}` refused")));
                }
            }
            more => {
                return Some(forbidden(format!(
                    "the request has {} Host headers",
                    more.len()
                )))
            }
        }
        if let Some(authority) = uri.authority() {
            if !self.accepts_host(authority.as_str()) {
                return Some(forbidden(format!(
                    "request target host `{authority}` refused"
                )));
            }
        }
        let cross = |what: String| {
            Reply::error(
                403,
                format!(
                    "{what}: only the explorer's own page may use this server (a guard against \
                     cross-site requests), so a request must come from {} and anything but GET \
                     must say so in its Origin header; {page}",
                    self.listed("http://")
                ),
            )
        };
        let origins: Vec<_> = headers.get_all(header::ORIGIN).iter().collect();
        match origins.as_slice() {
            [] if method != Method::GET && method != Method::HEAD => {
                return Some(cross(format!("{method} without an Origin header refused")));
            }
            [] => {}
            [origin] => {
                let origin = String::from_utf8_lossy(origin.as_bytes());
                if !self.accepts_origin(&origin) {
                    return Some(cross(format!("{method} from origin `{origin}` refused")));
                }
            }
            more => {
                return Some(cross(format!(
                    "the request has {} Origin headers",
                    more.len()
                )))
            }
        }
        if method == Method::POST {
            let kind = headers
                .get(header::CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let json = kind.as_deref().is_some_and(|k| {
                k.split(';')
                    .next()
                    .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
            });
            if !json {
                let got = match &kind {
                    Some(k) => format!("Content-Type `{k}`"),
                    None => "no Content-Type".to_string(),
                };
                return Some(Reply::error(
                    415,
                    format!(
                        "POST with {got} refused: request bodies are JSON; send \
                         Content-Type: application/json"
                    ),
                ));
            }
        }
        None
    }
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
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
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
            .map_err(|e| Error::Server(format!("the listening socket has no address: {e}")))?;
        Ok(Server {
            listener,
            runs: Arc::new(Runs(runs)),
            addr,
            access: Arc::new(Access::new(addr)),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whom it answers.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Serves until `stop` is set, answering up to `workers` requests at a time; the requests
    /// in flight are answered before it returns.
    pub fn run(self, workers: usize, stop: &'static AtomicBool) -> Result<()> {
        let failed = |what: &str, e: std::io::Error| Error::Server(format!("{what}: {e}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(workers.max(1))
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| failed("cannot start the server's threads", e))?;
        let Server {
            listener,
            runs,
            access,
            ..
        } = self;
        runtime.block_on(async move {
            listener
                .set_nonblocking(true)
                .map_err(|e| failed("cannot serve on the socket", e))?;
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| failed("cannot serve on the socket", e))?;
            let app = axum::Router::new().fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Body| {
                    answer(runs.clone(), access.clone(), method, uri, headers, body)
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

/// Refuses a request `access` does not allow; else reads the body (answered up to [`BODY_LIMIT`]
/// bytes, drained up to [`DRAIN_LIMIT`]) and routes the request on a blocking thread.
async fn answer(
    runs: Arc<Runs>,
    access: Arc<Access>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refused) = access.check(&method, &uri, &headers) {
        return refused.into_response();
    }
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
    let url = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header_map(headers: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in headers {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// The status of `check`'s refusal (200 when it lets the request through).
    fn status(access: &Access, method: Method, uri: &str, headers: &[(&str, &str)]) -> u16 {
        let uri: Uri = uri.parse().unwrap();
        access
            .check(&method, &uri, &header_map(headers))
            .map_or(200, |r| r.status)
    }

    #[test]
    fn explore_access_names_the_loopback_hosts_and_the_bound_address() {
        let local = Access::new("127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            local.hosts(),
            ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"]
        );
        assert_eq!(Access::new("[::1]:80".parse().unwrap()).hosts().len(), 3);
        let lan = Access::new("192.168.1.5:8080".parse().unwrap());
        assert_eq!(lan.hosts()[3], "192.168.1.5:8080");
        assert_eq!(lan.page, "http://192.168.1.5:8080/");
        let any = Access::new("0.0.0.0:8080".parse().unwrap());
        assert_eq!(any.hosts()[3], "0.0.0.0:8080");
        assert_eq!(any.page, "http://127.0.0.1:8080/");
        let v6 = Access::new("[fe80::1]:9".parse().unwrap());
        assert_eq!(v6.hosts()[3], "[fe80::1]:9");
    }

    #[test]
    fn explore_access_refuses_other_hosts_origins_and_content_types() {
        let access = Access::new("127.0.0.1:8080".parse().unwrap());
        let get = |headers: &[(&str, &str)]| status(&access, Method::GET, "/api/runs", headers);
        assert_eq!(get(&[("host", "127.0.0.1:8080")]), 200);
        assert_eq!(get(&[("host", "LocalHost:8080")]), 200);
        assert_eq!(get(&[("host", "[::1]:8080")]), 200);
        assert_eq!(get(&[]), 403, "no Host");
        assert_eq!(get(&[("host", "evil.example")]), 403);
        assert_eq!(get(&[("host", "127.0.0.1")]), 403, "no port");
        assert_eq!(get(&[("host", "127.0.0.1:8081")]), 403, "another port");
        assert_eq!(
            get(&[("host", "127.0.0.1:8080"), ("host", "evil.example")]),
            403
        );
        assert_eq!(
            get(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example")
            ]),
            403,
            "a foreign page's GET"
        );
        assert_eq!(
            get(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://localhost:8080")
            ]),
            200
        );
        assert_eq!(
            status(
                &access,
                Method::GET,
                "http://evil.example/api/runs",
                &[("host", "127.0.0.1:8080")]
            ),
            403,
            "an absolute request target names another host"
        );

        let post = |headers: &[(&str, &str)]| {
            let mut all = vec![("host", "127.0.0.1:8080")];
            all.extend_from_slice(headers);
            status(&access, Method::POST, "/api/runs/0/decode", &all)
        };
        let json = ("content-type", "application/json");
        assert_eq!(post(&[("origin", "http://127.0.0.1:8080"), json]), 200);
        assert_eq!(
            post(&[
                ("origin", "http://localhost:8080"),
                ("content-type", "Application/JSON; charset=utf-8")
            ]),
            200
        );
        assert_eq!(post(&[json]), 403, "no Origin");
        for origin in [
            "http://evil.example",
            "null",
            "https://127.0.0.1:8080",
            "http://127.0.0.1:8081",
            "http://127.0.0.1:8080/",
            "http://",
        ] {
            assert_eq!(post(&[("origin", origin), json]), 403, "{origin}");
        }
        let own = ("origin", "http://127.0.0.1:8080");
        assert_eq!(post(&[own, ("content-type", "text/plain")]), 415);
        assert_eq!(post(&[own, ("content-type", "application/jsonx")]), 415);
        assert_eq!(post(&[own]), 415, "no Content-Type");
        assert_eq!(
            status(
                &access,
                Method::DELETE,
                "/api/runs",
                &[("host", "127.0.0.1:8080")]
            ),
            403,
            "any method but GET and HEAD needs an Origin"
        );
    }

    #[test]
    fn explore_refusals_name_what_was_received_and_what_is_accepted() {
        let access = Access::new("127.0.0.1:8080".parse().unwrap());
        let message = |method: Method, headers: &[(&str, &str)]| {
            let uri = Uri::from_static("/");
            let reply = access.check(&method, &uri, &header_map(headers)).unwrap();
            String::from_utf8(reply.body).unwrap()
        };
        let host = message(Method::GET, &[("host", "evil.example")]);
        for needle in [
            "evil.example",
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "open the page at http://127.0.0.1:8080/",
        ] {
            assert!(host.contains(needle), "{host}");
        }
        let origin = message(
            Method::POST,
            &[
                ("host", "localhost:8080"),
                ("origin", "http://evil.example"),
            ],
        );
        assert!(origin.contains("http://evil.example"), "{origin}");
        assert!(origin.contains("http://localhost:8080"), "{origin}");
        let kind = message(
            Method::POST,
            &[
                ("host", "localhost:8080"),
                ("origin", "http://localhost:8080"),
                ("content-type", "text/plain"),
            ],
        );
        assert!(
            kind.contains("text/plain") && kind.contains("application/json"),
            "{kind}"
        );
    }
}
