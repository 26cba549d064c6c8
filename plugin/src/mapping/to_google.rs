//! Writing [`Fields`] into a [`Person`].
//!
//! Google replaces each field named in `updatePersonFields` wholesale, so every Google field that
//! holds a mapped key is rebuilt completely here: from the mapped keys' values, plus whatever the
//! contact already had in that field that we do not map (an e-mail's display name, an
//! organization's department, other organizations, unmapped `userDefined` keys, web sites when
//! only the profiles are mapped…). Google fields we do not map are left as they are in `base`.
//!
//! Items we write carry no read-only values and no metadata but `sourcePrimary` on the primary
//! item of multi-valued fields (which is also written first): Google derives the rest. Items of
//! other sources (the person's Google profile) are not written back, being read-only.

use crate::google::person::{
    Address, Biography, Birthday, Date, EmailAddress, FieldItem, FieldMetadata, Gender, ImClient, Name,
    Organization, Person, PhoneNumber, Url, UserDefined,
};

use super::fields::{key, Fields, Item};
use super::items::{self, is_contact_source, UrlSlot, FACEBOOK_URL_TYPE, TYPE, VALUE, VKONTAKTE_URL_TYPE};
use super::normalize;
use super::FieldMapping;

/// `base` with its mapped fields set from `fields` (absent = cleared). Everything else of `base`
/// is kept: resource name, etag, metadata, memberships, `clientData`, unmapped fields and the
/// unmapped parts of mapped fields. Send it with the mask of
/// [`changed_person_fields`](super::changed_person_fields).
pub fn fields_to_person(f: &Fields, base: &Person, mapping: &FieldMapping) -> Person {
    let mut p = base.clone();
    let maps = |k: &str| mapping.maps(k);
    if maps(key::NAME) {
        p.names = names(f, &base.names);
    }
    if maps(key::EMAILS) {
        p.email_addresses = rebuild(
            f.items(key::EMAILS),
            &base.email_addresses,
            |e| normalize::email_key(&e.value),
            |e: &mut EmailAddress, i| {
                e.value = i.get(VALUE).to_string();
                e.kind = i.get(TYPE).to_string();
                e.formatted_type = None;
            },
        );
    }
    if maps(key::PHONES) {
        p.phone_numbers = rebuild(
            f.items(key::PHONES),
            &base.phone_numbers,
            |n| items::phone(&n.value, "").key,
            |n: &mut PhoneNumber, i| {
                n.value = i.get(VALUE).to_string();
                n.kind = i.get(TYPE).to_string();
                n.canonical_form = None;
                n.formatted_type = None;
            },
        );
    }
    if maps(key::GENDER) {
        p.genders = gender(f, &base.genders);
    }
    if maps(key::BIRTHDAY) {
        p.birthdays = birthday(f);
    }
    if maps(key::NOTES) {
        let notes = f.one_value(key::NOTES, VALUE);
        p.biographies = if notes.is_empty() {
            Vec::new()
        } else {
            vec![Biography {
                value: notes.to_string(),
                content_type: "TEXT_PLAIN".into(),
                ..Biography::default()
            }]
        };
    }
    if maps(key::POSITION) || maps(key::COMPANY) {
        p.organizations = organizations(f, &base.organizations, mapping);
    }
    if maps(key::ADDRESSES) {
        p.addresses = rebuild(
            f.items(key::ADDRESSES),
            &base.addresses,
            |a| items::address(&items::google_address_parts(a)).key,
            |a: &mut Address, i| {
                a.kind = i.get(TYPE).to_string();
                let part = |name: &str| i.get(name).to_string();
                a.street_address = part("street");
                a.extended_address = part("extended");
                a.po_box = part("po_box");
                a.city = part("city");
                a.region = part("region");
                a.postal_code = part("postal_code");
                a.country = part("country");
                a.country_code = part("country_code");
                // Derived from the parts by Google; a stale one would contradict them.
                a.formatted_value = None;
                a.formatted_type = None;
            },
        );
    }
    if maps(key::WEBSITES) || maps(key::VKONTAKTE) || maps(key::FACEBOOK) {
        p.urls = urls(f, &base.urls, mapping);
    }
    if maps(key::MESSENGERS) {
        p.im_clients = rebuild(
            f.items(key::MESSENGERS),
            &base.im_clients,
            |i| items::messenger(&i.protocol, &i.username).key,
            |im: &mut ImClient, i| {
                im.protocol = i.get("protocol").to_string();
                im.username = i.get("username").to_string();
                im.formatted_protocol = None;
                im.formatted_type = None;
            },
        );
    }
    if !mapping.custom_fields.is_empty() {
        p.user_defined = user_defined(f, &base.user_defined, mapping);
    }
    p
}

