//! The fake Google in a process of its own. The bench measures host-sim, the CRM host with the
//! plugin in it; Google's memory and threads are not the host's, so they must not count in its
//! peak RSS. The child is this same binary started with `--serve-google CONFIG_JSON`: it prints
//! its base URL, serves until its standard input closes, and dies with the bench.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitCode, Stdio};

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, Stats};
use serde_json::Value;

use crate::world::Res;

pub const SERVE_FLAG: &str = "--serve-google";

/// The child's entry point: `bench --serve-google CONFIG_JSON`.
pub fn serve(config_json: &str) -> ExitCode {
    one_malloc_arena();
    let cfg: FakeGoogleConfig = match serde_json::from_str(config_json) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("bench {SERVE_FLAG}: invalid config: {e}");
            return ExitCode::from(2);
        }
    };
    let google = match FakeGoogle::start("127.0.0.1:0", cfg) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("bench {SERVE_FLAG}: the fake Google could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", google.base_url());
    // Serve until the bench closes our stdin (or dies, which closes it too).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(google);
    ExitCode::SUCCESS
}

/// The fake serves each connection on a thread of its own, and glibc gives each new thread its
/// own malloc arena (up to 8 per core), each keeping the freed memory of the big answers its
/// thread built (a listing page, a control dump). One arena for the whole process lets those
/// answers reuse one another's memory. Called before any thread starts.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; no thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// A fake Google running in a child process, driven through its control API over HTTP.
pub struct RemoteGoogle {
    child: Child,
    base_url: String,
    http: reqwest::blocking::Client,
}

impl RemoteGoogle {
    pub fn start(cfg: &FakeGoogleConfig) -> Res<RemoteGoogle> {
        let exe = std::env::current_exe().map_err(|e| format!("bench executable: {e}"))?;
        let config = serde_json::to_string(cfg).map_err(|e| format!("fake Google config: {e}"))?;
        let mut child = Command::new(exe)
            .args([SERVE_FLAG, &config])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting the fake Google process: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the fake Google process has no stdout")?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let base_url = line.trim().to_string();
        if read.is_err() || !base_url.starts_with("http://") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the fake Google process printed no URL (got {base_url:?}, {read:?})"
            ));
        }
        let http = reqwest::blocking::Client::builder()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(RemoteGoogle {
            child,
            base_url,
            http,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Lists every contact of `account` through the People API as a client would (pages of
    /// 1,000, the fake's latency and quotas apply): the number of calls it took.
    pub fn full_listing(&self, account: &str) -> Res<u64> {
        let issued = self.call(
            reqwest::Method::POST,
            "tokens/issue",
            Some(&serde_json::json!({
                "account": account,
                "scopes": ["https://www.googleapis.com/auth/contacts"],
            })),
        )?;
        let token = issued["access_token"]
            .as_str()
            .ok_or_else(|| format!("no access token issued: {issued}"))?
            .to_string();
        let url = format!("{}/v1/people/me/connections", self.base_url);
        let (mut calls, mut page_token) = (0, None::<String>);
        loop {
            let mut query = vec![
                ("pageSize", "1000".to_string()),
                (
                    "personFields",
                    "names,emailAddresses,phoneNumbers,memberships,metadata,clientData".into(),
                ),
                ("requestSyncToken", "true".into()),
            ];
            query.extend(page_token.take().map(|t| ("pageToken", t)));
            let response = self.http.get(&url).bearer_auth(&token).query(&query).send();
            let page: Value = response
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.json())
                .map_err(|e| format!("listing {account}: {e}"))?;
            calls += 1;
            match page["nextPageToken"].as_str() {
                Some(next) if !next.is_empty() => page_token = Some(next.to_string()),
                _ => return Ok(calls),
            }
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Res<Value> {
        let url = format!("{}/control/{path}", self.base_url);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let text = response.text().map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url}: HTTP {status}: {text}"));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))
    }

    fn list(&self, path: &str) -> Res<Vec<Value>> {
        match self.call(reqwest::Method::GET, path, None)? {
            Value::Array(items) => Ok(items),
            other => Err(format!("{path}: expected a list, got {other}")),
        }
    }

    pub fn stats(&self) -> Res<Stats> {
        let value = self.call(reqwest::Method::GET, "stats", None)?;
        serde_json::from_value(value).map_err(|e| format!("stats: {e}"))
    }

    pub fn reset_stats(&self) -> Res<()> {
        self.call(reqwest::Method::POST, "stats/reset", None).map(drop)
    }

    /// Changes some of the fake's settings (latency, quotas) while it runs.
    pub fn patch_config(&self, patch: &Value) -> Res<()> {
        self.call(reqwest::Method::PATCH, "config", Some(patch)).map(drop)
    }

    /// Forgets the requests counted against the current minute's quotas.
    pub fn reset_quota(&self) -> Res<()> {
        self.call(reqwest::Method::POST, "quota/reset", None).map(drop)
    }

    /// Makes every sync token issued so far expire: the next listing of each account is full.
    pub fn expire_sync_tokens(&self) -> Res<()> {
        self.call(
            reqwest::Method::POST,
            "sync-tokens/expire",
            Some(&serde_json::json!({})),
        )
        .map(drop)
    }

    pub fn contacts(&self, account: &str) -> Res<Vec<Value>> {
        self.list(&format!("accounts/{account}/contacts"))
    }

    pub fn groups(&self, account: &str) -> Res<Vec<Value>> {
        self.list(&format!("accounts/{account}/groups"))
    }

    pub fn create_contact(&self, account: &str, person: &Value) -> Res<Value> {
        self.call(
            reqwest::Method::POST,
            &format!("accounts/{account}/contacts"),
            Some(person),
        )
    }

    pub fn edit_contact(&self, account: &str, resource_name: &str, person: &Value) -> Res<Value> {
        let id = resource_name.trim_start_matches("people/");
        self.call(
            reqwest::Method::PATCH,
            &format!("accounts/{account}/contacts/{id}"),
            Some(person),
        )
    }

    /// Peak resident memory of the fake Google's process (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        crate::sys::status_bytes_of(&format!("/proc/{}/status", self.child.id()), "VmHWM").unwrap_or(0)
    }

    /// Resets the fake's peak-RSS mark, so a later [`RemoteGoogle::peak_rss`] is the peak of
    /// what it served in between; `false` if the kernel refused.
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").is_ok()
    }
}

impl Drop for RemoteGoogle {
    fn drop(&mut self) {
        // Closing stdin asks the child to stop; one that does not within 2 s is killed.
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
