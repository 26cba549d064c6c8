//! Background work: which runs to queue, and running them one account at a time.

use std::sync::atomic::Ordering;

use abi::{Job, PluginError, PluginErrorKind};
use serde::{Deserialize, Serialize};

use super::people::PeopleSide;
use super::sides::HostCrm;
use super::{store_error, Integration};
use crate::domain::BindingOptions;
use crate::store::{accounts, bindings, index, outbox, Store};
use crate::sync::sides::SideError;
use crate::sync::{self, Env, Listing, SyncError};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Work {
    /// Sync the accounts whose bindings have CRM changes waiting in the outbox.
    Outbox,
    /// Sync one Google account.
    Account { email: String },
    /// Raise and withdraw notices to match the state (conditions that last become notices
    /// with time alone, so a tick asks for a review when no run would do one).
    Notices,
    /// Plan what a run of the filter's binding would do, and write nothing (see
    /// `sync::preview`); with the account and options to enable it with if it is not enabled.
    Preview {
        user: u64,
        filter: u64,
        account: String,
        options: BindingOptions,
    },
    /// Put back a run's changes, or one change, of a binding (see `sync::undo`).
    Undo {
        binding: i64,
        target: super::undo::Target,
    },
}

impl Integration {
    /// Queues an outbox run unless one is queued and not started yet.
    pub(crate) fn queue_outbox(&self) -> Result<(), PluginError> {
        if self.outbox_job_queued.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let payload = serde_json::to_string(&Work::Outbox).unwrap_or_default();
        self.submit("sync CRM changes".into(), payload).inspect_err(|_| {
            self.outbox_job_queued.store(false, Ordering::SeqCst);
        })
    }

    /// Queues a whole review of the notices unless one is queued and not started yet. Reviewing
    /// reads every binding and may write a file: too slow for a hook.
    pub(crate) fn queue_notices(&self) -> Result<(), PluginError> {
        if !self.notices.offered() || self.notices_job_queued.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let payload = serde_json::to_string(&Work::Notices).unwrap_or_default();
        self.submit("review notices".into(), payload).inspect_err(|_| {
            self.notices_job_queued.store(false, Ordering::SeqCst);
        })
    }

    /// Queues a run of `email`'s bindings unless one is already queued.
    pub(crate) fn queue_account(&self, email: &str) -> Result<(), PluginError> {
        if !self
            .queued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(email.to_string())
        {
            return Ok(());
        }
        let payload = serde_json::to_string(&Work::Account {
            email: email.to_string(),
        })
        .unwrap_or_default();
        self.submit(format!("sync {email}"), payload).inspect_err(|_| {
            self.queued
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(email);
        })
    }

