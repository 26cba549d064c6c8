//! The CRM's web server: HTML pages rendered from plugins' settings view models, the OAuth
//! callback, and a JSON API for scripting the CRM (documented in `host-sim/API.md`).
//!
//! Starting takes two steps because the plugin must know the OAuth callback URL when the
//! [`Sim`] starts, and that URL holds the port the listener got:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (plugin_dir, state_dir) = (std::path::Path::new("p"), std::path::Path::new("s"));
//! let bound = host_sim::web::bind("127.0.0.1:0")?;
//! let mut config = host_sim::SimConfig::new(plugin_dir, state_dir);
//! config.oauth_callback_url = bound.callback_url();
//! let sim = host_sim::Sim::start(config)?;
//! let server = bound.serve(sim, None);
//! println!("CRM at {}", server.base_url());
//! # Ok(()) }
//! ```

mod api;
mod html;
pub mod json;
mod notices;
mod oauth;
mod routes;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::Sim;

/// Request bodies larger than this are refused: nothing the CRM accepts comes near it.
const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;

/// A listening socket that does not answer yet: its address is known, so the Sim can be
/// configured with the callback URL before the server starts serving.
pub struct Bound {
    server: tiny_http::Server,
    addr: SocketAddr,
}

/// Binds `listen` (e.g. `"127.0.0.1:0"` for any free port). Connections made before
/// [`Bound::serve`] wait in the backlog.
pub fn bind(listen: &str) -> io::Result<Bound> {
    let server = tiny_http::Server::http(listen).map_err(|e| io::Error::other(format!("{listen}: {e}")))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| io::Error::other(format!("{listen} is not an IP address")))?;
    Ok(Bound { server, addr })
}

impl Bound {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        base_url_of(self.addr)
    }

    /// The URL to put in [`crate::SimConfig::oauth_callback_url`].
    pub fn callback_url(&self) -> String {
        format!("{}/oauth/callback", self.base_url())
    }

    /// Starts answering requests for `sim`. `google_url` (the fake Google's base URL, when
    /// there is one) is only shown on the start page, for people trying the CRM by hand.
    pub fn serve(self, sim: Arc<Sim>, google_url: Option<String>) -> WebServer {
        let base_url = self.base_url();
        let ctx = Arc::new(Ctx {
            sim,
            base_url: base_url.clone(),
            google_url,
        });
        let stopping = Arc::new(AtomicBool::new(false));
        let server = Arc::new(self.server);
        let accept = {
            let (server, stopping) = (server.clone(), stopping.clone());
            std::thread::Builder::new()
                .name("web-accept".into())
                .spawn(move || accept_loop(&server, &stopping, &ctx))
                .ok()
        };
        WebServer {
            base_url,
            stopping,
            accept,
            _server: server,
        }
    }
}

/// Binds `listen` and serves `sim`, for callers that do not need the callback URL up front.
pub fn serve(sim: Arc<Sim>, listen: &str, google_url: Option<String>) -> io::Result<WebServer> {
    Ok(bind(listen)?.serve(sim, google_url))
}

/// The plugin configuration that points the plugin at a Google (real, fake, or compatible) whose
/// endpoints all hang off `base` the way the fake Google's do, with the fake's client
/// credentials. The `serve` command and the tests use it so that both configure alike.
pub fn google_plugin_config(base: &str) -> BTreeMap<String, String> {
    let base = base.trim_end_matches('/');
    let defaults = crate::fake_google::FakeGoogleConfig::default();
    BTreeMap::from([
        ("google.people_url".to_string(), base.to_string()),
        ("google.auth_url".to_string(), format!("{base}/o/oauth2/v2/auth")),
        ("google.token_url".to_string(), format!("{base}/token")),
        ("google.revoke_url".to_string(), format!("{base}/revoke")),
        (
            "google.userinfo_url".to_string(),
            format!("{base}/oauth2/v2/userinfo"),
        ),
        ("google.client_id".to_string(), defaults.client_id),
        ("google.client_secret".to_string(), defaults.client_secret),
    ])
}

/// A running web server; stops accepting on drop (requests in flight finish on their threads).
pub struct WebServer {
    base_url: String,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    _server: Arc<tiny_http::Server>,
}

