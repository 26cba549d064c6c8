//! The one rule for trusting what Google shows against our own writes.
//!
//! Google's listings lag behind writes by up to `Rules::visibility_ms`: a listing taken right
//! after we wrote, created or deleted a contact may show it as it was before, or not at all. A
//! read by name, a write's answer and a 404 are current. Hence:
//! - a listing shows a write of ours only once the lag has passed since it ([`Lag::shows`]):
//!   before that, a contact absent from it or out of the group there proves nothing, a create of
//!   ours may still appear, and a contact we deleted may still be listed;
//! - what this run shows of a linked contact is Google's word about it when the listing can
//!   show our last write to it, or when the contact was read by name in this run ([`settled`]);
//! - a listed version older than the newest we know of a contact is stale, not an edit made in
//!   Google ([`fresh`]).

use super::plan::GoogleView;
use super::remote::RemoteContact;
use crate::domain::Link;

/// How far back a listing taken now shows our writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lag {
    /// Writes made before this instant show in listings; later ones may not yet.
    pub visible_before: i64,
}

impl Lag {
    pub fn new(now: i64, visibility_ms: i64) -> Lag {
        Lag {
            visible_before: now - visibility_ms,
        }
    }

    /// Whether a listing taken now shows a write we made at `at`.
    pub fn shows(self, at: i64) -> bool {
        at < self.visible_before
    }
}

/// Whether what `google` shows of a linked contact (present, absent, in or out of the group) is
/// Google's word about it.
pub fn settled(lag: Lag, link: &Link, google: &GoogleView) -> bool {
    lag.shows(link.written_at) || google.fetched.contains(&link.resource_name)
}

/// Whether a listed version of a linked contact is at least as new as the newest we know.
pub fn fresh(remote: &dyn RemoteContact, link: &Link) -> bool {
    remote.updated_ms().unwrap_or(0) >= link.google_time
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(written_at: i64) -> Link {
        Link {
            contact_id: 1,
            resource_name: "people/c1".into(),
            etag: String::new(),
            base: Default::default(),
            written_at,
            google_time: 0,
        }
    }

    #[test]
    fn a_listing_shows_a_write_only_once_the_lag_has_passed() {
        let lag = Lag::new(10_000, 600);
        assert!(lag.shows(9_399));
        assert!(!lag.shows(9_400));
        assert!(!lag.shows(10_000));
    }

    #[test]
    fn a_read_by_name_settles_a_contact_written_just_now() {
        let lag = Lag::new(10_000, 600);
        let mut google = GoogleView::default();
        assert!(!settled(lag, &link(9_900), &google));
        google.fetched.insert("people/c1".into());
        assert!(settled(lag, &link(9_900), &google));
        assert!(settled(lag, &link(1_000), &GoogleView::default()));
    }
}
