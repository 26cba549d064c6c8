//! Notices plugins raise for users: what the header's bell and the notifications page show.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use abi::{Notice, SettingsPage, Tone, UserId};
use serde::Serialize;

/// A notice as the CRM shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShownNotice {
    pub plugin: String,
    pub user: u64,
    pub key: String,
    /// `normal`, `success`, `warning` or `error`.
    pub tone: &'static str,
    pub title: String,
    pub body: String,
    /// The filter whose settings the notice is about; `None`: the integration page.
    pub filter: Option<u64>,
    pub raised_at_ms: i64,
}

/// What happened to a notice, oldest first, so tests can count raises and withdrawals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeEvent {
    pub plugin: String,
    pub user: u64,
    pub key: String,
    /// `raised`, `replaced` (raised again while shown) or `withdrawn`.
    pub what: &'static str,
    pub at_ms: i64,
    /// The name of the thread that called the host: `worker-N` for a job, else a hook's caller.
    pub thread: String,
}

type Key = (String, u64, String);

#[derive(Default)]
struct Board {
    shown: BTreeMap<Key, ShownNotice>,
    history: Vec<NoticeEvent>,
}

#[derive(Default)]
pub struct Notices {
    board: Mutex<Board>,
}

pub fn tone_name(tone: Tone) -> &'static str {
    match tone {
        Tone::Normal => "normal",
        Tone::Success => "success",
        Tone::Warning => "warning",
        Tone::Error => "error",
    }
}

impl Notices {
    pub fn raise(&self, plugin: &str, notice: &Notice, now_ms: i64) {
        let key = (plugin.to_string(), notice.user.0, notice.key.to_string());
        let shown = ShownNotice {
            plugin: plugin.into(),
            user: notice.user.0,
            key: notice.key.to_string(),
            tone: tone_name(notice.tone),
            title: notice.title.to_string(),
            body: notice.body.to_string(),
            filter: match notice.page {
                SettingsPage::Filter(f) => Some(f.0),
                SettingsPage::Integration => None,
            },
            raised_at_ms: now_ms,
        };
        let mut board = self.lock();
        let what = if board.shown.insert(key, shown).is_some() {
            "replaced"
        } else {
            "raised"
        };
        board
            .history
            .push(event(plugin, notice.user, &notice.key, what, now_ms));
    }

    pub fn withdraw(&self, plugin: &str, user: UserId, key: &str, now_ms: i64) {
        let mut board = self.lock();
        if board
            .shown
            .remove(&(plugin.to_string(), user.0, key.to_string()))
            .is_some()
        {
            board.history.push(event(plugin, user, key, "withdrawn", now_ms));
        }
    }

    /// The notices shown to `user`, oldest first.
    pub fn of_user(&self, user: UserId) -> Vec<ShownNotice> {
        let mut shown: Vec<ShownNotice> = self
            .lock()
            .shown
            .values()
            .filter(|n| n.user == user.0)
            .cloned()
            .collect();
        shown.sort_by_key(|n| n.raised_at_ms);
        shown
    }

    pub fn history(&self) -> Vec<NoticeEvent> {
        self.lock().history.clone()
    }

    /// Plugins reach this through the host's vtable, where a panic must not start: a lock some
    /// panicking thread held still holds a board that each change leaves whole.
    fn lock(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn event(plugin: &str, user: UserId, key: &str, what: &'static str, at_ms: i64) -> NoticeEvent {
    NoticeEvent {
        plugin: plugin.into(),
        user: user.0,
        key: key.into(),
        what,
        at_ms,
        thread: std::thread::current().name().unwrap_or("unnamed").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_poisoned_by_a_panic_still_raises_and_withdraws_notices() {
        let notices = Notices::default();
        let poison = std::panic::catch_unwind(|| {
            let _held = notices.board.lock();
            panic!("a thread panics while holding the lock");
        });
        assert!(poison.is_err() && notices.board.is_poisoned());
        let notice = Notice {
            user: UserId(1),
            key: "reconnect:a@example.com".into(),
            tone: Tone::Warning,
            title: "Reconnect".into(),
            body: "Sign in again.".into(),
            page: SettingsPage::Integration,
        };
        notices.raise("p", &notice, 1);
        assert_eq!(notices.of_user(UserId(1)).len(), 1);
        notices.withdraw("p", UserId(1), "reconnect:a@example.com", 2);
        let what: Vec<&str> = notices.history().iter().map(|e| e.what).collect();
        assert_eq!(what, ["raised", "withdrawn"]);
    }
}