impl WebServer {
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn base_url_of(addr: SocketAddr) -> String {
    // A wildcard address is not something a browser can be sent to; loopback reaches it.
    let host = if addr.ip().is_unspecified() {
        if addr.is_ipv4() {
            "127.0.0.1".to_string()
        } else {
            "[::1]".to_string()
        }
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("http://{host}:{}", addr.port())
}

/// What every handler can reach.
pub(crate) struct Ctx {
    pub sim: Arc<Sim>,
    pub base_url: String,
    pub google_url: Option<String>,
}

fn accept_loop(server: &tiny_http::Server, stopping: &AtomicBool, ctx: &Arc<Ctx>) {
    // A timeout rather than `unblock()`: an error from one bad connection must not end the loop,
    // and the stop flag is all shutdown needs.
    while !stopping.load(Ordering::SeqCst) {
        let request = match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => continue,
        };
        let ctx = ctx.clone();
        // A thread per request: a handler may block on `wait-idle` for seconds, and pages are
        // few, so a pool would only add a way to starve.
        let spawned = std::thread::Builder::new()
            .name("web-request".into())
            .spawn(move || answer(&ctx, request));
        if spawned.is_err() {
            // The request was moved into the closure that failed to start; the client sees the
            // connection close, which is all we can do without a thread.
            continue;
        }
    }
}

fn answer(ctx: &Ctx, mut request: tiny_http::Request) {
    let api = request.url().starts_with("/api/");
    let failed = |status: u16, message: &str| {
        if api {
            Resp::json(status, &serde_json::json!({ "error": message }))
        } else {
            Resp::text(status, message)
        }
    };
    let response = match Req::read(&mut request) {
        // A bug in a handler (or a poisoned lock in the CRM) must cost one request, not leave
        // the client waiting on a connection that never answers.
        Ok(req) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| routes::handle(ctx, &req)))
            .unwrap_or_else(|_| failed(500, "The CRM failed while answering this request; see its log.")),
        Err(message) => failed(400, &message),
    };
    let mut out = tiny_http::Response::from_data(response.body).with_status_code(response.status);
    for (name, value) in response.headers {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            out.add_header(h);
        }
    }
    let _ = request.respond(out);
}

/// A request, read whole, with the path split into percent-decoded segments.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: String,
    /// The raw path, as sent (for messages).
    pub path: String,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    fn read(request: &mut tiny_http::Request) -> Result<Req, String> {
        let url = request.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let query = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let headers = request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_string(),
                )
            })
            .collect();
        let mut body = Vec::new();
        request
            .as_reader()
            .take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| format!("The request body could not be read: {e}"))?;
        if body.len() as u64 > MAX_BODY_BYTES {
            return Err(format!("The request body is larger than {MAX_BODY_BYTES} bytes."));
        }
        Ok(Req {
            method: request.method().as_str().to_string(),
            path: path.to_string(),
            segments,
            query,
            headers,
            body,
        })
    }

    /// The last value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A cookie's value, decoded (every value we set is form-encoded: see [`Resp::cookie`]).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "cookie")
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| form_decode(v))
    }

    /// A form-encoded body as ordered pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body).into_owned().collect()
    }
}

/// Decodes a form-encoded value (`+` is a space).
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Decodes a percent-encoded path segment (`+` is a plus sign there).
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A response, built whole.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn html(status: u16, body: String) -> Resp {
        Resp {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }

    pub fn text(status: u16, body: &str) -> Resp {
        Resp {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Resp {
        let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
        body.push(b'\n');
        Resp {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
        }
    }

    /// A file a plugin handed the user, for the browser to save. The plugin's file name and media
    /// type are anyone's text: what a header cannot hold is dropped, and the name is quoted.
    pub fn attachment(file: abi::Download) -> Resp {
        let header_safe = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
                .collect()
        };
        let name: String = header_safe(&file.file_name)
            .chars()
            .filter(|c| !matches!(c, '/' | ';'))
            .collect();
        let name = if name.trim().is_empty() {
            "download".to_string()
        } else {
            name
        };
        let media_type = header_safe(&file.media_type);
        let media_type = if media_type.is_empty() {
            "application/octet-stream".to_string()
        } else {
            media_type
        };
        Resp {
            status: 200,
            headers: vec![
                ("Content-Type".into(), media_type),
                (
                    "Content-Disposition".into(),
                    format!("attachment; filename=\"{name}\""),
                ),
                ("X-Content-Type-Options".into(), "nosniff".into()),
            ],
            body: file.body.into_vec(),
        }
    }

    /// A 303 See Other: after a POST the browser follows with a GET.
    pub fn redirect(location: &str) -> Resp {
        // A header value cannot hold control characters; a URL never needs them.
        let location: String = location.chars().filter(|c| !c.is_control()).collect();
        Resp {
            status: 303,
            headers: vec![("Location".into(), location)],
            body: Vec::new(),
        }
    }

    /// Adds a cookie for the whole CRM; the value is percent-encoded.
    pub fn cookie(mut self, name: &str, value: &str) -> Resp {
        let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        self.headers.push((
            "Set-Cookie".into(),
            format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax"),
        ));
        self
    }

    pub fn clear_cookie(mut self, name: &str) -> Resp {
        self.headers
            .push(("Set-Cookie".into(), format!("{name}=; Path=/; Max-Age=0")));
        self
    }
}
