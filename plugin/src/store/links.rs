//! The sync state of each CRM contact on each Google account: one row of `contact_states`
//! holding a [`ContactState`] (its link or create in flight, and where it stands in each binding
//! of the account), plus the linked Google contact's name in a column of its own, unique per
//! account, so that no two contacts are ever linked to one Google contact.
//!
//! Reads project the part they need in SQL (`json_extract`), so listing an account's links
//! does not decode every binding's standing, nor a binding's members every base. Writes read
//! the row, change the state and write it back, inside the caller's transaction.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, Connection, OptionalExtension};

use super::Cached as _;
use super::{from_json, to_json, StoreError};
use crate::domain::{ContactState, Departure, Exclusion, InFlight, Link, LinkState, Place, Sent, Standing};
use crate::mapping::Fields;

// ----- one row -----

fn state_of(conn: &Connection, account: &str, contact_id: u64) -> Result<ContactState, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT state FROM contact_states WHERE account = ?1 AND contact_id = ?2")?
        .query_row(params![account, contact_id as i64], |r| r.get(0))
        .optional()?;
    text.map_or(Ok(ContactState::default()), |t| from_json(&t))
}

fn save(conn: &Connection, account: &str, contact_id: u64, state: &ContactState) -> Result<(), StoreError> {
    if state.is_empty() {
        conn.prepare_cached("DELETE FROM contact_states WHERE account = ?1 AND contact_id = ?2")?
            .execute(params![account, contact_id as i64])?;
        return Ok(());
    }
    let resource_name = state.linked().map(|l| l.resource_name.as_str());
    conn.prepare_cached(
        "INSERT INTO contact_states (account, contact_id, resource_name, state) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account, contact_id) DO UPDATE SET resource_name = ?3, state = ?4",
    )?
    .execute(params![account, contact_id as i64, resource_name, to_json(state)])?;
    Ok(())
}

/// Reads the contact's state, lets `f` change it and writes it back.
fn change(
    conn: &Connection,
    account: &str,
    contact_id: u64,
    f: impl FnOnce(&mut ContactState),
) -> Result<(), StoreError> {
    let mut state = state_of(conn, account, contact_id)?;
    f(&mut state);
    save(conn, account, contact_id, &state)
}

/// The contact linked to `resource_name`, if any.
fn linked_to(conn: &Connection, account: &str, resource_name: &str) -> Result<Option<u64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT contact_id FROM contact_states WHERE account = ?1 AND resource_name = ?2")?
        .query_row(params![account, resource_name], |r| r.get::<_, i64>(0))
        .optional()?
        .map(|id| id as u64))
}

/// Rows of `account` where the JSON at `path` is present: contact id → that JSON, decoded.
fn project<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    account: &str,
    path: &str,
) -> Result<BTreeMap<u64, T>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT contact_id, json_extract(state, ?2) FROM contact_states
         WHERE account = ?1 AND json_extract(state, ?2) IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![account, path], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
    })?;
    let mut all = BTreeMap::new();
    for row in rows {
        let (id, text) = row?;
        all.insert(id, from_json(&text)?);
    }
    Ok(all)
}

// ----- links -----

pub fn all(conn: &Connection, account: &str) -> Result<BTreeMap<u64, Link>, StoreError> {
    project(conn, account, "$.link.link")
}

