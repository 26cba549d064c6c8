//! A real headless Chromium clicks through the CRM's pages: activate sync on a filter, connect a
//! Google account on the fake consent page, enable sync, watch the first run finish, change a
//! contact in Google and pull it in with "Sync now".
//!
//! Chromium is driven over the DevTools protocol with a minimal WebSocket client below, so the
//! test needs no browser-driver crate and never downloads a browser. Without
//! `/usr/bin/chromium` (or `$CHROMIUM`) the test is skipped — except under `CI=true`, where a
//! missing browser is a failure. Screenshots of each step go to `target/browser-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use abi::{
    Contact, ContactsPermission, Criterion, FilterId, PersonName, SavedFilter, TypedValue,
    FEATURE_GOOGLE_CONTACTS,
};
use abi_stable::std_types::RVec;
use host_sim::crm::Visibility;
use serde_json::{json, Value};
use tests::WebStack;

const ACCOUNT: &str = "alice@example.com";

fn chromium_path() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

/// `target/browser-screenshots/`, found from the test executable (`target/<profile>/deps/…`).
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let target = exe
        .ancestors()
        .find(|d| d.file_name().is_some_and(|n| n == "target"))
        .map(Path::to_path_buf)
        .or_else(|| {
            exe.parent()
                .and_then(Path::parent)
                .and_then(Path::parent)
                .map(Path::to_path_buf)
        })
        .expect("a target directory above the test executable");
    let dir = target.join("browser-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// The browser to drive; `None` (after a notice) when the test should be skipped.
fn require_chromium() -> Option<PathBuf> {
    let found = chromium_path();
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "Chromium is not installed at /usr/bin/chromium (apt-get install chromium); under CI=true the browser tests must run"
        );
        eprintln!("SKIPPED: no Chromium at /usr/bin/chromium (set $CHROMIUM or apt-get install chromium)");
    }
    found
}

#[test]
fn a_user_connects_google_and_syncs_a_filter_in_a_real_browser() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let stack = WebStack::start(true);
    let sim = &stack.world.sim;
    let base = stack.web.base_url();
    let google = stack.google.base_url();

    let ann = sim
        .crm()
        .add_user("Ann", &[FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit, &[])
        .unwrap();
    let filter = sim
        .save_filter(SavedFilter {
            id: FilterId(0),
            name: "Customers".into(),
            author: ann.id,
            saved: true,
            criteria: RVec::from(vec![Criterion {
                field: "company".into(),
                op: "equals".into(),
                value: "Acme".into(),
            }]),
        })
        .unwrap();
    for (given, family, email) in [
        ("Carol", "Jones", "carol@acme.test"),
        ("Dave", "Smith", "dave@acme.test"),
    ] {
        let contact = Contact {
            name: PersonName {
                given: given.into(),
                family: family.into(),
                ..PersonName::default()
            },
            emails: RVec::from(vec![TypedValue {
                value: email.into(),
                kind: "work".into(),
                primary: true,
            }]),
            company: "Acme".into(),
            ..Contact::default()
        };
        sim.create_contact(ann.id, contact, Visibility::Everyone).unwrap();
    }
    let filter_url = format!("{base}/ui/users/{}/filters/{}", ann.id.0, filter.id.0);

    let shots = screenshot_dir();
    let mut browser = Browser::launch(&chromium).expect("Chromium starts with a DevTools endpoint");
    let step = |browser: &mut Browser, name: &str| {
        browser.screenshot(&shots.join(format!("{name}.png")));
    };

    // The filter page offers sync to its author.
    browser.goto(&filter_url);
    step(&mut browser, "01-filter-page");
    assert!(browser.text().contains("Customers"), "{}", browser.text());
    browser.click_and_wait("activate");
    step(&mut browser, "02-activated");

    // No account yet: "Connect Google" leads to Google's consent page.
    browser.click_and_wait("connect-google");
    step(&mut browser, "03-consent");
    assert!(
        browser.url().starts_with(&google),
        "expected the consent page, at {}",
        browser.url()
    );
    browser.click(&format!("account-{ACCOUNT}"));
    browser.click_and_wait("allow");
    step(&mut browser, "04-back-from-google");
    assert!(
        browser.url().starts_with(&filter_url),
        "expected the filter page, at {}",
        browser.url()
    );
    assert!(
        browser.exists("enable-sync"),
        "no enable-sync form after connecting:\n{}",
        browser.text()
    );

    // Enable sync with the defaults, into a named group.
    browser.set_value("group_name", "CRM Customers");
    browser.click_and_wait("enable-sync-submit");
    step(&mut browser, "05-enabled");

    // The first run finishes; the page shows its counts and when it ran.
    wait_until(
        &mut browser,
        &base,
        &filter_url,
        "the first sync to finish",
        |b| {
            let text = b.text();
            text.contains("Last sync") && text.contains("Last run") && !b.exists_selector("progress")
        },
    );
    step(&mut browser, "06-first-sync-done");
    let status = browser.text();
    assert_eq!(
        last_run_counts(&status).created_in_google,
        2,
        "the first run's counts are not shown:\n{status}"
    );
    let in_google = stack.google.contacts(ACCOUNT).expect("account exists");
    assert_eq!(in_google.len(), 2, "both contacts reached Google: {in_google:#?}");

    // Someone renames Carol in Google's web UI…
    let carol = in_google
        .iter()
        .find(|p| p.to_string().contains("Carol"))
        .and_then(|p| p["resourceName"].as_str())
        .expect("Carol in Google")
        .trim_start_matches("people/")
        .to_string();
    let http = reqwest::blocking::Client::new();
    let edited = http
        .patch(format!("{google}/control/accounts/{ACCOUNT}/contacts/{carol}"))
        .json(&json!({"names": [{"givenName": "Caroline", "familyName": "Jones"}]}))
        .send()
        .expect("control API answers");
    assert!(edited.status().is_success(), "{:?}", edited.text());

    // …and "Sync now" brings the change into the CRM.
    browser.click_and_wait("sync-now");
    step(&mut browser, "07-sync-now");
    wait_until(
        &mut browser,
        &base,
        &filter_url,
        "the renamed contact in the CRM",
        |b| b.text().contains("Caroline Jones"),
    );
    step(&mut browser, "08-change-in-crm");
    assert!(!browser.text().contains("Carol Jones"), "{}", browser.text());

    // The integration page lists the connected account.
    browser.goto(&format!("{base}/ui/users/{}/integrations", ann.id.0));
    step(&mut browser, "09-integrations");
    let accounts = browser
        .eval("document.getElementById('accounts') ? document.getElementById('accounts').innerText : ''")
        .unwrap_or_default();
    assert!(
        accounts.as_str().is_some_and(|t| t.contains(ACCOUNT)),
        "accounts table: {accounts}"
    );
}

