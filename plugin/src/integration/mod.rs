//! The plugin instance the host talks to: it owns the mapping file and the Google accounts, and
//! routes each hook to the concern that handles it. Host-thread hooks only record and queue;
//! every network call happens in `run_job` on a host worker thread.

mod host_glue;
mod jobs;
mod memory;
mod notices;
pub mod people;
pub(crate) mod previews;
pub mod sides;
pub(crate) mod undo;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use abi::abi_stable::std_types::{RStr, RString};
use abi::{ChangeKind, ContactChange, Host, Job, Millis, PluginError, PluginErrorKind, SavedFilter};

use crate::google::{GoogleAccounts, GoogleConfig, GoogleError, ThreadSleeper};
use crate::store::{bindings, outbox, Store, StoreError};
use crate::sync::Rules;
pub(crate) use host_glue::filter_name;
use host_glue::{HostClock, HostSecrets};

pub struct Integration {
    pub(crate) host: Host,
    pub(crate) store: Store,
    /// The Google side, or why the configuration does not allow one.
    pub(crate) google: Result<GoogleAccounts, String>,
    pub(crate) rules: Rules,
    /// A job to read the outbox is queued and has not started yet.
    outbox_job_queued: AtomicBool,
    /// A job to review the notices is queued and has not started yet.
    notices_job_queued: AtomicBool,
    /// Accounts with a run under way, and the listing of another run asked for meanwhile.
    running: Mutex<HashMap<String, Option<crate::sync::Listing>>>,
    /// Accounts with a job queued by a tick.
    queued: Mutex<HashSet<String>>,
    /// (user, filter) pairs where the user clicked the activation link.
    pub(crate) activated: Mutex<HashSet<(u64, u64)>>,
    notices: notices::NoticeBoard,
    pub(crate) previews: previews::Previews,
    pub(crate) undos: undo::Undos,
    /// How each (user, filter) filters its page's "Recent changes".
    history_queries: Mutex<HashMap<(u64, u64), crate::store::history::Query>>,
}

pub(crate) fn store_error(e: StoreError) -> PluginError {
    PluginError::new(PluginErrorKind::Failed, e.to_string())
}

impl Integration {
    pub fn open(host: Host) -> Result<Self, PluginError> {
        let dir = host.data_dir().into_string();
        let store = Store::open(std::path::Path::new(&dir)).map_err(store_error)?;
        let google = google_accounts(&host);
        if let Err(e) = &google {
            log::error!("Google is not usable with this configuration: {e}");
        }
        let mut rules = Rules::default();
        if let Some(ms) = config(&host, "sync.visibility_ms").and_then(|v| v.parse().ok()) {
            rules.visibility_ms = ms;
        }
        if let Some(ms) = config(&host, "sync.debounce_ms").and_then(|v| v.parse().ok()) {
            rules.debounce_ms = ms;
        }
        if let Some(n) = config(&host, "sync.max_contacts_per_account").and_then(|v| v.parse().ok()) {
            rules.max_contacts = n;
        }
        if let Some(days) = config(&host, "history.retention_days").and_then(|v| v.parse().ok()) {
            rules.history_days = days;
        }
        if let Some(rows) = config(&host, "history.max_rows").and_then(|v| v.parse().ok()) {
            rules.history_rows = rows;
        }
        log::info!("Google Contacts plugin started; data in {dir}");
        crate::locale::report_host_offers(host.offers());
        let notices = notices::NoticeBoard::open(&host, std::path::Path::new(&dir));
        Ok(Integration {
            host,
            store,
            google,
            rules,
            outbox_job_queued: AtomicBool::new(false),
            notices_job_queued: AtomicBool::new(false),
            running: Mutex::new(HashMap::new()),
            queued: Mutex::new(HashSet::new()),
            activated: Mutex::new(HashSet::new()),
            notices,
            previews: previews::Previews::default(),
            undos: undo::Undos::default(),
            history_queries: Mutex::new(HashMap::new()),
        })
    }

    /// A test host may ask the plugin to panic inside a hook (config `debug.panic_in`, a
    /// comma-separated list of hook names) to test that its error path holds. Only a library
    /// built with the `test-hooks` feature listens; a shipped one ignores the setting.
    #[cfg(feature = "test-hooks")]
    pub(crate) fn injected_panic(&self, hook: &str) {
        if let Some(list) = config(&self.host, "debug.panic_in") {
            if list.split(',').any(|h| h.trim() == hook) {
                panic!("panic injected in {hook} by debug.panic_in");
            }
        }
    }

    #[cfg(not(feature = "test-hooks"))]
    pub(crate) fn injected_panic(&self, _hook: &str) {}

