//! Notices: when a sync needs its user (reconnect, removals held, Google's contact limit, a
//! contact failing for more than a day, no successful sync for more than a day), the plugin
//! tells the host through its optional notification service (ABI 0.1.1).
//!
//! [`NoticeBoard::review`] computes the notices the current state calls for and compares them
//! with those already raised: a new or changed one is raised, one no longer called for is
//! withdrawn, an unchanged one is left alone. So each change of state makes one call, never one
//! per tick. What was raised (and since when contacts fail) is kept in `notices.json` in the
//! data directory, so that after a restart a notice raised before is still withdrawn when its
//! condition clears. The first whole review after a start raises every current notice once more
//! (the host replaces a notice with the same key): a host that lost its notices gets them back.
//! A run reviews its own account's notices when it ends; a whole review comes with every tick
//! and every settings action.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use abi::abi_stable::std_types::RStr;
use abi::{FilterId, Host, HostOffers, Notice, SettingsPage, Tone, UserId};
use serde::{Deserialize, Serialize};

use super::filter_name;
use crate::domain::{Binding, Reason};
use crate::locale::{Arg, Reader};
use crate::store::accounts::{self, AccountStatus};
use crate::store::status;
use crate::store::{bindings, Store, StoreError};
use crate::sync::Held;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What has been raised, and the clocks of conditions that become notices after a day.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Raised {
    /// Key → (user, what the notice said).
    shown: BTreeMap<String, (u64, String)>,
    /// "binding:contact" → when the contact was first seen failing.
    failing_since: BTreeMap<String, i64>,
    /// Binding id → when it was first seen enabled without a successful sync.
    unsynced_since: BTreeMap<i64, i64>,
}

pub struct NoticeBoard {
    offered: bool,
    /// No review has run since the plugin started.
    fresh: std::sync::atomic::AtomicBool,
    file: PathBuf,
    raised: Mutex<Raised>,
}

/// A notice the current state calls for.
struct Wanted {
    user: u64,
    tone: Tone,
    page: SettingsPage,
    title: String,
    body: String,
}

impl NoticeBoard {
    pub fn open(host: &Host, data_dir: &std::path::Path) -> NoticeBoard {
        let file = data_dir.join("notices.json");
        let raised = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        NoticeBoard {
            offered: host.offers().contains(HostOffers::NOTICES),
            fresh: std::sync::atomic::AtomicBool::new(true),
            file,
            raised: Mutex::new(raised),
        }
    }

    /// Whether the host offers notices at all (else a review has nothing to do).
    pub fn offered(&self) -> bool {
        self.offered
    }

    /// Raises what the state calls for and withdraws what it no longer does.
    pub fn review(&self, host: &Host, store: &Store, scope: Scope) -> Result<(), StoreError> {
        if !self.offered {
            return Ok(());
        }
        let mut raised = self.raised.lock().unwrap_or_else(|p| p.into_inner());
        let before = serde_json::to_vec(&*raised).unwrap_or_default();
        let now = host.now().0;
        let review = review(host, store, &mut raised, now, scope)?;
        // Raising every notice again after a start is the whole review's to do.
        let fresh =
            matches!(scope, Scope::All) && self.fresh.swap(false, std::sync::atomic::Ordering::SeqCst);
        for (key, w) in &review.wanted {
            let said = format!("{}\n{}", w.title, w.body);
            if !fresh && raised.shown.get(key).is_some_and(|(_, s)| *s == said) {
                continue;
            }
            let notice = Notice {
                user: UserId(w.user),
                key: key.as_str().into(),
                tone: w.tone,
                title: w.title.as_str().into(),
                body: w.body.as_str().into(),
                page: w.page,
            };
            match host.raise_notice(&notice).into_result() {
                Ok(()) => {
                    raised.shown.insert(key.clone(), (w.user, said));
                }
                Err(e) => log::warn!("The CRM refused notice {key}: {e}"),
            }
        }
        let gone: Vec<(String, u64)> = raised
            .shown
            .iter()
            .filter(|(k, _)| review.covers(k) && !review.wanted.contains_key(*k))
            .map(|(k, (user, _))| (k.clone(), *user))
            .collect();
        for (key, user) in gone {
            match host
                .withdraw_notice(UserId(user), RStr::from_str(&key))
                .into_result()
            {
                Ok(()) => {
                    raised.shown.remove(&key);
                }
                Err(e) => log::warn!("The CRM refused to withdraw notice {key}: {e}"),
            }
        }
        // Written only when something changed: most ticks change nothing.
        if serde_json::to_vec(&*raised).unwrap_or_default() != before {
            self.save(&raised);
        }
        Ok(())
    }

