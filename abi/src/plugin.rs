//! What the plugin offers the host, and the root module it exports.

use abi_stable::library::RootModule;
use abi_stable::sabi_trait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RArc, RBox, ROption, RResult, RString};
use abi_stable::{declare_root_module_statics, package_version_strings, StableAbi};

use crate::{
    ActionOutcome, ContactChange, ContactId, Download, HostServices_TO, Job, Millis, PluginError,
    SavedFilter, SettingsAction, SettingsContext, SettingsView,
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

    // ----- Since 0.1.2: new hooks. Each has a default, which is what a host gets from a plugin
    // built against 0.1.1 or older. Keep new methods together, below this line, each with one.

    /// A file the user asked for with `action` (an export), or `None` when `action` is not a
    /// download.
    ///
    /// For CRM authors: a host that offers downloads ([`HostOffers::DOWNLOADS`]) calls this first
    /// for every action of a plugin's page, and when it answers a file, hands it to the user's
    /// browser as an attachment instead of calling
    /// [`handle_settings_action`](Plugin::handle_settings_action). It runs on the request thread
    /// like any action, but may take as long as the host's own exports (it reads the plugin's
    /// data; it never touches the network).
    ///
    /// [`HostOffers::DOWNLOADS`]: crate::HostOffers::DOWNLOADS
    fn download(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> RResult<ROption<Download>, PluginError> {
        let _ = (ctx, action);
        RResult::ROk(ROption::RNone)
    }

    /// The plugin's panel on the CRM page of `contact`, as `ctx.user` sees it (what the sync did
    /// to that contact), or `None` when it has nothing to show there.
    ///
    /// For CRM authors: a host that offers contact panels ([`HostOffers::CONTACT_PANELS`]) calls
    /// this when it shows a contact the user may see, with `ctx.page` set to
    /// [`SettingsPage::Integration`](crate::SettingsPage::Integration), and sends the actions of
    /// the panel's widgets to [`handle_settings_action`](Plugin::handle_settings_action) (and
    /// [`download`](Plugin::download)) with that same context; the widgets name what they act on
    /// in their fields.
    ///
    /// [`HostOffers::CONTACT_PANELS`]: crate::HostOffers::CONTACT_PANELS
    fn render_contact_panel(
        &self,
        ctx: &SettingsContext,
        contact: ContactId,
    ) -> RResult<ROption<SettingsView>, PluginError> {
        let _ = (ctx, contact);
        RResult::ROk(ROption::RNone)
    }
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
