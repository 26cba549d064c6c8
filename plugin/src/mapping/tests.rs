//! Round trips of the mapping, as properties over generated contacts, and the rules that keep
//! Google-only data safe.

use abi::{Address, Birthday, Contact, ContactId, CustomField, Messenger, PersonName, TypedValue};
use abi_stable::std_types::{ROption, RVec};
use proptest::prelude::*;

use super::items;
use super::*;
use crate::google::person::{
    self, ClientData, ContactGroupMembership, EmailAddress, FieldMetadata, Gender, Membership, Name,
    Organization, PersonMetadata, PhoneNumber, Source, Url, UserDefined,
};

// ---------------------------------------------------------------------------------------------
// Generators

/// Text fragments that stress Unicode handling: Latin with diacritics, Cyrillic, right-to-left
/// scripts, combining marks, emoji sequences, CJK.
const FRAGMENTS: &[&str] = &[
    "Ann",
    "Łukasz",
    "Ярослав",
    "محمد",
    "שלום",
    "e\u{301}te\u{301}",
    "👩\u{200d}💻",
    "🇺🇦",
    "李小龙",
    "O'Brien",
    "van",
    "Ωmega",
    "Zoë",
];

/// Already-normalized single-line text (possibly empty).
fn words(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..=max).prop_map(|w| w.join(" "))
}

/// Multi-line text, up to about 10 KB.
fn notes() -> impl Strategy<Value = String> {
    prop_oneof![
        words(6),
        (prop::collection::vec(words(8), 1..8)).prop_map(|lines| lines.join("\n").trim().to_string()),
        (words(3), 400..700usize).prop_map(|(w, n)| format!("{w} long note\n").repeat(n).trim().to_string()),
    ]
}

fn kind(choices: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(choices).prop_map(str::to_string)
}

fn typed(
    value: impl Strategy<Value = String>,
    kinds: &'static [&'static str],
) -> impl Strategy<Value = TypedValue> {
    (value, kind(kinds), any::<bool>()).prop_map(|(value, kind, primary)| TypedValue {
        value: value.into(),
        kind: kind.into(),
        primary,
    })
}

fn email() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["ann", "Bob.Lee", "zoë", "x+tag"][..]),
        0..50u32,
        any::<bool>(),
    )
        .prop_map(|(local, n, upper)| {
            let e = format!("{local}{n}@example.com");
            if upper {
                e.to_uppercase()
            } else {
                e
            }
        })
}

fn phone() -> impl Strategy<Value = String> {
    (0..7usize, 1000..9999u32).prop_map(|(format, n)| match format {
        0 => format!("+1 650 253 {n}"),
        1 => format!("(650) 253-{n}"),
        2 => format!("650.253.{n}"),
        3 => format!("+7 495 123-{}-{}", n / 100, n % 100),
        4 => format!("{n}"),
        5 => format!("+44 20 7946 {n} ext. 2"),
        _ => format!("00 49 30 12{n}"),
    })
}

fn url() -> impl Strategy<Value = String> {
    (
        prop::sample::select(
            &[
                "https://example.com/",
                "http://blog.example.org/",
                "https://ли.рф/",
            ][..],
        ),
        words(1),
    )
        .prop_map(|(base, path)| format!("{base}{}", path.replace(' ', "-")))
}

const EMAIL_KINDS: &[&str] = &["", "work", "home", "Work", "OTHER", "school friend"];
const PHONE_KINDS: &[&str] = &["", "mobile", "Mobile", "work", "homeFax", "WORKMOBILE", "dacha"];
const URL_KINDS: &[&str] = &[
    "",
    "blog",
    "homePage",
    "work",
    "Facebook",
    "VKontakte",
    "portfolio",
];