/// Rebuilds a multi-valued field: one item per `Fields` item, in write order (primary first), each
/// starting from the contact's existing item of the same identity (to keep the parts we do not
/// map) or from scratch, with no metadata but the primary flag.
fn rebuild<T: FieldItem + Clone + Default>(
    new: &[Item],
    base: &[T],
    key_of: impl Fn(&T) -> String,
    fill: impl Fn(&mut T, &Item),
) -> Vec<T> {
    let own: Vec<T> = base
        .iter()
        .filter(|x| is_contact_source(x.metadata()))
        .cloned()
        .collect();
    let keys: Vec<String> = own.iter().map(&key_of).collect();
    items::write_order(new, &keys)
        .into_iter()
        .map(|item| {
            let mut out = keys
                .iter()
                .position(|k| *k == item.key)
                .map(|j| own[j].clone())
                .unwrap_or_default();
            fill(&mut out, item);
            // Google makes the first item primary; saying so explicitly (`sourcePrimary`, the
            // writable flag) also holds where a server would keep an older choice.
            *out.metadata_mut() = item.is_primary().then(|| FieldMetadata {
                source_primary: true,
                ..FieldMetadata::default()
            });
            out
        })
        .collect()
}

fn names(f: &Fields, base: &[Name]) -> Vec<Name> {
    let mut name = base
        .iter()
        .find(|n| is_contact_source(&n.metadata))
        .cloned()
        .unwrap_or_default();
    let part = |p: &str| f.one_value(key::NAME, p).to_string();
    let parts = [
        part("prefix"),
        part("given"),
        part("middle"),
        part("family"),
        part("suffix"),
    ];
    let old = [
        &name.honorific_prefix,
        &name.given_name,
        &name.middle_name,
        &name.family_name,
        &name.honorific_suffix,
    ];
    if old.iter().zip(&parts).any(|(o, n)| normalize::text(o) != *n) {
        // Google derives unstructuredName from the parts only when it is empty; a stale one
        // would keep showing the old name.
        name.unstructured_name.clear();
    }
    let [prefix, given, middle, family, suffix] = parts;
    (
        name.honorific_prefix,
        name.given_name,
        name.middle_name,
        name.family_name,
        name.honorific_suffix,
    ) = (prefix, given, middle, family, suffix);
    name.metadata = None;
    name.display_name = None;
    name.display_name_last_first = None;
    if name == Name::default() {
        Vec::new()
    } else {
        vec![name]
    }
}

fn gender(f: &Fields, base: &[Gender]) -> Vec<Gender> {
    let value = f.one_value(key::GENDER, VALUE);
    if value.is_empty() {
        return Vec::new();
    }
    // Keep how the person wants to be addressed, which we do not map.
    let mut gender = base
        .iter()
        .find(|g| is_contact_source(&g.metadata))
        .cloned()
        .unwrap_or_default();
    gender.value = value.to_string();
    gender.metadata = None;
    gender.formatted_value = None;
    vec![gender]
}

fn birthday(f: &Fields) -> Vec<Birthday> {
    let Some(item) = f.one(key::BIRTHDAY) else {
        return Vec::new();
    };
    let part = |p: &str| item.get(p).parse::<i32>().unwrap_or(0);
    let date = Date {
        year: part("year"),
        month: part("month"),
        day: part("day"),
    };
    vec![Birthday {
        date: Some(date),
        ..Birthday::default()
    }]
}

