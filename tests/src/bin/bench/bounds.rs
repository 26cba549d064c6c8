//! The lower bounds every figure is compared with. Each function documents its formula; the
//! same sentences go into `BENCHMARKS.md`.

use crate::world::{BATCH, LIST_PAGE, MEMBERS_BATCH};
use crate::Settings;

/// `ceil(n / size)`, the number of calls a limit of `size` items per call forces.
pub fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size) as u64
}

/// Google calls a first sync of `n` contacts into an empty account needs: `ceil(n/200)`
/// `batchCreateContacts` (each create carries the group membership) plus setup:
/// one `connections.list` page (the empty account), one `contactGroups.list` to look for the
/// group, one `contactGroups.create`.
pub fn first_sync_calls(n: usize) -> u64 {
    pages(n, BATCH) + 3
}

/// Reads and writes of that minimum: (list page + group list, batch creates + group create).
pub fn first_sync_reads_writes(n: usize) -> (u64, u64) {
    (2, pages(n, BATCH) + 1)
}

/// Dedupe: `ceil(n/1000)` listing pages + `ceil(n/1000)` `contactGroups.members.modify` (every
/// matched contact must join the group; the contacts already hold the same fields, so no
/// `batchUpdateContacts` is needed) + 2 setup calls (group lookup and creation).
pub fn dedupe_calls(n: usize) -> u64 {
    pages(n, LIST_PAGE) + pages(n, MEMBERS_BATCH) + 2
}

/// Reads and writes of that minimum: (list pages + group list, member batches + group create).
pub fn dedupe_reads_writes(n: usize) -> (u64, u64) {
    (pages(n, LIST_PAGE) + 1, pages(n, MEMBERS_BATCH) + 1)
}

/// Incremental: one `connections.list` (sync-token delta) + `ceil(k/200)`
/// `batchUpdateContacts` for the CRM edits, each built on Google's copy of the contact kept from
/// the last listing or write (no read first). Google-side edits cost no call beyond the listing.
pub fn incremental_calls(crm_edits: usize) -> u64 {
    1 + pages(crm_edits, BATCH)
}

/// Wall-time lower bound, in seconds, for `reads` + `writes` calls of one Google user.
///
/// `max(calls × L, (writes − 1) × 60 / W + L, (reads − 1) × 60 / R + L)`: one account's calls
/// go one after another, so their latencies add up; and a sustained W writes (R reads) per
/// minute spaces the writes (reads) 60/W (60/R) seconds apart, plus the last call's latency.
/// It is a sustained-rate bound: the fake counts quota per calendar minute, so a client that
/// bursts across a minute boundary (the plugin's bucket allows a third of a minute at once)
/// can finish somewhat under it, giving a ratio below 1.
pub fn wall_secs(s: &Settings, reads: u64, writes: u64) -> f64 {
    let latency = s.latency_ms as f64 / 1000.0;
    let serial = (reads + writes) as f64 * latency;
    let paced = |n: u64, per_minute: u32| {
        if n == 0 {
            0.0
        } else {
            (n - 1) as f64 * 60.0 / f64::from(per_minute.max(1)) + latency
        }
    };
    serial
        .max(paced(writes, s.write_quota))
        .max(paced(reads, s.read_quota))
}

/// Below this a wall-time bound is mostly local work, not latency or quota, and a ratio
/// against it says nothing (quick mode: no latency, huge quotas).
pub const MEANINGFUL_WALL_SECS: f64 = 5.0;
