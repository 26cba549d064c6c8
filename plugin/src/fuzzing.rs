//! Entry points for the fuzz targets in `plugin/fuzz/` and for the property tests below: each
//! takes arbitrary bytes, builds the inputs the plugin gets from outside (Google's answers, the
//! host's contacts, filters, events and settings actions) and runs them through the same code the
//! hooks run. None of them may panic; each also checks the few promises that must hold for any
//! input (an action always answers with a message, an error never quotes a token, …).
//!
//! Not part of the plugin's interface: only `cargo fuzz` and the tests call it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use abi::abi_stable::sabi_trait::TD_Opaque;
use abi::abi_stable::std_types::{RArc, ROption, RResult, RStr, RString, RVec};
use abi::{
    Address, Birthday, ChangeKind, Contact, ContactChange, ContactId, ContactsPermission, Criterion,
    CustomField, Field, FilterId, HostError, HostErrorKind, HostServices, Job, LogLevel, Messenger, Millis,
    PersonName, Plan, SavedFilter, SettingsAction, SettingsContext, SettingsPage, TypedValue, User, UserId,
};
use serde_json::{json, Map, Value};

use crate::domain::{Binding, BindingOptions, ConflictPolicy, DeleteMode, Direction, GroupChoice, Link};
use crate::google::person::{Membership, Person};
use crate::google::{GoogleAccounts, GoogleConfig, MemorySecretStore, RetryPolicy, Sleeper, StoredTokens};
use crate::integration::people::PersonContact;
use crate::integration::Integration;
use crate::mapping::{self, key, FieldMapping};
use crate::settings::parse_options;
use crate::store::{accounts, bindings};
use crate::sync::merge::{merge, Winner};
use crate::sync::plan::{plan, CrmView, Gone, GoogleView, Input, Op};

// ----- reading structured input from bytes -----------------------------------------------------

/// Strings that have broken parsers, queries and renderers before, and the words the plugin's
/// own inputs are made of (action names, option values, resource names), so that short inputs
/// reach the interesting branches.
const WORDS: &[&str] = &[
    "",
    " ",
    "'; DROP TABLE links; --",
    "Robert'); DELETE FROM outbox;--",
    "\0",
    "a\0b",
    "\u{202E}gnp.exe",
    "\u{0301}\u{0308}",
    "\u{FEFF}",
    "\u{1F600}",
    "\r\n",
    "\u{7}\u{1b}[31m",
    "<script>alert(1)</script>",
    "%00%2e%2e/",
    "../../etc/passwd",
    "alice@example.com",
    "ALICE@Example.COM ",
    "a@b",
    "+1 (555) 010-9999",
    "+",
    "00",
    "people/c1",
    "people/c2",
    "people/",
    "contactGroups/g1",
    "contactGroups/myContacts",
    "crm_contact_id",
    "1",
    "0",
    "-1",
    "1440",
    "1441",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775808",
    "NaN",
    "1e3",
    "connect",
    "oauth_callback",
    "disconnect",
    "activate",
    "enable",
    "update_options",
    "disable",
    "sync_now",
    "confirm_removals",
    "filter",
    "account",
    "direction",
    "policy",
    "delete_mode",
    "group_mode",
    "group_name",
    "interval_minutes",
    "custom_fields",
    "code",
    "state",
    "error",
    "two_way",
    "crm_to_google",
    "google_to_crm",
    "latest_wins",
    "crm_wins",
    "google_wins",
    "delete",
    "remove_from_group",
    "filter_name",
    "existing",
    "my_contacts",
    "segment",
    "segment,lead_source",
    "work",
    "home",
    "other",
    "skype",
    "telegram",
    "VKontakte",
    "Facebook",
    "https://vk.com/id1",
    "http://[::1]:0/",
    "male",
    "female",
    "CONTACT",
    "PROFILE",
    "TEXT_PLAIN",
    "TEXT_HTML",
    "2026-11-23T10:00:00Z",
    "not a time",
];

/// A cursor over fuzz bytes. Reading past the end gives zeros, so every input is valid.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        let wide = u16::from_le_bytes([self.byte(), self.byte()]);
        usize::from(wide) % n.max(1)
    }

    pub fn pick<'w, T>(&mut self, from: &'w [T]) -> &'w T {
        &from[self.below(from.len())]
    }

    /// Any i64, often one of the edges.
    pub fn i64(&mut self) -> i64 {
        match self.byte() % 4 {
            0 => *self.pick(&[0, 1, -1, i64::MIN, i64::MAX, 1_795_000_000_000]),
            _ => {
                let mut raw = [0u8; 8];
                for b in &mut raw {
                    *b = self.byte();
                }
                i64::from_le_bytes(raw)
            }
        }
    }

    pub fn u64(&mut self) -> u64 {
        self.i64() as u64
    }

    /// A string: a known word, raw bytes (lossily UTF-8), a word repeated into a large value, or
    /// two of these joined.
    pub fn text(&mut self) -> String {
        self.text_at_depth(0)
    }

    fn text_at_depth(&mut self, depth: u8) -> String {
        match self.byte() % 8 {
            0..=2 => self.pick(WORDS).to_string(),
            3..=5 => {
                let len = self.below(48).min(self.data.len());
                let (raw, rest) = self.data.split_at(len);
                self.data = rest;
                String::from_utf8_lossy(raw).into_owned()
            }
            // Large values: up to ~40 KB, enough to cross every length limit the plugin has.
            6 => self.pick(WORDS).repeat(1 + self.below(1000)),
            _ if depth < 2 => {
                let mut s = self.text_at_depth(depth + 1);
                s.push_str(&self.text_at_depth(depth + 1));
                s
            }
            _ => String::new(),
        }
    }

    fn rtext(&mut self) -> RString {
        self.text().into()
    }

    /// A count of list items, usually small, sometimes a few hundred.
    fn count(&mut self) -> usize {
        match self.byte() {
            0..=239 => self.below(4),
            240..=254 => self.below(40),
            _ => self.below(500),
        }
    }
}

