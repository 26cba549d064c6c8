//! Any bytes as Google's answer (first byte: HTTP status) to every People API call the client makes.
//! The input is decoded and run by `crm_google_contacts::fuzzing::google_answer`, which the normal test
//! suite also runs on random inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| crm_google_contacts::fuzzing::google_answer(data));
