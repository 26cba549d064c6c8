//! The browser tests' view of headless Chromium, driven through the `headless_chrome` crate
//! (built without its `fetch` feature, so it never downloads a browser). Without
//! `/usr/bin/chromium` (or `$CHROMIUM`) a test is skipped, except under `CI=true`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::{Page, Runtime};
use headless_chrome::{LaunchOptions, Tab};
use serde_json::{json, Value};

pub fn chromium_path() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

/// `target/browser-screenshots/`, found from the test executable (`target/<profile>/deps/…`).
pub fn screenshot_dir() -> PathBuf {
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
pub fn require_chromium() -> Option<PathBuf> {
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

/// Waits for the plugin's jobs, reloads the page, and checks `done`, until `done` holds.
pub fn wait_until(
    browser: &mut Browser,
    base: &str,
    url: &str,
    what: &str,
    done: impl Fn(&mut Browser) -> bool,
) {
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

/// Chromium's own flags besides those `headless_chrome` always passes (headless, no sandbox, no
/// GPU, window size, DevTools port, a fresh profile). The crate's default list is left out so
/// that Chromium runs as it did under the former hand-written driver; the machines these tests
/// run on refuse Chromium's background traffic, so nothing may reach out for updates or sync.
const CHROMIUM_FLAGS: [&str; 5] = [
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// A headless Chromium and a DevTools session on its one page.
pub struct Browser {
    tab: Arc<Tab>,
    // `None` once dropped: dropping it closes and kills Chromium.
    chromium: Option<headless_chrome::Browser>,
    profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch(chromium: &Path) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let options = LaunchOptions::default_builder()
            .path(Some(chromium.to_path_buf()))
            .user_data_dir(Some(profile.path().to_path_buf()))
            .headless(true)
            // Chromium refuses to start as root with its sandbox, and CI runs as root.
            .sandbox(false)
            .window_size(Some((1200, 1600)))
            // Chromium picks a free port and prints it; the crate's own pick among 8000–8999
            // could race with a test running beside this one.
            .port(Some(0))
            .ignore_certificate_errors(false)
            .disable_default_args(true)
            .args(CHROMIUM_FLAGS.iter().map(OsStr::new).collect())
            // The crate drops the connection after this long without a DevTools event; a test
            // may wait on the plugin for a minute between two pages.
            .idle_browser_timeout(Duration::from_secs(600))
            .build()
            .map_err(|e| e.to_string())?;
        let chromium_browser =
            headless_chrome::Browser::new(options).map_err(|e| format!("{}: {e:#}", chromium.display()))?;
        let tab = chromium_browser
            .new_tab()
            .map_err(|e| format!("opening a page: {e:#}"))?;
        Ok(Browser {
            tab,
            chromium: Some(chromium_browser),
            profile,
        })
    }

    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let answer = self
            .tab
            .call_method(Runtime::Evaluate {
                expression: expression.to_string(),
                return_by_value: Some(true),
                object_group: None,
                include_command_line_api: None,
                silent: None,
                context_id: None,
                generate_preview: None,
                user_gesture: None,
                // A promise (an `async` expression) is awaited; any other value comes back as it is.
                await_promise: Some(true),
                throw_on_side_effect: None,
                timeout: None,
                disable_breaks: None,
                repl_mode: None,
                allow_unsafe_eval_blocked_by_csp: None,
                unique_context_id: None,
                serialization_options: None,
            })
            .map_err(|e| format!("{expression}: {e:#}"))?;
        if let Some(details) = answer.exception_details {
            return Err(format!("{expression}: {details:?}"));
        }
        Ok(answer.result.value.unwrap_or(Value::Null))
    }

    /// Runs `action`, which starts a navigation, and waits until a new document has loaded.
    // A marker in the old document tells it from the new one; the crate's own wait tracks
    // network idleness, which a click's navigation may not have started by the time it looks.
    pub fn navigate_with(&mut self, what: &str, action: impl FnOnce(&mut Browser)) {
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

    pub fn goto(&mut self, url: &str) {
        let url = url.to_string();
        self.navigate_with(&format!("opening {url}"), |b| {
            b.tab
                .navigate_to(&url)
                .unwrap_or_else(|e| panic!("opening {url}: {e:#}"));
        });
    }

    fn js_id(id: &str) -> String {
        Value::String(id.to_string()).to_string()
    }

    pub fn exists(&mut self, id: &str) -> bool {
        self.eval(&format!("document.getElementById({}) !== null", Self::js_id(id))) == Ok(Value::Bool(true))
    }

    pub fn exists_selector(&mut self, selector: &str) -> bool {
        self.eval(&format!(
            "document.querySelector({}) !== null",
            Self::js_id(selector)
        )) == Ok(Value::Bool(true))
    }

    /// Clicks the element with this id, which must exist.
    pub fn click(&mut self, id: &str) {
        let clicked = self
            .eval(&format!("(() => {{ const e = document.getElementById({}); if (!e) return false; e.click(); return true; }})()", Self::js_id(id)))
            .unwrap_or_else(|e| panic!("{e}"));
        if clicked != Value::Bool(true) {
            let text = self.text();
            panic!("no element #{id} on {}:\n{text}", self.url());
        }
    }

    pub fn click_and_wait(&mut self, id: &str) {
        let id = id.to_string();
        self.navigate_with(&format!("clicking #{id}"), |b| b.click(&id));
    }

    pub fn set_value(&mut self, id: &str, value: &str) {
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

    pub fn text(&mut self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn url(&mut self) -> String {
        self.eval("location.href")
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn screenshot(&mut self, path: &Path) {
        use base64::Engine as _;
        let shot = self.tab.call_method(Page::CaptureScreenshot {
            format: Some(Page::CaptureScreenshotFormatOption::Png),
            quality: None,
            clip: None,
            from_surface: None,
            capture_beyond_viewport: Some(true),
            optimize_for_speed: None,
        });
        match shot
            .ok()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s.data).ok())
        {
            Some(png) => {
                let _ = std::fs::write(path, png);
            }
            None => eprintln!("could not take screenshot {}", path.display()),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        drop(self.chromium.take());
        // Chromium's helper processes outlive the main one for a moment and still write into
        // the profile, so a single removal often leaves it behind in the temporary directory.
        let profile = self.profile.path();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::remove_dir_all(profile).is_err() && profile.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
