//! host-sim: a small but faithful CRM, plus a fake Google, that loads the Google Contacts sync
//! plugin from a plugin directory and drives it end to end.

pub mod clock;
pub mod crm;
pub mod demo;
pub mod fake_google;
mod host;
pub mod loader;
pub mod locales;
pub mod logbook;
pub mod notices;
pub mod older_abi;
pub mod secrets;
pub mod sim;
pub mod web;
pub mod workers;

pub use sim::{Sim, SimConfig};