    pub(crate) fn run(&self, job: &Job) -> Result<(), PluginError> {
        let work: Work = serde_json::from_str(&job.payload).map_err(|e| {
            PluginError::new(
                PluginErrorKind::Rejected,
                format!("Unknown job \"{}\": {e}", job.label),
            )
        })?;
        match work {
            Work::Outbox => {
                self.let_burst_settle();
                // Changes recorded from now on need a new job; this one reads what is there.
                self.outbox_job_queued.store(false, Ordering::SeqCst);
                let enabled = bindings::enabled(&self.store.conn()).map_err(store_error)?;
                let mut accounts: Vec<String> = enabled.into_iter().map(|b| b.account).collect();
                accounts.sort();
                accounts.dedup();
                for account in accounts {
                    self.run_account(&account, Listing::IfNeeded)?;
                }
                Ok(())
            }
            Work::Account { email } => {
                self.queued
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&email);
                self.run_account(&email, Listing::Always)
            }
            Work::Notices => {
                // A state change from now on needs a new review; this one reads what is there.
                self.notices_job_queued.store(false, Ordering::SeqCst);
                self.review_notices(super::notices::Scope::All);
                Ok(())
            }
            Work::Preview {
                user,
                filter,
                account,
                options,
            } => {
                self.run_preview(user, filter, &account, &options);
                Ok(())
            }
            Work::Undo { binding, target } => self.run_undo(binding, target),
        }
    }

    /// Runs `email`'s bindings; if a run is under way, asks it to go once more instead, so one
    /// account never has two runs at once (Google wants one user's writes in sequence).
    pub(crate) fn run_account(&self, email: &str, listing: Listing) -> Result<(), PluginError> {
        {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(again) = running.get_mut(email) {
                *again = Some(stronger(*again, listing));
                return Ok(());
            }
            running.insert(email.to_string(), None);
        }
        let mut listing = listing;
        loop {
            let result = self.run_once(email, listing);
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            match running.get(email).copied().flatten() {
                Some(next) => {
                    running.insert(email.to_string(), None);
                    listing = next;
                }
                None => {
                    running.remove(email);
                    drop(running);
                    match index::count(&self.store.conn(), email) {
                        Ok(contacts) => super::memory::release_after_run(contacts),
                        Err(e) => log::debug!("{email}: contacts not counted: {e}"),
                    }
                    // A run may start or end what its account's notices are about (reconnect,
                    // hold, limit, failing contacts, last success).
                    self.review_notices(super::notices::Scope::Account(email));
                    return result;
                }
            }
        }
    }

    /// Whether a run of `email` is under way.
    pub(crate) fn is_running(&self, email: &str) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(email)
    }

    /// Waits until the CRM stops sending changes for a moment (at most a few seconds), so a bulk
    /// edit in the CRM becomes one plan: fewer Google calls, and the mass-removal check sees the
    /// whole burst.
    fn let_burst_settle(&self) {
        let quiet = std::time::Duration::from_millis(self.rules.debounce_ms);
        let mut last = outbox::last_id(&self.store.outbox_conn()).unwrap_or(0);
        for _ in 0..10 {
            std::thread::sleep(quiet);
            let now = outbox::last_id(&self.store.outbox_conn()).unwrap_or(0);
            if now == last {
                return;
            }
            last = now;
        }
    }

    /// Runs `f` with the sync's world for `email`'s Google account, the CRM and `store` (the
    /// mapping file, or a preview's copy of it).
    pub(crate) fn in_env<T>(
        &self,
        store: &Store,
        email: &str,
        f: impl FnOnce(&Env, &PeopleSide) -> T,
    ) -> Result<T, PluginError> {
        let google = self.google()?;
        let people = google
            .people(email)
            .map_err(|e| PluginError::new(PluginErrorKind::Failed, e.to_string()))?;
        let side = PeopleSide(people);
        let crm = HostCrm(&self.host);
        let clock = || self.host.now().0;
        let env = Env {
            store,
            crm: &crm,
            google: &side,
            now: clock(),
            clock: &clock,
            rules: &self.rules,
        };
        Ok(f(&env, &side))
    }

    fn run_once(&self, email: &str, listing: Listing) -> Result<(), PluginError> {
        let failed = |e: String| PluginError::new(PluginErrorKind::Failed, e);
        let (outcome, signed_in) = self.in_env(&self.store, email, |env, side| {
            (sync::run_account(env, email, listing), side.0.sign_in_id())
        })?;
        match outcome {
            Ok(results) => {
                let total = sync::total(&results);
                log::info!("Synced {email}: {total:?}");
                for (binding, counts) in results {
                    if let Some(kept) = self.previews.ran(binding, counts) {
                        log::info!(
                            "Binding {binding}: the run after its preview {} (preview {:?}, run {:?})",
                            if kept.promised == kept.done {
                                "did what it showed"
                            } else {
                                "differed"
                            },
                            kept.promised,
                            kept.done
                        );
                    }
                }
                Ok(())
            }
            Err(SyncError::Side(SideError::ReconnectNeeded(_)))
                if self.google().is_ok_and(|g| g.sign_in_id(email) != signed_in) =>
            {
                // The user reconnected while this run used the old sign-in (found by simulation
                // seed 225): the next run uses the new one.
                log::info!("{email} was reconnected during a run; the next run uses the new sign-in");
                Ok(())
            }
            Err(SyncError::Side(SideError::ReconnectNeeded(message))) => {
                log::warn!("{message}");
                accounts::set_status(
                    &self.store.conn(),
                    email,
                    accounts::AccountStatus::ReconnectNeeded,
                )
                .map_err(store_error)?;
                Err(failed(message))
            }
            Err(e) => {
                log::warn!("Sync of {email} stopped: {e}");
                Err(failed(e.to_string()))
            }
        }
    }
}

/// The listing that covers both requests.
fn stronger(a: Option<Listing>, b: Listing) -> Listing {
    if a == Some(Listing::Always) || b == Listing::Always {
        Listing::Always
    } else {
        Listing::IfNeeded
    }
}
