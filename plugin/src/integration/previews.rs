//! Previews in the making and made, per (user, filter), and what the run after one promised.
//! They live in memory: a preview is a look at this moment, worth nothing after a restart.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use abi::{PluginError, PluginErrorKind};

use super::Integration;
use crate::domain::{Binding, BindingOptions, Counts};
use crate::store::{bindings, outbox, Store};
use crate::sync;
use crate::sync::preview::Preview;

/// How many contacts a page of a preview lists.
pub const PAGE: usize = 50;

#[derive(Debug, Clone)]
pub enum Shown {
    /// Google is being listed; so many contacts so far.
    Running {
        listed: u64,
    },
    Ready(Box<Ready>),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Ready {
    pub preview: Preview,
    /// What "enable as previewed" enables with.
    pub account: String,
    pub options: BindingOptions,
    /// The page of contacts shown, from 0.
    pub page: usize,
}

/// Whether the run after "enable as previewed" did what its preview showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub promised: Counts,
    pub done: Counts,
}

#[derive(Default)]
pub struct Previews {
    shown: Mutex<HashMap<(u64, u64), Shown>>,
    promised: Mutex<HashMap<i64, Counts>>,
    kept: Mutex<HashMap<i64, Kept>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Previews {
    pub fn shown(&self, user: u64, filter: u64) -> Option<Shown> {
        locked(&self.shown).get(&(user, filter)).cloned()
    }

    pub fn set(&self, user: u64, filter: u64, shown: Shown) {
        locked(&self.shown).insert((user, filter), shown);
    }

    pub fn discard(&self, user: u64, filter: u64) -> Option<Shown> {
        locked(&self.shown).remove(&(user, filter))
    }

    pub fn turn_page(&self, user: u64, filter: u64, page: usize) {
        if let Some(Shown::Ready(ready)) = locked(&self.shown).get_mut(&(user, filter)) {
            let pages = ready.preview.items.len().div_ceil(PAGE).max(1);
            ready.page = page.min(pages - 1);
        }
    }

    /// The binding's next run is to be compared with what its preview promised.
    pub fn promise(&self, binding: i64, counts: Counts) {
        locked(&self.promised).insert(binding, counts);
        locked(&self.kept).remove(&binding);
    }

    /// Records a binding's run; returns the comparison when a preview promised it.
    pub fn ran(&self, binding: i64, done: Counts) -> Option<Kept> {
        let promised = locked(&self.promised).remove(&binding)?;
        let kept = Kept { promised, done };
        locked(&self.kept).insert(binding, kept.clone());
        Some(kept)
    }

    pub fn kept(&self, binding: i64) -> Option<Kept> {
        locked(&self.kept).get(&binding).cloned()
    }

    fn listed(&self, user: u64, filter: u64, listed: u64) {
        if let Some(Shown::Running { listed: n }) = locked(&self.shown).get_mut(&(user, filter)) {
            *n = listed;
        }
    }
}

impl Integration {
    /// Computes a preview of `filter` for `user` (its binding as enabled, or one enabled on
    /// `account` with `options` if it is not) and shows it.
    pub(crate) fn run_preview(&self, user: u64, filter: u64, account: &str, options: &BindingOptions) {
        let shown = match self.preview_of(user, filter, account, options) {
            Ok(preview) => Shown::Ready(Box::new(Ready {
                preview,
                account: account.to_string(),
                options: options.clone(),
                page: 0,
            })),
            Err(e) => {
                log::warn!("The preview of filter {filter} failed: {e}");
                Shown::Failed(e)
            }
        };
        self.previews.set(user, filter, shown);
    }

    fn preview_of(
        &self,
        user: u64,
        filter: u64,
        account: &str,
        options: &BindingOptions,
    ) -> Result<Preview, String> {
        let dir = PathBuf::from(self.host.data_dir().into_string()).join(format!("preview-{user}-{filter}"));
        let copy = self.store.snapshot(&dir).map_err(|e| e.to_string())?;
        let result = self.preview_on(&copy, user, filter, account, options);
        drop(copy);
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            log::warn!(
                "The preview's copy of the mapping file {} was not removed: {e}",
                dir.display()
            );
        }
        result
    }

    fn preview_on(
        &self,
        copy: &Store,
        user: u64,
        filter: u64,
        account: &str,
        options: &BindingOptions,
    ) -> Result<Preview, String> {
        let binding = previewed_binding(copy, user, filter, account, options).map_err(|e| e.to_string())?;
        let listed = |n| self.previews.listed(user, filter, n);
        self.in_env(copy, &binding.account, |env, _| {
            sync::preview::preview(env, &binding, &listed)
        })
        .map_err(|e| e.message.to_string())?
        .map_err(|e| e.to_string())
    }

    /// Starts a preview job, unless one is being computed for this filter.
    pub(crate) fn queue_preview(
        &self,
        user: u64,
        filter: u64,
        account: &str,
        options: &BindingOptions,
    ) -> Result<(), PluginError> {
        if matches!(self.previews.shown(user, filter), Some(Shown::Running { .. })) {
            return Ok(());
        }
        self.previews.set(user, filter, Shown::Running { listed: 0 });
        let payload = serde_json::to_string(&super::jobs::Work::Preview {
            user,
            filter,
            account: account.to_string(),
            options: options.clone(),
        })
        .map_err(|e| PluginError::new(PluginErrorKind::Failed, e.to_string()))?;
        self.submit(format!("preview filter {filter}"), payload)
            .inspect_err(|_| {
                self.previews.discard(user, filter);
            })
    }
}

/// The binding the preview plans in the copy: the filter's own when the user has it enabled,
/// otherwise the one enabling it would make.
fn previewed_binding(
    copy: &Store,
    user: u64,
    filter: u64,
    account: &str,
    options: &BindingOptions,
) -> Result<Binding, crate::store::StoreError> {
    let conn = copy.conn();
    if let Some(b) = bindings::by_filter(&conn, filter)?.filter(|b| b.enabled && b.crm_user == user) {
        return Ok(b);
    }
    let cursor = outbox::last_id(&copy.outbox_conn())?;
    bindings::enable(&conn, filter, user, account, options, cursor)
}