fn address() -> impl Strategy<Value = Address> {
    (
        (
            kind(&["", "home", "Work", "cottage"]),
            words(3),
            words(1),
            words(1),
        ),
        (
            words(2),
            words(1),
            words(1),
            words(2),
            kind(&["", "ua", "DE"]),
            any::<bool>(),
        ),
    )
        .prop_map(
            |((kind, street, extended, po_box), (city, region, postal_code, country, cc, primary))| Address {
                kind: kind.into(),
                street: street.into(),
                extended: extended.into(),
                po_box: po_box.into(),
                city: city.into(),
                region: region.into(),
                postal_code: postal_code.into(),
                country: country.into(),
                country_code: cc.into(),
                primary,
            },
        )
}

fn messenger() -> impl Strategy<Value = Messenger> {
    (
        kind(&[
            "skype",
            "Skype",
            "telegram",
            "whatsapp",
            "jabber",
            "googletalk",
            "ICQ",
        ]),
        words(1),
        any::<bool>(),
    )
        .prop_map(|(protocol, username, primary)| Messenger {
            protocol: protocol.into(),
            username: username.into(),
            primary,
        })
}

fn birthday() -> impl Strategy<Value = ROption<Birthday>> {
    prop::option::of((prop::option::of(1900..2030u16), 1..=12u8, 1..=28u8)).prop_map(|b| {
        b.map(|(year, month, day)| Birthday {
            year: year.into(),
            month,
            day,
        })
        .into()
    })
}

const CUSTOM_KEYS: &[&str] = &["lead_source", "tier", "note_2"];

fn custom_fields() -> impl Strategy<Value = Vec<CustomField>> {
    prop::collection::vec((prop::sample::select(CUSTOM_KEYS), notes()), 0..3).prop_map(|fields| {
        let mut seen = Vec::new();
        fields
            .into_iter()
            .filter(|(k, _)| {
                !seen.contains(k) && {
                    seen.push(*k);
                    true
                }
            })
            .map(|(k, v)| CustomField {
                key: k.into(),
                label: format!("Label {k}").into(),
                value: v.into(),
            })
            .collect()
    })
}

fn rvec<T>(v: Vec<T>) -> RVec<T> {
    v.into_iter().collect()
}

prop_compose! {
    fn contact()(
        id in 0..1_000_000u64,
        name in (words(1), words(2), words(1), words(2), words(1)),
        emails in prop::collection::vec(typed(email(), EMAIL_KINDS), 0..4),
        phones in prop::collection::vec(typed(phone(), PHONE_KINDS), 0..4),
        gender in kind(&["", "male", "Female", "unspecified", "non-binary", "Два духа"]),
        birthday in birthday(),
        notes in notes(),
        (position, company) in (words(2), words(2)),
        addresses in prop::collection::vec(address(), 0..3),
        websites in prop::collection::vec(typed(url(), URL_KINDS), 0..3),
        (vkontakte, facebook) in (prop_oneof![Just(String::new()), url()], prop_oneof![Just(String::new()), url()]),
        messengers in prop::collection::vec(messenger(), 0..3),
        custom_fields in custom_fields(),
        updated_at_ms in any::<i64>(),
    ) -> Contact {
        let (prefix, given, middle, family, suffix) = name;
        Contact {
            id: ContactId(id),
            name: PersonName {
                prefix: prefix.into(),
                given: given.into(),
                middle: middle.into(),
                family: family.into(),
                suffix: suffix.into(),
            },
            emails: rvec(emails),
            phones: rvec(phones),
            gender: gender.into(),
            birthday,
            notes: notes.into(),
            position: position.into(),
            company: company.into(),
            addresses: rvec(addresses),
            websites: rvec(websites),
            vkontakte: vkontakte.into(),
            facebook: facebook.into(),
            messengers: rvec(messengers),
            custom_fields: rvec(custom_fields),
            updated_at_ms,
        }
    }
}