#[test]
fn denying_consent_on_google_comes_back_with_a_message() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let stack = WebStack::start(true);
    let sim = &stack.world.sim;
    let base = stack.web.base_url();
    let ann = sim
        .crm()
        .add_user("Ann", &[FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit, &[])
        .unwrap();
    let integrations = format!("{base}/ui/users/{}/integrations", ann.id.0);
    let shots = screenshot_dir();

    let mut browser = Browser::launch(&chromium).expect("Chromium starts with a DevTools endpoint");
    browser.goto(&integrations);
    browser.click_and_wait("connect-google");
    assert!(
        browser.url().starts_with(&stack.google.base_url()),
        "expected the consent page, at {}",
        browser.url()
    );
    browser.click_and_wait("deny");
    browser.screenshot(&shots.join("deny-01-back.png"));
    assert!(
        browser.url().starts_with(&integrations),
        "expected the integration page, at {}",
        browser.url()
    );
    assert!(
        browser.exists("flash"),
        "no message after denying:\n{}",
        browser.text()
    );
    assert!(
        browser.exists("connect-google"),
        "connecting can be tried again:\n{}",
        browser.text()
    );
    let accounts = browser
        .eval("document.getElementById('accounts') ? document.getElementById('accounts').innerText : ''")
        .unwrap_or_default();
    assert!(
        !accounts.as_str().unwrap_or("").contains(ACCOUNT),
        "no account was connected: {accounts}"
    );

    // The message shows once.
    browser.goto(&integrations);
    assert!(
        !browser.exists("flash"),
        "the message shows again:\n{}",
        browser.text()
    );
}

#[test]
fn the_oauth_callback_without_a_signed_in_user_explains_what_to_do() {
    let stack = WebStack::start(true);
    let response = reqwest::blocking::get(format!("{}/oauth/callback?code=x&state=y", stack.web.base_url()))
        .expect("the callback answers");
    assert_eq!(response.status().as_u16(), 400);
    let body = response.text().unwrap_or_default();
    assert!(body.contains("not signed in"), "{body}");
}

