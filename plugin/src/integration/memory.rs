//! Handing the memory a large run freed back to the system.
//!
//! A run decodes every link of its account (25,000 links with their bases are some 50 MB) and
//! frees it when it ends, on whichever worker thread the host lent it: each job may run on a
//! different one. The plugin's own allocator (`allocator`) gives back freed pages as it goes, but
//! keeps some per thread for reuse; what the host allocated for the run on that thread (the
//! pages of CRM contacts it handed over) is in glibc's arena of the thread, which keeps it.
//! Without handing both back, every worker keeps the peak of the largest run it ran, and the CRM
//! process grows by several runs' peaks instead of one (bench scenarios 3 and 5: 150 MB for a
//! run of 100 edits).

/// Accounts with at least this many contacts in Google make runs worth trimming after; below
/// it a run frees too little to matter, and a thousand small accounts' runs stay cheap.
const LARGE_ACCOUNT: u64 = 2_000;

/// Returns the free memory of every arena to the system after a run of an account holding
/// `contacts` Google contacts, if that account is large.
pub fn release_after_run(contacts: u64) {
    if contacts >= LARGE_ACCOUNT {
        trim();
    }
}

fn trim() {
    // SAFETY: mi_collect only frees what the calling thread's heap holds unused; it is safe to
    // call from any thread at any time.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    trim_host_arenas();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_host_arenas() {
    // SAFETY: malloc_trim only releases free pages of the allocator's arenas; it is safe to
    // call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_host_arenas() {}