fn typed_value(b: &mut Bytes) -> TypedValue {
    TypedValue {
        value: b.rtext(),
        kind: b.rtext(),
        primary: b.bool(),
    }
}

fn typed_values(b: &mut Bytes) -> RVec<TypedValue> {
    (0..b.count()).map(|_| typed_value(b)).collect()
}

/// A CRM contact as a host could send it: any field, any size, any characters.
pub fn contact(b: &mut Bytes) -> Contact {
    Contact {
        id: ContactId(u64::from(b.byte() % 8)),
        name: PersonName {
            prefix: b.rtext(),
            given: b.rtext(),
            middle: b.rtext(),
            family: b.rtext(),
            suffix: b.rtext(),
        },
        emails: typed_values(b),
        phones: typed_values(b),
        gender: b.rtext(),
        birthday: if b.bool() {
            ROption::RSome(Birthday {
                year: if b.bool() {
                    ROption::RSome(u16::from_le_bytes([b.byte(), b.byte()]))
                } else {
                    ROption::RNone
                },
                month: b.byte(),
                day: b.byte(),
            })
        } else {
            ROption::RNone
        },
        notes: b.rtext(),
        position: b.rtext(),
        company: b.rtext(),
        addresses: (0..b.count())
            .map(|_| Address {
                kind: b.rtext(),
                street: b.rtext(),
                extended: b.rtext(),
                po_box: b.rtext(),
                city: b.rtext(),
                region: b.rtext(),
                postal_code: b.rtext(),
                country: b.rtext(),
                country_code: b.rtext(),
                primary: b.bool(),
            })
            .collect(),
        websites: typed_values(b),
        vkontakte: b.rtext(),
        facebook: b.rtext(),
        messengers: (0..b.count())
            .map(|_| Messenger {
                protocol: b.rtext(),
                username: b.rtext(),
                primary: b.bool(),
            })
            .collect(),
        custom_fields: (0..b.count())
            .map(|_| CustomField {
                key: b.rtext(),
                label: b.rtext(),
                value: b.rtext(),
            })
            .collect(),
        updated_at_ms: b.i64(),
    }
}

/// The item fields of each `Person` list, as Google spells them.
const PERSON_LISTS: &[(&str, &[&str])] = &[
    (
        "names",
        &[
            "givenName",
            "familyName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
            "unstructuredName",
        ],
    ),
    (
        "emailAddresses",
        &["value", "type", "displayName", "formattedType"],
    ),
    (
        "phoneNumbers",
        &["value", "type", "canonicalForm", "formattedType"],
    ),
    ("genders", &["value", "addressMeAs", "formattedValue"]),
    ("birthdays", &["text"]),
    ("biographies", &["value", "contentType"]),
    (
        "organizations",
        &["name", "title", "type", "department", "jobDescription", "symbol"],
    ),
    (
        "addresses",
        &[
            "type",
            "streetAddress",
            "extendedAddress",
            "poBox",
            "city",
            "region",
            "postalCode",
            "country",
            "countryCode",
            "formattedValue",
        ],
    ),
    ("urls", &["value", "type", "formattedType"]),
    (
        "imClients",
        &[
            "username",
            "protocol",
            "type",
            "formattedType",
            "formattedProtocol",
        ],
    ),
    ("clientData", &["key", "value"]),
    ("userDefined", &["key", "value"]),
];

fn field_metadata(b: &mut Bytes) -> Value {
    let mut meta = Map::new();
    if b.bool() {
        meta.insert("primary".into(), json!(b.bool()));
    }
    if b.bool() {
        meta.insert("sourcePrimary".into(), json!(b.bool()));
    }
    if b.bool() {
        meta.insert("source".into(), json!({"type": b.text(), "id": b.text()}));
    }
    Value::Object(meta)
}

