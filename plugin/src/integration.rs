//! The plugin instance the host talks to: it owns the mapping file, the Google accounts and the
//! bindings, and routes each hook to the concern that handles it.

use abi_stable::std_types::{RStr, RString};
use abi::{
    ActionOutcome, ContactChange, Host, Job, Millis, PluginError, PluginErrorKind, SavedFilter, SettingsAction,
    SettingsContext, SettingsView, Tone,
};

pub struct Integration {
    host: Host,
}

impl Integration {
    pub fn open(host: Host) -> Result<Self, PluginError> {
        log::info!("Google Contacts plugin started; data in {}", host.data_dir());
        Ok(Integration { host })
    }

    /// A host may ask the plugin to panic inside a hook (config `debug.panic_in`, a
    /// comma-separated list of hook names) to test that its error path holds.
    fn injected_panic(&self, hook: &str) {
        if let Some(list) = self.host.config(RStr::from_str("debug.panic_in")).into_option() {
            if list.split(',').any(|h| h.trim() == hook) {
                panic!("panic injected in {hook} by debug.panic_in");
            }
        }
    }

    pub fn on_filter_saved(&self, filter: &SavedFilter) -> Result<(), PluginError> {
        self.injected_panic("on_filter_saved");
        log::info!("on_filter_saved: filter {} \"{}\"", filter.id.0, filter.name);
        Ok(())
    }

    pub fn on_contact_changed(&self, change: &ContactChange) -> Result<(), PluginError> {
        self.injected_panic("on_contact_changed");
        log::info!("on_contact_changed: contact {} {:?}", change.contact.0, change.kind);
        self.submit(format!("contact {}", change.contact.0))
    }

    pub fn on_tick(&self, now: Millis) -> Result<(), PluginError> {
        self.injected_panic("on_tick");
        log::info!("on_tick: {}", now.0);
        Ok(())
    }

    pub fn render_settings(&self, ctx: &SettingsContext) -> Result<SettingsView, PluginError> {
        self.injected_panic("render_settings");
        log::info!("render_settings for user {}", ctx.user.0);
        Ok(SettingsView { title: RString::from("Google Contacts"), ..SettingsView::default() })
    }

    pub fn handle_settings_action(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> Result<ActionOutcome, PluginError> {
        self.injected_panic("handle_settings_action");
        log::info!("handle_settings_action {} for user {}", action.name, ctx.user.0);
        Err(PluginError::new(PluginErrorKind::Rejected, format!("Unknown action \"{}\".", action.name)))
            .or_else(|e: PluginError| {
                Ok(ActionOutcome { message: e.message, tone: Tone::Error, redirect_to: None.into() })
            })
    }

    pub fn run_job(&self, job: &Job) -> Result<(), PluginError> {
        self.injected_panic("run_job");
        log::info!("run_job \"{}\"", job.label);
        Ok(())
    }

    pub fn shutdown(&self) -> Result<(), PluginError> {
        self.injected_panic("shutdown");
        log::info!("shutdown");
        Ok(())
    }

    fn submit(&self, label: String) -> Result<(), PluginError> {
        let job = Job { label: RString::from(label), payload: RString::new() };
        self.host
            .submit_job(job)
            .into_result()
            .map_err(|e| PluginError::new(PluginErrorKind::Failed, format!("The CRM refused a background job: {e}")))
    }
}