/// The Google contacts of the links last written in `[from, to)`. Only their names are read:
/// a run asks this after every full listing, and decoding every link of a large account for
/// the few just written held tens of MB at the end of each run.
pub fn written_between(
    conn: &Connection,
    account: &str,
    from: i64,
    to: i64,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT resource_name FROM contact_states
         WHERE account = ?1 AND json_extract(state, '$.link.link.written_at') >= ?2
         AND json_extract(state, '$.link.link.written_at') < ?3",
    )?;
    let rows = stmt.query_map(params![account, from, to], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The resource name a contact is linked to, if it is linked.
pub fn resource_name_of(
    conn: &Connection,
    account: &str,
    contact_id: u64,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT resource_name FROM contact_states WHERE account = ?1 AND contact_id = ?2")?
        .query_row(params![account, contact_id as i64], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// Links the contact, which ends its create or write in flight. A Google contact is linked to
/// one contact only: a stale link to it goes first.
pub fn put(conn: &Connection, account: &str, link: &Link) -> Result<(), StoreError> {
    if let Some(other) = linked_to(conn, account, &link.resource_name)? {
        if other != link.contact_id {
            change(conn, account, other, ContactState::unlink)?;
        }
    }
    change(conn, account, link.contact_id, |s| {
        s.link = LinkState::Linked {
            link: link.clone(),
            in_flight: None,
        }
    })
}

// ----- writes in flight -----

/// Records what a write to a linked Google contact sends, before it is sent; the link's next
/// [`put`] ends it. A contact no longer linked has nothing to write to, and records nothing.
pub fn record_sent(
    conn: &Connection,
    account: &str,
    contact_id: u64,
    sent: &Sent,
    at: i64,
) -> Result<(), StoreError> {
    change(conn, account, contact_id, |s| {
        if let LinkState::Linked { in_flight, .. } = &mut s.link {
            *in_flight = Some(InFlight {
                sent: sent.clone(),
                at,
            });
        }
    })
}

/// The account's writes whose answer no link has recorded: contact id → what was sent.
pub fn sent(conn: &Connection, account: &str) -> Result<BTreeMap<u64, Sent>, StoreError> {
    project(conn, account, "$.link.in_flight.sent")
}

/// Follows a contact Google gave a new resource name: its link (if any) now names `new`, and
/// what we knew under the old name goes. A link already on `new` is left alone, and the one on
/// `old` then goes: the old name no longer resolves, so every write through it would fail.
/// An import in flight follows too.
pub fn follow_rename(conn: &Connection, account: &str, old: &str, new: &str) -> Result<(), StoreError> {
    if let Some(contact_id) = linked_to(conn, account, old)? {
        let taken = linked_to(conn, account, new)?.is_some();
        change(conn, account, contact_id, |s| match &mut s.link {
            LinkState::Linked { link, .. } if !taken => link.resource_name = new.to_string(),
            _ => s.unlink(),
        })?;
    }
    super::imports::follow_rename(conn, account, old, new)?;
    super::index::remove(conn, account, old)
}

/// Records that we just wrote the contact's Google side (a membership change, say), so listings
/// older than this write are not taken as Google's word.
pub fn touch(conn: &Connection, account: &str, contact_id: u64, at: i64) -> Result<(), StoreError> {
    change(conn, account, contact_id, |s| {
        if let LinkState::Linked { link, .. } = &mut s.link {
            link.written_at = at;
        }
    })
}

/// Forgets the link, a write in flight to it and the contact's memberships in the account's
/// bindings (a member is linked).
pub fn remove(conn: &Connection, account: &str, contact_id: u64) -> Result<(), StoreError> {
    change(conn, account, contact_id, ContactState::unlink)
}

pub fn count(conn: &Connection, account: &str) -> Result<u64, StoreError> {
    Ok(conn.query_row_cached(
        "SELECT COUNT(*) FROM contact_states WHERE account = ?1 AND resource_name IS NOT NULL",
        [account],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

// ----- standing in a binding -----

fn account_of(conn: &Connection, binding_id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT account FROM bindings WHERE id = ?1")?
        .query_row([binding_id], |r| r.get(0))
        .optional()?)
}

/// The binding's standings: contact id → where it stands (none for a binding that is gone).
fn standings(conn: &Connection, binding_id: i64) -> Result<BTreeMap<u64, Standing>, StoreError> {
    match account_of(conn, binding_id)? {
        Some(account) => project(conn, &account, &format!("$.bindings.\"{binding_id}\"")),
        None => Ok(BTreeMap::new()),
    }
}

fn change_standing(
    conn: &Connection,
    binding_id: i64,
    contact_id: u64,
    f: impl FnOnce(&mut ContactState),
) -> Result<(), StoreError> {
    let account = account_of(conn, binding_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("binding {binding_id} is not in the mapping file")))?;
    change(conn, &account, contact_id, f)
}

/// Where the contacts of one binding stand: contact id → standing.
#[derive(Debug, Default)]
pub struct Standings(BTreeMap<u64, Standing>);

impl Standings {
    pub fn members(&self) -> BTreeSet<u64> {
        self.0
            .iter()
            .filter(|(_, s)| s.place == Some(Place::Member))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The excluded contacts, as [`exclude`] recorded them.
    pub fn exclusions(&self) -> Exclusions {
        let mut all = Exclusions::default();
        for (&id, standing) in &self.0 {
            let Some(Place::Excluded(e)) = &standing.place else {
                continue;
            };
            all.since.insert(id, e.google_time);
            all.at.insert(id, e.at);
            all.keys.extend(e.keys.iter().map(|k| (k.clone(), id)));
            if let Some(base) = &e.base {
                all.bases.insert(id, base.clone());
            }
        }
        all
    }

    /// The match keys of the contacts that left the binding on the CRM side and are not
    /// forgotten yet (see [`forget_departures`]): key → contact id.
    pub fn departed_keys(&self) -> BTreeMap<String, u64> {
        let departed = self
            .0
            .iter()
            .filter_map(|(&id, s)| s.departed.as_ref().map(|d| (id, d)));
        departed
            .flat_map(|(id, d)| d.keys.iter().map(move |k| (k.clone(), id)))
            .collect()
    }
}

/// Every binding's standings on the account, in one read: binding id → its standings.
pub fn account_standings(conn: &Connection, account: &str) -> Result<BTreeMap<i64, Standings>, StoreError> {
    let by_contact: BTreeMap<u64, BTreeMap<i64, Standing>> = project(conn, account, "$.bindings")?;
    let mut by_binding: BTreeMap<i64, Standings> = BTreeMap::new();
    for (contact_id, standings) in by_contact {
        for (binding_id, standing) in standings {
            by_binding
                .entry(binding_id)
                .or_default()
                .0
                .insert(contact_id, standing);
        }
    }
    Ok(by_binding)
}

pub fn members(conn: &Connection, binding_id: i64) -> Result<BTreeSet<u64>, StoreError> {
    Ok(Standings(standings(conn, binding_id)?).members())
}

/// A member of a binding is synced with its group, so it is no longer excluded from it: the
/// two are one contact's alternative places in the binding (a contact joined again by a
/// create or an import kept its exclusion, and its health said "excluded" while it was in
/// sync: simulation seed 660).
pub fn add_member(conn: &Connection, binding_id: i64, contact_id: u64) -> Result<(), StoreError> {
    change_standing(conn, binding_id, contact_id, |s| {
        s.set_place(binding_id, Some(Place::Member))
    })
}

pub fn remove_member(conn: &Connection, binding_id: i64, contact_id: u64) -> Result<(), StoreError> {
    change_standing(conn, binding_id, contact_id, |s| {
        if s.is_member(binding_id) {
            s.set_place(binding_id, None);
        }
    })
}

/// Forgets every member of a binding (its group changed).
pub fn clear_members(conn: &Connection, binding_id: i64) -> Result<(), StoreError> {
    for contact_id in members(conn, binding_id)? {
        remove_member(conn, binding_id, contact_id)?;
    }
    Ok(())
}

/// Whether another enabled binding of the account still has the contact in its group.
pub fn member_elsewhere(
    conn: &Connection,
    binding_id: i64,
    account: &str,
    contact_id: u64,
) -> Result<bool, StoreError> {
    let state = state_of(conn, account, contact_id)?;
    let mut enabled = conn.prepare_cached("SELECT enabled FROM bindings WHERE id = ?1")?;
    for (other, standing) in &state.bindings {
        if *other == binding_id || standing.place != Some(Place::Member) {
            continue;
        }
        let on: Option<bool> = enabled.query_row([other], |r| r.get(0)).optional()?;
        if on == Some(true) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Forgets where every contact of `account` stood in the binding: it moves to another account.
pub fn forget_binding(conn: &Connection, binding_id: i64, account: &str) -> Result<(), StoreError> {
    let path = format!("$.bindings.\"{binding_id}\"");
    for contact_id in project::<Standing>(conn, account, &path)?.into_keys() {
        change(conn, account, contact_id, |s| {
            s.bindings.remove(&binding_id);
        })?;
    }
    Ok(())
}

// ----- create intents -----

/// Records that a create in Google is about to be sent for `contact_id` with the fields `sent`:
/// if the process dies (or the answer is lost) before the link is written, the next run looks
/// for the created contact instead of creating a second one, and links it with `sent` as base.
/// A create sent again (the earlier one never showed) restarts the wait: this one may land too,
/// and Google may take as long to show it (simulation seed 5943: an intent kept its first time,
/// so the run after a second lost answer created the contact a third time). A linked contact
/// is never created, and keeps its link.
pub fn add_intent(
    conn: &Connection,
    account: &str,
    contact_id: u64,
    sent: &Fields,
    at: i64,
) -> Result<(), StoreError> {
    change(conn, account, contact_id, |s| {
        if s.linked().is_none() {
            s.link = LinkState::Creating {
                at,
                sent: sent.clone(),
            };
        }
    })
}

/// The fields an open create intent sent (empty for intents recorded before schema 9).
pub fn intent_base(conn: &Connection, account: &str, contact_id: u64) -> Result<Fields, StoreError> {
    Ok(match state_of(conn, account, contact_id)?.link {
        LinkState::Creating { sent, .. } => sent,
        _ => Fields::default(),
    })
}

/// Open intents: contact id → when the create was sent.
pub fn intents(conn: &Connection, account: &str) -> Result<BTreeMap<u64, i64>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT contact_id, json_extract(state, '$.link.at') FROM contact_states
         WHERE account = ?1 AND json_extract(state, '$.link.kind') = 'creating'",
    )?;
    let rows = stmt.query_map([account], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn drop_intent(conn: &Connection, account: &str, contact_id: u64) -> Result<(), StoreError> {
    change(conn, account, contact_id, |s| {
        if matches!(s.link, LinkState::Creating { .. }) {
            s.link = LinkState::Unlinked;
        }
    })
}

// ----- exclusions -----

/// Keeps a contact out of a binding: Google deleted it or took it out of the group, and it must
/// not come back there by itself. `google_time` is Google's update time of the newest version
/// of it known when Google showed it deleted or out of the group; `keys` its match keys and
/// `base` its last synced fields (see [`Exclusions`]).
pub fn exclude(
    conn: &Connection,
    binding_id: i64,
    contact_id: u64,
    at: i64,
    google_time: i64,
    keys: &[String],
    base: &Fields,
) -> Result<(), StoreError> {
    let exclusion = Exclusion {
        at,
        google_time,
        keys: keys.to_vec(),
        base: Some(base.clone()),
    };
    change_standing(conn, binding_id, contact_id, |s| {
        s.set_place(binding_id, Some(Place::Excluded(exclusion)))
    })
}

/// The binding's excluded contacts, as [`exclude`] recorded them.
#[derive(Debug, Default)]
pub struct Exclusions {
    /// Contact id → Google's time of the exclusion.
    pub since: BTreeMap<u64, i64>,
    /// Match key (primary e-mail, primary phone, as last synced) → contact id.
    pub keys: BTreeMap<String, u64>,
    /// Contact id → last synced fields, the base its own Google contact rejoins with
    /// (exclusions made before schema 9 have none).
    pub bases: BTreeMap<u64, Fields>,
    /// Contact id → when it was excluded (our clock).
    pub at: BTreeMap<u64, i64>,
}

/// The binding's exclusions.
pub fn exclusions(conn: &Connection, binding_id: i64) -> Result<Exclusions, StoreError> {
    Ok(Standings(standings(conn, binding_id)?).exclusions())
}

/// The user put the contact back into the binding's group in Google: it syncs again.
pub fn unexclude(conn: &Connection, binding_id: i64, contact_id: u64) -> Result<(), StoreError> {
    change_standing(conn, binding_id, contact_id, |s| {
        if matches!(s.place(binding_id), Some(Place::Excluded(_))) {
            s.set_place(binding_id, None);
        }
    })
}

// ----- departures -----

/// Records that a linked contact left the binding on the CRM side, with its match keys as last
/// synced (see [`departed_keys`]).
pub fn depart(
    conn: &Connection,
    binding_id: i64,
    contact_id: u64,
    keys: &[String],
    at: i64,
) -> Result<(), StoreError> {
    let departure = Departure {
        keys: keys.to_vec(),
        at,
    };
    change_standing(conn, binding_id, contact_id, |s| {
        s.set_departed(binding_id, Some(departure))
    })
}

/// The binding's departures (see [`Standings::departed_keys`]).
pub fn departed_keys(conn: &Connection, binding_id: i64) -> Result<BTreeMap<String, u64>, StoreError> {
    Ok(Standings(standings(conn, binding_id)?).departed_keys())
}

/// Forgets the departures older than `before`: a run whose listing, taken after Google shows
/// every contact created before them, has been applied. A contact created in Google after
/// that is new. (Forgetting them by the clock alone lost them when no run listed in between:
/// simulation seed 14628 imported a contact created again in Google just before its CRM
/// contact was deleted.)
pub fn forget_departures(conn: &Connection, binding_id: i64, before: i64) -> Result<(), StoreError> {
    let Some(account) = account_of(conn, binding_id)? else {
        return Ok(());
    };
    // Only the departures are decoded: every run of every binding asks, and few have any.
    let departed: BTreeMap<u64, Departure> =
        project(conn, &account, &format!("$.bindings.\"{binding_id}\".departed"))?;
    for (id, departure) in departed {
        if departure.at < before {
            change(conn, &account, id, |s| s.set_departed(binding_id, None))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn link(contact_id: u64, resource_name: &str) -> Link {
        Link {
            contact_id,
            resource_name: resource_name.into(),
            etag: "e".into(),
            base: Default::default(),
            written_at: 0,
            google_time: 0,
        }
    }

    fn binding(conn: &Connection, filter: u64, account: &str) -> i64 {
        let options = crate::domain::BindingOptions::default();
        crate::store::bindings::enable(conn, filter, 1, account, &options, 0)
            .unwrap()
            .id
    }

    #[test]
    fn linking_a_google_contact_linked_to_another_contact_unlinks_that_one_and_its_memberships() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let b = binding(&conn, 10, "a");
        put(&conn, "a", &link(1, "people/x")).unwrap();
        add_member(&conn, b, 1).unwrap();
        put(&conn, "a", &link(2, "people/x")).unwrap();
        assert_eq!(all(&conn, "a").unwrap().into_keys().collect::<Vec<_>>(), vec![2]);
        assert!(members(&conn, b).unwrap().is_empty(), "a member is linked");
    }

    #[test]
    fn the_links_written_in_a_time_range_are_named_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        for (id, at) in [(1, 100), (2, 200), (3, 300)] {
            let written = Link {
                written_at: at,
                ..link(id, &format!("people/{id}"))
            };
            put(&conn, "a", &written).unwrap();
        }
        put(
            &conn,
            "b",
            &Link {
                written_at: 200,
                ..link(9, "people/9")
            },
        )
        .unwrap();
        add_intent(&conn, "a", 4, &Fields::default(), 200).unwrap();
        assert_eq!(
            written_between(&conn, "a", 150, 300).unwrap(),
            vec!["people/2".to_string()]
        );
    }

    #[test]
    fn a_member_is_never_excluded_and_an_exclusion_outlives_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let b = binding(&conn, 10, "a");
        put(&conn, "a", &link(1, "people/x")).unwrap();
        add_member(&conn, b, 1).unwrap();
        remove(&conn, "a", 1).unwrap();
        exclude(&conn, b, 1, 5, 4, &["ann@x".into()], &Fields::default()).unwrap();
        assert!(members(&conn, b).unwrap().is_empty());
        assert_eq!(exclusions(&conn, b).unwrap().since.get(&1), Some(&4));
        put(&conn, "a", &link(1, "people/x")).unwrap();
        add_member(&conn, b, 1).unwrap();
        assert!(exclusions(&conn, b).unwrap().since.is_empty());
        assert_eq!(
            members(&conn, b).unwrap().into_iter().collect::<Vec<_>>(),
            vec![1]
        );
    }

    #[test]
    fn a_create_in_flight_ends_when_the_contact_is_linked_and_a_write_in_flight_with_the_next_link() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        add_intent(&conn, "a", 1, &Fields::default(), 7).unwrap();
        assert_eq!(intents(&conn, "a").unwrap().get(&1), Some(&7));
        put(&conn, "a", &link(1, "people/x")).unwrap();
        assert!(intents(&conn, "a").unwrap().is_empty());
        record_sent(&conn, "a", 1, &Sent::default(), 8).unwrap();
        assert_eq!(sent(&conn, "a").unwrap().len(), 1);
        put(&conn, "a", &link(1, "people/x")).unwrap();
        assert!(sent(&conn, "a").unwrap().is_empty());
        remove(&conn, "a", 1).unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM contact_states", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "a contact with nothing known has no row");
    }

    #[test]
    fn a_filter_moved_to_another_account_forgets_where_its_contacts_stood_on_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let b = binding(&conn, 10, "a");
        put(&conn, "a", &link(1, "people/x")).unwrap();
        add_member(&conn, b, 1).unwrap();
        depart(&conn, b, 2, &["bob@x".into()], 3).unwrap();
        assert_eq!(binding(&conn, 10, "other"), b);
        assert!(members(&conn, b).unwrap().is_empty());
        assert!(departed_keys(&conn, b).unwrap().is_empty());
        assert_eq!(
            all(&conn, "a").unwrap().len(),
            1,
            "the link is the account's, and stays"
        );
    }

    #[test]
    fn a_rename_onto_a_name_already_linked_drops_the_link_on_the_dead_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .tx(|tx| {
                put(tx, "a", &link(1, "people/old"))?;
                put(tx, "a", &link(2, "people/new"))?;
                follow_rename(tx, "a", "people/old", "people/new")
            })
            .unwrap();
        let names: Vec<(u64, String)> = all(&store.conn(), "a")
            .unwrap()
            .into_values()
            .map(|l| (l.contact_id, l.resource_name))
            .collect();
        assert_eq!(names, vec![(2, "people/new".to_string())]);
    }
}