/// A Google person as JSON, shaped like the People API's (so it mostly deserializes) but with
/// any values.
pub fn person_json(b: &mut Bytes, resource_names: &[&str]) -> Value {
    let mut person = Map::new();
    person.insert("resourceName".into(), json!(b.pick(resource_names)));
    person.insert("etag".into(), json!(b.text()));
    for (list, fields) in PERSON_LISTS {
        let items: Vec<Value> = (0..b.count())
            .map(|_| {
                let mut item = Map::new();
                for field in fields.iter() {
                    if !b.byte().is_multiple_of(3) {
                        item.insert((*field).into(), json!(b.text()));
                    }
                }
                if *list == "birthdays" && b.bool() {
                    let date =
                        json!({"year": b.i64() as i32, "month": b.i64() as i32, "day": b.i64() as i32});
                    item.insert("date".into(), date);
                }
                if b.bool() {
                    item.insert("metadata".into(), field_metadata(b));
                }
                Value::Object(item)
            })
            .collect();
        if !items.is_empty() {
            person.insert((*list).into(), Value::Array(items));
        }
    }
    let memberships: Vec<Value> = (0..b.count())
        .map(|_| json!({"contactGroupMembership": {"contactGroupResourceName": b.text()}}))
        .collect();
    person.insert("memberships".into(), Value::Array(memberships));
    if b.bool() {
        let sources: Vec<Value> = (0..b.count())
            .map(|_| json!({"type": b.text(), "id": b.text(), "etag": b.text(), "updateTime": b.text()}))
            .collect();
        person.insert(
            "metadata".into(),
            json!({"deleted": b.bool(), "sources": sources}),
        );
    }
    Value::Object(person)
}

/// A person as the client would hold it after reading Google's answer.
pub fn person(b: &mut Bytes, resource_names: &[&str]) -> Person {
    serde_json::from_value(person_json(b, resource_names)).unwrap_or_default()
}

fn field_mapping(b: &mut Bytes) -> FieldMapping {
    FieldMapping {
        custom_fields: (0..b.count()).map(|_| b.text()).collect(),
        disabled: (0..b.count())
            .map(|_| b.pick(key::DEFAULTS).to_string())
            .collect(),
    }
}

fn binding_options(b: &mut Bytes) -> BindingOptions {
    BindingOptions {
        direction: *b.pick(&[Direction::TwoWay, Direction::CrmToGoogle, Direction::GoogleToCrm]),
        policy: *b.pick(&[
            ConflictPolicy::LatestWins,
            ConflictPolicy::CrmWins,
            ConflictPolicy::GoogleWins,
        ]),
        delete_mode: *b.pick(&[DeleteMode::Delete, DeleteMode::RemoveFromGroup]),
        group: match b.byte() % 3 {
            0 => GroupChoice::FilterName,
            1 => GroupChoice::MyContacts,
            _ => GroupChoice::Existing(b.text()),
        },
        interval_ms: b.i64(),
        mapping: field_mapping(b),
    }
}

fn settings_action(b: &mut Bytes) -> SettingsAction {
    SettingsAction {
        name: b.rtext(),
        fields: (0..b.count())
            .map(|_| Field {
                name: b.rtext(),
                value: b.rtext(),
            })
            .collect(),
    }
}

// ----- 1. Google's answers ----------------------------------------------------------------------

/// In the fuzz body, replaced by the access token the client sends: a server that echoes the
/// token must not get it into an error message.
pub const TOKEN_MARKER: &[u8] = b"@@TOKEN@@";
const FUZZ_ACCOUNT: &str = "fuzz@example.com";
const FUZZ_TOKEN: &str = "ya29.fuzz-access-token-0123456789";

/// Answers a stub server gives, in order: HTTP status and body.
type Answers = Mutex<VecDeque<(u16, Vec<u8>)>>;

/// A loopback HTTP server that answers each request with the next queued answer, then `{}`.
struct Stub {
    port: u16,
    answers: Arc<Answers>,
}

impl Stub {
    fn start() -> std::io::Result<Stub> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let answers: Arc<Answers> = Arc::default();
        let shared = answers.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let answers = shared.clone();
                std::thread::spawn(move || serve_connection(stream, &answers));
            }
        });
        Ok(Stub { port, answers })
    }
}

/// HTTP/1.1 with keep-alive, just enough for reqwest: headers, a `Content-Length` body.
fn serve_connection(stream: TcpStream, answers: &Answers) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, answer) = answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or((200, b"{}".to_vec()));
        // A 204 has no body by definition: bytes after it would be read as the next answer.
        let answer = if status == 204 { Vec::new() } else { answer };
        let head = format!(
            "HTTP/1.1 {status} Fuzz\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        );
        // One write: a head and a body sent apart wait for a delayed ACK (Nagle), 40 ms each.
        if writer.write_all(&[head.as_bytes(), &answer].concat()).is_err() {
            return;
        }
    }
}

/// Retries and quota pacing wait on this: not at all.
struct NoWait(Instant);

impl Sleeper for NoWait {
    fn monotonic(&self) -> Duration {
        self.0.elapsed()
    }
    fn sleep(&self, _: Duration) {}
}

struct GoogleHarness {
    stub: Stub,
    accounts: GoogleAccounts,
    /// One input at a time: the stub's answer queue is shared (tests run in parallel).
    serial: Mutex<()>,
}

