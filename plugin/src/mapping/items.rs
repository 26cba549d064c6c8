//! Builders of normalized [`Item`]s, shared by the CRM side and the Google side so that both
//! reduce the same value to the same item, and the rules both sides use to split shared Google
//! fields (`urls`, `organizations`) into [`Fields`](super::Fields) keys.

use crate::google::person::{self, FieldMetadata, Organization};

use super::fields::Item;
use super::normalize;

pub const VALUE: &str = "value";
pub const TYPE: &str = "type";

/// The Google `type` of the URL holding the VKontakte profile.
pub const VKONTAKTE_URL_TYPE: &str = "VKontakte";
/// The Google `type` of the URL holding the Facebook profile.
pub const FACEBOOK_URL_TYPE: &str = "Facebook";

pub fn name(prefix: &str, given: &str, middle: &str, family: &str, suffix: &str) -> Item {
    Item::new("")
        .with("prefix", normalize::text(prefix))
        .with("given", normalize::text(given))
        .with("middle", normalize::text(middle))
        .with("family", normalize::text(family))
        .with("suffix", normalize::text(suffix))
}

/// A single-line text value (position, company, profile URLs).
pub fn text(value: &str) -> Item {
    Item::new("").with(VALUE, normalize::text(value))
}

/// A multi-line text value (notes, custom fields): line breaks are content.
pub fn multiline(value: &str) -> Item {
    Item::new("").with(VALUE, normalize::multiline(value))
}

pub fn gender(value: &str) -> Item {
    Item::new("").with(VALUE, normalize::kind(value, normalize::GENDERS))
}

/// A birthday; `None` unless month and day form a possible date. `year` 0 means unknown.
pub fn birthday(year: i32, month: i32, day: i32) -> Option<Item> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let year = if (1..=9999).contains(&year) {
        year.to_string()
    } else {
        String::new()
    };
    Some(
        Item::new("")
            .with("year", year)
            .with("month", month.to_string())
            .with("day", day.to_string()),
    )
}

pub fn email(value: &str, kind: &str) -> Item {
    Item::new(normalize::email_key(value))
        .with(VALUE, normalize::text(value))
        .with(TYPE, normalize::kind(kind, normalize::EMAIL_TYPES))
}

pub fn phone(value: &str, kind: &str) -> Item {
    let value = normalize::text(value);
    let key = if value.is_empty() {
        String::new()
    } else {
        normalize::phone_key(&value)
    };
    Item::new(key)
        .with(VALUE, value)
        .with(TYPE, normalize::kind(kind, normalize::PHONE_TYPES))
}

pub fn website(value: &str, kind: &str) -> Item {
    Item::new(normalize::url_key(value))
        .with(VALUE, normalize::text(value))
        .with(TYPE, normalize::kind(kind, normalize::URL_TYPES))
}

pub fn messenger(protocol: &str, username: &str) -> Item {
    let protocol = normalize::kind(protocol, normalize::IM_PROTOCOLS);
    let username = normalize::text(username);
    let key = if username.is_empty() {
        String::new()
    } else {
        format!("{}:{}", protocol.to_lowercase(), username.to_lowercase())
    };
    Item::new(key)
        .with("protocol", protocol)
        .with("username", username)
}

/// The parts of a postal address, as either side stores them.
#[derive(Default)]
pub struct AddressParts<'a> {
    pub kind: &'a str,
    pub street: &'a str,
    pub extended: &'a str,
    pub po_box: &'a str,
    pub city: &'a str,
    pub region: &'a str,
    pub postal_code: &'a str,
    pub country: &'a str,
    pub country_code: &'a str,
}

/// The data keys of an address item's parts, in [`AddressParts`] order (after `type`).
pub const ADDRESS_PARTS: [&str; 8] = [
    "street",
    "extended",
    "po_box",
    "city",
    "region",
    "postal_code",
    "country",
    "country_code",
];

