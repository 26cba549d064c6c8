//! One contact as the simulation sees it on either side: a Google person (JSON from the fake's
//! control API) is read into an `abi::Contact`, so that both sides are edited by the same code
//! and compared as the same *slots*: one string per thing a user can change (a name part, a
//! field, one e-mail's type, which e-mail is primary, …). An absent slot is the empty string.

use std::collections::BTreeMap;

use abi::{Address, Birthday, Contact, CustomField, Messenger, PersonName, TypedValue};
use abi_stable::std_types::{ROption, RString, RVec};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Value};

/// The custom CRM field the simulation maps to Google's `userDefined`.
pub const CUSTOM: &str = "tier";
const VKONTAKTE: &str = "VKontakte";
const FACEBOOK: &str = "Facebook";

pub type Slots = BTreeMap<String, String>;

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

fn primary(v: &Value) -> bool {
    v["metadata"]["primary"].as_bool().unwrap_or(false)
}

/// Google's person, in the CRM's shape (only what the plugin maps).
pub fn from_google(p: &Value) -> Contact {
    let list = |k: &str| p[k].as_array().cloned().unwrap_or_default();
    let name = &p["names"][0];
    let typed = |k: &str| -> RVec<TypedValue> {
        list(k)
            .iter()
            .map(|e| TypedValue {
                value: s(&e["value"]).into(),
                kind: s(&e["type"]).into(),
                primary: primary(e),
            })
            .collect()
    };
    let urls = list("urls");
    let url_of = |kind: &str| {
        urls.iter()
            .find(|u| u["type"] == kind)
            .map(|u| s(&u["value"]))
            .unwrap_or_default()
    };
    let date = &p["birthdays"][0]["date"];
    let birthday = date["month"].as_u64().map(|month| Birthday {
        year: match date["year"].as_u64() {
            Some(y) if y > 0 => ROption::RSome(y as u16),
            _ => ROption::RNone,
        },
        month: month as u8,
        day: date["day"].as_u64().unwrap_or(0) as u8,
    });
    Contact {
        name: PersonName {
            prefix: s(&name["honorificPrefix"]).into(),
            given: s(&name["givenName"]).into(),
            middle: s(&name["middleName"]).into(),
            family: s(&name["familyName"]).into(),
            suffix: s(&name["honorificSuffix"]).into(),
        },
        emails: typed("emailAddresses"),
        phones: typed("phoneNumbers"),
        gender: s(&p["genders"][0]["value"]).into(),
        birthday: birthday.into(),
        notes: s(&p["biographies"][0]["value"]).into(),
        position: s(&p["organizations"][0]["title"]).into(),
        company: s(&p["organizations"][0]["name"]).into(),
        addresses: list("addresses")
            .iter()
            .map(|a| Address {
                kind: s(&a["type"]).into(),
                street: s(&a["streetAddress"]).into(),
                city: s(&a["city"]).into(),
                primary: primary(a),
                ..Address::default()
            })
            .collect(),
        websites: urls
            .iter()
            .filter(|u| u["type"] != VKONTAKTE && u["type"] != FACEBOOK)
            .map(|u| TypedValue {
                value: s(&u["value"]).into(),
                kind: s(&u["type"]).into(),
                primary: primary(u),
            })
            .collect(),
        vkontakte: url_of(VKONTAKTE).into(),
        facebook: url_of(FACEBOOK).into(),
        messengers: list("imClients")
            .iter()
            .map(|m| Messenger {
                protocol: s(&m["protocol"]).into(),
                username: s(&m["username"]).into(),
                primary: primary(m),
            })
            .collect(),
        custom_fields: list("userDefined")
            .iter()
            .filter(|u| u["key"] == CUSTOM)
            .map(|u| CustomField {
                key: CUSTOM.into(),
                label: CUSTOM.into(),
                value: s(&u["value"]).into(),
            })
            .collect(),
        ..Contact::default()
    }
}