/// Position and company live in the main organization, which is written first so that it stays
/// the primary one; the contact's other organizations are kept after it.
fn organizations(f: &Fields, base: &[Organization], mapping: &FieldMapping) -> Vec<Organization> {
    let mut own: Vec<Organization> = base
        .iter()
        .filter(|o| is_contact_source(&o.metadata))
        .cloned()
        .collect();
    let mut main = items::main_organization(&own)
        .map(|i| own.remove(i))
        .unwrap_or_default();
    if mapping.maps(key::POSITION) {
        main.title = f.one_value(key::POSITION, VALUE).to_string();
    }
    if mapping.maps(key::COMPANY) {
        main.name = f.one_value(key::COMPANY, VALUE).to_string();
    }
    for org in own.iter_mut().chain([&mut main]) {
        org.metadata = None;
        org.formatted_type = None;
    }
    // An organization left with nothing in it would be an empty entry in Google's UI.
    if main != Organization::default() {
        own.insert(0, main);
    }
    own
}

/// `urls` holds the VKontakte and Facebook profiles and the web sites. The profiles are written
/// first so that reading the field back finds them in the same slots (see `items::url_slots`).
/// A key that is not mapped keeps Google's values.
fn urls(f: &Fields, base: &[Url], mapping: &FieldMapping) -> Vec<Url> {
    let (vk, fb, web) = (
        mapping.maps(key::VKONTAKTE),
        mapping.maps(key::FACEBOOK),
        mapping.maps(key::WEBSITES),
    );
    let own: Vec<&Url> = base.iter().filter(|u| is_contact_source(&u.metadata)).collect();
    let slots = items::url_slots(own.iter().map(|u| u.kind.as_str()), vk, fb);
    let of_slot = |slot: UrlSlot| -> Vec<Url> {
        own.iter()
            .zip(&slots)
            .filter(|(_, s)| **s == slot)
            .map(|(u, _)| strip_url((*u).clone()))
            .collect()
    };
    let profile = |k: &str, kind: &str| -> Vec<Url> {
        let value = f.one_value(k, VALUE);
        if value.is_empty() {
            Vec::new()
        } else {
            vec![Url {
                value: value.to_string(),
                kind: kind.to_string(),
                ..Url::default()
            }]
        }
    };
    let mut out = Vec::new();
    out.extend(if vk {
        profile(key::VKONTAKTE, VKONTAKTE_URL_TYPE)
    } else {
        Vec::new()
    });
    out.extend(if fb {
        profile(key::FACEBOOK, FACEBOOK_URL_TYPE)
    } else {
        Vec::new()
    });
    if web {
        let websites: Vec<Url> = of_slot(UrlSlot::Website);
        out.extend(rebuild(
            f.items(key::WEBSITES),
            &websites,
            |u| normalize::url_key(&u.value),
            |u: &mut Url, i| {
                u.value = i.get(VALUE).to_string();
                u.kind = i.get(TYPE).to_string();
                u.formatted_type = None;
            },
        ));
    } else {
        out.extend(of_slot(UrlSlot::Website));
    }
    out
}

fn strip_url(mut u: Url) -> Url {
    u.metadata = None;
    u.formatted_type = None;
    u
}

/// Mapped custom fields replace the entries of their key; the user's other entries are kept.
fn user_defined(f: &Fields, base: &[UserDefined], mapping: &FieldMapping) -> Vec<UserDefined> {
    let mapped = |k: &str| mapping.custom_fields.iter().any(|c| c == k);
    let kept = base
        .iter()
        .filter(|u| is_contact_source(&u.metadata) && !mapped(&u.key))
        .map(|u| UserDefined {
            metadata: None,
            ..u.clone()
        });
    let ours = mapping.custom_fields.iter().filter_map(|custom| {
        let value = f.one_value(&key::custom(custom), VALUE);
        (!value.is_empty()).then(|| UserDefined {
            key: custom.clone(),
            value: value.to_string(),
            metadata: None,
        })
    });
    let mut out: Vec<UserDefined> = kept.chain(ours).collect();
    // The same key selected twice in the mapping must not be written twice.
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|u| !mapped(&u.key) || seen.insert(u.key.clone()));
    out
}
