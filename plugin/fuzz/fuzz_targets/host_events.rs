//! Any host events (contact changes, saved filters, ticks, jobs) through the real hooks.
//! The input is decoded and run by `crm_google_contacts::fuzzing::host_events`, which the normal test
//! suite also runs on random inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| crm_google_contacts::fuzzing::host_events(data));
