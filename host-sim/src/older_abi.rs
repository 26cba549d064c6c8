//! Plugins built against an older ABI version.
//!
//! abi_stable's load-time check lets an older host load a newer plugin (the plugin's prefix
//! types may have more fields than the host's), but refuses the reverse: a plugin built against
//! 0.1.0 carries a `HostServices` vtable type with fewer methods than this host's, and the check
//! stops with "too many fields". So the CRM keeps the frozen types of each older ABI version it
//! still supports (0.1.0: the `fixture-old-abi` crate, a copy of `abi/` as 0.1.0 shipped it)
//! and loads an older plugin through them. The two sides then talk through the adapters below,
//! which hand every value over unchanged: the types of 0.1.0 and today have the same layout,
//! which [`check_layouts`] proves with abi_stable's own checker before the plugin is started.

use std::path::Path;

use abi::{
    ActionOutcome, ContactChange, Job, Millis, Plugin, PluginBox, PluginError, SavedFilter, SettingsAction,
    SettingsContext, SettingsView,
};
use abi_stable::abi_stability::abi_checking::check_layout_compatibility;
use abi_stable::library::LibHeader;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RArc, ROption, RResult, RStr, RString, RVec};
use abi_stable::StableAbi;
use old_abi as v0_1_0;

use crate::host::SimHost;

/// An older plugin's root module.
#[derive(Clone, Copy)]
pub struct V0_1_0Module(pub v0_1_0::PluginMod_Ref);

/// Loads `header`'s root module as ABI 0.1.0 declared it.
pub fn load(header: &LibHeader, path: &Path) -> Result<V0_1_0Module, String> {
    check_layouts().map_err(|e| format!("{}: {e}", path.display()))?;
    header
        .init_root_module::<v0_1_0::PluginMod_Ref>()
        .map(V0_1_0Module)
        .map_err(|e| e.to_string())
}

/// Every type that crosses between this host and a 0.1.0 plugin has the same layout in both
/// versions (abi_stable compares them field by field, recursively).
pub fn check_layouts() -> Result<(), String> {
    fn same<New: StableAbi, Old: StableAbi>(name: &str) -> Result<(), String> {
        if std::mem::size_of::<New>() != std::mem::size_of::<Old>() {
            return Err(format!("{name} changed size since ABI 0.1.0"));
        }
        check_layout_compatibility(New::LAYOUT, Old::LAYOUT)
            .map_err(|e| format!("{name} changed since ABI 0.1.0: {e}"))
    }
    same::<SavedFilter, v0_1_0::SavedFilter>("SavedFilter")?;
    same::<ContactChange, v0_1_0::ContactChange>("ContactChange")?;
    same::<SettingsContext, v0_1_0::SettingsContext>("SettingsContext")?;
    same::<SettingsAction, v0_1_0::SettingsAction>("SettingsAction")?;
    same::<Job, v0_1_0::Job>("Job")?;
    same::<Millis, v0_1_0::Millis>("Millis")?;
    same::<SettingsView, v0_1_0::SettingsView>("SettingsView")?;
    same::<ActionOutcome, v0_1_0::ActionOutcome>("ActionOutcome")?;
    same::<PluginError, v0_1_0::PluginError>("PluginError")?;
    same::<abi::Contact, v0_1_0::Contact>("Contact")?;
    same::<abi::User, v0_1_0::User>("User")?;
    same::<abi::HostError, v0_1_0::HostError>("HostError")?;
    same::<abi::LogLevel, v0_1_0::LogLevel>("LogLevel")?;
    same::<abi::UserId, v0_1_0::UserId>("UserId")?;
    same::<abi::FilterId, v0_1_0::FilterId>("FilterId")?;
    same::<abi::ContactId, v0_1_0::ContactId>("ContactId")
}

/// Hands a value to the other version's type of the same layout.
///
/// Only for the pairs [`check_layouts`] verified (and `R*` containers of them, whose layout
/// abi_stable fixes); a module is only started after that check passed.
///
/// The size check is made by the compiler (a pair of another size does not build), so nothing
/// here can panic inside a call that came through the plugin's `extern "C"` vtable.
fn pass<A, B>(a: A) -> B {
    const { assert!(std::mem::size_of::<A>() == std::mem::size_of::<B>()) };
    let a = std::mem::ManuallyDrop::new(a);
    // SAFETY: same size (checked at compile time) and same layout, field by field (checked by
    // `check_layouts` before the plugin started).
    unsafe { std::ptr::read(&*a as *const A as *const B) }
}

fn pass_ref<A, B>(a: &A) -> &B {
    const { assert!(std::mem::size_of::<A>() == std::mem::size_of::<B>()) };
    // SAFETY: as in `pass`; the reference keeps its lifetime.
    unsafe { &*(a as *const A as *const B) }
}

impl V0_1_0Module {
    pub fn name(&self) -> RString {
        (self.0.name())()
    }

