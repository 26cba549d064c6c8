//! Field-level three-way merge of [`Fields`] against the synced base.
//!
//! For each field: unchanged on one side → the other side's value; changed on both sides to
//! different values → a conflict, settled by the policy. Multi-valued fields merge element by
//! element (an email added in the CRM and a phone added in Google both survive; an email added
//! on each side gives two emails). An empty value never wins a conflict against a real one.

use std::collections::{BTreeMap, BTreeSet};

use crate::mapping::fields::PRIMARY;
use crate::mapping::key::NAME;
use crate::mapping::{FieldValue, Fields, Item};

/// Which side wins a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    Crm,
    Google,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub fields: Fields,
    /// Keys of the fields that had a conflict.
    pub conflicts: Vec<String>,
}

pub fn merge(base: &Fields, crm: &Fields, google: &Fields, winner: Winner) -> Merged {
    let keys: BTreeSet<&String> = base.0.keys().chain(crm.0.keys()).chain(google.0.keys()).collect();
    let mut fields = litemap::LiteMap::new();
    let mut conflicts = Vec::new();
    for key in keys {
        let (b, c, g) = (base.0.get(key), crm.0.get(key), google.0.get(key));
        let many = [b, c, g]
            .iter()
            .flatten()
            .any(|v| matches!(v, FieldValue::Many(_)));
        let value = if key == NAME && !many {
            // The parts of a name are separate edits to users: a middle name added in the CRM
            // and a family name changed in Google both stay.
            merge_parts(b, c, g, winner, &mut || conflicts.push(key.clone()))
        } else if many {
            merge_many(items(b), items(c), items(g), winner, &mut || {
                conflicts.push(key.clone())
            })
        } else {
            merge_one(b, c, g, winner, &mut || conflicts.push(key.clone())).cloned()
        };
        if let Some(value) = value {
            fields.insert(key.clone(), value);
        }
    }
    let mut fields = Fields(fields);
    fields.shrink_to_fit();
    Merged { fields, conflicts }
}

fn items(value: Option<&FieldValue>) -> BTreeMap<&str, &Item> {
    value
        .map(|v| v.items().iter().map(|i| (i.key.as_str(), i)).collect())
        .unwrap_or_default()
}

/// Three-way choice for one value; `None` means absent.
fn choose<'a, T: PartialEq + ?Sized>(
    b: Option<&'a T>,
    c: Option<&'a T>,
    g: Option<&'a T>,
    winner: Winner,
    conflict: &mut dyn FnMut(),
) -> Option<&'a T> {
    if c == g {
        return c;
    }
    if c == b {
        return g;
    }
    if g == b {
        return c;
    }
    conflict();
    match (c, g) {
        // An empty value on the losing side never erases the winner's, and an empty winner
        // never erases a real value either: clearing loses to editing.
        (None, _) => g,
        (_, None) => c,
        _ => match winner {
            Winner::Crm => c,
            Winner::Google => g,
        },
    }
}

/// Three-way merge of a single-valued field part by part; one conflict at most is reported.
fn merge_parts(
    b: Option<&FieldValue>,
    c: Option<&FieldValue>,
    g: Option<&FieldValue>,
    winner: Winner,
    conflict: &mut dyn FnMut(),
) -> Option<FieldValue> {
    let item = |v: Option<&FieldValue>| v.and_then(|v| v.items().first().cloned());
    let (bi, ci, gi) = (item(b), item(c), item(g));
    let parts: BTreeSet<String> = [&bi, &ci, &gi]
        .into_iter()
        .flatten()
        .flat_map(|i| i.data.iter().map(|(name, _)| name.clone()))
        .collect();
    let part = |i: &Option<Item>, p: &str| i.as_ref().map(|i| i.get(p).to_string()).filter(|v| !v.is_empty());
    let mut had_conflict = false;
    let mut merged = Item::new("");
    for p in &parts {
        let (pb, pc, pg) = (part(&bi, p), part(&ci, p), part(&gi, p));
        if let Some(v) = choose(pb.as_ref(), pc.as_ref(), pg.as_ref(), winner, &mut || {
            had_conflict = true
        }) {
            merged = merged.with(p, v.clone());
        }
    }
    if had_conflict {
        conflict();
    }
    (!merged.data.is_empty()).then_some(FieldValue::One(merged))
}

