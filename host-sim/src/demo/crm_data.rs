//! The demo's CRM: a sales manager on a paid plan, a colleague, and N contacts with varied,
//! realistic-looking names, companies, emails and phones. Everything derives from a fixed seed
//! so two runs of the demo tell the same story with the same people.

use std::collections::HashSet;

use abi::{Contact, ContactId, ContactsPermission, CustomField, PersonName, SavedFilter, TypedValue, User};
use abi_stable::std_types::RVec;

use crate::crm::Visibility;
use crate::Sim;

/// The segment the saved filter selects; about half of the contacts are in it.
pub const KEY_SEGMENT: &str = "key";
pub const FILTER_NAME: &str = "Key clients";

const GIVEN: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Sofia", "Mateo", "Amara", "Kenji", "Priya", "Lucas", "Chloé", "Jonas",
    "Aisha", "Diego", "Hannah", "Tomasz", "Yuki", "Omar", "Ingrid", "Rafael", "Mei", "Samuel", "Zara",
    "Felix", "Leila", "Arjun", "Nora", "Elena", "Kwame", "Isabel", "Viktor", "Grace", "Hugo", "Anika",
    "Pedro", "Freya", "Malik", "Clara", "Tariq", "Julia",
];
const FAMILY: &[&str] = &[
    "Novak",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Silva",
    "Kowalski",
    "Haddad",
    "Fischer",
    "O'Brien",
    "Garcia",
    "Nguyen",
    "Rossi",
    "Petrov",
    "Mensah",
    "Bergstrom",
    "Chen",
    "Dubois",
    "Patel",
    "Andersen",
    "Yilmaz",
    "Costa",
    "Schneider",
    "Murphy",
    "Ivanova",
    "Sato",
    "Khan",
    "Jensen",
    "Romano",
    "Ortiz",
    "Weber",
    "Adeyemi",
    "Larsen",
    "Fontaine",
    "Kim",
    "Horvat",
    "Santos",
    "Berg",
    "Walsh",
    "Nakamura",
];
/// (company, email domain, country dialling prefix, area codes)
const COMPANIES: &[(&str, &str, &str, &[&str])] = &[
    (
        "Northwind Traders",
        "northwind.example",
        "+1",
        &["212", "646", "917"],
    ),
    (
        "Blue Harbor Logistics",
        "blueharbor.example",
        "+1",
        &["415", "510", "650"],
    ),
    ("Fjord Analytics", "fjord-analytics.example", "+47", &["22", "55"]),
    ("Maison Lumière", "maisonlumiere.example", "+33", &["1", "4"]),
    ("Kestrel Robotics", "kestrel.example", "+49", &["30", "89"]),
    ("Saffron & Co", "saffron.example", "+44", &["20", "161"]),
    ("Tidewater Energy", "tidewater.example", "+1", &["713", "832"]),
    ("Pampas Agro", "pampas-agro.example", "+54", &["11"]),
    ("Sakura Devices", "sakura-devices.example", "+81", &["3", "6"]),
    ("Vistula Software", "vistula.example", "+48", &["22", "12"]),
    ("Atlas Medical", "atlasmed.example", "+1", &["617", "857"]),
    ("Cedar Ridge Capital", "cedarridge.example", "+1", &["303", "720"]),
    ("Lagos Fintech Hub", "lagosfintech.example", "+234", &["1"]),
    ("Aurora Hotels", "aurorahotels.example", "+354", &["5"]),
    ("Meridian Foods", "meridianfoods.example", "+39", &["02", "06"]),
    ("Helix Biotech", "helixbio.example", "+41", &["44", "61"]),
    ("Copperline Telecom", "copperline.example", "+61", &["2", "3"]),
    ("Granite Works", "graniteworks.example", "+1", &["206", "425"]),
];
const POSITIONS: &[&str] = &[
    "Head of Procurement",
    "Purchasing Manager",
    "CTO",
    "Operations Director",
    "Account Executive",
    "Finance Director",
    "Office Manager",
    "VP Sales",
    "IT Manager",
    "Founder & CEO",
    "Buyer",
    "Partnerships Lead",
];
const OTHER_SEGMENTS: &[&str] = &["prospect", "partner", "former"];

/// Who and what the demo's CRM holds.
pub struct DemoCrm {
    pub manager: User,
    pub colleague: User,
    pub filter: SavedFilter,
    /// The contacts the filter selects *for the manager*: what the first sync must bring to Google.
    pub key_visible: Vec<ContactId>,
}