/// The patch that gives a Google person the mapped fields of `c` (as a user typing them in
/// Google's web UI would): every mapped field, so unchanged ones are written as they were.
pub fn to_google(c: &Contact) -> Value {
    let typed = |items: &RVec<TypedValue>| -> Vec<Value> {
        items
            .iter()
            .map(|t| {
                let mut v = json!({"value": t.value.as_str(), "type": t.kind.as_str()});
                if t.primary {
                    v["metadata"] = json!({"primary": true});
                }
                v
            })
            .collect()
    };
    let mut urls = Vec::new();
    if !c.vkontakte.is_empty() {
        urls.push(json!({"value": c.vkontakte.as_str(), "type": VKONTAKTE}));
    }
    if !c.facebook.is_empty() {
        urls.push(json!({"value": c.facebook.as_str(), "type": FACEBOOK}));
    }
    urls.extend(typed(&c.websites));
    let one = |v: Value, present: bool| if present { json!([v]) } else { json!([]) };
    let n = &c.name;
    let birthday = c.birthday.into_option().map(|b| {
        let mut date = json!({"month": b.month, "day": b.day});
        if let ROption::RSome(y) = b.year {
            date["year"] = json!(y);
        }
        json!([{"date": date}])
    });
    json!({
        "names": [{
            "honorificPrefix": n.prefix.as_str(), "givenName": n.given.as_str(),
            "middleName": n.middle.as_str(), "familyName": n.family.as_str(),
            "honorificSuffix": n.suffix.as_str(),
        }],
        "emailAddresses": typed(&c.emails),
        "phoneNumbers": typed(&c.phones),
        "genders": one(json!({"value": c.gender.as_str()}), !c.gender.is_empty()),
        "birthdays": birthday.unwrap_or_else(|| json!([])),
        "biographies": one(
            json!({"value": c.notes.as_str(), "contentType": "TEXT_PLAIN"}),
            !c.notes.is_empty()
        ),
        "organizations": one(
            json!({"title": c.position.as_str(), "name": c.company.as_str()}),
            !(c.position.is_empty() && c.company.is_empty())
        ),
        "addresses": c.addresses.iter().map(|a| {
            let mut v = json!({"type": a.kind.as_str(), "streetAddress": a.street.as_str(), "city": a.city.as_str()});
            if a.primary {
                v["metadata"] = json!({"primary": true});
            }
            v
        }).collect::<Vec<_>>(),
        "urls": urls,
        "imClients": c.messengers.iter().map(|m| json!({"protocol": m.protocol.as_str(), "username": m.username.as_str()})).collect::<Vec<_>>(),
        "userDefined": c.custom_fields.iter().filter(|f| f.key.as_str() == CUSTOM && !f.value.is_empty())
            .map(|f| json!({"key": CUSTOM, "value": f.value.as_str()})).collect::<Vec<_>>(),
    })
}

/// The primary element of a list: the one marked, else the first (as Google does).
fn primary_of<'a>(values: impl Iterator<Item = (&'a str, bool)> + Clone) -> Option<&'a str> {
    values
        .clone()
        .find(|(_, p)| *p)
        .or(values.clone().next())
        .map(|(v, _)| v)
}