fn merge_one<'a>(
    b: Option<&'a FieldValue>,
    c: Option<&'a FieldValue>,
    g: Option<&'a FieldValue>,
    winner: Winner,
    conflict: &mut dyn FnMut(),
) -> Option<&'a FieldValue> {
    choose(b, c, g, winner, conflict)
}

fn merge_many(
    b: BTreeMap<&str, &Item>,
    c: BTreeMap<&str, &Item>,
    g: BTreeMap<&str, &Item>,
    winner: Winner,
    conflict: &mut dyn FnMut(),
) -> Option<FieldValue> {
    let keys: BTreeSet<&str> = b.keys().chain(c.keys()).chain(g.keys()).copied().collect();
    let mut had_conflict = false;
    let mut merged: Vec<Item> = Vec::new();
    for key in keys {
        let (bi, ci, gi) = (b.get(key).copied(), c.get(key).copied(), g.get(key).copied());
        // Compare elements without their primary flag: which one is primary is decided for the
        // whole list below.
        let strip = |i: Option<&Item>| i.map(without_primary);
        let (bs, cs, gs) = (strip(bi), strip(ci), strip(gi));
        let chosen = if cs == gs {
            cs
        } else if cs == bs {
            // Removed in Google while unchanged in the CRM: removed. Likewise the other way.
            gs
        } else if gs == bs {
            cs
        } else {
            had_conflict = true;
            match (&cs, &gs) {
                (None, _) => gs,
                (_, None) => cs,
                _ => match winner {
                    Winner::Crm => cs,
                    Winner::Google => gs,
                },
            }
        };
        if let Some(item) = chosen {
            merged.push(item);
        }
    }
    if had_conflict {
        conflict();
    }
    if merged.is_empty() {
        return None;
    }
    let primary = pick_primary(&b, &c, &g, winner, &merged);
    for item in &mut merged {
        if Some(item.key.as_str()) == primary.as_deref() {
            item.data.insert(PRIMARY.to_string(), "true".to_string());
        }
    }
    Some(FieldValue::Many(merged))
}

fn without_primary(item: &Item) -> Item {
    let mut item = item.clone();
    item.data.remove(PRIMARY);
    item
}

fn primary_of(items: &BTreeMap<&str, &Item>) -> Option<String> {
    items.values().find(|i| i.is_primary()).map(|i| i.key.clone())
}

