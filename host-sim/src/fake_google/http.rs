//! A deliberately small HTTP/1.1 server on `std::net`.
//!
//! We own the socket (rather than using tiny_http) because the fault injector must be able to
//! *really* break a connection: write half a response and close the TCP stream, or hold a request
//! without answering and then close. tiny_http keeps keep-alive connections open after a writer is
//! dropped, so a client would only ever see a timeout, never a reset.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A parsed request. Header names are lower-cased; the path is percent-decoded.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of a query parameter (proto-style: a repeated singular wins last).
    pub fn query_one(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
        body.push(b'\n');
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json; charset=UTF-8".into())],
            body,
        }
    }

    /// One-line JSON (`?prettyPrint=false`).
    pub fn json_compact(status: u16, value: &serde_json::Value) -> Response {
        Response {
            body: serde_json::to_vec(value).unwrap_or_default(),
            ..Response::json(status, value)
        }
    }

    pub fn html(status: u16, html: String) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: html.into_bytes(),
        }
    }

    pub fn redirect(location: &str) -> Response {
        Response {
            status: 302,
            headers: vec![
                ("Location".into(), location.to_string()),
                ("Content-Type".into(), "text/html; charset=UTF-8".into()),
            ],
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn head_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        out.into_bytes()
    }
}

/// What the handler wants done with the connection.
pub enum Outcome {
    Respond(Response),
    /// Hold the request for this long, then close the connection without a byte of response.
    Hang(Duration),
    /// Write the head and half of the body of this response, then close the connection.
    Drop(Response),
}

pub type Handler = Arc<dyn Fn(Request) -> Outcome + Send + Sync>;

/// A running server; the accept loop stops and open connections are shut down on `stop`.
pub struct Server {
    addr: std::net::SocketAddr,
    stopping: Arc<AtomicBool>,
    conns: Arc<Mutex<HashMap<u64, TcpStream>>>,
    accept_thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(listen: &str, handler: Handler) -> io::Result<Server> {
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<HashMap<u64, TcpStream>>> = Arc::default();
        let accept_thread = {
            let stopping = stopping.clone();
            let conns = conns.clone();
            thread::Builder::new()
                .name("fake-google-accept".into())
                .spawn(move || {
                    let next_id = AtomicU64::new(0);
                    for stream in listener.incoming() {
                        if stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let id = next_id.fetch_add(1, Ordering::SeqCst);
                        if let Ok(clone) = stream.try_clone() {
                            conns.lock().expect("conns mutex").insert(id, clone);
                        }
                        let handler = handler.clone();
                        let conns = conns.clone();
                        let spawned =
                            thread::Builder::new()
                                .name("fake-google-conn".into())
                                .spawn(move || {
                                    serve_connection(stream, &handler);
                                    conns.lock().expect("conns mutex").remove(&id);
                                });
                        if spawned.is_err() {
                            log::warn!("fake google: could not spawn a connection thread");
                        }
                    }
                })?
        };
        Ok(Server {
            addr,
            stopping,
            conns,
            accept_thread: Some(accept_thread),
        })
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    pub fn stop(&mut self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept() so the loop sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        for (_, s) in self.conns.lock().expect("conns mutex").drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve_connection(stream: TcpStream, handler: &Handler) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(ReadError::Io) => return,
            Err(ReadError::Bad(msg)) => {
                let resp = super::error::ApiError::invalid_argument(&msg).into_response();
                let _ = write_response(&mut writer, &resp);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        };
        let close_after = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        // A bug in a handler must not take the connection (or the test) down silently:
        // answer 500 like Google's INTERNAL and keep serving.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(request)))
            .unwrap_or_else(|_| Outcome::Respond(super::error::ApiError::internal().into_response()));
        match outcome {
            Outcome::Respond(resp) => {
                if write_response(&mut writer, &resp).is_err() || close_after {
                    let _ = writer.shutdown(Shutdown::Both);
                    return;
                }
            }
            Outcome::Hang(d) => {
                thread::sleep(d);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Outcome::Drop(resp) => {
                let head = resp.head_bytes();
                let half = &resp.body[..resp.body.len() / 2];
                let _ = writer.write_all(&head);
                let _ = writer.write_all(half);
                let _ = writer.flush();
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

fn write_response(w: &mut TcpStream, resp: &Response) -> io::Result<()> {
    let mut bytes = resp.head_bytes();
    bytes.extend_from_slice(&resp.body);
    w.write_all(&bytes)?;
    w.flush()
}

enum ReadError {
    Io,
    Bad(String),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Io
    }
}

fn read_line(r: &mut BufReader<TcpStream>, budget: &mut usize) -> Result<Option<String>, ReadError> {
    let mut buf = Vec::new();
    let n = r.by_ref().take(*budget as u64 + 1).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err(ReadError::Bad("Request headers too large.".into()));
    }
    *budget -= n;
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

fn read_request(r: &mut BufReader<TcpStream>, w: &mut TcpStream) -> Result<Option<Request>, ReadError> {
    let mut budget = MAX_HEADER_BYTES;
    // Tolerate stray blank lines between keep-alive requests.
    let line = loop {
        match read_line(r, &mut budget)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(ReadError::Bad("Malformed request line.".into()));
    };
    let mut headers = Vec::new();
    loop {
        let Some(l) = read_line(r, &mut budget)? else {
            return Err(ReadError::Io);
        };
        if l.is_empty() {
            break;
        }
        let Some((k, v)) = l.split_once(':') else {
            return Err(ReadError::Bad("Malformed header line.".into()));
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        read_chunked(r)?
    } else if let Some(len) = get("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| ReadError::Bad("Malformed Content-Length.".into()))?;
        if len > MAX_BODY_BYTES {
            return Err(ReadError::Bad("Request body too large.".into()));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        body
    } else {
        Vec::new()
    };
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Some(Request {
        method: method.to_ascii_uppercase(),
        path: percent_decode(raw_path),
        query: url::form_urlencoded::parse(raw_query.as_bytes())
            .into_owned()
            .collect(),
        headers,
        body,
    }))
}

fn read_chunked(r: &mut BufReader<TcpStream>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let mut budget = 1024;
        let Some(size_line) = read_line(r, &mut budget)? else {
            return Err(ReadError::Io);
        };
        let size_hex = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| ReadError::Bad("Malformed chunk size.".into()))?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let mut budget = MAX_HEADER_BYTES;
                match read_line(r, &mut budget)? {
                    Some(l) if !l.is_empty() => continue,
                    _ => return Ok(body),
                }
            }
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(ReadError::Bad("Request body too large.".into()));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf)?;
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept literally.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}
