//! Any observations, links and options through the sync planner.
//! The input is decoded and run by `crm_google_contacts::fuzzing::planner`, which the normal test
//! suite also runs on random inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| crm_google_contacts::fuzzing::planner(data));