fn mapping() -> impl Strategy<Value = FieldMapping> {
    let disabled = prop_oneof![
        4 => Just(Vec::new()),
        1 => prop::collection::vec(prop::sample::select(key::DEFAULTS), 0..4)
            .prop_map(|d| d.into_iter().map(str::to_string).collect()),
    ];
    let custom = prop::collection::vec(prop::sample::select(CUSTOM_KEYS), 0..3)
        .prop_map(|c| c.into_iter().map(str::to_string).collect());
    (custom, disabled).prop_map(|(custom_fields, disabled)| FieldMapping {
        custom_fields,
        disabled,
    })
}

// ---------------------------------------------------------------------------------------------
// A Google echo, as the fake Google (and Google) returns a person after a write.

/// The fake Google's E.164 normalizer (host-sim `fake_google::normalize::canonical_phone`).
fn canonical_phone(value: &str) -> Option<String> {
    let trimmed = value.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::new();
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' | '+' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let e164 = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if digits.len() == 10 {
        format!("1{digits}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        digits
    } else {
        return None;
    };
    (8..=15).contains(&e164.len()).then(|| format!("+{e164}"))
}

fn contact_source(primary: bool) -> Option<FieldMetadata> {
    Some(FieldMetadata {
        primary: Some(primary),
        source_primary: primary,
        verified: None,
        source: Some(Box::new(Source {
            kind: "CONTACT".into(),
            id: "c42".into(),
            ..Source::default()
        })),
    })
}

fn profile_source() -> Option<FieldMetadata> {
    Some(FieldMetadata {
        primary: Some(false),
        source: Some(Box::new(Source {
            kind: "PROFILE".into(),
            id: "1001".into(),
            ..Source::default()
        })),
        ..FieldMetadata::default()
    })
}

fn formatted(kind: &str) -> Option<String> {
    (!kind.is_empty()).then(|| {
        let mut c = kind.chars();
        c.next()
            .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
    })
}

