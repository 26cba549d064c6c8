//! A benchmark world: host-sim with the real plugin library, and a fake Google with latency and
//! quotas in a process of its own (see `google.rs`). Like `tests::GoogleWorld`, but it takes the library path explicitly (the
//! bench binary lives in `target/<profile>/`, not in `deps/`), returns errors instead of
//! panicking, and waits for long runs (a quota-paced first sync takes minutes).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use abi::{ContactsPermission, FilterId, SettingsPage, UserId};
use abi_stable::std_types::RVec;
use host_sim::crm::Visibility;
use host_sim::fake_google::FakeGoogleConfig;
use host_sim::{Sim, SimConfig};

use crate::google::RemoteGoogle;
use crate::Settings;

pub type Res<T> = Result<T, String>;

/// Contacts listed per page by `connections.list`, and Google's batch limits.
pub const LIST_PAGE: usize = 1000;
pub const BATCH: usize = 200;
/// Resource names per `contactGroups.members.modify`.
pub const MEMBERS_BATCH: usize = 1000;

pub struct BenchWorld {
    pub sim: Arc<Sim>,
    pub google: RemoteGoogle,
    http: reqwest::blocking::Client,
    // Kept alive for the world's lifetime: dropping them deletes the directories.
    _plugin_dir: tempfile::TempDir,
    _state_dir: tempfile::TempDir,
}