fn google_harness() -> Option<&'static GoogleHarness> {
    static HARNESS: OnceLock<Option<GoogleHarness>> = OnceLock::new();
    HARNESS
        .get_or_init(|| {
            let stub = Stub::start().ok()?;
            let base = format!("http://127.0.0.1:{}", stub.port);
            let settings: BTreeMap<&str, String> = [
                ("google.people_url", base.clone()),
                ("google.token_url", format!("{base}/token")),
                ("google.revoke_url", format!("{base}/revoke")),
                ("google.userinfo_url", format!("{base}/userinfo")),
                ("google.auth_url", format!("{base}/auth")),
                ("google.client_id", "fuzz-client".into()),
                ("google.client_secret", "fuzz-secret".into()),
                ("google.read_quota_per_minute", "100000000".into()),
                ("google.write_quota_per_minute", "100000000".into()),
                ("google.timeout_ms", "5000".into()),
            ]
            .into_iter()
            .collect();
            let config = GoogleConfig::from_lookup(|k| settings.get(k).cloned()).ok()?;
            let store = Arc::new(MemorySecretStore::new());
            let tokens = StoredTokens {
                access_token: FUZZ_TOKEN.into(),
                expires_at_ms: i64::MAX / 2,
                refresh_token: "1//fuzz-refresh-token".into(),
                scopes: vec!["https://www.googleapis.com/auth/contacts".into()],
            };
            tokens.save(store.as_ref(), FUZZ_ACCOUNT).ok()?;
            let accounts = GoogleAccounts::new(
                config,
                store,
                Arc::new(crate::google::SystemClock),
                Arc::new(NoWait(Instant::now())),
            )
            .ok()?
            .with_retry_policy(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            });
            Some(GoogleHarness {
                stub,
                accounts,
                serial: Mutex::new(()),
            })
        })
        .as_ref()
}

/// Any bytes as Google's answer (the first byte picks the HTTP status) to every call the client
/// makes, through the real client: JSON envelopes, batch item statuses, error envelopes, HTML
/// from a proxy. Also parses the bytes as a `Person` and maps it, as a listing would.
pub fn google_answer(data: &[u8]) {
    if let Ok(person) = serde_json::from_slice::<Person>(data) {
        let fields = mapping::google_fields(&person, &FieldMapping::default());
        let _ = mapping::person_to_contact(&person, &FieldMapping::default());
        let _ = mapping::fields_to_person(&fields, &person, &FieldMapping::default());
    }
    let Some(h) = google_harness() else { return };
    let _serial = h.serial.lock().unwrap_or_else(|p| p.into_inner());
    let Ok(client) = h.accounts.people(FUZZ_ACCOUNT) else {
        return;
    };
    let (status, body) = match data.split_first() {
        Some((s, rest)) => (
            *[
                200, 200, 200, 200, 200, 400, 404, 409, 403, 410, 429, 500, 503, 401, 302, 204,
            ]
            .get(usize::from(*s) % 16)
            .unwrap_or(&200),
            rest,
        ),
        None => (200, data),
    };
    let body = replace_marker(body);
    let mut errors = Vec::new();
    let mut answer = |call: &dyn Fn() -> Option<String>| {
        {
            let mut queue = h.stub.answers.lock().unwrap_or_else(|p| p.into_inner());
            queue.clear();
            queue.push_back((status, body.clone()));
        }
        if let Some(error) = call() {
            errors.push(error);
        }
    };
    let person = Person {
        resource_name: "people/c1".into(),
        etag: "e1".into(),
        memberships: vec![Membership::of_group("contactGroups/g1")],
        ..Person::default()
    };
    let names = vec!["people/c1".to_string(), "people/c2".to_string()];
    let err = |e: crate::google::GoogleError| Some(e.to_string());
    answer(&|| {
        client
            .list_connections("names", Some("sync-token"))
            .err()
            .and_then(err)
    });
    answer(&|| client.batch_get(&names, "names").err().and_then(err));
    answer(&|| client.get_person("people/c1", "names").err().and_then(err));
    answer(&|| {
        let outcome = client.batch_create(&[person.clone(), Person::default()], "names");
        Some(format!("{outcome:?}"))
    });
    answer(&|| {
        let outcome = client.batch_update(std::slice::from_ref(&person), "names", "names");
        Some(format!("{outcome:?}"))
    });
    answer(&|| Some(format!("{:?}", client.batch_delete(&names))));
    answer(&|| client.list_contact_groups().err().and_then(err));
    answer(&|| client.create_contact_group("Fuzz").err().and_then(err));
    answer(&|| {
        client
            .modify_group_members("contactGroups/g1", &names, &[])
            .err()
            .and_then(err)
    });
    for error in errors {
        assert!(
            !error.contains(FUZZ_TOKEN),
            "an error quotes the access token: {error}"
        );
    }
}

