//! Any CRM contact and Google person through every mapping function and the three-way merge.
//! The input is decoded and run by `crm_google_contacts::fuzzing::mapping`, which the normal test
//! suite also runs on random inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| crm_google_contacts::fuzzing::mapping(data));
