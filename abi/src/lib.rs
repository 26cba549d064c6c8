//! The stable ABI between a CRM (the *host*) and the Google Contacts sync plugin.
//!
//! This crate is the only code the host and the plugin share. A CRM vendor reads it to learn
//! what to implement ([`HostServices`]) and what it can call ([`Plugin`]).
//!
//! * The plugin is a dynamic library that exports a [`PluginMod`] root module through
//!   `abi_stable`. The host loads it with [`PluginMod_Ref`]'s `RootModule` methods, which check
//!   the ABI version and the layout of every type below before anything is called.
//! * [`PluginMod`] is a *prefix type*: fields are only ever appended, so an older host loads a
//!   newer plugin. The same holds for the methods of [`Plugin`] and [`HostServices`]; see
//!   "What the ABI promises" below.
//! * Data that crosses is typed (`#[repr(C)]` structs with `abi_stable`'s `R*` std types), never
//!   JSON strings, except [`Job::payload`], which only the plugin reads.
//!
//! Threading: the host may call every [`Plugin`] method from any thread, concurrently. Hooks
//! called on the host's request threads (`on_*`, `render_settings`, `handle_settings_action`)
//! must return in well under a millisecond and never touch the network; slow work goes into a
//! [`Job`] that the host runs on its worker pool through [`Plugin::run_job`].
//!
//! # What the ABI promises
//!
//! The ABI's version is this crate's version. `abi_stable` treats `0.y` as the major version:
//! a host loads a plugin whose ABI has the same `0.y`, checks the layout of every type that
//! crosses, and refuses anything else by name (`IncompatibleVersionNumber` or
//! `AbiInstability`, which host-sim turns into a sentence).
//!
//! **Compatible changes** (bump `z`):
//!
//! * A new field at the end of a prefix type ([`PluginMod`]).
//! * A new method at the end of a `#[sabi_trait]` ([`Plugin`], [`HostServices`]), below the
//!   method marked `#[sabi(last_prefix_field)]`, **with a default body**. When the other side was
//!   built against an older ABI its vtable ends before the method, and `abi_stable` calls the
//!   default body on the caller's side (a defaulted method's vtable field is generated as
//!   `missing_field(option)` and the trait object falls back to the default; the trait must not
//!   use `#[sabi(no_default_fallback)]`). A method added *without* a default panics when called
//!   through an older vtable (the vtable is `missing_field(panic)`), which inside a hook means
//!   an abort: never add one.
//! * A new optional host service: new [`HostServices`] methods whose defaults answer "not
//!   offered", and a new bit in [`HostOffers`], which hosts built against older versions never
//!   set. A plugin must work without every optional service.
//! * A new hook: a new [`Plugin`] method whose default does what an older plugin would.
//! * New types, new constants of a transparent integer newtype ([`HostOffers`]), new free
//!   functions and impls. Never a change to an existing non-prefix type.
//!
//! **Which way round this works.** `abi_stable`'s load-time check accepts a plugin whose prefix
//! types have *more* fields than the host's (an older host loads a newer plugin; the host's
//! calls of services the plugin's ABI added fall back to the defaults above), but refuses one
//! whose prefix types have *fewer* ("too many fields": the newer host's `HostServices` vtable
//! type is longer than the one an older plugin was built with). So a host that wants to keep
//! loading plugins built against an older `0.y.z` keeps that version's frozen types and loads
//! such a plugin through them, handing values across unchanged; that is sound because
//! compatible changes never change a non-prefix type, which the host checks with
//! `abi_stable`'s layout checker before it starts the plugin. host-sim does this for 0.1.0
//! (`host-sim/src/older_abi.rs`, frozen types in `tests/fixtures/old-abi`).
//!
//! **Breaking changes** (bump `y`, move `#[sabi(last_prefix_field)]` to the then-last method or
//! field, and ask vendors to rebuild): removing, renaming, reordering or retyping any field,
//! method, parameter or variant; a field in a non-prefix struct (e.g. [`Contact`]); a variant
//! in an exhaustive enum (e.g. [`Widget`], [`HostErrorKind`]); a new method without a default;
//! changing what an existing method means.
//!
//! Optional services added so far: 0.1.1 — [`HostServices::offers`],
//! [`HostServices::user_locale`], [`HostServices::raise_notice`],
//! [`HostServices::withdraw_notice`], [`HostServices::create_contact_once`]. 0.1.2 — the hooks
//! [`Plugin::download`] and [`Plugin::render_contact_panel`], offered by a host through
//! [`HostOffers::DOWNLOADS`] and [`HostOffers::CONTACT_PANELS`].
//!
//! A plugin built against 0.1.1 carries a `HostServices` vtable type with more methods than
//! 0.1.0's and a `Plugin` vtable with fewer than today's: today's types refuse it, but the 0.1.0
//! types accept it (an interface may list fewer methods than the library), so host-sim loads it
//! as a 0.1.0 plugin; it then runs without the 0.1.1 services, as it would in a 0.1.0 CRM.
#![allow(non_camel_case_types, non_local_definitions)]

mod contact;
mod crm;
mod download;
mod error;
mod host;
mod locale;
mod notice;
mod plugin;
mod settings;

pub use contact::*;
pub use crm::*;
pub use download::*;
pub use error::*;
pub use host::*;
pub use locale::*;
pub use notice::*;
pub use plugin::*;
pub use settings::*;

pub use abi_stable;