fn replace_marker(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        if rest.starts_with(TOKEN_MARKER) {
            out.extend_from_slice(FUZZ_TOKEN.as_bytes());
            rest = &rest[TOKEN_MARKER.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

// ----- 2. mapping -------------------------------------------------------------------------------

/// Any CRM contact and Google person through every mapping function and the merge, as a linked
/// pair goes through them in a run.
pub fn mapping(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mapping = field_mapping(&mut b);
    let crm_contact = contact(&mut b);
    let google_person = person(&mut b, &["people/c1", "", "people/"]);
    let base_contact = contact(&mut b);
    let winner = if b.bool() { Winner::Crm } else { Winner::Google };

    let crm = mapping::crm_fields(&crm_contact, &mapping);
    let google = mapping::google_fields(&google_person, &mapping);
    let base = mapping::crm_fields(&base_contact, &mapping);
    let merged = merge(&base, &crm, &google, winner);
    let to_google = mapping::fields_to_person(&merged.fields, &google_person, &mapping);
    let to_crm = mapping::fields_to_contact(&merged.fields, &crm_contact, &mapping);
    let _ = mapping::changed_person_fields(&google, &merged.fields);
    let _ = mapping::person_to_contact(&google_person, &mapping);
    let created = mapping::contact_to_person(&crm_contact, &mapping);
    // What goes to Google must always encode.
    assert!(serde_json::to_vec(&to_google).is_ok());
    assert!(serde_json::to_vec(&created).is_ok());
    // Unchanged on both sides merges to itself with no conflict.
    let same = merge(&crm, &crm, &crm, winner);
    assert!(same.conflicts.is_empty(), "{:?}", same.conflicts);
    // A second pass over what was written maps without panicking too.
    let _ = mapping::crm_fields(&to_crm, &mapping);
    let _ = mapping::google_fields(&to_google, &mapping);
}

// ----- 3 and 4. settings actions and host events, through the real hooks ------------------------

/// A CRM in memory: three users (an author with the feature, another user with it, a view-only
/// user without it), a few filters, contacts from the fuzz input. Jobs are recorded, not run.
#[derive(Clone)]
struct MemoryHost {
    dir: Arc<TempDir>,
    contacts: Arc<Vec<Contact>>,
    secrets: Arc<Mutex<BTreeMap<String, String>>>,
    jobs: Arc<Mutex<Vec<Job>>>,
}

/// A directory removed on drop (the crate has no `tempfile` outside tests).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("crm-google-fuzz-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const AUTHOR: u64 = 1;
const OTHER: u64 = 2;
const VIEWER: u64 = 3;
const USERS: &[u64] = &[AUTHOR, OTHER, VIEWER, 0, 99, u64::MAX];
const FILTERS: &[u64] = &[1, 2, 3, 0, 77, u64::MAX, i64::MAX as u64 + 1];
const ACCOUNT: &str = "alice@example.com";

fn host_error(message: &str) -> HostError {
    HostError {
        kind: HostErrorKind::NotFound,
        message: message.into(),
    }
}

impl HostServices for MemoryHost {
    fn filter_contacts(
        &self,
        _filter: FilterId,
        _user: UserId,
        after: ContactId,
        limit: u32,
    ) -> RResult<RVec<Contact>, HostError> {
        let page: RVec<Contact> = self
            .contacts
            .iter()
            .filter(|c| c.id > after)
            .take(limit as usize)
            .cloned()
            .collect();
        RResult::ROk(page)
    }

    fn filter_includes(&self, _: FilterId, _: UserId, contact: ContactId) -> RResult<bool, HostError> {
        RResult::ROk(self.contacts.iter().any(|c| c.id == contact))
    }

    fn get_contact(&self, _: UserId, contact: ContactId) -> RResult<ROption<Contact>, HostError> {
        RResult::ROk(self.contacts.iter().find(|c| c.id == contact).cloned().into())
    }

    fn create_contact(&self, _: UserId, _: &Contact, _: ROption<FilterId>) -> RResult<Contact, HostError> {
        RResult::RErr(host_error("this host does not create contacts"))
    }

    fn update_contact(&self, _: UserId, contact: &Contact) -> RResult<Contact, HostError> {
        RResult::ROk(contact.clone())
    }

    fn user(&self, user: UserId) -> RResult<ROption<User>, HostError> {
        let make = |features: &[&str], permission| User {
            id: user,
            name: "User".into(),
            email: "user@crm.example".into(),
            plan: Plan {
                name: "Business".into(),
                features: features.iter().map(|f| RString::from(*f)).collect(),
            },
            contacts_permission: permission,
            roles: RVec::new(),
        };
        let found = match user.0 {
            AUTHOR | OTHER => Some(make(&[abi::FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit)),
            VIEWER => Some(make(&[], ContactsPermission::View)),
            _ => None,
        };
        RResult::ROk(found.into())
    }

    fn filter(&self, filter: FilterId) -> RResult<ROption<SavedFilter>, HostError> {
        let (author, saved) = match filter.0 {
            1 => (AUTHOR, true),
            2 => (OTHER, true),
            3 => (AUTHOR, false),
            _ => return RResult::ROk(ROption::RNone),
        };
        RResult::ROk(ROption::RSome(SavedFilter {
            id: filter,
            name: format!("Filter {}", filter.0).into(),
            author: UserId(author),
            saved,
            criteria: RVec::new(),
        }))
    }

    fn may_access(&self, user: UserId, _: ContactId) -> RResult<bool, HostError> {
        RResult::ROk(user.0 != OTHER)
    }

    fn submit_job(&self, job: Job) -> RResult<(), HostError> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).push(job);
        RResult::ROk(())
    }

    fn data_dir(&self) -> RString {
        self.dir.0.to_string_lossy().into_owned().into()
    }

    fn secret_get(&self, key: RStr<'_>) -> RResult<ROption<RString>, HostError> {
        let secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        RResult::ROk(
            secrets
                .get(key.as_str())
                .map(|v| RString::from(v.as_str()))
                .into(),
        )
    }

    fn secret_set(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), HostError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets.insert(key.as_str().into(), value.as_str().into());
        RResult::ROk(())
    }

    fn secret_delete(&self, key: RStr<'_>) -> RResult<(), HostError> {
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key.as_str());
        RResult::ROk(())
    }

    fn now(&self) -> Millis {
        Millis(1_795_000_000_000)
    }

    fn log(&self, _: LogLevel, _: RStr<'_>, _: RStr<'_>) {}

    fn config(&self, key: RStr<'_>) -> ROption<RString> {
        // Google lives on a closed loopback port: any call fails at once, nothing leaves the
        // machine.
        let base = "http://127.0.0.1:9";
        let value = match key.as_str() {
            "google.people_url" => base.to_string(),
            "google.auth_url" => format!("{base}/auth"),
            "google.token_url" => format!("{base}/token"),
            "google.revoke_url" => format!("{base}/revoke"),
            "google.userinfo_url" => format!("{base}/userinfo"),
            "google.client_id" => "fuzz-client".into(),
            "google.client_secret" => "fuzz-secret".into(),
            "google.timeout_ms" => "200".into(),
            _ => return ROption::RNone,
        };
        ROption::RSome(value.into())
    }
}

