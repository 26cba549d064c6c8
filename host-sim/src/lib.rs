//! host-sim: a small but faithful CRM, plus a fake Google, that loads the Google Contacts sync
//! plugin from a plugin directory and drives it end to end.

pub mod fake_google;