pub fn address(a: &AddressParts) -> Item {
    let parts = [
        normalize::text(a.street),
        normalize::text(a.extended),
        normalize::text(a.po_box),
        normalize::text(a.city),
        normalize::text(a.region),
        normalize::text(a.postal_code),
        normalize::text(a.country),
        normalize::country_code(a.country_code),
    ];
    // The identity is every part, case-insensitively; a JSON array keeps it unambiguous.
    let key = if parts.iter().all(String::is_empty) {
        String::new()
    } else {
        serde_json::to_string(&parts.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>()).unwrap_or_default()
    };
    let mut item = Item::new(key).with(TYPE, normalize::kind(a.kind, normalize::ADDRESS_TYPES));
    for (name, part) in ADDRESS_PARTS.iter().zip(parts) {
        item = item.with(name, part);
    }
    item
}

/// The parts of a Google address.
pub fn google_address_parts(a: &person::Address) -> AddressParts<'_> {
    AddressParts {
        kind: &a.kind,
        street: &a.street_address,
        extended: &a.extended_address,
        po_box: &a.po_box,
        city: &a.city,
        region: &a.region,
        postal_code: &a.postal_code,
        country: &a.country,
        country_code: &a.country_code,
    }
}

/// Which [`Fields`](super::Fields) key a URL belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlSlot {
    VKontakte,
    Facebook,
    Website,
}

/// Splits a list of URL types into slots: the first URL typed `VKontakte` (any case) is the
/// VKontakte profile, the first typed `Facebook` the Facebook profile, when those fields are
/// mapped; everything else is a web site. Both sides apply this same rule to the same order
/// (profiles first, then web sites), so a value lands in the same key on both.
pub fn url_slots<'a>(
    kinds: impl IntoIterator<Item = &'a str>,
    extract_vkontakte: bool,
    extract_facebook: bool,
) -> Vec<UrlSlot> {
    let (mut vk_free, mut fb_free) = (extract_vkontakte, extract_facebook);
    kinds
        .into_iter()
        .map(|kind| {
            let kind = normalize::text(kind);
            if vk_free && kind.eq_ignore_ascii_case(VKONTAKTE_URL_TYPE) {
                vk_free = false;
                UrlSlot::VKontakte
            } else if fb_free && kind.eq_ignore_ascii_case(FACEBOOK_URL_TYPE) {
                fb_free = false;
                UrlSlot::Facebook
            } else {
                UrlSlot::Website
            }
        })
        .collect()
}

/// Whether a field item is the contact's own data, the only data `updateContact` writes. Items of
/// other sources (the person's Google profile, a domain profile) are read-only copies: they are
/// neither mapped nor sent back (sending two names would be rejected: names are singletons).
pub fn is_contact_source(meta: &Option<FieldMetadata>) -> bool {
    match meta.as_ref().and_then(|m| m.source.as_ref()) {
        None => true,
        Some(source) => source.kind.is_empty() || source.kind == "CONTACT",
    }
}

/// The organization holding position and company: the primary one of the contact's own, else
/// the first of them.
pub fn main_organization(orgs: &[Organization]) -> Option<usize> {
    let own = || {
        orgs.iter()
            .enumerate()
            .filter(|(_, o)| is_contact_source(&o.metadata))
    };
    own()
        .find(|(_, o)| FieldMetadata::is_primary(&o.metadata))
        .or_else(|| own().next())
        .map(|(i, _)| i)
}

/// The order in which to write a multi-valued field: the primary item first (Google makes the
/// first item primary), then the items the target already had, in its order (no needless
/// reshuffling for the user), then new ones in key order.
pub fn write_order<'a>(items: &'a [Item], existing_keys: &[String]) -> Vec<&'a Item> {
    let mut ordered: Vec<&Item> = items.iter().collect();
    ordered.sort_by_key(|item| {
        let position = existing_keys
            .iter()
            .position(|k| *k == item.key)
            .unwrap_or(usize::MAX);
        (!item.is_primary(), position)
    });
    ordered
}