/// The plugin opened on a fresh mapping file in a [`MemoryHost`], with the author's account
/// connected in the mapping file (no tokens: a run stops before any network call) and filter 1
/// bound to it.
struct Plugin {
    integration: Integration,
    host: MemoryHost,
}

fn open_plugin(contacts: Vec<Contact>) -> Option<Plugin> {
    let host = MemoryHost {
        dir: Arc::new(TempDir::new().ok()?),
        contacts: Arc::new(contacts),
        secrets: Arc::default(),
        jobs: Arc::default(),
    };
    let handle: abi::Host = abi::HostServices_TO::from_ptr(RArc::new(host.clone()), TD_Opaque);
    let integration = Integration::open(handle).ok()?;
    {
        let conn = integration.store.conn();
        accounts::upsert(&conn, ACCOUNT, AUTHOR, 0).ok()?;
        bindings::enable(&conn, 1, AUTHOR, ACCOUNT, &BindingOptions::default(), 0).ok()?;
    }
    Some(Plugin { integration, host })
}

fn context(b: &mut Bytes) -> SettingsContext {
    SettingsContext {
        user: UserId(*b.pick(USERS)),
        page: if b.bool() {
            SettingsPage::Integration
        } else {
            SettingsPage::Filter(FilterId(*b.pick(FILTERS)))
        },
        oauth_callback_url: if b.byte().is_multiple_of(8) {
            b.rtext()
        } else {
            "http://127.0.0.1/oauth/callback".into()
        },
    }
}

/// Any settings actions, from any user on any page, through the options parser and the real
/// `handle_settings_action` and `render_settings` hooks: each answers with a message, never an
/// error for the host to log.
pub fn settings_actions(data: &[u8]) {
    let mut b = Bytes::new(data);
    let Some(plugin) = open_plugin(Vec::new()) else {
        return;
    };
    for _ in 0..1 + b.below(4) {
        let ctx = context(&mut b);
        let action = settings_action(&mut b);
        if let Ok(options) = parse_options(&action, &BindingOptions::default()) {
            assert!((60_000..=1440 * 60_000).contains(&options.interval_ms));
        }
        match plugin.integration.handle_settings_action(&ctx, &action) {
            Ok(outcome) => assert!(!outcome.message.is_empty(), "an action answered with no message"),
            Err(e) => panic!("action {:?} failed instead of answering: {e:?}", action.name),
        }
        if let Err(e) = plugin.integration.render_settings(&ctx) {
            panic!("the settings page failed after an action: {e:?}");
        }
    }
}

fn contact_change(b: &mut Bytes) -> ContactChange {
    ContactChange {
        contact: ContactId(b.u64() % 10),
        kind: *b.pick(&[
            ChangeKind::Created,
            ChangeKind::Updated,
            ChangeKind::Deleted,
            ChangeKind::AccessChanged,
        ]),
        by: if b.bool() {
            ROption::RSome(UserId(*b.pick(USERS)))
        } else {
            ROption::RNone
        },
        at: Millis(b.i64()),
    }
}

fn saved_filter(b: &mut Bytes) -> SavedFilter {
    SavedFilter {
        id: FilterId(*b.pick(FILTERS)),
        name: b.rtext(),
        author: UserId(*b.pick(USERS)),
        saved: b.bool(),
        criteria: (0..b.count())
            .map(|_| Criterion {
                field: b.rtext(),
                op: b.rtext(),
                value: b.rtext(),
            })
            .collect(),
    }
}

/// Any sequence of host events (contact changes, saved filters, ticks, jobs: the ones the
/// plugin queued or any other), through the real hooks, on a CRM holding arbitrary contacts.
pub fn host_events(data: &[u8]) {
    let mut b = Bytes::new(data);
    let contacts: Vec<Contact> = (0..b.below(4))
        .map(|i| Contact {
            id: ContactId(i as u64 + 1),
            ..contact(&mut b)
        })
        .collect();
    let Some(plugin) = open_plugin(contacts) else {
        return;
    };
    let hooks = &plugin.integration;
    for _ in 0..1 + b.below(8) {
        // Errors are allowed (a job the plugin never queued is refused); panics are not.
        let _ = match b.byte() % 6 {
            0 => hooks.on_contact_changed(&contact_change(&mut b)),
            1 => hooks.on_filter_saved(&saved_filter(&mut b)),
            2 => hooks.on_tick(Millis(b.i64())),
            3 => {
                let queued = plugin.host.jobs.lock().unwrap_or_else(|p| p.into_inner()).pop();
                match queued {
                    Some(job) => hooks.run_job(&job),
                    None => Ok(()),
                }
            }
            4 => {
                let payload = match b.byte() % 3 {
                    0 => json!({"kind": "account", "email": b.text()}).to_string(),
                    1 => json!({"kind": b.text()}).to_string(),
                    _ => b.text(),
                };
                hooks.run_job(&Job {
                    label: b.rtext(),
                    payload: payload.into(),
                })
            }
            _ => hooks.render_settings(&context(&mut b)).map(|_| ()),
        };
    }
}