    /// Starts the plugin with `host` offered through the 0.1.0 services.
    pub(crate) fn start(&self, host: SimHost) -> Result<PluginBox, PluginError> {
        let old_host: v0_1_0::Host =
            v0_1_0::HostServices_TO::from_ptr(RArc::new(AsV0_1_0Host(host)), TD_Opaque);
        let instance = (self.0.new())(old_host).into_result().map_err(pass)?;
        Ok(abi::Plugin_TO::from_value(V0_1_0Plugin(instance), TD_Opaque))
    }
}

/// A 0.1.0 plugin, as today's host calls it.
struct V0_1_0Plugin(v0_1_0::PluginBox);

impl Plugin for V0_1_0Plugin {
    fn on_filter_saved(&self, filter: &SavedFilter) -> RResult<(), PluginError> {
        pass(self.0.on_filter_saved(pass_ref(filter)))
    }

    fn on_contact_changed(&self, change: &ContactChange) -> RResult<(), PluginError> {
        pass(self.0.on_contact_changed(pass_ref(change)))
    }

    fn on_tick(&self, now: Millis) -> RResult<(), PluginError> {
        pass(self.0.on_tick(pass(now)))
    }

    fn render_settings(&self, ctx: &SettingsContext) -> RResult<SettingsView, PluginError> {
        pass(self.0.render_settings(pass_ref(ctx)))
    }

    fn handle_settings_action(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> RResult<ActionOutcome, PluginError> {
        pass(self.0.handle_settings_action(pass_ref(ctx), pass_ref(action)))
    }

    fn run_job(&self, job: &Job) -> RResult<(), PluginError> {
        pass(self.0.run_job(pass_ref(job)))
    }

    fn shutdown(&self) -> RResult<(), PluginError> {
        pass(self.0.shutdown())
    }
}

/// Today's host services, as a 0.1.0 plugin calls them.
#[derive(Clone)]
struct AsV0_1_0Host(SimHost);

use abi::HostServices as _;

impl v0_1_0::HostServices for AsV0_1_0Host {
    fn filter_contacts(
        &self,
        filter: v0_1_0::FilterId,
        user: v0_1_0::UserId,
        after: v0_1_0::ContactId,
        limit: u32,
    ) -> RResult<RVec<v0_1_0::Contact>, v0_1_0::HostError> {
        pass(
            self.0
                .filter_contacts(pass(filter), pass(user), pass(after), limit),
        )
    }

    fn filter_includes(
        &self,
        filter: v0_1_0::FilterId,
        user: v0_1_0::UserId,
        contact: v0_1_0::ContactId,
    ) -> RResult<bool, v0_1_0::HostError> {
        pass(self.0.filter_includes(pass(filter), pass(user), pass(contact)))
    }

    fn get_contact(
        &self,
        user: v0_1_0::UserId,
        contact: v0_1_0::ContactId,
    ) -> RResult<ROption<v0_1_0::Contact>, v0_1_0::HostError> {
        pass(self.0.get_contact(pass(user), pass(contact)))
    }

    fn create_contact(
        &self,
        user: v0_1_0::UserId,
        contact: &v0_1_0::Contact,
        into_filter: ROption<v0_1_0::FilterId>,
    ) -> RResult<v0_1_0::Contact, v0_1_0::HostError> {
        pass(
            self.0
                .create_contact(pass(user), pass_ref(contact), pass(into_filter)),
        )
    }

    fn update_contact(
        &self,
        user: v0_1_0::UserId,
        contact: &v0_1_0::Contact,
    ) -> RResult<v0_1_0::Contact, v0_1_0::HostError> {
        pass(self.0.update_contact(pass(user), pass_ref(contact)))
    }

    fn user(&self, user: v0_1_0::UserId) -> RResult<ROption<v0_1_0::User>, v0_1_0::HostError> {
        pass(self.0.user(pass(user)))
    }

    fn filter(&self, filter: v0_1_0::FilterId) -> RResult<ROption<v0_1_0::SavedFilter>, v0_1_0::HostError> {
        pass(self.0.filter(pass(filter)))
    }

    fn may_access(
        &self,
        user: v0_1_0::UserId,
        contact: v0_1_0::ContactId,
    ) -> RResult<bool, v0_1_0::HostError> {
        pass(self.0.may_access(pass(user), pass(contact)))
    }

    fn submit_job(&self, job: v0_1_0::Job) -> RResult<(), v0_1_0::HostError> {
        pass(self.0.submit_job(pass(job)))
    }

    fn data_dir(&self) -> RString {
        self.0.data_dir()
    }

    fn secret_get(&self, key: RStr<'_>) -> RResult<ROption<RString>, v0_1_0::HostError> {
        pass(self.0.secret_get(key))
    }

    fn secret_set(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), v0_1_0::HostError> {
        pass(self.0.secret_set(key, value))
    }

    fn secret_delete(&self, key: RStr<'_>) -> RResult<(), v0_1_0::HostError> {
        pass(self.0.secret_delete(key))
    }

    fn now(&self) -> v0_1_0::Millis {
        pass(self.0.now())
    }

    fn log(&self, level: v0_1_0::LogLevel, target: RStr<'_>, message: RStr<'_>) {
        self.0.log(pass(level), target, message)
    }

    fn config(&self, key: RStr<'_>) -> ROption<RString> {
        self.0.config(key)
    }
}
