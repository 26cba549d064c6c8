//! The CRM side: a [`Contact`] to [`Fields`] and back.

use abi::{Address, Birthday, Contact, CustomField, Messenger, PersonName, TypedValue};
use abi_stable::std_types::{ROption, RString, RVec};

use super::fields::{key, Fields, Item};
use super::items::{self, AddressParts, UrlSlot, FACEBOOK_URL_TYPE, TYPE, VALUE, VKONTAKTE_URL_TYPE};
use super::FieldMapping;

/// The mapped fields of a CRM contact, normalized.
pub fn crm_fields(c: &Contact, mapping: &FieldMapping) -> Fields {
    let mut f = Fields::default();
    let maps = |k: &str| mapping.maps(k);
    if maps(key::NAME) {
        let n = &c.name;
        f.set_one(
            key::NAME,
            items::name(
                n.prefix.as_str(),
                n.given.as_str(),
                n.middle.as_str(),
                n.family.as_str(),
                n.suffix.as_str(),
            ),
        );
    }
    if maps(key::EMAILS) {
        let emails = c
            .emails
            .iter()
            .map(|e| (items::email(e.value.as_str(), e.kind.as_str()), e.primary));
        f.set_many(key::EMAILS, emails.collect());
    }
    if maps(key::PHONES) {
        let phones = c
            .phones
            .iter()
            .map(|p| (items::phone(p.value.as_str(), p.kind.as_str()), p.primary));
        f.set_many(key::PHONES, phones.collect());
    }
    if maps(key::GENDER) {
        f.set_one(key::GENDER, items::gender(c.gender.as_str()));
    }
    if maps(key::BIRTHDAY) {
        if let ROption::RSome(b) = c.birthday {
            let year = b.year.into_option().map_or(0, i32::from);
            if let Some(item) = items::birthday(year, i32::from(b.month), i32::from(b.day)) {
                f.set_one(key::BIRTHDAY, item);
            }
        }
    }
    if maps(key::NOTES) {
        f.set_one(key::NOTES, items::multiline(c.notes.as_str()));
    }
    if maps(key::POSITION) {
        f.set_one(key::POSITION, items::text(c.position.as_str()));
    }
    if maps(key::COMPANY) {
        f.set_one(key::COMPANY, items::text(c.company.as_str()));
    }
    if maps(key::ADDRESSES) {
        let addresses = c
            .addresses
            .iter()
            .map(|a| (items::address(&address_parts(a)), a.primary));
        f.set_many(key::ADDRESSES, addresses.collect());
    }
    set_urls(&mut f, c, mapping);
    if maps(key::MESSENGERS) {
        let ims = c.messengers.iter().map(|m| {
            (
                items::messenger(m.protocol.as_str(), m.username.as_str()),
                m.primary,
            )
        });
        f.set_many(key::MESSENGERS, ims.collect());
    }
    for custom in &mapping.custom_fields {
        // A key listed twice in the CRM: the first entry is the field's value.
        let value = c
            .custom_fields
            .iter()
            .find(|cf| cf.key.as_str() == custom)
            .map_or("", |cf| cf.value.as_str());
        f.set_one(&key::custom(custom), items::multiline(value));
    }
    f.shrink_to_fit();
    f
}

/// Websites and the two profiles share Google's `urls`; they are split by the same rule as on
/// the Google side, applied to the order in which they are written there (profiles first), so a
/// web site typed "Facebook" while the Facebook field is empty is seen as the profile on both.
fn set_urls(f: &mut Fields, c: &Contact, mapping: &FieldMapping) {
    let (vk, fb, web) = (
        mapping.maps(key::VKONTAKTE),
        mapping.maps(key::FACEBOOK),
        mapping.maps(key::WEBSITES),
    );
    let mut urls: Vec<(&str, &str, bool)> = Vec::new();
    if vk && !c.vkontakte.trim().is_empty() {
        urls.push((c.vkontakte.as_str(), VKONTAKTE_URL_TYPE, false));
    }
    if fb && !c.facebook.trim().is_empty() {
        urls.push((c.facebook.as_str(), FACEBOOK_URL_TYPE, false));
    }
    if web {
        urls.extend(
            c.websites
                .iter()
                .map(|w| (w.value.as_str(), w.kind.as_str(), w.primary)),
        );
    }
    let slots = items::url_slots(urls.iter().map(|u| u.1), vk, fb);
    let mut websites = Vec::new();
    for ((value, kind, primary), slot) in urls.into_iter().zip(slots) {
        match slot {
            UrlSlot::VKontakte => f.set_one(key::VKONTAKTE, items::text(value)),
            UrlSlot::Facebook => f.set_one(key::FACEBOOK, items::text(value)),
            UrlSlot::Website => websites.push((items::website(value, kind), primary)),
        }
    }
    if web {
        f.set_many(key::WEBSITES, websites);
    }
}

