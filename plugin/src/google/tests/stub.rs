//! A tiny canned-HTTP server on 127.0.0.1 for the Google client's unit tests, plus fakes for
//! time and a `log` capture.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::google::{Clock, Sleeper};

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query, e.g. `/v1/people/me/connections?personFields=names`.
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Seen {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Decoded query parameters, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        let url = url::Url::parse(&format!("http://x{}", self.target)).unwrap();
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.query().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn bearer(&self) -> Option<&str> {
        self.headers
            .get("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
    }
}

/// What the stub does with a request.
pub enum Reply {
    Json(u16, serde_json::Value),
    /// Status, extra headers, raw body.
    Raw(u16, Vec<(&'static str, String)>, String),
    /// Read the request, then say nothing for this long and close.
    Hang(Duration),
    /// Close the connection without answering.
    Drop,
}

pub fn ok(body: serde_json::Value) -> Reply {
    Reply::Json(200, body)
}

/// Google's error envelope.
pub fn google_error(code: u16, status: &str, message: &str, reason: Option<&str>) -> Reply {
    let mut error = serde_json::json!({"code": code, "message": message, "status": status});
    if let Some(reason) = reason {
        error["details"] = serde_json::json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"
        }]);
    }
    Reply::Json(code, serde_json::json!({ "error": error }))
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct Stub {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Stub {
    pub fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let seen = seen.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let seen = seen.clone();
                    let handler = handler.clone();
                    thread::spawn(move || serve(stream, &*handler, &seen));
                }
            });
        }
        Stub { base, seen, stop }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn seen_at(&self, prefix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path().starts_with(prefix))
            .collect()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let request = Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    seen.lock().unwrap().push(request.clone());
    let (status, extra, body) = match handler(&request) {
        Reply::Json(status, value) => (
            status,
            vec![("Content-Type", "application/json".to_string())],
            value.to_string(),
        ),
        Reply::Raw(status, headers, body) => (status, headers, body),
        Reply::Hang(duration) => {
            thread::sleep(duration);
            return;
        }
        Reply::Drop => return,
    };
    let mut stream = stream;
    let mut response = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&body);
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// Virtual time: sleeping advances the monotonic clock instantly and is recorded.
#[derive(Default)]
pub struct FakeSleeper {
    now: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeSleeper {
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Sleeper for FakeSleeper {
    fn monotonic(&self) -> Duration {
        *self.now.lock().unwrap()
    }

    fn sleep(&self, d: Duration) {
        *self.now.lock().unwrap() += d;
        self.sleeps.lock().unwrap().push(d);
    }
}

/// A settable wall clock.
pub struct FixedClock(pub Mutex<i64>);

impl FixedClock {
    pub fn new(now_ms: i64) -> Self {
        FixedClock(Mutex::new(now_ms))
    }

    pub fn set(&self, now_ms: i64) {
        *self.0.lock().unwrap() = now_ms;
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        *self.0.lock().unwrap()
    }
}

/// Captures every `log` record of this test binary (installed once; other loggers lose).
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        self.0.lock().unwrap().push(format!(
            "{} {} {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }

    fn flush(&self) {}
}

static CAPTURE: OnceLock<Option<&'static Capture>> = OnceLock::new();

/// Installs the capturing logger; `None` if another logger was installed first.
fn capture() -> Option<&'static Capture> {
    *CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        match log::set_logger(capture) {
            Ok(()) => {
                log::set_max_level(log::LevelFilter::Trace);
                Some(capture)
            }
            Err(_) => None,
        }
    })
}

/// Starts capturing (call at the start of a test).
pub fn start_log_capture() -> bool {
    capture().is_some()
}

/// All captured lines so far (from every test of the binary: fine for "never contains" checks).
pub fn captured_logs() -> Vec<String> {
    capture().map(|c| c.0.lock().unwrap().clone()).unwrap_or_default()
}