/// The primary element after a merge: merged like any value, then the first element if the
/// chosen one is gone.
fn pick_primary(
    b: &BTreeMap<&str, &Item>,
    c: &BTreeMap<&str, &Item>,
    g: &BTreeMap<&str, &Item>,
    winner: Winner,
    merged: &[Item],
) -> Option<String> {
    let (pb, pc, pg) = (primary_of(b), primary_of(c), primary_of(g));
    let chosen = choose(pb.as_deref(), pc.as_deref(), pg.as_deref(), winner, &mut || {}).map(str::to_string);
    chosen
        .filter(|k| merged.iter().any(|i| &i.key == k))
        .or_else(|| merged.first().map(|i| i.key.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(key: &str, value: &str) -> (String, FieldValue) {
        (
            key.to_string(),
            FieldValue::One(Item::new("").with("value", value)),
        )
    }

    fn many(key: &str, values: &[&str]) -> (String, FieldValue) {
        let mut items: Vec<Item> = values.iter().map(|v| Item::new(*v).with("value", *v)).collect();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        if let Some(first) = items.iter_mut().find(|i| i.key == values[0]) {
            first.data.insert(PRIMARY.into(), "true".into());
        }
        (key.to_string(), FieldValue::Many(items))
    }

    fn fields(entries: Vec<(String, FieldValue)>) -> Fields {
        Fields(entries.into_iter().collect())
    }

    #[test]
    fn a_change_on_one_side_wins_over_an_unchanged_other_side() {
        let base = fields(vec![one("company", "Acme"), one("position", "CEO")]);
        let crm = fields(vec![one("company", "Acme Ltd"), one("position", "CEO")]);
        let google = fields(vec![one("company", "Acme"), one("position", "CTO")]);
        let m = merge(&base, &crm, &google, Winner::Crm);
        assert_eq!(
            m.fields,
            fields(vec![one("company", "Acme Ltd"), one("position", "CTO")])
        );
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn a_field_changed_on_both_sides_follows_the_policy() {
        let base = fields(vec![one("company", "Acme")]);
        let crm = fields(vec![one("company", "CRM Co")]);
        let google = fields(vec![one("company", "Google Co")]);
        assert_eq!(merge(&base, &crm, &google, Winner::Crm).fields, crm);
        let m = merge(&base, &crm, &google, Winner::Google);
        assert_eq!(m.fields, google);
        assert_eq!(m.conflicts, vec!["company".to_string()]);
    }

    #[test]
    fn an_empty_value_on_the_losing_side_never_erases_the_winners() {
        let base = fields(vec![one("notes", "old")]);
        let crm = fields(vec![]);
        let google = fields(vec![one("notes", "new")]);
        assert_eq!(merge(&base, &crm, &google, Winner::Crm).fields, google);
    }

    #[test]
    fn different_parts_of_a_name_edited_on_both_sides_both_stay() {
        let name = |parts: &[(&str, &str)]| {
            let item = parts.iter().fold(Item::new(""), |i, (k, v)| i.with(k, *v));
            ("name".to_string(), FieldValue::One(item))
        };
        let base = fields(vec![name(&[("given", "Ann"), ("family", "Lee")])]);
        let crm = fields(vec![name(&[
            ("given", "Ann"),
            ("middle", "May"),
            ("family", "Lee"),
        ])]);
        let google = fields(vec![name(&[("given", "Ann"), ("family", "Smith")])]);
        let want = fields(vec![name(&[
            ("given", "Ann"),
            ("middle", "May"),
            ("family", "Smith"),
        ])]);
        for winner in [Winner::Crm, Winner::Google] {
            let m = merge(&base, &crm, &google, winner);
            assert_eq!(m.fields, want);
            assert!(m.conflicts.is_empty());
        }
        // The same part edited on both sides follows the policy.
        let other = fields(vec![name(&[
            ("given", "Ann"),
            ("middle", "Joy"),
            ("family", "Lee"),
        ])]);
        let m = merge(&base, &crm, &other, Winner::Google);
        assert_eq!(m.fields, other);
        assert_eq!(m.conflicts, vec!["name".to_string()]);
    }

    #[test]
    fn multi_valued_fields_merge_element_by_element() {
        let base = fields(vec![many("emails", &["a@x", "b@x"])]);
        let crm = fields(vec![many("emails", &["a@x", "b@x", "c@x"])]);
        let google = fields(vec![many("emails", &["a@x"])]);
        let m = merge(&base, &crm, &google, Winner::Google);
        assert_eq!(m.fields, fields(vec![many("emails", &["a@x", "c@x"])]));
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn removing_a_field_on_one_side_removes_it() {
        let base = fields(vec![one("notes", "x")]);
        let crm = fields(vec![one("notes", "x")]);
        let google = fields(vec![]);
        assert_eq!(merge(&base, &crm, &google, Winner::Crm).fields, google);
    }

    #[test]
    fn with_no_base_both_sides_are_united() {
        let crm = fields(vec![many("phones", &["+1"]), one("company", "Acme")]);
        let google = fields(vec![many("phones", &["+2"]), one("company", "Acme")]);
        let m = merge(&Fields::default(), &crm, &google, Winner::Crm);
        assert_eq!(m.fields.items("phones").len(), 2);
        assert_eq!(
            m.fields.items("phones").iter().filter(|i| i.is_primary()).count(),
            1
        );
    }
}