/// Every slot of a contact, empty ones left out.
pub fn slots(c: &Contact) -> Slots {
    let mut out = Slots::new();
    let mut put = |k: String, v: &str| {
        if !v.is_empty() {
            out.insert(k, v.to_string());
        }
    };
    put("name.prefix".into(), &c.name.prefix);
    put("name.middle".into(), &c.name.middle);
    put("name.family".into(), &c.name.family);
    put("name.suffix".into(), &c.name.suffix);
    put("notes".into(), &c.notes);
    put("position".into(), &c.position);
    put("company".into(), &c.company);
    put("gender".into(), &c.gender);
    put("vkontakte".into(), &c.vkontakte);
    put("facebook".into(), &c.facebook);
    if let Some(b) = c.birthday.into_option() {
        let year = b
            .year
            .into_option()
            .map(|y| y.to_string())
            .unwrap_or_else(|| "-".into());
        put("birthday".into(), &format!("{year}-{:02}-{:02}", b.month, b.day));
    }
    for f in c.custom_fields.iter().filter(|f| f.key.as_str() == CUSTOM) {
        put(format!("custom:{CUSTOM}"), &f.value);
    }
    for e in c.emails.iter() {
        put(format!("email:{}", e.value.to_lowercase()), kind(&e.kind));
    }
    let emails = c.emails.iter().map(|e| (e.value.as_str(), e.primary));
    if let Some(p) = primary_of(emails) {
        put("email*".into(), &p.to_lowercase());
    }
    for p in c.phones.iter() {
        put(format!("phone:{}", p.value), kind(&p.kind));
    }
    if let Some(p) = primary_of(c.phones.iter().map(|e| (e.value.as_str(), e.primary))) {
        put("phone*".into(), p);
    }
    for w in c.websites.iter() {
        put(format!("web:{}", w.value), kind(&w.kind));
    }
    for m in c.messengers.iter() {
        put(format!("im:{}:{}", m.protocol, m.username), "yes");
    }
    for a in c.addresses.iter() {
        put(format!("address:{}|{}", a.street, a.city), kind(&a.kind));
    }
    out
}

/// A type as compared: an untyped value shows as "other" nowhere, so empty stays a value.
fn kind(k: &str) -> &str {
    if k.is_empty() {
        "(none)"
    } else {
        k
    }
}

/// The slot changes from `before` to `after`: (slot, new value, empty when removed).
pub fn diff(before: &Slots, after: &Slots) -> Vec<(String, String)> {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| (k.clone(), after.get(k).cloned().unwrap_or_default()))
        .collect()
}

fn text(rng: &mut StdRng, tag: &str, step: usize) -> RString {
    // Clearing is rarer than editing.
    if rng.gen_bool(0.1) {
        RString::new()
    } else {
        format!("{tag}{step}").into()
    }
}

/// Picks an element of a list to work on.
fn pick<T>(rng: &mut StdRng, items: &RVec<T>) -> Option<usize> {
    (!items.is_empty()).then(|| rng.gen_range(0..items.len()))
}

const EMAIL_KINDS: &[&str] = &["work", "home", "other"];
const PHONE_KINDS: &[&str] = &["mobile", "work", "home"];
const WEB_KINDS: &[&str] = &["work", "blog", "home"];

