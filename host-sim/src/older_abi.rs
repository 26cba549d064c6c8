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
//!
//! A plugin built against 0.1.1 comes here too: its `Plugin` vtable lacks the 0.1.2 hooks, so
//! today's types refuse it, while its `HostServices` vtable is longer than 0.1.0's, which a
//! prefix type allows. It runs as in a 0.1.0 CRM, without the 0.1.1 services.

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

/// An older plugin's root module. Only [`load`] makes one, after [`check_layouts`] passed, so
/// no module starts without the check the value passing below relies on.
#[derive(Clone, Copy)]
pub struct V0_1_0Module(v0_1_0::PluginMod_Ref);

/// Loads `header`'s root module as ABI 0.1.0 declared it.
pub fn load(header: &LibHeader, path: &Path) -> Result<V0_1_0Module, String> {
    check_layouts().map_err(|e| format!("{}: {e}", path.display()))?;
    header
        .init_root_module::<v0_1_0::PluginMod_Ref>()
        .map(V0_1_0Module)
        .map_err(|e| e.to_string())
}

/// `Self` (today's type) and `Old` (0.1.0's) have the same layout, so a value of one can be read
/// as the other.
///
/// # Safety
///
/// Implemented only by [`same_layout!`] for the pairs whose layouts [`check_layouts`] compares,
/// and for `R*` containers of such pairs (abi_stable fixes a container's layout whatever it
/// holds). Private to this module, so nothing else can add a pair.
unsafe trait SameLayout<Old> {}

/// Declares the pairs of types that cross between this host and a 0.1.0 plugin: each becomes a
/// [`SameLayout`] impl and a line of [`check_layouts`], so a pair can't be passed unchecked.
macro_rules! same_layout {
    ($($new:ty => $old:ty,)*) => {
        $(
            // SAFETY: `check_layouts` compares this pair before any module starts.
            unsafe impl SameLayout<$old> for $new {}
        )*

        /// Every type that crosses between this host and a 0.1.0 plugin has the same layout in
        /// both versions (abi_stable compares them field by field, recursively).
        pub fn check_layouts() -> Result<(), String> {
            $( same::<$new, $old>(stringify!($new))?; )*
            Ok(())
        }
    };
}

same_layout! {
    SavedFilter => v0_1_0::SavedFilter,
    ContactChange => v0_1_0::ContactChange,
    SettingsContext => v0_1_0::SettingsContext,
    SettingsAction => v0_1_0::SettingsAction,
    Job => v0_1_0::Job,
    Millis => v0_1_0::Millis,
    SettingsView => v0_1_0::SettingsView,
    ActionOutcome => v0_1_0::ActionOutcome,
    PluginError => v0_1_0::PluginError,
    abi::Contact => v0_1_0::Contact,
    abi::User => v0_1_0::User,
    abi::HostError => v0_1_0::HostError,
    abi::LogLevel => v0_1_0::LogLevel,
    abi::UserId => v0_1_0::UserId,
    abi::FilterId => v0_1_0::FilterId,
    abi::ContactId => v0_1_0::ContactId,
    // The same type in both versions (abi_stable's own, or a primitive).
    RString => RString,
    bool => bool,
    () => (),
}

// SAFETY: `#[repr(C)]` containers whose layout depends only on that of what they hold.
unsafe impl<New: SameLayout<Old>, Old> SameLayout<ROption<Old>> for ROption<New> {}
// SAFETY: as above.
unsafe impl<New: SameLayout<Old>, Old, NewE: SameLayout<OldE>, OldE> SameLayout<RResult<Old, OldE>>
    for RResult<New, NewE>
{
}
// SAFETY: as above; the vector's vtable handles elements of the same layout.
unsafe impl<New: SameLayout<Old>, Old> SameLayout<RVec<Old>> for RVec<New> {}

fn same<New: StableAbi, Old: StableAbi>(name: &str) -> Result<(), String> {
    if std::mem::size_of::<New>() != std::mem::size_of::<Old>() {
        return Err(format!("{name} changed size since ABI 0.1.0"));
    }
    check_layout_compatibility(New::LAYOUT, Old::LAYOUT)
        .map_err(|e| format!("{name} changed since ABI 0.1.0: {e}"))
}

/// Hands today's value to a 0.1.0 plugin as its version's type.
fn to_old<New: SameLayout<Old>, Old>(value: New) -> Old {
    // SAFETY: `SameLayout` holds only for pairs `check_layouts` verified.
    unsafe { reinterpret(value) }
}

/// Hands a 0.1.0 plugin's value to today's host as today's type.
fn to_new<Old, New: SameLayout<Old>>(value: Old) -> New {
    // SAFETY: as in `to_old`.
    unsafe { reinterpret(value) }
}

fn to_old_ref<New: SameLayout<Old>, Old>(value: &New) -> &Old {
    // SAFETY: as in `to_old`; the reference keeps its lifetime.
    unsafe { &*(value as *const New as *const Old) }
}

fn to_new_ref<Old, New: SameLayout<Old>>(value: &Old) -> &New {
    // SAFETY: as in `to_old`; the reference keeps its lifetime.
    unsafe { &*(value as *const Old as *const New) }
}

/// Reads `a` as a `B`.
///
/// The size check is made by the compiler (a pair of another size does not build), so nothing
/// here can panic inside a call that came through the plugin's `extern "C"` vtable.
///
/// # Safety
///
/// `A` and `B` have the same layout, field by field.
unsafe fn reinterpret<A, B>(a: A) -> B {
    const { assert!(std::mem::size_of::<A>() == std::mem::size_of::<B>()) };
    let a = std::mem::ManuallyDrop::new(a);
    // SAFETY: the caller's promise; `a` is not dropped, its bytes now belong to the `B`.
    unsafe { std::ptr::read(&*a as *const A as *const B) }
}