/// Waits for the plugin's jobs, reloads the page, and checks `done`, until `done` holds.
fn wait_until(browser: &mut Browser, base: &str, url: &str, what: &str, done: impl Fn(&mut Browser) -> bool) {
    let http = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let _ = http
            .post(format!("{base}/api/wait-idle"))
            .json(&json!({"timeout_ms": 5000}))
            .send();
        browser.goto(url);
        if done(browser) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the page says:\n{}",
            browser.text()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A headless Chromium and a DevTools session on its one page.
struct Browser {
    child: Child,
    cdp: Cdp,
    profile: tempfile::TempDir,
}

impl Browser {
    fn launch(chromium: &Path) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1200,1600",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", chromium.display()))?;
        let mut browser = Browser {
            child,
            cdp: Cdp::placeholder(),
            profile,
        };
        // Chromium writes the port it picked into the profile directory.
        let port_file = browser.profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.lines().next()?.trim().parse::<u16>().ok())
            {
                break port;
            }
            if Instant::now() > deadline {
                return Err("Chromium did not open its DevTools port within 30 s".into());
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                return Err(format!("Chromium exited at start: {status}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let ws_url = loop {
            let targets: Option<Value> = reqwest::blocking::get(format!("http://127.0.0.1:{port}/json/list"))
                .ok()
                .and_then(|r| r.json().ok());
            let page = targets.as_ref().and_then(Value::as_array).and_then(|t| {
                t.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_string))
            });
            if let Some(url) = page {
                break url;
            }
            if Instant::now() > deadline {
                return Err("Chromium listed no page target".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        browser.cdp = Cdp::connect(&ws_url)?;
        browser.cdp.call("Page.enable", json!({}))?;
        browser.cdp.call("Runtime.enable", json!({}))?;
        Ok(browser)
    }

    fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.cdp.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )?;
        if let Some(details) = result.get("exceptionDetails") {
            return Err(format!("{expression}: {details}"));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Runs `action`, which starts a navigation, and waits until a new document has loaded.
    fn navigate_with(&mut self, what: &str, action: impl FnOnce(&mut Browser)) {
        self.eval("window.__hostSimOldPage = true")
            .unwrap_or_else(|e| panic!("{e}"));
        action(self);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Errors are expected while the old document goes away.
            if let Ok(Value::Bool(true)) =
                self.eval("window.__hostSimOldPage === undefined && document.readyState === 'complete'")
            {
                return;
            }
            assert!(Instant::now() < deadline, "no new page loaded after {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn goto(&mut self, url: &str) {
        let url = url.to_string();
        self.navigate_with(&format!("opening {url}"), |b| {
            b.cdp
                .call("Page.navigate", json!({"url": url}))
                .unwrap_or_else(|e| panic!("{e}"));
        });
    }

    fn js_id(id: &str) -> String {
        Value::String(id.to_string()).to_string()
    }

    fn exists(&mut self, id: &str) -> bool {
        self.eval(&format!("document.getElementById({}) !== null", Self::js_id(id))) == Ok(Value::Bool(true))
    }

    fn exists_selector(&mut self, selector: &str) -> bool {
        self.eval(&format!(
            "document.querySelector({}) !== null",
            Self::js_id(selector)
        )) == Ok(Value::Bool(true))
    }

    /// Clicks the element with this id, which must exist.
    fn click(&mut self, id: &str) {
        let clicked = self
            .eval(&format!("(() => {{ const e = document.getElementById({}); if (!e) return false; e.click(); return true; }})()", Self::js_id(id)))
            .unwrap_or_else(|e| panic!("{e}"));
        if clicked != Value::Bool(true) {
            let text = self.text();
            panic!("no element #{id} on {}:\n{text}", self.url());
        }
    }

    fn click_and_wait(&mut self, id: &str) {
        let id = id.to_string();
        self.navigate_with(&format!("clicking #{id}"), |b| b.click(&id));
    }

    fn set_value(&mut self, id: &str, value: &str) {
        let set = self
            .eval(&format!(
                "(() => {{ const e = document.getElementById({}); if (!e) return false; e.value = {}; return true; }})()",
                Self::js_id(id),
                Self::js_id(value)
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            set,
            Value::Bool(true),
            "no input #{id} on {}:\n{}",
            self.url(),
            self.text()
        );
    }

    fn text(&mut self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn url(&mut self) -> String {
        self.eval("location.href")
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn screenshot(&mut self, path: &Path) {
        use base64::Engine as _;
        let shot = self.cdp.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let data = shot.ok().and_then(|v| v["data"].as_str().map(str::to_string));
        match data.and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok()) {
            Some(png) => {
                let _ = std::fs::write(path, png);
            }
            None => eprintln!("could not take screenshot {}", path.display()),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DevTools protocol session: JSON commands over a WebSocket, answered by id.
struct Cdp {
    ws: Option<ws::Socket>,
    next_id: u64,
}

impl Cdp {
    fn placeholder() -> Cdp {
        Cdp { ws: None, next_id: 1 }
    }

    fn connect(url: &str) -> Result<Cdp, String> {
        Ok(Cdp {
            ws: Some(ws::Socket::connect(url)?),
            next_id: 1,
        })
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let ws = self.ws.as_mut().ok_or("not connected")?;
        let id = self.next_id;
        self.next_id += 1;
        ws.send(&json!({"id": id, "method": method, "params": params}).to_string())?;
        loop {
            let message: Value = serde_json::from_str(&ws.receive()?).map_err(|e| e.to_string())?;
            // Events (no id) and stale answers are skipped.
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    return Err(format!("{method}: {error}"));
                }
                return Ok(message["result"].clone());
            }
        }
    }
}

/// Just enough of RFC 6455 for a DevTools client: one connection, text frames, masking.
mod ws {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    pub struct Socket {
        reader: BufReader<TcpStream>,
        writer: TcpStream,
    }

    impl Socket {
        pub fn connect(url: &str) -> Result<Socket, String> {
            let rest = url
                .strip_prefix("ws://")
                .ok_or_else(|| format!("not a ws:// URL: {url}"))?;
            let (host, path) = rest
                .split_once('/')
                .map(|(h, p)| (h, format!("/{p}")))
                .unwrap_or((rest, "/".into()));
            let stream = TcpStream::connect(host).map_err(|e| format!("{host}: {e}"))?;
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .map_err(|e| e.to_string())?;
            let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
            // The key only has to be 16 random-looking bytes in base64; nothing here is secret.
            write!(
                writer,
                "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: aG9zdC1zaW0tYnJvd3Nlcg==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            .map_err(|e| e.to_string())?;
            let mut reader = BufReader::new(stream);
            let mut status = String::new();
            reader.read_line(&mut status).map_err(|e| e.to_string())?;
            if !status.contains(" 101 ") {
                return Err(format!("WebSocket handshake refused: {status}"));
            }
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).map_err(|e| e.to_string())?;
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            Ok(Socket { reader, writer })
        }

        fn write_frame(&mut self, opcode: u8, payload: &[u8]) -> Result<(), String> {
            let mut frame = vec![0x80 | opcode];
            let len = payload.len();
            if len < 126 {
                frame.push(0x80 | len as u8);
            } else if len <= u16::MAX as usize {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
            // Clients must mask; the mask need not be unpredictable for a local test.
            let mask = [0x5a, 0x13, 0xc7, 0x2e];
            frame.extend_from_slice(&mask);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
            self.writer.write_all(&frame).map_err(|e| e.to_string())
        }

        pub fn send(&mut self, text: &str) -> Result<(), String> {
            self.write_frame(0x1, text.as_bytes())
        }

        /// The next whole text message (fragments joined; pings answered).
        pub fn receive(&mut self) -> Result<String, String> {
            let mut message = Vec::new();
            loop {
                let mut head = [0u8; 2];
                self.reader
                    .read_exact(&mut head)
                    .map_err(|e| format!("DevTools connection: {e}"))?;
                let fin = head[0] & 0x80 != 0;
                let opcode = head[0] & 0x0f;
                let masked = head[1] & 0x80 != 0;
                let len = match head[1] & 0x7f {
                    126 => {
                        let mut b = [0u8; 2];
                        self.reader.read_exact(&mut b).map_err(|e| e.to_string())?;
                        u16::from_be_bytes(b) as usize
                    }
                    127 => {
                        let mut b = [0u8; 8];
                        self.reader.read_exact(&mut b).map_err(|e| e.to_string())?;
                        usize::try_from(u64::from_be_bytes(b)).map_err(|e| e.to_string())?
                    }
                    n => n as usize,
                };
                let mut mask = [0u8; 4];
                if masked {
                    self.reader.read_exact(&mut mask).map_err(|e| e.to_string())?;
                }
                let mut payload = vec![0u8; len];
                self.reader.read_exact(&mut payload).map_err(|e| e.to_string())?;
                if masked {
                    payload
                        .iter_mut()
                        .enumerate()
                        .for_each(|(i, b)| *b ^= mask[i % 4]);
                }
                match opcode {
                    0x0..=0x2 => {
                        message.extend_from_slice(&payload);
                        if fin {
                            return String::from_utf8(message).map_err(|e| e.to_string());
                        }
                    }
                    0x8 => return Err("DevTools closed the connection".into()),
                    0x9 => self.write_frame(0xA, &payload)?,
                    _ => {}
                }
            }
        }
    }
}

/// The "Last run" counts as the page shows them, each read as a whole number.
fn last_run_counts(page_text: &str) -> tests::RunCounts {
    let line = page_text
        .lines()
        .find(|l| l.contains(" updated in the CRM, "))
        .unwrap_or_else(|| panic!("no run counts on the page:\n{page_text}"));
    tests::RunCounts::read(line.trim().trim_start_matches("Last run").trim())
}
