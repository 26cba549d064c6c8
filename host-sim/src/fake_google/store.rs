//! Account data: contacts (with their version history) and contact groups.
//!
//! Every write appends a [`Version`] with a per-account sequence number and the fake time at
//! which it becomes visible to listings (`now + propagation delay`). A listing is a snapshot
//! `(time, seq)`: it sees, per contact, the newest version with `seq <= snapshot.seq` that was
//! visible at `snapshot.time`. Sync deltas compare two snapshots. Direct reads (get, batchGet)
//! always see the newest version, like Google's read-after-write on single resources.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use rand::Rng;
use serde_json::{Map, Value};

/// The user-settable content of a contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonData {
    /// Updatable field name → JSON array of items as stored (read-only parts stripped).
    pub fields: Map<String, Value>,
    /// Contact group ids (`myContacts`, `starred`, or a user group id), in insertion order.
    pub groups: Vec<String>,
}

/// The range a write's propagation delay is drawn from, per write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lag {
    pub min_ms: i64,
    pub max_ms: i64,
}

impl Lag {
    fn draw(self) -> i64 {
        if self.max_ms <= self.min_ms {
            return self.min_ms.max(0);
        }
        rand::thread_rng().gen_range(self.min_ms..=self.max_ms).max(0)
    }
}

#[derive(Debug, Clone)]
pub struct Version {
    /// The contact id this version is known by (a rename gives a contact a new one).
    pub id: String,
    pub seq: u64,
    pub visible_at_ms: i64,
    pub update_ms: i64,
    pub etag: String,
    /// The etag of the CONTACT source (`metadata.sources[].etag`); also accepted on update.
    pub source_etag: String,
    /// `None` is a tombstone.
    pub data: Option<PersonData>,
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: String,
    pub versions: Vec<Version>,
}

impl Contact {
    pub fn resource_name(&self) -> String {
        format!("people/{}", self.id)
    }

    /// The names the contact had before version `v`, oldest first.
    pub fn previous_ids(&self, v: &Version) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for old in self.versions.iter().take_while(|old| old.seq < v.seq) {
            if old.id != v.id && !out.contains(&old.id) {
                out.push(old.id.clone());
            }
        }
        out
    }

    pub fn latest(&self) -> &Version {
        // A contact is only ever created with one version, so this is never empty.
        self.versions.last().expect("a contact has at least one version")
    }

    /// The newest live data, or `None` when deleted.
    pub fn live(&self) -> Option<&PersonData> {
        self.latest().data.as_ref()
    }

    /// The version a listing at `snap` sees.
    pub fn at(&self, snap: Snapshot) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.seq <= snap.seq && v.visible_at_ms <= snap.time_ms)
    }
}

/// A point in an account's history as seen by listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub time_ms: i64,
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupType {
    User,
    System,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub group_type: GroupType,
    pub client_data: Vec<Value>,
    pub etag: String,
    pub update_ms: i64,
    /// Account sequence number of the last change (for contactGroups.list sync tokens).
    pub seq: u64,
    pub deleted: bool,
}

impl Group {
    pub fn resource_name(&self) -> String {
        format!("contactGroups/{}", self.id)
    }

    /// System groups have localized names; user groups show their name.
    pub fn formatted_name(&self) -> String {
        match (self.group_type, self.id.as_str()) {
            (GroupType::User, _) => self.name.clone(),
            (_, "myContacts") => "My Contacts".into(),
            (_, "starred") => "Starred".into(),
            (_, "friends") => "Friends".into(),
            (_, "family") => "Family".into(),
            (_, "coworkers") => "Coworkers".into(),
            (_, "chatBuddies") => "Chat contacts".into(),
            (_, "all") => "All Contacts".into(),
            (_, "blocked") => "Blocked".into(),
            _ => self.name.clone(),
        }
    }

    /// Contacts may be added only to user groups, myContacts and starred.
    pub fn accepts_members(&self) -> bool {
        self.group_type == GroupType::User || self.id == "myContacts" || self.id == "starred"
    }
}

/// System groups every account has. The deprecated ones are listed because Google still lists
/// them; only myContacts and starred accept new members.
pub const SYSTEM_GROUPS: &[&str] = &[
    "myContacts",
    "starred",
    "friends",
    "family",
    "coworkers",
    "chatBuddies",
    "all",
    "blocked",
];

#[derive(Debug)]
pub struct Account {
    pub email: String,
    /// The obfuscated numeric user id (userinfo `id`, `people/{id}` for people/me).
    pub user_id: String,
    pub contacts: HashMap<String, Contact>,
    pub groups: BTreeMap<String, Group>,
    pub seq: u64,
    /// Number of live (not deleted) contacts, kept up to date so limit checks are O(1).
    live_count: usize,
    /// Sync tokens issued before this fake time are expired (control API "expire sync tokens").
    pub sync_tokens_valid_from_ms: i64,
}

