//! The Google side: a [`Person`] to [`Fields`].
//!
//! Only the contact's own items are read (not copies from the person's Google profile), and
//! read-only fields (`displayName`, `formattedType`, `canonicalForm`, `formattedValue`, …) are
//! ignored: Google derives them, so they carry no edit.

use crate::google::person::{FieldMetadata, Person};

use super::fields::{key, Fields};
use super::items::{self, is_contact_source, UrlSlot};
use super::FieldMapping;

/// The mapped fields of a Google person, normalized.
pub fn google_fields(p: &Person, mapping: &FieldMapping) -> Fields {
    let mut f = Fields::default();
    let maps = |k: &str| mapping.maps(k);
    // Singletons: Google allows one contact item; should there be more, the first one counts.
    if maps(key::NAME) {
        if let Some(n) = p.names.iter().find(|n| is_contact_source(&n.metadata)) {
            let item = items::name(
                &n.honorific_prefix,
                &n.given_name,
                &n.middle_name,
                &n.family_name,
                &n.honorific_suffix,
            );
            f.set_one(key::NAME, item);
        }
    }
    if maps(key::EMAILS) {
        let emails = p
            .email_addresses
            .iter()
            .filter(|e| is_contact_source(&e.metadata));
        f.set_many(
            key::EMAILS,
            emails
                .map(|e| (items::email(&e.value, &e.kind), primary(&e.metadata)))
                .collect(),
        );
    }
    if maps(key::PHONES) {
        let phones = p.phone_numbers.iter().filter(|n| is_contact_source(&n.metadata));
        f.set_many(
            key::PHONES,
            phones
                .map(|n| (items::phone(&n.value, &n.kind), primary(&n.metadata)))
                .collect(),
        );
    }
    if maps(key::GENDER) {
        if let Some(g) = p.genders.iter().find(|g| is_contact_source(&g.metadata)) {
            f.set_one(key::GENDER, items::gender(&g.value));
        }
    }
    if maps(key::BIRTHDAY) {
        // A birthday given only as (deprecated) free text cannot be mapped to a date; it stays
        // in Google untouched until the CRM sets a birthday.
        let own = p.birthdays.iter().filter(|b| is_contact_source(&b.metadata));
        if let Some(item) = own
            .filter_map(|b| b.date)
            .find_map(|d| items::birthday(d.year, d.month, d.day))
        {
            f.set_one(key::BIRTHDAY, item);
        }
    }
    if maps(key::NOTES) {
        if let Some(b) = p.biographies.iter().find(|b| is_contact_source(&b.metadata)) {
            f.set_one(key::NOTES, items::multiline(&b.value));
        }
    }
    if let Some(org) = items::main_organization(&p.organizations).and_then(|i| p.organizations.get(i)) {
        if maps(key::POSITION) {
            f.set_one(key::POSITION, items::text(&org.title));
        }
        if maps(key::COMPANY) {
            f.set_one(key::COMPANY, items::text(&org.name));
        }
    }
    if maps(key::ADDRESSES) {
        let addresses = p
            .addresses
            .iter()
            .filter(|a| is_contact_source(&a.metadata))
            .map(|a| {
                (
                    items::address(&items::google_address_parts(a)),
                    primary(&a.metadata),
                )
            });
        f.set_many(key::ADDRESSES, addresses.collect());
    }
    set_urls(&mut f, p, mapping);
    if maps(key::MESSENGERS) {
        let ims = p.im_clients.iter().filter(|i| is_contact_source(&i.metadata));
        f.set_many(
            key::MESSENGERS,
            ims.map(|i| (items::messenger(&i.protocol, &i.username), primary(&i.metadata)))
                .collect(),
        );
    }
    for custom in &mapping.custom_fields {
        if let Some(u) = p
            .user_defined
            .iter()
            .find(|u| is_contact_source(&u.metadata) && u.key == *custom)
        {
            f.set_one(&key::custom(custom), items::multiline(&u.value));
        }
    }
    f.shrink_to_fit();
    f
}

fn primary(meta: &Option<FieldMetadata>) -> bool {
    FieldMetadata::is_primary(meta)
}

fn set_urls(f: &mut Fields, p: &Person, mapping: &FieldMapping) {
    let (vk, fb, web) = (
        mapping.maps(key::VKONTAKTE),
        mapping.maps(key::FACEBOOK),
        mapping.maps(key::WEBSITES),
    );
    let own: Vec<_> = p.urls.iter().filter(|u| is_contact_source(&u.metadata)).collect();
    let slots = items::url_slots(own.iter().map(|u| u.kind.as_str()), vk, fb);
    let mut websites = Vec::new();
    for (u, slot) in own.into_iter().zip(slots) {
        match slot {
            UrlSlot::VKontakte => f.set_one(key::VKONTAKTE, items::text(&u.value)),
            UrlSlot::Facebook => f.set_one(key::FACEBOOK, items::text(&u.value)),
            UrlSlot::Website => websites.push((items::website(&u.value, &u.kind), primary(&u.metadata))),
        }
    }
    if web {
        f.set_many(key::WEBSITES, websites);
    }
}