    pub fn on_filter_saved(&self, filter: &SavedFilter) -> Result<(), PluginError> {
        self.injected_panic("on_filter_saved");
        log::info!(
            "on_filter_saved: filter {} \"{}\"",
            filter.id.0,
            crate::logging::shown(&filter.name)
        );
        let binding = bindings::by_filter(&self.store.conn(), filter.id.0).map_err(store_error)?;
        if let Some(b) = binding.filter(|b| b.enabled) {
            // Criteria may have changed (contacts in or out) and the group follows the name.
            bindings::request_full(&self.store.conn(), b.id).map_err(store_error)?;
            self.queue_account(&b.account)?;
        }
        Ok(())
    }

    pub fn on_contact_changed(&self, change: &ContactChange) -> Result<(), PluginError> {
        self.injected_panic("on_contact_changed");
        log::debug!(
            "on_contact_changed: contact {} {:?}",
            change.contact.0,
            change.kind
        );
        let deleted = change.kind == ChangeKind::Deleted;
        outbox::push(&self.store.hook_conn(), change.contact.0, deleted, change.at.0).map_err(store_error)?;
        self.queue_outbox()
    }

    pub fn on_tick(&self, now: Millis) -> Result<(), PluginError> {
        self.injected_panic("on_tick");
        log::debug!("on_tick: {}", now.0);
        let enabled = bindings::enabled(&self.store.conn()).map_err(store_error)?;
        // CRM changes recorded before a restart have no job any more: queue one.
        let last = outbox::last_id(&self.store.hook_conn()).map_err(store_error)?;
        if enabled.iter().any(|b| b.outbox_cursor < last) {
            self.queue_outbox()?;
        }
        let accounts: HashSet<String> = enabled
            .into_iter()
            .filter(|b| b.next_run_at <= now.0)
            .map(|b| b.account)
            .collect();
        // A run under way covers the tick: it reads Google and sets the next time.
        for account in accounts.iter().filter(|a| !self.is_running(a)) {
            self.queue_account(account)?;
        }
        // Conditions that last (no sync for a day) become notices with time alone, and a
        // binding's notices outlive it until a whole review: each run reviews only its own
        // account's bindings when it ends.
        self.queue_notices()?;
        Ok(())
    }

    pub(crate) fn history_query(&self, user: u64, filter: u64) -> crate::store::history::Query {
        let queries = self.history_queries.lock().unwrap_or_else(|p| p.into_inner());
        queries.get(&(user, filter)).cloned().unwrap_or_default()
    }

    pub(crate) fn set_history_query(&self, user: u64, filter: u64, query: crate::store::history::Query) {
        let mut queries = self.history_queries.lock().unwrap_or_else(|p| p.into_inner());
        queries.insert((user, filter), query);
    }

    /// Raises and withdraws notices to match the state; a failure is logged, never the hook's.
    /// Runs in jobs only: it reads the bindings in scope and may write a file.
    pub(crate) fn review_notices(&self, scope: notices::Scope) {
        if let Err(e) = self.notices.review(&self.host, &self.store, scope) {
            log::warn!("Notices were not reviewed: {e}");
        }
    }

    pub fn run_job(&self, job: &Job) -> Result<(), PluginError> {
        self.injected_panic("run_job");
        log::info!("run_job \"{}\"", job.label);
        self.run(job)
    }

    pub fn shutdown(&self) -> Result<(), PluginError> {
        self.injected_panic("shutdown");
        log::info!("shutdown");
        Ok(())
    }

    fn submit(&self, label: String, payload: String) -> Result<(), PluginError> {
        let job = Job {
            label: RString::from(label),
            payload: RString::from(payload),
        };
        self.host.submit_job(job).into_result().map_err(|e| {
            PluginError::new(
                PluginErrorKind::Failed,
                format!("The CRM refused a background job: {e}"),
            )
        })
    }

    pub(crate) fn google(&self) -> Result<&GoogleAccounts, PluginError> {
        self.google
            .as_ref()
            .map_err(|e| PluginError::new(PluginErrorKind::Failed, e.clone()))
    }
}

pub(crate) fn config(host: &Host, key: &str) -> Option<String> {
    host.config(RStr::from_str(key))
        .into_option()
        .map(RString::into_string)
}

fn google_accounts(host: &Host) -> Result<GoogleAccounts, String> {
    let lookup_host = host.clone();
    let google_config =
        GoogleConfig::from_lookup(move |key| config(&lookup_host, key)).map_err(|e| e.to_string())?;
    let accounts = GoogleAccounts::new(
        google_config,
        Arc::new(HostSecrets(host.clone())),
        Arc::new(HostClock(host.clone())),
        Arc::new(ThreadSleeper::new()),
    )
    .map_err(|e: GoogleError| e.to_string())?;
    // Tests and proxies may shorten the first retry's wait (it doubles from there).
    let base = config(host, "google.retry_base_ms").and_then(|v| v.parse::<u64>().ok());
    Ok(match base {
        Some(ms) => accounts.with_retry_policy(crate::google::RetryPolicy {
            base_delay: std::time::Duration::from_millis(ms),
            ..Default::default()
        }),
        None => accounts,
    })
}