impl Account {
    pub fn new(email: &str, now_ms: i64) -> Account {
        let mut rng = rand::thread_rng();
        let mut acct = Account {
            email: email.to_string(),
            user_id: format!("1{:020}", rng.gen::<u64>()),
            contacts: HashMap::new(),
            groups: BTreeMap::new(),
            seq: 0,
            live_count: 0,
            sync_tokens_valid_from_ms: i64::MIN,
        };
        for id in SYSTEM_GROUPS {
            acct.groups.insert(
                (*id).to_string(),
                Group {
                    id: (*id).to_string(),
                    name: (*id).to_string(),
                    group_type: GroupType::System,
                    client_data: Vec::new(),
                    etag: new_group_etag(),
                    update_ms: now_ms,
                    seq: 0,
                    deleted: false,
                },
            );
        }
        acct
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The snapshot a listing starting now sees.
    pub fn snapshot(&self, now_ms: i64) -> Snapshot {
        Snapshot {
            time_ms: now_ms,
            seq: self.seq,
        }
    }

    pub fn live_contact_count(&self) -> usize {
        self.live_count
    }

    pub fn live(&self, id: &str) -> Option<(&Contact, &PersonData)> {
        let c = self.contacts.get(id)?;
        c.live().map(|d| (c, d))
    }

    fn new_contact_id(&self) -> String {
        loop {
            let candidate = format!(
                "c{}",
                rand::thread_rng().gen_range(1_000_000_000_000_000_000u64..=u64::MAX)
            );
            if !self.contacts.contains_key(&candidate) {
                return candidate;
            }
        }
    }

    /// Adds a contact; returns its id.
    pub fn insert_contact(&mut self, data: PersonData, now_ms: i64, lag: Lag) -> String {
        let id = self.new_contact_id();
        let seq = self.next_seq();
        self.live_count += 1;
        self.contacts.insert(
            id.clone(),
            Contact {
                id: id.clone(),
                versions: vec![new_version(&id, seq, now_ms, lag, Some(data))],
            },
        );
        id
    }

    /// Records a new version (an update, or a tombstone with `None`). Returns false if unknown.
    pub fn write_contact(&mut self, id: &str, data: Option<PersonData>, now_ms: i64, lag: Lag) -> bool {
        let seq = self.seq + 1;
        let Some(c) = self.contacts.get_mut(id) else {
            return false;
        };
        match (c.live().is_some(), data.is_some()) {
            (true, false) => self.live_count -= 1,
            (false, true) => self.live_count += 1,
            _ => {}
        }
        c.versions.push(new_version(id, seq, now_ms, lag, data));
        self.seq = seq;
        true
    }

    /// Gives a live contact a new resource name, as Google does when a verified e-mail, phone or
    /// profile gets linked to it. The old name stops resolving at once; listings show the new
    /// name once the change propagated. Returns the new id, or `None` if `id` is not live.
    pub fn rename_contact(&mut self, id: &str, now_ms: i64, lag: Lag) -> Option<String> {
        let data = self.live(id)?.1.clone();
        let new_id = self.new_contact_id();
        let mut contact = self.contacts.remove(id)?;
        let seq = self.next_seq();
        contact.id = new_id.clone();
        contact
            .versions
            .push(new_version(&new_id, seq, now_ms, lag, Some(data)));
        self.contacts.insert(new_id.clone(), contact);
        Some(new_id)
    }

    /// Live contact ids that are members of a group, sorted for stable output.
    pub fn members_of(&self, group_id: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .contacts
            .values()
            .filter(|c| c.live().is_some_and(|d| d.groups.iter().any(|g| g == group_id)))
            .map(|c| c.id.clone())
            .collect();
        ids.sort();
        ids
    }

    pub fn live_group(&self, id: &str) -> Option<&Group> {
        self.groups.get(id).filter(|g| !g.deleted)
    }

    /// Marks a group changed (new etag, update time and sequence number).
    pub fn touch_group(&mut self, id: &str, now_ms: i64) {
        let seq = self.next_seq();
        if let Some(g) = self.groups.get_mut(id) {
            g.etag = new_group_etag();
            g.update_ms = now_ms;
            g.seq = seq;
        }
    }
}

fn new_version(id: &str, seq: u64, now_ms: i64, lag: Lag, data: Option<PersonData>) -> Version {
    Version {
        id: id.to_string(),
        seq,
        visible_at_ms: now_ms + lag.draw(),
        update_ms: now_ms,
        etag: format!("%Eg{}", random_b64(18)),
        source_etag: format!("#{}", random_b64(9)),
        data,
    }
}

pub fn new_group_etag() -> String {
    random_b64(8)
}

pub fn random_b64(bytes: usize) -> String {
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(buf)
        .replace(['+', '/'], "A")
}

pub fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}
