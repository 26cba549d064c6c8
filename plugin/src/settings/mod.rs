//! What users see and do: the settings view models and the actions behind their buttons.

mod access;
mod actions;
mod google_errors;
mod options;
mod view;
mod widgets;

pub use access::Refusal;
pub use actions::act;
pub use options::{parse_options, OptionsError};
pub use view::render;
pub(crate) use view::{filter_name, health_reason, is_limit_reason};