fn address_parts(a: &Address) -> AddressParts<'_> {
    AddressParts {
        kind: a.kind.as_str(),
        street: a.street.as_str(),
        extended: a.extended.as_str(),
        po_box: a.po_box.as_str(),
        city: a.city.as_str(),
        region: a.region.as_str(),
        postal_code: a.postal_code.as_str(),
        country: a.country.as_str(),
        country_code: a.country_code.as_str(),
    }
}

/// `base` with its mapped fields set from `fields` (absent = cleared); its id, `updated_at_ms`,
/// unmapped fields and unmapped custom fields are kept.
pub fn fields_to_contact(fields: &Fields, base: &Contact, mapping: &FieldMapping) -> Contact {
    let mut c = base.clone();
    let maps = |k: &str| mapping.maps(k);
    let s = |v: &str| RString::from(v);
    let one = |k: &str| RString::from(fields.one_value(k, VALUE));
    if maps(key::NAME) {
        let part = |p: &str| RString::from(fields.one_value(key::NAME, p));
        c.name = PersonName {
            prefix: part("prefix"),
            given: part("given"),
            middle: part("middle"),
            family: part("family"),
            suffix: part("suffix"),
        };
    }
    if maps(key::EMAILS) {
        let existing: Vec<String> = base
            .emails
            .iter()
            .map(|e| items::email(e.value.as_str(), "").key)
            .collect();
        c.emails = typed_values(fields.items(key::EMAILS), &existing);
    }
    if maps(key::PHONES) {
        let existing: Vec<String> = base
            .phones
            .iter()
            .map(|p| items::phone(p.value.as_str(), "").key)
            .collect();
        c.phones = typed_values(fields.items(key::PHONES), &existing);
    }
    if maps(key::GENDER) {
        c.gender = one(key::GENDER);
    }
    if maps(key::BIRTHDAY) {
        c.birthday = fields.one(key::BIRTHDAY).and_then(birthday).into();
    }
    if maps(key::NOTES) {
        c.notes = one(key::NOTES);
    }
    if maps(key::POSITION) {
        c.position = one(key::POSITION);
    }
    if maps(key::COMPANY) {
        c.company = one(key::COMPANY);
    }
    if maps(key::ADDRESSES) {
        let existing: Vec<String> = base
            .addresses
            .iter()
            .map(|a| items::address(&address_parts(a)).key)
            .collect();
        c.addresses = items::write_order(fields.items(key::ADDRESSES), &existing)
            .into_iter()
            .map(|i| Address {
                kind: s(i.get(TYPE)),
                street: s(i.get("street")),
                extended: s(i.get("extended")),
                po_box: s(i.get("po_box")),
                city: s(i.get("city")),
                region: s(i.get("region")),
                postal_code: s(i.get("postal_code")),
                country: s(i.get("country")),
                country_code: s(i.get("country_code")),
                primary: i.is_primary(),
            })
            .collect();
    }
    if maps(key::WEBSITES) {
        let existing: Vec<String> = base
            .websites
            .iter()
            .map(|w| items::website(w.value.as_str(), "").key)
            .collect();
        c.websites = typed_values(fields.items(key::WEBSITES), &existing);
    }
    if maps(key::VKONTAKTE) {
        c.vkontakte = one(key::VKONTAKTE);
    }
    if maps(key::FACEBOOK) {
        c.facebook = one(key::FACEBOOK);
    }
    if maps(key::MESSENGERS) {
        let existing: Vec<String> = base
            .messengers
            .iter()
            .map(|m| items::messenger(m.protocol.as_str(), m.username.as_str()).key)
            .collect();
        c.messengers = items::write_order(fields.items(key::MESSENGERS), &existing)
            .into_iter()
            .map(|i| Messenger {
                protocol: s(i.get("protocol")),
                username: s(i.get("username")),
                primary: i.is_primary(),
            })
            .collect();
    }
    for custom in &mapping.custom_fields {
        let value = fields.one_value(&key::custom(custom), VALUE);
        match c.custom_fields.iter_mut().find(|cf| cf.key.as_str() == custom) {
            Some(cf) => cf.value = s(value),
            // The label is the CRM's to know; the host fills it in for its own field keys.
            None if !value.is_empty() => c.custom_fields.push(CustomField {
                key: s(custom),
                label: RString::new(),
                value: s(value),
            }),
            None => {}
        }
    }
    c
}

fn typed_values(items: &[Item], existing_keys: &[String]) -> RVec<TypedValue> {
    items::write_order(items, existing_keys)
        .into_iter()
        .map(|i| TypedValue {
            value: RString::from(i.get(VALUE)),
            kind: RString::from(i.get(TYPE)),
            primary: i.is_primary(),
        })
        .collect()
}

fn birthday(item: &Item) -> Option<Birthday> {
    Some(Birthday {
        year: item.get("year").parse::<u16>().ok().filter(|y| *y > 0).into(),
        month: item.get("month").parse().ok()?,
        day: item.get("day").parse().ok()?,
    })
}
