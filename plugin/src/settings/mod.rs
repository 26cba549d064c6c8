//! What users see and do: the settings view models and the actions behind their buttons.

mod access;
mod actions;
mod contact_panel;
mod export;
mod google_errors;
mod history;
mod options;
mod preview;
mod view;
mod widgets;

pub use access::Refusal;
pub use actions::act;
pub use options::{parse_options, OptionsError};
pub use view::render;

use abi::{ActionOutcome, ContactId, Download, PluginError, SettingsAction, SettingsContext, SettingsView};

use crate::integration::Integration;

/// The settings hooks: the host asks the plugin for a page and hands it the user's clicks.
impl Integration {
    pub fn render_settings(&self, ctx: &SettingsContext) -> Result<SettingsView, PluginError> {
        self.injected_panic("render_settings");
        log::debug!("render_settings for user {} on {:?}", ctx.user.0, ctx.page);
        render(self, ctx)
    }

    pub fn handle_settings_action(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> Result<ActionOutcome, PluginError> {
        self.injected_panic("handle_settings_action");
        log::info!(
            "handle_settings_action {} for user {}",
            crate::logging::shown(&action.name),
            ctx.user.0
        );
        act(self, ctx, action)
    }

    pub fn download(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> Result<Option<Download>, PluginError> {
        self.injected_panic("download");
        export::download(self, ctx, action)
    }

    pub fn render_contact_panel(
        &self,
        ctx: &SettingsContext,
        contact: ContactId,
    ) -> Result<Option<SettingsView>, PluginError> {
        self.injected_panic("render_contact_panel");
        contact_panel::render(self, ctx, contact)
    }
}