impl V0_1_0Module {
    pub fn name(&self) -> RString {
        (self.0.name())()
    }

    /// Starts the plugin with `host` offered through the 0.1.0 services.
    pub(crate) fn start(&self, host: SimHost) -> Result<PluginBox, PluginError> {
        let old_host: v0_1_0::Host =
            v0_1_0::HostServices_TO::from_ptr(RArc::new(AsV0_1_0Host(host)), TD_Opaque);
        let instance = (self.0.new())(old_host).into_result().map_err(to_new)?;
        Ok(abi::Plugin_TO::from_value(V0_1_0Plugin(instance), TD_Opaque))
    }
}

/// A 0.1.0 plugin, as today's host calls it.
struct V0_1_0Plugin(v0_1_0::PluginBox);

impl Plugin for V0_1_0Plugin {
    fn on_filter_saved(&self, filter: &SavedFilter) -> RResult<(), PluginError> {
        to_new(self.0.on_filter_saved(to_old_ref(filter)))
    }

    fn on_contact_changed(&self, change: &ContactChange) -> RResult<(), PluginError> {
        to_new(self.0.on_contact_changed(to_old_ref(change)))
    }

    fn on_tick(&self, now: Millis) -> RResult<(), PluginError> {
        to_new(self.0.on_tick(to_old(now)))
    }

    fn render_settings(&self, ctx: &SettingsContext) -> RResult<SettingsView, PluginError> {
        to_new(self.0.render_settings(to_old_ref(ctx)))
    }

    fn handle_settings_action(
        &self,
        ctx: &SettingsContext,
        action: &SettingsAction,
    ) -> RResult<ActionOutcome, PluginError> {
        to_new(self.0.handle_settings_action(to_old_ref(ctx), to_old_ref(action)))
    }

    fn run_job(&self, job: &Job) -> RResult<(), PluginError> {
        to_new(self.0.run_job(to_old_ref(job)))
    }

    fn shutdown(&self) -> RResult<(), PluginError> {
        to_new(self.0.shutdown())
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
        to_old(
            self.0
                .filter_contacts(to_new(filter), to_new(user), to_new(after), limit),
        )
    }

    fn filter_includes(
        &self,
        filter: v0_1_0::FilterId,
        user: v0_1_0::UserId,
        contact: v0_1_0::ContactId,
    ) -> RResult<bool, v0_1_0::HostError> {
        to_old(
            self.0
                .filter_includes(to_new(filter), to_new(user), to_new(contact)),
        )
    }

    fn get_contact(
        &self,
        user: v0_1_0::UserId,
        contact: v0_1_0::ContactId,
    ) -> RResult<ROption<v0_1_0::Contact>, v0_1_0::HostError> {
        to_old(self.0.get_contact(to_new(user), to_new(contact)))
    }

    fn create_contact(
        &self,
        user: v0_1_0::UserId,
        contact: &v0_1_0::Contact,
        into_filter: ROption<v0_1_0::FilterId>,
    ) -> RResult<v0_1_0::Contact, v0_1_0::HostError> {
        to_old(
            self.0
                .create_contact(to_new(user), to_new_ref(contact), to_new(into_filter)),
        )
    }

    fn update_contact(
        &self,
        user: v0_1_0::UserId,
        contact: &v0_1_0::Contact,
    ) -> RResult<v0_1_0::Contact, v0_1_0::HostError> {
        to_old(self.0.update_contact(to_new(user), to_new_ref(contact)))
    }

    fn user(&self, user: v0_1_0::UserId) -> RResult<ROption<v0_1_0::User>, v0_1_0::HostError> {
        to_old(self.0.user(to_new(user)))
    }

    fn filter(&self, filter: v0_1_0::FilterId) -> RResult<ROption<v0_1_0::SavedFilter>, v0_1_0::HostError> {
        to_old(self.0.filter(to_new(filter)))
    }

    fn may_access(
        &self,
        user: v0_1_0::UserId,
        contact: v0_1_0::ContactId,
    ) -> RResult<bool, v0_1_0::HostError> {
        to_old(self.0.may_access(to_new(user), to_new(contact)))
    }

    fn submit_job(&self, job: v0_1_0::Job) -> RResult<(), v0_1_0::HostError> {
        to_old(self.0.submit_job(to_new(job)))
    }

    fn data_dir(&self) -> RString {
        self.0.data_dir()
    }

    fn secret_get(&self, key: RStr<'_>) -> RResult<ROption<RString>, v0_1_0::HostError> {
        to_old(self.0.secret_get(key))
    }

    fn secret_set(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), v0_1_0::HostError> {
        to_old(self.0.secret_set(key, value))
    }

    fn secret_delete(&self, key: RStr<'_>) -> RResult<(), v0_1_0::HostError> {
        to_old(self.0.secret_delete(key))
    }

    fn now(&self) -> v0_1_0::Millis {
        to_old(self.0.now())
    }

    fn log(&self, level: v0_1_0::LogLevel, target: RStr<'_>, message: RStr<'_>) {
        self.0.log(to_new(level), target, message)
    }

    fn config(&self, key: RStr<'_>) -> ROption<RString> {
        self.0.config(key)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_type_passed_to_a_0_1_0_plugin_has_the_layout_it_had_in_0_1_0() {
        assert_eq!(super::check_layouts(), Ok(()));
    }
}