    fn save(&self, raised: &Raised) {
        let bytes = serde_json::to_vec(raised).unwrap_or_default();
        let tmp = self.file.with_extension("tmp");
        if let Err(e) = write_private(&tmp, &bytes).and_then(|_| std::fs::rename(&tmp, &self.file)) {
            log::warn!(
                "Could not keep the raised notices in {}: {e}",
                self.file.display()
            );
        }
    }
}

/// Writes `bytes` to a file readable by the CRM's user only, as the mapping file: notices name
/// Google accounts (e-mail addresses). The mode is set before anything is written.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // A file left by an older version keeps its mode on open: set it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)
}

/// Which bindings a review looks at.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every enabled binding; notices of bindings no longer enabled are withdrawn.
    All,
    /// The enabled bindings of one Google account, after its run: a run changes only what its
    /// own notices are about, and a round of a thousand accounts' runs must not review a
    /// thousand bindings each (quadratic: most of the round's CPU at 1,000 accounts).
    Account(&'a str),
}

impl Scope<'_> {
    fn bindings(&self, conn: &rusqlite::Connection) -> Result<Vec<Binding>, StoreError> {
        match self {
            Scope::All => bindings::enabled(conn),
            Scope::Account(email) => bindings::of_account(conn, email),
        }
    }
}

/// The notices the bindings in scope call for, and the keys of all the notices the scope
/// speaks for (a raised one among them that is not wanted any more is withdrawn).
struct Review {
    wanted: BTreeMap<String, Wanted>,
    /// Key suffixes the scope covers: its accounts' e-mails and its bindings' filter ids.
    covers: Option<BTreeSet<String>>,
}

impl Review {
    fn covers(&self, key: &str) -> bool {
        match &self.covers {
            None => true,
            Some(suffixes) => key
                .split_once(':')
                .is_some_and(|(_, suffix)| suffixes.contains(suffix)),
        }
    }
}

fn review(
    host: &Host,
    store: &Store,
    raised: &mut Raised,
    now: i64,
    scope: Scope,
) -> Result<Review, StoreError> {
    let conn = store.conn();
    let enabled = scope.bindings(&conn)?;
    let mut wanted = BTreeMap::new();
    let mut accounts_seen = BTreeSet::new();
    for b in &enabled {
        if accounts_seen.insert(b.account.clone()) {
            reconnect_notice(host, &conn, &b.account, &mut wanted)?;
        }
        binding_notices(host, &conn, b, raised, now, &mut wanted)?;
    }
    let covers = match scope {
        Scope::All => {
            forget_clocks_of_disabled(raised, &enabled);
            None
        }
        Scope::Account(email) => Some(
            std::iter::once(email.to_string())
                .chain(enabled.iter().map(|b| b.filter_id.to_string()))
                .collect(),
        ),
    };
    Ok(Review { wanted, covers })
}

/// Clocks of bindings no longer enabled stop.
fn forget_clocks_of_disabled(raised: &mut Raised, enabled: &[Binding]) {
    let ids: BTreeSet<i64> = enabled.iter().map(|b| b.id).collect();
    raised.unsynced_since.retain(|id, _| ids.contains(id));
    raised.failing_since.retain(|k, _| {
        k.split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .is_some_and(|id: i64| ids.contains(&id))
    });
}

/// An account whose sign-in Google refused.
fn reconnect_notice(
    host: &Host,
    conn: &rusqlite::Connection,
    email: &str,
    out: &mut BTreeMap<String, Wanted>,
) -> Result<(), StoreError> {
    let Some(a) = accounts::get(conn, email)? else {
        return Ok(());
    };
    if a.status != AccountStatus::ReconnectNeeded {
        return Ok(());
    }
    let r = Reader::of(host, UserId(a.crm_user));
    let account = [("account", Arg::from(a.email.as_str()))];
    out.insert(
        format!("reconnect:{}", a.email),
        Wanted {
            user: a.crm_user,
            tone: Tone::Warning,
            page: SettingsPage::Integration,
            title: r.t_with("notice-reconnect-title", &account),
            body: r.t_with("notice-reconnect-body", &account),
        },
    );
    Ok(())
}

/// A notice about one binding, before it gets its key and page.
struct Said {
    kind: &'static str,
    tone: Tone,
    title: String,
    body: String,
}

