//! Any settings actions from any user on any page through the real settings hook: always a message.
//! The input is decoded and run by `crm_google_contacts::fuzzing::settings_actions`, which the normal test
//! suite also runs on random inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| crm_google_contacts::fuzzing::settings_actions(data));