/// Any observations, links and options through the planner, which every run goes through.
/// Besides not panicking: nothing is created in Google that the CRM side did not show, a
/// one-way binding never writes to the side it only reads, and a CRM write goes to the linked
/// contact.
pub fn planner(data: &[u8]) {
    let mut b = Bytes::new(data);
    const NAMES: &[&str] = &["people/c1", "people/c2", "people/c3", "people/c4", ""];
    let ids = |b: &mut Bytes| -> BTreeSet<u64> { (0..b.count()).map(|_| u64::from(b.byte() % 6)).collect() };
    let options = binding_options(&mut b);
    let binding = Binding {
        id: 1,
        filter_id: 1,
        crm_user: AUTHOR,
        account: ACCOUNT.into(),
        group: Some("contactGroups/g1".into()),
        options,
        enabled: true,
        needs_full: b.bool(),
        outbox_cursor: 0,
        next_run_at: 0,
    };
    let links: BTreeMap<u64, Link> = (0..b.count())
        .map(|_| {
            let id = u64::from(b.byte() % 6);
            let base = mapping::crm_fields(&contact(&mut b), &binding.options.mapping);
            let link = Link {
                contact_id: id,
                resource_name: b.pick(NAMES).to_string(),
                etag: b.text(),
                base,
                written_at: b.i64(),
                google_time: b.i64(),
            };
            (id, link)
        })
        .collect();
    let mut crm = CrmView {
        full: b.bool(),
        present: (0..b.count())
            .map(|_| {
                let id = u64::from(b.byte() % 6);
                (
                    id,
                    Contact {
                        id: ContactId(id),
                        ..contact(&mut b)
                    },
                )
            })
            .collect(),
        gone: (0..b.count())
            .map(|_| (u64::from(b.byte() % 6), *b.pick(&[Gone::Deleted, Gone::Left])))
            .collect(),
        outside: ids(&mut b),
    };
    // The CRM shows a contact present or gone (or outside the filter), never both.
    let present: BTreeSet<u64> = crm.present.keys().copied().collect();
    crm.gone.retain(|id, _| !present.contains(id));
    crm.outside.retain(|id| !present.contains(id));
    let google = GoogleView {
        full: b.bool(),
        contacts: (0..b.count())
            .map(|_| {
                let p = PersonContact::shown(person(&mut b, NAMES));
                (p.id().to_string(), p)
            })
            .collect(),
        deleted: (0..b.count()).map(|_| b.pick(NAMES).to_string()).collect(),
        fetched: (0..b.count()).map(|_| b.pick(NAMES).to_string()).collect(),
        unresolved: false,
    };
    let (members, shared, waiting) = (ids(&mut b), ids(&mut b), ids(&mut b));
    let excluded: BTreeMap<u64, i64> = ids(&mut b)
        .into_iter()
        .map(|id| (id, i64::from(b.byte())))
        .collect();
    let matches: BTreeMap<u64, String> = (0..b.count())
        .map(|_| (u64::from(b.byte() % 6), b.pick(NAMES).to_string()))
        .collect();
    let excluded_keys: BTreeMap<String, u64> = excluded
        .keys()
        .map(|&id| (format!("emails:{}", b.pick(NAMES)), id))
        .collect();
    let input = Input {
        binding: &binding,
        group: "contactGroups/g1",
        links: &links,
        members: &members,
        shared: &shared,
        crm: &crm,
        google: &google,
        matches: &matches,
        waiting: &waiting,
        excluded: &excluded,
        excluded_bases: &BTreeMap::new(),
        excluded_keys: &excluded_keys,
        sent: &BTreeMap::new(),
        departed: &excluded_keys,
        lag: crate::sync::evidence::Lag { visible_before: 0 },
        account: crate::sync::plan::AccountSize {
            held: u64::from(b.byte() % 8),
            limit: u64::from(b.byte() % 8),
        },
        now: b.i64(),
    };
    let plan = plan(&input);
    let _ = plan.removals();
    // Invariant 1 of `sync`: one operation per contact.
    let mut planned = BTreeSet::new();
    for id in plan.ops.iter().filter_map(Op::contact_id) {
        assert!(
            planned.insert(id),
            "two operations for contact {id}: {:#?}",
            plan.ops
        );
    }
    // An exclusion ends only for a stray put out in the same plan.
    for rejoin in &plan.rejoins {
        let id = rejoin.link.contact_id;
        assert!(
            excluded.contains_key(&id),
            "rejoined {id}, which was not excluded"
        );
        assert!(
            plan.ops
                .iter()
                .any(|op| matches!(op, Op::PutStrayOut { contact_id, .. } if *contact_id == id)),
            "rejoined {id} without putting its stray out: {:#?}",
            plan
        );
    }
    let direction = binding.options.direction;
    for op in &plan.ops {
        match op {
            Op::Create { contact_id, .. } => {
                assert!(
                    crm.present.contains_key(contact_id),
                    "created contact {contact_id} that the CRM did not show"
                );
                assert!(direction.to_google(), "a Google → CRM binding created in Google");
            }
            Op::Import { .. } => assert!(direction.to_crm(), "a CRM → Google binding imported into the CRM"),
            Op::Delete { .. } => assert!(direction.to_google(), "a Google → CRM binding deleted in Google"),
            Op::Sync {
                link,
                google,
                crm: crm_write,
                add_to_group,
            } => {
                assert!(
                    direction.to_google() || (google.is_none() && !add_to_group),
                    "a Google → CRM binding wrote to Google"
                );
                assert!(
                    direction.to_crm() || crm_write.is_none(),
                    "a CRM → Google binding wrote to the CRM"
                );
                if let Some(c) = crm_write {
                    assert_eq!(c.id.0, link.contact_id, "a CRM write went to another contact");
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! The fuzz targets' entry points on a few hundred random inputs each, in the normal suite.
    use proptest::prelude::*;

    use super::*;

    /// Inputs of the shapes the fuzz targets start from: random bytes, often led by a known word
    /// so the byte readers take their interesting branches.
    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512),
            (
                proptest::sample::select(WORDS),
                proptest::collection::vec(any::<u8>(), 0..256)
            )
                .prop_map(|(w, mut rest)| {
                    let mut v = w.as_bytes().to_vec();
                    v.append(&mut rest);
                    v
                }),
        ]
    }

    /// JSON close to what Google sends, perturbed: valid envelopes, wrong types, cut bodies.
    fn google_bodies() -> impl Strategy<Value = Vec<u8>> {
        let status = any::<u8>();
        let body = prop_oneof![
            bytes(),
            bytes().prop_map(|b| {
                let person = person_json(&mut Bytes::new(&b), &["people/c1", "people/c2", "x"]);
                json!({"connections": [person], "nextSyncToken": "t", "totalItems": 1}).to_string().into_bytes()
            }),
            bytes().prop_map(|b| {
                let person = person_json(&mut Bytes::new(&b), &["people/c1", "people/c2", "x"]);
                json!({"responses": [{"person": person, "httpStatusCode": 200}, {"status": {"code": 5}}]})
                    .to_string()
                    .into_bytes()
            }),
            bytes().prop_map(|b| {
                let person = person_json(&mut Bytes::new(&b), &["people/c1"]);
                json!({"createdPeople": [{"person": person}], "updateResult": {"people/c1": {"person": person}}})
                    .to_string()
                    .into_bytes()
            }),
            (any::<i32>(), bytes()).prop_map(|(code, b)| {
                let message = String::from_utf8_lossy(&b).into_owned() + "@@TOKEN@@";
                json!({"error": {"code": code, "message": message, "status": "INVALID_ARGUMENT",
                    "details": [{"reason": "EXPIRED_SYNC_TOKEN"}]}})
                .to_string()
                .into_bytes()
            }),
            bytes().prop_map(|b| [b"<html>@@TOKEN@@".as_slice(), &b].concat()),
        ];
        (status, body).prop_map(|(s, mut body)| {
            body.insert(0, s);
            body
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn any_google_answer_is_read_or_refused_without_panicking_or_quoting_the_token(
            data in google_bodies()
        ) {
            google_answer(&data);
        }

        #[test]
        fn any_contact_and_person_map_and_merge_without_panicking(data in bytes()) {
            mapping(&data);
        }

        #[test]
        fn any_observation_plans_without_panicking_and_one_way_bindings_write_one_way(
            data in bytes()
        ) {
            planner(&data);
        }
    }

    proptest! {
        // These open a mapping file per case (a few ms each).
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn any_settings_action_answers_with_a_message(data in bytes()) {
            settings_actions(&data);
        }

        #[test]
        fn any_host_events_are_handled_without_panicking(data in bytes()) {
            host_events(&data);
        }
    }

    #[test]
    fn the_stub_answers_in_order_then_with_an_empty_object() {
        let h = google_harness().expect("the stub starts");
        let _serial = h.serial.lock().unwrap();
        h.stub
            .answers
            .lock()
            .unwrap()
            .push_back((200, br#"{"contactGroups": []}"#.to_vec()));
        let client = h.accounts.people(FUZZ_ACCOUNT).unwrap();
        assert!(client.list_contact_groups().unwrap().is_empty());
        // Nothing queued: `{}`, which reads as an empty listing.
        assert!(client.list_connections("names", None).unwrap().people.is_empty());
    }

    #[test]
    fn an_error_answer_echoing_the_token_is_scrubbed() {
        let body = br#"{"error": {"code": 400, "message": "bad @@TOKEN@@", "status": "INVALID_ARGUMENT"}}"#;
        // Status byte 5 picks HTTP 400.
        google_answer(&[&[5u8][..], body].concat());
    }

    #[test]
    fn a_success_answer_of_the_wrong_type_quoting_the_token_is_scrubbed() {
        // Found by `cargo fuzz run google_answer` (crash-a9361b78): serde's message quoted the
        // unreadable string, token and all.
        google_answer(b"\xb1\"sourcePrimar@@TOKEN@@y\"\x00\xc9");
    }
}
