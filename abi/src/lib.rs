//! The stable ABI between a CRM (the *host*) and the Google Contacts sync plugin.
//!
//! This crate is the only code the host and the plugin share. A CRM vendor reads it to learn
//! what to implement ([`HostServices`]) and what it can call ([`Plugin`]).
//!
//! * The plugin is a dynamic library that exports a [`PluginMod`] root module through
//!   `abi_stable`. The host loads it with [`PluginMod_Ref`]'s `RootModule` methods, which check
//!   the ABI version and the layout of every type below before anything is called.
//! * [`PluginMod`] is a *prefix type*: fields are only ever appended, so an older host loads a
//!   newer plugin. The same holds for the methods of [`Plugin`] and [`HostServices`].
//! * Data that crosses is typed (`#[repr(C)]` structs with `abi_stable`'s `R*` std types), never
//!   JSON strings, except [`Job::payload`], which only the plugin reads.
//!
//! Threading: the host may call every [`Plugin`] method from any thread, concurrently. Hooks
//! called on the host's request threads (`on_*`, `render_settings`, `handle_settings_action`)
//! must return in well under a millisecond and never touch the network; slow work goes into a
//! [`Job`] that the host runs on its worker pool through [`Plugin::run_job`].
#![allow(non_camel_case_types, non_local_definitions)]

mod contact;
mod crm;
mod error;
mod host;
mod plugin;
mod settings;

pub use contact::*;
pub use crm::*;
pub use error::*;
pub use host::*;
pub use plugin::*;
pub use settings::*;

pub use abi_stable;
