//! The plugin's own memory allocator: mimalloc, tuned to give memory back to the system as soon
//! as a run frees it.
//!
//! A full run holds a whole listing, the CRM view and the plan at once, then frees them in
//! another order than it took them. The C library's allocator keeps most of what a worker thread
//! freed (33 MB of a 188.7 MB peak in the bench's dedupe scenario, by glibc's `malloc_stats`),
//! and the host's process carries it until it ends. mimalloc with the options below peaks at
//! 168.9 MB in that scenario. It serves only this library's own allocations: what the host
//! allocates stays with the host's allocator, and `abi_stable`'s types free their memory through
//! the allocator that made it.

use std::sync::Once;

use libmimalloc_sys::mi_option_set;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Options of mimalloc v3 (`mi_option_e` in its `mimalloc.h`), by number: the binding names
/// only some of them, so the crate versions are pinned exactly in the workspace.
const ARENA_EAGER_COMMIT: i32 = 4;
const PURGE_DELAY: i32 = 15;

/// Sets the options, once, before the plugin's work allocates much.
pub(crate) fn tune() {
    static TUNED: Once = Once::new();
    TUNED.call_once(|| {
        // SAFETY: setters of mimalloc's option table, valid at any time; `Once` keeps two
        // threads from setting them together (mimalloc does not guard them).
        unsafe {
            // Commit arena memory as it is used, not ahead of use.
            mi_option_set(ARENA_EAGER_COMMIT, 0);
            // Hand freed pages back at once rather than 10 ms later, when a run's next step
            // has already taken more.
            mi_option_set(PURGE_DELAY, 0);
        }
    });
}