/// One random user edit of one mapped field. Returns what it did, for the operations log.
pub fn edit(rng: &mut StdRng, c: &mut Contact, step: usize) -> String {
    let k = |rng: &mut StdRng, kinds: &[&str]| RString::from(kinds[rng.gen_range(0..kinds.len())]);
    match rng.gen_range(0..20) {
        0 => {
            let part = ["prefix", "middle", "family", "suffix"][rng.gen_range(0..4)];
            let v = text(rng, &format!("{part}-"), step);
            let n = &mut c.name;
            *match part {
                "prefix" => &mut n.prefix,
                "middle" => &mut n.middle,
                "family" => &mut n.family,
                _ => &mut n.suffix,
            } = v;
            format!("name.{part}")
        }
        1 => {
            c.notes = text(rng, "notes-", step);
            "notes".into()
        }
        2 => {
            c.position = text(rng, "position-", step);
            "position".into()
        }
        3 => {
            c.company = text(rng, "company-", step);
            "company".into()
        }
        4 => {
            c.vkontakte = format!("https://vk.com/id{step}").into();
            "vkontakte".into()
        }
        5 => {
            c.facebook = format!("https://facebook.com/p{step}").into();
            "facebook".into()
        }
        6 => {
            let v = text(rng, "tier-", step);
            c.custom_fields.retain(|f| f.key.as_str() != CUSTOM);
            if !v.is_empty() {
                c.custom_fields.push(CustomField {
                    key: CUSTOM.into(),
                    label: "Tier".into(),
                    value: v,
                });
            }
            "custom tier".into()
        }
        7 => {
            c.gender = ["male", "female", ""][rng.gen_range(0..3)].into();
            "gender".into()
        }
        8 => {
            let (month, day) = (rng.gen_range(1..13u8), rng.gen_range(1..29u8));
            c.birthday = match rng.gen_range(0..5) {
                0 => ROption::RNone,
                1 | 2 => ROption::RSome(Birthday {
                    year: ROption::RNone,
                    month,
                    day,
                }),
                _ => ROption::RSome(Birthday {
                    year: ROption::RSome(rng.gen_range(1950..2010)),
                    month,
                    day,
                }),
            };
            "birthday".into()
        }
        9 | 10 => {
            let kind = k(rng, EMAIL_KINDS);
            list_edit(
                rng,
                &mut c.emails,
                || TypedValue {
                    value: format!("e{step}@example.com").into(),
                    kind: kind.clone(),
                    primary: false,
                },
                |t, rng| t.kind = k(rng, EMAIL_KINDS),
                |t| Some(&mut t.primary),
                "email",
            )
        }
        11 | 12 => {
            let kind = k(rng, PHONE_KINDS);
            list_edit(
                rng,
                &mut c.phones,
                || TypedValue {
                    value: format!("+1555{:07}", step).into(),
                    kind: kind.clone(),
                    primary: false,
                },
                |t, rng| t.kind = k(rng, PHONE_KINDS),
                |t| Some(&mut t.primary),
                "phone",
            )
        }
        13 | 14 => {
            let kind = k(rng, WEB_KINDS);
            list_edit(
                rng,
                &mut c.websites,
                || TypedValue {
                    value: format!("https://site{step}.example.com").into(),
                    kind: kind.clone(),
                    primary: false,
                },
                |t, rng| t.kind = k(rng, WEB_KINDS),
                |_| None,
                "website",
            )
        }
        15 | 16 => {
            let protocol = ["skype", "telegram"][rng.gen_range(0..2)];
            list_edit(
                rng,
                &mut c.messengers,
                || Messenger {
                    protocol: protocol.into(),
                    username: format!("user{step}").into(),
                    primary: false,
                },
                |_, _| {},
                |_| None,
                "messenger",
            )
        }
        _ => list_edit(
            rng,
            &mut c.addresses,
            || Address {
                kind: "home".into(),
                street: format!("{step} Main St").into(),
                city: "Springfield".into(),
                ..Address::default()
            },
            |a, rng| a.kind = ["home", "work", "other"][rng.gen_range(0..3)].into(),
            |_| None,
            "address",
        ),
    }
}

/// Adds, removes, retypes or makes primary one element of a multi-valued field.
fn list_edit<T>(
    rng: &mut StdRng,
    items: &mut RVec<T>,
    new: impl FnOnce() -> T,
    retype: impl Fn(&mut T, &mut StdRng),
    primary: impl Fn(&mut T) -> Option<&mut bool>,
    what: &str,
) -> String {
    let has_primary = items.first_mut().is_some_and(|i| primary(i).is_some());
    match (rng.gen_range(0..4), pick(rng, items)) {
        (1, Some(i)) => {
            items.remove(i);
            format!("{what} removed")
        }
        (2, Some(i)) => {
            retype(&mut items[i], rng);
            format!("{what} retyped")
        }
        (3, Some(i)) if has_primary => {
            for (j, item) in items.iter_mut().enumerate() {
                if let Some(p) = primary(item) {
                    *p = j == i;
                }
            }
            format!("{what} made primary")
        }
        _ => {
            items.push(new());
            format!("{what} added")
        }
    }
}

/// `count` extra e-mails or phones, for contacts larger than a listing shows.
pub fn many(c: &mut Contact, label: &str, count: usize, phones: bool) {
    for i in 0..count {
        if phones {
            c.phones.push(TypedValue {
                value: format!("+1444{:03}{:04}", number(label) % 1000, i).into(),
                kind: "work".into(),
                primary: false,
            });
        } else {
            c.emails.push(TypedValue {
                value: format!("{}.{i}@bulk.example.org", label.to_lowercase()).into(),
                kind: "other".into(),
                primary: false,
            });
        }
    }
}

fn number(label: &str) -> usize {
    label
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0)
}