/// What Google returns for a person we sent: server-derived values added, the first item of each
/// field primary, metadata with sources, an etag, the group membership, and read-only copies from
/// the person's own Google profile.
fn echo(sent: &Person) -> Person {
    let mut p = sent.clone();
    // Read-only copies from the profile are Google's; drop those of an earlier echo.
    p.names.retain(|n| items::is_contact_source(&n.metadata));
    p.email_addresses
        .retain(|e| items::is_contact_source(&e.metadata));
    p.resource_name = "people/c42".into();
    p.etag = "%EgUBAi43PRoEAQIFByIMR0xNRnBtWWhXYk09".into();
    p.metadata = Some(PersonMetadata {
        sources: vec![Source {
            kind: "CONTACT".into(),
            id: "c42".into(),
            etag: "#etag".into(),
            update_time: Some("2026-11-23T14:00:00.000Z".into()),
        }],
        object_type: Some("PERSON".into()),
        ..PersonMetadata::default()
    });
    p.memberships = vec![Membership {
        contact_group_membership: Some(ContactGroupMembership {
            contact_group_resource_name: "contactGroups/abc".into(),
            contact_group_id: Some("abc".into()),
        }),
        metadata: contact_source(false),
        ..Membership::default()
    }];
    for (i, n) in p.names.iter_mut().enumerate() {
        let display = [
            &n.honorific_prefix,
            &n.given_name,
            &n.middle_name,
            &n.family_name,
            &n.honorific_suffix,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
        n.display_name = Some(display.clone());
        n.display_name_last_first = Some(display.clone());
        n.unstructured_name = display;
        n.metadata = contact_source(i == 0);
    }
    p.names.push(Name {
        given_name: "Profile Name".into(),
        metadata: profile_source(),
        ..Name::default()
    });
    for (i, e) in p.email_addresses.iter_mut().enumerate() {
        e.formatted_type = formatted(&e.kind);
        e.metadata = contact_source(i == 0);
    }
    p.email_addresses.push(EmailAddress {
        value: "profile@gmail.com".into(),
        metadata: profile_source(),
        ..EmailAddress::default()
    });
    for (i, n) in p.phone_numbers.iter_mut().enumerate() {
        n.canonical_form = canonical_phone(&n.value);
        n.formatted_type = formatted(&n.kind);
        n.metadata = contact_source(i == 0);
    }
    for g in &mut p.genders {
        g.formatted_value = formatted(&g.value);
        g.metadata = contact_source(true);
    }
    for b in &mut p.birthdays {
        b.metadata = contact_source(true);
    }
    for b in &mut p.biographies {
        b.metadata = contact_source(true);
    }
    for (i, o) in p.organizations.iter_mut().enumerate() {
        o.formatted_type = formatted(&o.kind);
        o.metadata = contact_source(i == 0);
    }
    for (i, a) in p.addresses.iter_mut().enumerate() {
        a.formatted_value = Some(format!("{}\n{} {}", a.street_address, a.city, a.postal_code));
        a.formatted_type = formatted(&a.kind);
        a.metadata = contact_source(i == 0);
    }
    for (i, u) in p.urls.iter_mut().enumerate() {
        u.formatted_type = formatted(&u.kind);
        u.metadata = contact_source(i == 0);
    }
    for (i, im) in p.im_clients.iter_mut().enumerate() {
        im.formatted_protocol = formatted(&im.protocol);
        im.metadata = contact_source(i == 0);
    }
    for u in &mut p.user_defined {
        u.metadata = contact_source(false);
    }
    p
}

fn json_round_trip(p: &Person) -> Person {
    let json = serde_json::to_string(p).expect("a Person serializes");
    serde_json::from_str(&json).expect("a Person deserializes")
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// CRM → Person → JSON → Person → CRM keeps every mapped field and the id.
    #[test]
    fn crm_to_google_and_back_is_identity_on_mapped_fields(c in contact(), m in mapping()) {
        let person = json_round_trip(&contact_to_person(&c, &m));
        let back = person_to_contact(&person, &m);
        prop_assert_eq!(crm_fields(&back, &m), crm_fields(&c, &m));
        prop_assert_eq!(back.id, c.id);
        // The generated values are already normalized, so they come back verbatim.
        let all = FieldMapping::default();
        let unchanged = |k: &str| m.maps(k) && all.maps(k);
        if unchanged(key::NAME) { prop_assert_eq!(&back.name, &c.name); }
        if unchanged(key::BIRTHDAY) { prop_assert_eq!(back.birthday, c.birthday); }
        if unchanged(key::NOTES) { prop_assert_eq!(&back.notes, &c.notes); }
        if unchanged(key::POSITION) { prop_assert_eq!(&back.position, &c.position); }
        if unchanged(key::COMPANY) { prop_assert_eq!(&back.company, &c.company); }
        for custom in c.custom_fields.iter().filter(|f| m.custom_fields.iter().any(|k| k == f.key.as_str())) {
            let value = back.custom_fields.iter().find(|f| f.key == custom.key).map(|f| f.value.as_str());
            prop_assert_eq!(value.unwrap_or(""), custom.value.as_str());
        }
        // Multi-valued fields: deduplicated, but every value returned is one that was sent.
        let values = |list: &RVec<TypedValue>| list.iter().map(|v| v.value.to_string()).collect::<Vec<_>>();
        prop_assert!(values(&back.emails).iter().all(|v| values(&c.emails).contains(v)));
        prop_assert!(values(&back.phones).iter().all(|v| values(&c.phones).contains(v)));
        prop_assert_eq!(back.emails.iter().filter(|e| e.primary).count(), usize::from(!back.emails.is_empty()));
    }

    /// A field set read back from the mapping file is the one stored, without spare room.
    #[test]
    fn a_stored_field_set_reads_back_equal_and_exactly_sized(c in contact(), m in mapping()) {
        let fields = crm_fields(&c, &m);
        let back: Fields = serde_json::from_str(&serde_json::to_string(&fields).unwrap()).unwrap();
        prop_assert_eq!(&back, &fields);
        for (_, value) in back.0.iter() {
            if let FieldValue::Many(items) = value {
                prop_assert_eq!(items.capacity(), items.len());
            }
        }
    }

    /// What Google echoes after a create compares equal to what was sent: zero writes next time.
    #[test]
    fn google_echo_after_create_equals_what_was_sent(c in contact(), m in mapping()) {
        let echoed = json_round_trip(&echo(&contact_to_person(&c, &m)));
        prop_assert_eq!(google_fields(&echoed, &m), crm_fields(&c, &m));
        prop_assert_eq!(crm_id_of(&echoed), (c.id != ContactId(0)).then_some(c.id));
    }

    /// Writing merged fields into either side and reading them back gives the same fields, so a
    /// merge result settles: the planner sees no further change.
    #[test]
    fn written_fields_read_back_unchanged(base in contact(), other in contact(), m in mapping()) {
        let base_person = echo(&contact_to_person(&base, &m));
        let new = crm_fields(&other, &m);
        let person = json_round_trip(&echo(&fields_to_person(&new, &base_person, &m)));
        prop_assert_eq!(google_fields(&person, &m), new.clone());
        let contact = fields_to_contact(&new, &base, &m);
        prop_assert_eq!(crm_fields(&contact, &m), new);
        prop_assert_eq!(contact.id, base.id);
        prop_assert_eq!(contact.updated_at_ms, base.updated_at_ms);
    }

    /// Sending only the Google fields of `changed_person_fields` turns Google's person into the
    /// new fields, however the fields changed: shared fields are written whole.
    #[test]
    fn updating_only_the_changed_fields_reaches_the_new_fields(a in contact(), b in contact(), m in mapping()) {
        let base = echo(&contact_to_person(&a, &m));
        let (old, new) = (google_fields(&base, &m), crm_fields(&b, &m));
        let mask = changed_person_fields(&old, &new);
        let stored = echo(&only_fields(&base, &mask, &fields_to_person(&new, &base, &m)));
        prop_assert_eq!(google_fields(&stored, &m), new.clone());
        prop_assert!(changed_person_fields(&new, &new).is_empty());
    }
}

/// What Google stores after `updateContact` with the mask `fields`: `base` with the masked fields
/// replaced by `sent`'s.
fn only_fields(base: &Person, fields: &[&str], sent: &Person) -> Person {
    let (Ok(serde_json::Value::Object(mut stored)), Ok(serde_json::Value::Object(sent))) =
        (serde_json::to_value(base), serde_json::to_value(sent))
    else {
        return base.clone();
    };
    for field in fields {
        match sent.get(*field) {
            Some(v) => stored.insert((*field).to_string(), v.clone()),
            None => stored.remove(*field),
        };
    }
    serde_json::from_value(serde_json::Value::Object(stored)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Unit tests

fn sample_contact() -> Contact {
    Contact {
        id: ContactId(7),
        name: PersonName {
            given: "Ann".into(),
            family: "Lee".into(),
            ..PersonName::default()
        },
        emails: rvec(vec![
            TypedValue {
                value: "ann@work.example".into(),
                kind: "work".into(),
                primary: false,
            },
            TypedValue {
                value: "Ann@Home.example".into(),
                kind: "Home".into(),
                primary: true,
            },
        ]),
        phones: rvec(vec![TypedValue {
            value: "(650) 253-0000".into(),
            kind: "mobile".into(),
            primary: true,
        }]),
        gender: "female".into(),
        position: "CTO".into(),
        company: "Acme".into(),
        websites: rvec(vec![TypedValue {
            value: "https://ann.example".into(),
            kind: "blog".into(),
            primary: false,
        }]),
        vkontakte: "https://vk.com/ann".into(),
        facebook: "https://facebook.com/ann".into(),
        messengers: rvec(vec![
            Messenger {
                protocol: "skype".into(),
                username: "ann.lee".into(),
                primary: true,
            },
            Messenger {
                protocol: "telegram".into(),
                username: "@annlee".into(),
                primary: false,
            },
        ]),
        custom_fields: rvec(vec![
            CustomField {
                key: "lead_source".into(),
                label: "Lead source".into(),
                value: "fair 2026".into(),
            },
            CustomField {
                key: "secret".into(),
                label: "Secret".into(),
                value: "not mapped".into(),
            },
        ]),
        ..Contact::default()
    }
}

fn sample_mapping() -> FieldMapping {
    FieldMapping {
        custom_fields: vec!["lead_source".into()],
        disabled: Vec::new(),
    }
}

/// A person as stored in Google: ours, plus data only Google has.
fn google_person() -> Person {
    let mut p = echo(&contact_to_person(&sample_contact(), &sample_mapping()));
    p.names[0].phonetic_given_name = "An".into();
    p.email_addresses[0].display_name = "Ann at home".into();
    p.genders = vec![Gender {
        value: "female".into(),
        address_me_as: "she".into(),
        ..Gender::default()
    }];
    p.organizations[0].department = "R&D".into();
    p.organizations.push(Organization {
        name: "Old School".into(),
        kind: "school".into(),
        ..Organization::default()
    });
    p.client_data.push(ClientData {
        key: "other_app".into(),
        value: "x1".into(),
        ..ClientData::default()
    });
    p.user_defined.push(UserDefined {
        key: "Hobby".into(),
        value: "chess".into(),
        ..UserDefined::default()
    });
    p.urls.push(Url {
        value: "https://profile.example".into(),
        kind: "profile".into(),
        ..Url::default()
    });
    p.phone_numbers.push(PhoneNumber {
        value: "+1 202 555 0100".into(),
        kind: "work".into(),
        metadata: profile_source(),
        ..PhoneNumber::default()
    });
    p
}

#[test]
fn person_to_create_has_primary_first_and_our_marker() {
    let p = contact_to_person(&sample_contact(), &sample_mapping());
    assert_eq!(p.email_addresses[0].value, "Ann@Home.example", "primary first");
    assert_eq!(
        p.email_addresses[0].kind, "home",
        "standard type in Google's spelling"
    );
    assert_eq!(p.im_clients[0].protocol, "skype");
    assert_eq!(
        p.im_clients[1].protocol, "telegram",
        "other messengers as custom protocols"
    );
    let urls: Vec<_> = p
        .urls
        .iter()
        .map(|u| (u.kind.as_str(), u.value.as_str()))
        .collect();
    assert_eq!(
        urls,
        [
            ("VKontakte", "https://vk.com/ann"),
            ("Facebook", "https://facebook.com/ann"),
            ("blog", "https://ann.example")
        ]
    );
    assert_eq!(p.organizations.len(), 1);
    assert_eq!(
        (
            p.organizations[0].title.as_str(),
            p.organizations[0].name.as_str()
        ),
        ("CTO", "Acme")
    );
    assert_eq!(p.user_defined.len(), 1, "only the selected custom field");
    assert_eq!(
        (p.user_defined[0].key.as_str(), p.user_defined[0].value.as_str()),
        ("lead_source", "fair 2026")
    );
    assert_eq!(
        p.client_data,
        vec![ClientData {
            key: CRM_ID_KEY.into(),
            value: "7".into(),
            metadata: None
        }]
    );
    assert!(p.etag.is_empty() && p.resource_name.is_empty() && p.memberships.is_empty());
}

#[test]
fn google_only_data_survives_fields_to_person() {
    let base = google_person();
    let m = sample_mapping();
    let mut edited = sample_contact();
    edited.position = "CEO".into();
    edited.emails.push(TypedValue {
        value: "new@example.com".into(),
        kind: "other".into(),
        primary: false,
    });
    edited.websites = RVec::new();
    let new = crm_fields(&edited, &m);
    let p = fields_to_person(&new, &base, &m);

    // Untouched top-level data.
    assert_eq!(
        (&p.resource_name, &p.etag, &p.metadata, &p.memberships),
        (&base.resource_name, &base.etag, &base.metadata, &base.memberships)
    );
    assert_eq!(p.client_data, base.client_data, "our marker and other apps' data");
    // Unmapped parts of mapped fields.
    assert_eq!(p.names.len(), 1, "the profile's read-only copy is not sent back");
    assert_eq!(p.names[0].phonetic_given_name, "An");
    let home = p
        .email_addresses
        .iter()
        .find(|e| e.value == "Ann@Home.example")
        .expect("kept");
    assert_eq!(home.display_name, "Ann at home");
    assert_eq!(p.email_addresses.len(), 3);
    assert_eq!(p.genders[0].address_me_as, "she");
    assert_eq!(p.organizations.len(), 2);
    assert_eq!(p.organizations[0].title, "CEO");
    assert_eq!(p.organizations[0].name, "Acme");
    assert_eq!(p.organizations[0].department, "R&D");
    assert_eq!(p.organizations[1].name, "Old School");
    assert!(p
        .user_defined
        .iter()
        .any(|u| u.key == "Hobby" && u.value == "chess"));
    // The web sites were removed in the CRM; the profiles stay.
    let urls: Vec<_> = p.urls.iter().map(|u| u.value.as_str()).collect();
    assert_eq!(urls, ["https://vk.com/ann", "https://facebook.com/ann"]);
    // Read-only values are not sent.
    assert!(p
        .phone_numbers
        .iter()
        .all(|n| n.canonical_form.is_none() && n.formatted_type.is_none()));
    let primary_only = Some(FieldMetadata {
        source_primary: true,
        ..FieldMetadata::default()
    });
    assert_eq!(
        p.email_addresses[0].metadata, primary_only,
        "the primary one, written first"
    );
    assert!(p.email_addresses[1..].iter().all(|e| e.metadata.is_none()));
    assert!(p.names.iter().all(|n| n.display_name.is_none()));

    let changed = changed_person_fields(&google_fields(&base, &m), &new);
    assert_eq!(changed, ["emailAddresses", "organizations", "urls"]);
}

#[test]
fn disabled_fields_are_neither_read_nor_written() {
    let base = google_person();
    let m = FieldMapping {
        custom_fields: Vec::new(),
        disabled: vec!["websites".into(), "gender".into()],
    };
    let fields = google_fields(&base, &m);
    assert!(fields.get(key::WEBSITES).is_none() && fields.get(key::GENDER).is_none());
    assert!(fields.0.keys().all(|k| !k.starts_with(key::CUSTOM_PREFIX)));
    let p = fields_to_person(&Fields::default(), &base, &m);
    assert_eq!(p.genders, base.genders);
    assert_eq!(p.user_defined, base.user_defined);
    let urls: Vec<_> = p.urls.iter().map(|u| u.value.as_str()).collect();
    assert_eq!(
        urls,
        ["https://ann.example", "https://profile.example"],
        "web sites kept, profiles cleared"
    );

    let mut crm = sample_contact();
    crm.gender = "male".into();
    let c = fields_to_contact(&Fields::default(), &crm, &m);
    assert_eq!((c.gender.as_str(), c.websites.len()), ("male", 1));
    assert!(c.vkontakte.is_empty() && c.emails.is_empty());
}

#[test]
fn shared_google_fields_are_written_whole() {
    let base = google_person();
    let m = sample_mapping();
    let mut new = google_fields(&base, &m);
    new.0.remove(key::FACEBOOK);
    assert_eq!(changed_person_fields(&google_fields(&base, &m), &new), ["urls"]);
    let p = fields_to_person(&new, &base, &m);
    let urls: Vec<_> = p.urls.iter().map(|u| u.value.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://vk.com/ann",
            "https://ann.example",
            "https://profile.example"
        ]
    );
}

#[test]
fn crm_marker_round_trips_and_other_client_data_is_kept() {
    let mut p = google_person();
    assert_eq!(crm_id_of(&p), Some(ContactId(7)));
    assert!(!set_crm_id(&mut p, ContactId(7)), "unchanged: no write needed");
    assert!(set_crm_id(&mut p, ContactId(8)));
    assert_eq!(crm_id_of(&p), Some(ContactId(8)));
    let keys: Vec<_> = p
        .client_data
        .iter()
        .map(|d| (d.key.as_str(), d.value.as_str()))
        .collect();
    assert_eq!(keys, [("other_app", "x1"), (CRM_ID_KEY, "8")]);
    assert_eq!(person_to_contact(&p, &sample_mapping()).id, ContactId(8));

    let stranger = Person {
        client_data: vec![ClientData {
            key: CRM_ID_KEY.into(),
            value: "not a number".into(),
            metadata: None,
        }],
        ..Person::default()
    };
    assert_eq!(crm_id_of(&stranger), None);
    assert_eq!(person_to_contact(&stranger, &sample_mapping()).id, ContactId(0));
    assert!(contact_to_person(&Contact::default(), &sample_mapping())
        .client_data
        .is_empty());
}

#[test]
fn google_normalization_compares_equal() {
    let m = FieldMapping::default();
    let mut c = Contact::default();
    c.name.given = "  Ann   Marie ".into();
    c.phones = rvec(vec![TypedValue {
        value: "650-253-0000".into(),
        kind: "MOBILE".into(),
        primary: false,
    }]);
    c.emails = rvec(vec![TypedValue {
        value: "ANN@EXAMPLE.COM".into(),
        kind: "".into(),
        primary: false,
    }]);
    c.birthday = ROption::RSome(Birthday {
        year: ROption::RNone,
        month: 2,
        day: 29,
    });
    let mut g = Person {
        names: vec![Name {
            given_name: "Ann Marie".into(),
            display_name: Some("Ann Marie".into()),
            ..Name::default()
        }],
        phone_numbers: vec![PhoneNumber {
            value: "650-253-0000".into(),
            kind: "mobile".into(),
            canonical_form: Some("+16502530000".into()),
            formatted_type: Some("Mobile".into()),
            metadata: contact_source(true),
        }],
        email_addresses: vec![EmailAddress {
            value: "ANN@EXAMPLE.COM".into(),
            ..EmailAddress::default()
        }],
        birthdays: vec![person::Birthday {
            date: Some(person::Date {
                year: 0,
                month: 2,
                day: 29,
            }),
            ..person::Birthday::default()
        }],
        ..Person::default()
    };
    assert_eq!(google_fields(&g, &m), crm_fields(&c, &m));
    assert_eq!(google_fields(&g, &m).items(key::PHONES)[0].key, "+16502530000");
    g.email_addresses[0].value = "ann@example.com".into();
    assert_ne!(
        google_fields(&g, &m),
        crm_fields(&c, &m),
        "a changed spelling is an edit to sync"
    );
    assert_eq!(
        google_fields(&g, &m).items(key::EMAILS)[0].key,
        crm_fields(&c, &m).items(key::EMAILS)[0].key,
        "… of the same address"
    );
    let back = person_to_contact(&g, &m);
    assert_eq!(
        back.birthday,
        ROption::RSome(Birthday {
            year: ROption::RNone,
            month: 2,
            day: 29
        })
    );
    assert_eq!(back.name.given.as_str(), "Ann Marie");
    assert_eq!(back.phones[0].kind.as_str(), "mobile");
    assert!(back.phones[0].primary);
}

#[test]
fn fields_serialize_for_the_base_store() {
    let f = crm_fields(&sample_contact(), &sample_mapping());
    let json = serde_json::to_string(&f).expect("serializes");
    assert_eq!(serde_json::from_str::<Fields>(&json).expect("deserializes"), f);
    let m: FieldMapping = serde_json::from_str("{}").expect("defaults");
    assert_eq!(m, FieldMapping::default());
    assert!(m.maps(key::NAME) && !m.maps("custom:x") && !m.maps("bogus"));
}
