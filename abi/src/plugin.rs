//! What the plugin offers the host, and the root module it exports.

use abi_stable::library::RootModule;
use abi_stable::sabi_trait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RArc, RBox, RResult, RString};
use abi_stable::{declare_root_module_statics, package_version_strings, StableAbi};

use crate::{
    ActionOutcome, ContactChange, HostServices_TO, Job, Millis, PluginError, SavedFilter, SettingsAction,
    SettingsContext, SettingsView,
};

/// The host's handle on its services, as the plugin receives it.
pub type Host = HostServices_TO<'static, RArc<()>>;

/// The plugin's handle, as the host holds it.
pub type PluginBox = Plugin_TO<'static, RBox<()>>;

/// A loaded plugin. Every method returns an error value instead of panicking.
#[sabi_trait]
pub trait Plugin: Send + Sync {
    /// A filter was saved (created, renamed, criteria changed).
    fn on_filter_saved(&self, filter: &SavedFilter) -> RResult<(), PluginError>;

    /// A contact was created, updated, deleted, or its access rules changed.
    /// Returns at once; the plugin records the change and works on it in a job.
    fn on_contact_changed(&self, change: &ContactChange) -> RResult<(), PluginError>;

    /// Called periodically (the host's tick period); `now` is the host's clock.
    fn on_tick(&self, now: Millis) -> RResult<(), PluginError>;

    /// The view model of a settings page.
    fn render_settings(&self, ctx: &SettingsContext) -> RResult<SettingsView, PluginError>;

    /// Carries out a user's action on a settings page.
    fn handle_settings_action(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> RResult<ActionOutcome, PluginError>;

    /// Runs a job the plugin submitted, on a host worker thread. May take long.
    fn run_job(&self, job: &Job) -> RResult<(), PluginError>;

    /// The host is stopping: finish or abandon work quickly; no call follows.
    #[sabi(last_prefix_field)]
    fn shutdown(&self) -> RResult<(), PluginError>;
}

/// The root module a plugin library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginMod_Ref)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The plugin's unique name, e.g. `"google-contacts"`. Two loaded plugins may not share it.
    pub name: extern "C" fn() -> RString,

    /// Creates the plugin instance, opening its data in `host.data_dir()`.
    #[sabi(last_prefix_field)]
    pub new: extern "C" fn(host: Host) -> RResult<PluginBox, PluginError>,
}

impl RootModule for PluginMod_Ref {
    declare_root_module_statics! {PluginMod_Ref}
    const BASE_NAME: &'static str = "crm_google_contacts";
    const NAME: &'static str = "crm_google_contacts";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
