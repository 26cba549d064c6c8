//! Undo jobs: a run's changes, or one change, put back (see `sync::undo`), then synced by the
//! account's next run. What each undo did is shown on the filter's page until the next one.

use std::collections::HashMap;
use std::sync::Mutex;

use abi::{PluginError, PluginErrorKind};
use serde::{Deserialize, Serialize};

use super::{store_error, Integration};
use crate::domain::{Binding, GroupChoice, MY_CONTACTS};
use crate::store::bindings;
use crate::store::history::{self, Query};
use crate::sync::undo::{self, Undone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Run { run: i64 },
    Change { change: i64 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Running(Target),
    Done(Target, Undone),
    Failed(Target, String),
}

#[derive(Default)]
pub struct Undos(Mutex<HashMap<i64, Shown>>);

impl Undos {
    pub fn shown(&self, binding: i64) -> Option<Shown> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&binding)
            .cloned()
    }

    fn set(&self, binding: i64, shown: Shown) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(binding, shown);
    }
}

impl Integration {
    pub(crate) fn queue_undo(&self, binding: i64, target: Target) -> Result<(), PluginError> {
        if matches!(self.undos.shown(binding), Some(Shown::Running(_))) {
            return Ok(());
        }
        self.undos.set(binding, Shown::Running(target));
        let payload = serde_json::to_string(&super::jobs::Work::Undo { binding, target })
            .map_err(|e| PluginError::new(PluginErrorKind::Failed, e.to_string()))?;
        self.submit(format!("undo in binding {binding}"), payload)
    }

    pub(crate) fn run_undo(&self, binding: i64, target: Target) -> Result<(), PluginError> {
        let b = bindings::by_id(&self.store.conn(), binding).map_err(store_error)?;
        let Some(b) = b.filter(|b| b.enabled) else {
            self.undos
                .set(binding, Shown::Failed(target, "the sync is not enabled".into()));
            return Ok(());
        };
        let shown = match self.undo_in(&b, target) {
            Ok(done) => Shown::Done(target, done),
            Err(e) => {
                log::warn!("Undo in binding {binding} failed: {e}");
                Shown::Failed(target, e)
            }
        };
        self.undos.set(binding, shown);
        // The restored values are edits now: the account's next run syncs them.
        self.queue_account(&b.account)
    }

    fn undo_in(&self, b: &Binding, target: Target) -> Result<Undone, String> {
        let changes = {
            let conn = self.store.conn();
            match target {
                Target::Run { run } => {
                    let query = Query {
                        run: Some(run),
                        ..Query::default()
                    };
                    history::changes(&conn, b.id, &query, u32::MAX)
                }
                Target::Change { change } => {
                    history::change(&conn, b.id, change).map(|c| c.into_iter().collect())
                }
            }
            .map_err(|e| e.to_string())?
        };
        let group = match &b.options.group {
            GroupChoice::MyContacts => MY_CONTACTS.to_string(),
            GroupChoice::Existing(g) if g.starts_with("contactGroups/") => g.clone(),
            _ => b.group.clone().unwrap_or_else(|| MY_CONTACTS.to_string()),
        };
        self.in_env(&self.store, &b.account, |env, _| {
            undo::undo(env, b, &group, changes)
        })
        .map_err(|e| e.message.to_string())?
        .map_err(|e| e.to_string())
    }
}