/// The `filter` argument of a binding's notices, named as its user reads it.
type FilterArg = (&'static str, Arg);

/// What one binding's state calls for, before it is put in its user's words: most bindings call
/// for nothing, and those are never asked the CRM for their filter's name or user's language.
struct Conditions {
    held: Option<Held>,
    limit: Option<Reason>,
    long_failing: usize,
    stale: Option<Stale>,
}

enum Stale {
    /// The last successful sync, more than a day ago.
    Since(i64),
    /// Enabled more than a day ago, never synced.
    Never,
}

impl Conditions {
    fn read(
        conn: &rusqlite::Connection,
        b: &Binding,
        raised: &mut Raised,
        now: i64,
    ) -> Result<Conditions, StoreError> {
        let failing: Vec<status::Health> = status::failing(conn, b.id)?;
        let held: Option<Held> = bindings::held(conn, b.id)?.and_then(|h| serde_json::from_str(&h).ok());
        Ok(Conditions {
            held: held.filter(|h| !h.confirmed),
            limit: failing
                .iter()
                .map(|h| Reason::parse(&h.reason))
                .find(|r| matches!(r, Reason::AccountFull { .. })),
            long_failing: long_failing(b, &failing, raised, now),
            stale: stale(conn, b, raised, now)?,
        })
    }

    fn is_empty(&self) -> bool {
        self.held.is_none() && self.limit.is_none() && self.long_failing == 0 && self.stale.is_none()
    }

    fn said(self, r: &Reader, filter: &FilterArg) -> Vec<Said> {
        let mut said = Vec::new();
        if let Some(h) = self.held {
            let args = [
                filter.clone(),
                ("removals", Arg::from(h.removals)),
                ("contacts", Arg::from(h.contacts)),
            ];
            said.push(Said {
                kind: "held",
                tone: Tone::Warning,
                title: r.t("notice-held-title"),
                body: r.t_with("notice-held-body", &args),
            });
        }
        if let Some(limit) = self.limit {
            let args = [filter.clone(), ("error", Arg::Text(limit.shown(r)))];
            said.push(Said {
                kind: "limit",
                tone: Tone::Error,
                title: r.t("notice-limit-title"),
                body: r.t_with("notice-limit-body", &args),
            });
        }
        if self.long_failing > 0 {
            said.push(Said {
                kind: "failing",
                tone: Tone::Warning,
                title: r.t_with("notice-failing-title", &[("count", Arg::from(self.long_failing))]),
                body: r.t_with("notice-failing-body", std::slice::from_ref(filter)),
            });
        }
        if let Some(stale) = self.stale {
            said.push(Said {
                kind: "stale",
                tone: Tone::Warning,
                title: r.t_with("notice-stale-title", std::slice::from_ref(filter)),
                body: match stale {
                    Stale::Since(t) => r.t_with("notice-stale-body", &[("when", Arg::Text(r.time(t)))]),
                    Stale::Never => r.t("notice-stale-never"),
                },
            });
        }
        said
    }
}

fn binding_notices(
    host: &Host,
    conn: &rusqlite::Connection,
    b: &Binding,
    raised: &mut Raised,
    now: i64,
    out: &mut BTreeMap<String, Wanted>,
) -> Result<(), StoreError> {
    let conditions = Conditions::read(conn, b, raised, now)?;
    if conditions.is_empty() {
        return Ok(());
    }
    let r = Reader::of(host, UserId(b.crm_user));
    let filter: FilterArg = ("filter", Arg::Text(filter_name(host, &r, b)));
    for s in conditions.said(&r, &filter) {
        out.insert(
            format!("{}:{}", s.kind, b.filter_id),
            Wanted {
                user: b.crm_user,
                tone: s.tone,
                page: SettingsPage::Filter(FilterId(b.filter_id)),
                title: s.title,
                body: s.body,
            },
        );
    }
    Ok(())
}

/// How many contacts have failed for more than a day; keeps the clock of when each started
/// failing.
fn long_failing(b: &Binding, failing: &[status::Health], raised: &mut Raised, now: i64) -> usize {
    let prefix = format!("{}:", b.id);
    let failing_now: BTreeSet<String> = failing
        .iter()
        .map(|h| format!("{prefix}{}", h.contact_id))
        .collect();
    raised
        .failing_since
        .retain(|k, _| !k.starts_with(&prefix) || failing_now.contains(k));
    for k in &failing_now {
        raised.failing_since.entry(k.clone()).or_insert(now);
    }
    failing_now
        .iter()
        .filter(|k| {
            raised
                .failing_since
                .get(*k)
                .is_some_and(|since| now - since > DAY_MS)
        })
        .count()
}

/// No successful sync for more than a day (or never, for a day since it was enabled).
fn stale(
    conn: &rusqlite::Connection,
    b: &Binding,
    raised: &mut Raised,
    now: i64,
) -> Result<Option<Stale>, StoreError> {
    Ok(match status::last_success(conn, b.id)? {
        Some(t) => {
            raised.unsynced_since.remove(&b.id);
            (now - t > DAY_MS).then_some(Stale::Since(t))
        }
        None => {
            let since = *raised.unsynced_since.entry(b.id).or_insert(now);
            (now - since > DAY_MS).then_some(Stale::Never)
        }
    })
}
