//! The exported root module and the [`Plugin`] implementation the host calls.
//!
//! Every entry point runs inside [`guard`], which turns a panic into a
//! [`PluginErrorKind::Panicked`] error: a panic that reached the `extern "C"` boundary would
//! abort the whole CRM process.

use std::panic::{catch_unwind, AssertUnwindSafe};

use abi::{
    ActionOutcome, ContactChange, ContactId, Download, Host, Job, Millis, Plugin, PluginBox, PluginError,
    PluginErrorKind, PluginMod, PluginMod_Ref, Plugin_TO, SavedFilter, SettingsAction, SettingsContext,
    SettingsView,
};
use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RString};

use crate::integration::Integration;

/// The name hosts know this plugin by.
pub const PLUGIN_NAME: &str = "google-contacts";

#[export_root_module]
pub fn get_library() -> PluginMod_Ref {
    crate::allocator::tune();
    PluginMod { name, new }.leak_into_prefix()
}

extern "C" fn name() -> RString {
    RString::from(PLUGIN_NAME)
}

extern "C" fn new(host: Host) -> RResult<PluginBox, PluginError> {
    guard("new", || {
        crate::logging::install(host.clone());
        let integration = Integration::open(host)?;
        Ok(Plugin_TO::from_value(integration, TD_Opaque))
    })
}

/// Runs `f`, turning a panic into an error value for the host.
fn guard<T>(hook: &str, f: impl FnOnce() -> Result<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.into(),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            log::error!("{hook} panicked: {detail}");
            RResult::RErr(PluginError::new(
                PluginErrorKind::Panicked,
                format!(
                    "The Google Contacts plugin hit an internal error in {hook} ({detail}). \
                     Nothing was lost; the call can be retried. Please report this."
                ),
            ))
        }
    }
}

impl Plugin for Integration {
    fn on_filter_saved(&self, filter: &SavedFilter) -> RResult<(), PluginError> {
        guard("on_filter_saved", || self.on_filter_saved(filter))
    }

    fn on_contact_changed(&self, change: &ContactChange) -> RResult<(), PluginError> {
        guard("on_contact_changed", || self.on_contact_changed(change))
    }

    fn on_tick(&self, now: Millis) -> RResult<(), PluginError> {
        guard("on_tick", || self.on_tick(now))
    }

    fn render_settings(&self, ctx: &SettingsContext) -> RResult<SettingsView, PluginError> {
        guard("render_settings", || self.render_settings(ctx))
    }

    fn handle_settings_action(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> RResult<ActionOutcome, PluginError> {
        guard("handle_settings_action", || {
            self.handle_settings_action(ctx, action)
        })
    }

    fn run_job(&self, job: &Job) -> RResult<(), PluginError> {
        guard("run_job", || self.run_job(job))
    }

    fn shutdown(&self) -> RResult<(), PluginError> {
        guard("shutdown", || self.shutdown())
    }

    fn download(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> RResult<ROption<Download>, PluginError> {
        guard("download", || self.download(ctx, action).map(ROption::from))
    }

    fn render_contact_panel(
        &self,
        ctx: &SettingsContext,
        contact: ContactId,
    ) -> RResult<ROption<SettingsView>, PluginError> {
        guard("render_contact_panel", || {
            self.render_contact_panel(ctx, contact).map(ROption::from)
        })
    }
}