/// SplitMix64: a few lines, fully determined by the seed and never changed by a dependency
/// upgrade (unlike `rand`'s `StdRng`), so the demo's people stay the same across releases.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Lower-case ASCII for an email local part ("Chloé O'Brien" → "chloe.obrien").
fn email_part(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'é' | 'è' | 'ê' => Some('e'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The contact number `index`, deterministic for a given seed state.
fn person(rng: &mut Seeded, index: usize, used_emails: &mut HashSet<String>) -> Contact {
    let given = *rng.pick(GIVEN);
    let family = *rng.pick(FAMILY);
    let (company, domain, country, areas) = *rng.pick(COMPANIES);
    let mut local = format!("{}.{}", email_part(given), email_part(family));
    // Namesakes at the same company get a number, as mail admins do.
    let mut n = 1;
    while !used_emails.insert(format!("{local}@{domain}")) {
        n += 1;
        local = format!("{}.{}{n}", email_part(given), email_part(family));
    }
    let area = *rng.pick(areas);
    // The contact's index makes the line unique, so no two contacts share a phone number
    // (the plugin matches existing Google contacts by phone too).
    let phone = format!(
        "{country} {area} {:03} {:04}",
        200 + index / 10_000 % 800,
        index % 10_000
    );
    let mut emails = vec![TypedValue {
        value: format!("{local}@{domain}").into(),
        kind: "work".into(),
        primary: true,
    }];
    if rng.chance(20) {
        let personal = format!("{}{}@mail.example", email_part(given), 10 + rng.below(89));
        if used_emails.insert(personal.clone()) {
            emails.push(TypedValue {
                value: personal.into(),
                kind: "home".into(),
                primary: false,
            });
        }
    }
    let segment = if rng.chance(50) {
        KEY_SEGMENT
    } else {
        *rng.pick(OTHER_SEGMENTS)
    };
    Contact {
        name: PersonName {
            given: given.into(),
            family: family.into(),
            ..Default::default()
        },
        emails: RVec::from(emails),
        phones: RVec::from(vec![TypedValue {
            value: phone.into(),
            kind: "work".into(),
            primary: true,
        }]),
        company: company.into(),
        position: (*rng.pick(POSITIONS)).into(),
        custom_fields: RVec::from(vec![CustomField {
            key: "segment".into(),
            label: "Segment".into(),
            value: segment.into(),
        }]),
        ..Default::default()
    }
}

/// Creates the users, `contacts` contacts and the "Key clients" filter in `sim`'s CRM.
pub fn build(sim: &Sim, contacts: usize) -> Result<DemoCrm, String> {
    let crm_error = |e: crate::crm::CrmError| format!("The demo CRM could not be built: {e}");
    let crm = sim.crm();
    let manager = crm
        .add_user(
            "Dana Whitfield",
            &[abi::FEATURE_GOOGLE_CONTACTS],
            ContactsPermission::Edit,
            &[],
        )
        .map_err(crm_error)?;
    // The colleague's plan lacks the feature: only the manager syncs.
    let colleague = crm
        .add_user("Marco Rinaldi", &[], ContactsPermission::Edit, &[])
        .map_err(crm_error)?;

    let mut rng = Seeded(0x00C0_FFEE_2026);
    let mut used_emails = HashSet::new();
    for index in 0..contacts {
        let contact = person(&mut rng, index, &mut used_emails);
        // About one contact in ten belongs to the colleague, and a third of those are private
        // to him: key clients the manager cannot see must not reach her Google account.
        let (owner, visibility) = if rng.chance(10) {
            (
                colleague.id,
                if rng.chance(33) {
                    Visibility::Owner
                } else {
                    Visibility::Everyone
                },
            )
        } else {
            (manager.id, Visibility::Everyone)
        };
        sim.create_contact(owner, contact, visibility)
            .map_err(crm_error)?;
    }

    let filter = sim
        .save_filter(SavedFilter {
            id: abi::FilterId(0),
            name: FILTER_NAME.into(),
            author: manager.id,
            saved: true,
            criteria: RVec::from(vec![abi::Criterion {
                field: "custom:segment".into(),
                op: "equals".into(),
                value: KEY_SEGMENT.into(),
            }]),
        })
        .map_err(crm_error)?;
    let mut key_visible = Vec::new();
    let mut after = ContactId(0);
    loop {
        let page = crm
            .filter_contacts(filter.id, manager.id, after, 1000)
            .map_err(crm_error)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        key_visible.extend(page.iter().map(|c| c.id));
    }
    Ok(DemoCrm {
        manager,
        colleague,
        filter,
        key_visible,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_people() {
        let make = || {
            let mut rng = Seeded(7);
            let mut used = HashSet::new();
            (0..50)
                .map(|i| person(&mut rng, i, &mut used))
                .collect::<Vec<_>>()
        };
        assert_eq!(make(), make());
    }

    #[test]
    fn emails_and_phones_are_unique_and_about_half_are_key() {
        let mut rng = Seeded(1);
        let mut used = HashSet::new();
        let people: Vec<Contact> = (0..3000).map(|i| person(&mut rng, i, &mut used)).collect();
        let emails: HashSet<_> = people.iter().map(|c| c.emails[0].value.clone()).collect();
        let phones: HashSet<_> = people.iter().map(|c| c.phones[0].value.clone()).collect();
        assert_eq!(emails.len(), 3000);
        assert_eq!(phones.len(), 3000);
        let key = people
            .iter()
            .filter(|c| c.custom_fields[0].value.as_str() == KEY_SEGMENT)
            .count();
        assert!((1300..1700).contains(&key), "{key}");
    }

    #[test]
    fn email_parts_are_plain_ascii() {
        assert_eq!(email_part("Chloé"), "chloe");
        assert_eq!(email_part("O'Brien"), "obrien");
    }
}