/// Finds the plugin library next to the running executable or above it (also in `deps/`,
/// where `cargo test` leaves a dev-dependency's cdylib).
pub fn find_plugin() -> Option<PathBuf> {
    let file = format!(
        "{}crm_google_contacts{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent();
    while let Some(d) = dir {
        for candidate in [d.join(&file), d.join("deps").join(&file)] {
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        if d.file_name().is_some_and(|n| n == "target") {
            break;
        }
        dir = d.parent();
    }
    None
}

/// How a world is set up before its measured part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Google's latency and quotas from the start (the measured part is the first sync).
    AsMeasured,
    /// No latency and unlimited quotas while the world is built (a first sync of thousands of
    /// contacts in seconds, not minutes); [`BenchWorld::measure_as_set`] then gives the fake
    /// Google the bench's latency and quotas for the measured part. The plugin keeps pacing
    /// itself at the unlimited rate, which only matters for wall times (none is judged there).
    Fast,
    /// As `Fast` for the fake Google, but the plugin paces itself with the bench's quotas from
    /// the start, as it would in production: for measured parts whose call counts depend on it.
    FastGoogle,
}

/// Quotas that never bind (per user and minute).
const UNLIMITED: u32 = 1_000_000;

impl BenchWorld {
    pub fn start(settings: &Settings, accounts: &[&str]) -> Res<BenchWorld> {
        BenchWorld::start_with(settings, accounts, Setup::AsMeasured)
    }

    pub fn start_with(settings: &Settings, accounts: &[&str], setup: Setup) -> Res<BenchWorld> {
        let (read_quota, write_quota, latency_ms) = match setup {
            Setup::AsMeasured => (settings.read_quota, settings.write_quota, settings.latency_ms),
            Setup::Fast | Setup::FastGoogle => (UNLIMITED, UNLIMITED, 0),
        };
        let (plugin_reads, plugin_writes) = match setup {
            Setup::Fast => (UNLIMITED, UNLIMITED),
            Setup::AsMeasured | Setup::FastGoogle => (settings.read_quota, settings.write_quota),
        };
        let mut cfg = FakeGoogleConfig {
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            read_quota_per_minute: read_quota,
            write_quota_per_minute: write_quota,
            latency_ms,
            ..FakeGoogleConfig::default()
        };
        cfg.max_contacts_per_account = cfg.max_contacts_per_account.max(settings.contacts);
        let google = RemoteGoogle::start(&cfg)?;
        let plugin_dir = tempfile::tempdir().map_err(|e| format!("plugin directory: {e}"))?;
        std::fs::copy(
            &settings.plugin,
            plugin_dir.path().join(host_sim::loader::library_file_name()),
        )
        .map_err(|e| format!("copying {}: {e}", settings.plugin.display()))?;
        let state_dir = tempfile::tempdir().map_err(|e| format!("state directory: {e}"))?;
        let mut sim_cfg = SimConfig::new(plugin_dir.path(), state_dir.path());
        // A manual host clock: ticks happen only when the bench delivers them.
        sim_cfg.manual_clock = Some(abi::Millis(1_795_000_000_000));
        sim_cfg
            .plugin_config
            .extend(tests::google_config(google.base_url()));
        // The plugin paces itself with the same per-user quotas the fake enforces.
        for (key, value) in [
            ("google.read_quota_per_minute", plugin_reads.to_string()),
            ("google.write_quota_per_minute", plugin_writes.to_string()),
            (
                "sync.max_contacts_per_account",
                settings.contacts.max(25_000).to_string(),
            ),
        ] {
            sim_cfg.plugin_config.insert(key.to_string(), value);
        }
        let sim = Sim::start(sim_cfg).map_err(|e| format!("host-sim failed to start: {e}"))?;
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(BenchWorld {
            sim,
            google,
            http,
            _plugin_dir: plugin_dir,
            _state_dir: state_dir,
        })
    }

    /// Gives the fake Google the bench's latency and quotas (after a [`Setup::Fast`] setup) and
    /// forgets the calls counted against this minute's quotas so far.
    pub fn measure_as_set(&self, settings: &Settings) -> Res<()> {
        self.google.patch_config(&serde_json::json!({
            "latency_ms": settings.latency_ms,
            "read_quota_per_minute": settings.read_quota,
            "write_quota_per_minute": settings.write_quota,
        }))?;
        self.google.reset_quota()
    }

    /// Waits for every plugin job (a quota-paced run of thousands of contacts takes minutes).
    pub fn settle(&self) -> Res<()> {
        if self.sim.wait_idle(Duration::from_secs(3 * 3600)) {
            Ok(())
        } else {
            Err("plugin jobs did not finish within 3 hours".into())
        }
    }

    /// Moves the host clock past every binding's interval and delivers exactly one tick
    /// (`Sim::advance` would deliver one per elapsed minute, each able to queue a run).
    pub fn one_tick(&self) -> Res<()> {
        self.sim.clock().advance(6 * 60_000);
        self.sim.tick(self.sim.clock().now());
        self.settle()
    }

    pub fn user(&self, name: &str) -> Res<abi::User> {
        self.sim
            .crm()
            .add_user(
                name,
                &[abi::FEATURE_GOOGLE_CONTACTS],
                ContactsPermission::Edit,
                &[],
            )
            .map_err(|e| format!("adding user {name}: {e}"))
    }

    /// Creates `count` CRM contacts `first..first+count` in `segment`, through the host so the
    /// plugin hears about them as it would in production.
    pub fn add_contacts(
        &self,
        owner: UserId,
        segment: &str,
        first: usize,
        count: usize,
    ) -> Res<Vec<abi::ContactId>> {
        (first..first + count)
            .map(|i| {
                let c = tests::contact(&format!("Given{i}"), &format!("Family{i}"), &email(i), segment);
                self.sim
                    .create_contact(owner, c, Visibility::Everyone)
                    .map(|c| c.id)
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    pub fn filter(&self, author: UserId, name: &str, segment: &str) -> Res<FilterId> {
        self.sim
            .save_filter(abi::SavedFilter {
                id: FilterId(0),
                name: name.into(),
                author,
                saved: true,
                criteria: RVec::from(vec![abi::Criterion {
                    field: "custom:segment".into(),
                    op: "equals".into(),
                    value: segment.into(),
                }]),
            })
            .map(|f| f.id)
            .map_err(|e| format!("saving filter {name}: {e}"))
    }

    pub fn action(
        &self,
        user: UserId,
        page: SettingsPage,
        name: &str,
        fields: &[(&str, &str)],
    ) -> Res<abi::ActionOutcome> {
        let action = abi::SettingsAction {
            name: name.into(),
            fields: fields
                .iter()
                .map(|(n, v)| abi::Field {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
        };
        self.sim
            .settings_action(tests::PLUGIN, user, page, action)
            .map_err(|e| format!("{name}: {}", e.message))
    }

    /// Connects `email` for `user` through the real OAuth flow (authorization URL, consent
    /// form, callback), as `tests::GoogleWorld::connect` does.
    pub fn connect(&self, user: UserId, email: &str) -> Res<()> {
        let start = self.action(user, SettingsPage::Integration, "connect", &[])?;
        let url = start
            .redirect_to
            .into_option()
            .ok_or("connect did not redirect to Google")?
            .into_string();
        let page = self
            .http
            .get(&url)
            .send()
            .and_then(|r| r.text())
            .map_err(|e| format!("consent page: {e}"))?;
        let request_id =
            attribute_after(&page, "name=\"request_id\" value=\"").ok_or("no request id on consent page")?;
        let mut form = vec![
            ("request_id".to_string(), request_id),
            ("account".into(), email.into()),
            ("decision".into(), "allow".into()),
        ];
        let marker = "name=\"scope\" value=\"";
        let mut rest = page.as_str();
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let end = rest.find('"').unwrap_or(0);
            form.push(("scope".into(), html_unescape(&rest[..end])));
        }
        let answer = self
            .http
            .post(format!("{}/o/oauth2/v2/auth/decide", self.google.base_url()))
            .form(&form)
            .send()
            .map_err(|e| format!("consent decision: {e}"))?;
        let location = answer
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or("the consent decision did not redirect back")?
            .to_string();
        let callback = url::Url::parse(&location).map_err(|e| format!("callback URL: {e}"))?;
        let fields: Vec<(String, String)> = callback
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let outcome = self.action(user, SettingsPage::Integration, "oauth_callback", &fields)?;
        if outcome.message.contains("Connected") {
            Ok(())
        } else {
            Err(format!("connecting {email}: {}", outcome.message))
        }
    }

    /// Enables sync of `filter` with `email`; the first run starts at once.
    pub fn enable(&self, user: UserId, filter: FilterId, email: &str) -> Res<()> {
        let filter_text = filter.0.to_string();
        let fields = [("account", email), ("filter", filter_text.as_str())];
        let outcome = self.action(user, SettingsPage::Filter(filter), "enable", &fields)?;
        if outcome.message.contains("Sync enabled") {
            Ok(())
        } else {
            Err(format!("enabling filter {}: {}", filter.0, outcome.message))
        }
    }

    /// Live Google contacts of `account` in `group` (by resource name).
    pub fn members(&self, account: &str, group: &str) -> Res<usize> {
        let contacts = self.google.contacts(account).map_err(|e| e.to_string())?;
        Ok(contacts
            .iter()
            .filter(|p| {
                p["memberships"].as_array().is_some_and(|ms| {
                    ms.iter()
                        .any(|m| m["contactGroupMembership"]["contactGroupResourceName"] == group)
                })
            })
            .count())
    }

    /// The resource name of `account`'s group called `name`.
    pub fn group(&self, account: &str, name: &str) -> Res<String> {
        self.google
            .groups(account)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|g| g["name"] == name)
            .and_then(|g| g["resourceName"].as_str().map(str::to_string))
            .ok_or_else(|| format!("{account} has no group \"{name}\""))
    }

    /// The plugin's mapping file and its write-ahead log.
    pub fn mapping_files(&self) -> [PathBuf; 2] {
        let dir = self.sim.plugin_data_dir(tests::PLUGIN);
        let db = dir.join("google-contacts.sqlite3");
        let wal = PathBuf::from(format!("{}-wal", db.display()));
        [db, wal]
    }
}

/// Creates Google contacts `0..n` with the names and emails the CRM contacts of the same index
/// have, as a person would in Google's web UI (no quota, no latency).
pub fn seed_google(google: &RemoteGoogle, account: &str, n: usize) -> Res<()> {
    for i in 0..n {
        let person = serde_json::json!({
            "names": [{"givenName": format!("Given{i}"), "familyName": format!("Family{i}")}],
            "emailAddresses": [{"value": email(i), "type": "work"}],
        });
        google
            .create_contact(account, &person)
            .map_err(|e| format!("seeding contact {i}: {e}"))?;
    }
    Ok(())
}

/// The email of benchmark contact `i` (the dedupe scenario seeds Google with the same ones).
pub fn email(i: usize) -> String {
    format!("person{i}@example.org")
}

fn attribute_after(page: &str, marker: &str) -> Option<String> {
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(html_unescape(&page[start..end]))
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
