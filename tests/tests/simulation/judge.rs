//! What the simulation expects of each contact: per slot, the value both sides last agreed on
//! and the edits made on each side since, settled by the binding's policy exactly as the
//! product promises it.

use std::collections::BTreeMap;

use crate::person::Slots;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Crm,
    Google,
}

/// The binding's conflict policy, named as the plugin names it.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    CrmWins,
    GoogleWins,
    LatestWins,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::CrmWins => "crm_wins",
            Policy::GoogleWins => "google_wins",
            Policy::LatestWins => "latest_wins",
        }
    }
}

/// One slot not yet agreed on since its last edit.
#[derive(Debug, Clone, Default)]
pub struct Slot {
    /// The value both sides last agreed on ("" = absent; also "" when they never agreed).
    pub base: String,
    /// The last edit made in the CRM since, unless it put the base back.
    pub crm: Option<String>,
    pub google: Option<String>,
    /// An edit made in Google on a contact Google then deleted, which the CRM side did not
    /// have when the contact was created again there: the plugin may still have delivered
    /// it to the CRM (a lagging change listing shows the edit before the deletion) or not
    /// (it saw only the deletion), so the CRM value it joins with is either one.
    pub in_flight: Option<String>,
}

/// One contact of the simulation, by label (its given name on both sides).
#[derive(Debug, Clone, Default)]
pub struct Tracked {
    pub slots: BTreeMap<String, Slot>,
    /// The contact's last update time on each side as the plugin gets it (the CRM's
    /// `updated_at_ms`, Google's `updateTime`): what `latest_wins` compares.
    pub crm_time: i64,
    pub google_time: i64,
    /// Taken out of the group or deleted in Google, and not put back.
    pub excluded: bool,
    /// Why this contact cannot be judged, if it cannot (by construction, decided when it
    /// happens, never from the outcome).
    pub unjudged: Option<&'static str>,
    /// Put back into the group (or created again) in Google and not yet joined by the plugin.
    pub rejoining: bool,
    /// Created again in Google: the join has no synced base, so an edit made before it is
    /// settled against the other side's value by the policy, as the product documents for any
    /// matched contact. (A contact put back into the group rejoins with its last synced base:
    /// edits made meanwhile are edits like any other.)
    pub unbased: bool,
}

impl Tracked {
    /// An edit on `side` that changed `before` into `after`, at `at` (that side's clock).
    pub fn record(&mut self, side: Side, before: &Slots, after: &Slots, at: i64) {
        for (key, value) in crate::person::diff(before, after) {
            let slot = self.slots.entry(key.clone()).or_insert_with(|| Slot {
                base: before.get(&key).cloned().unwrap_or_default(),
                ..Slot::default()
            });
            // An edit that puts the agreed value back is no change to the plugin.
            let edit = (value != slot.base).then_some(value);
            match side {
                Side::Crm => slot.crm = edit,
                Side::Google => slot.google = edit,
            }
        }
        match side {
            Side::Crm => self.crm_time = self.crm_time.max(at),
            Side::Google => self.google_time = self.google_time.max(at),
        }
    }

    /// The user put the contact back into the group in Google: it joins again with its last
    /// synced base, so every edit recorded since still counts as that side's edit.
    pub fn regroup(&mut self) {
        self.excluded = false;
        self.rejoining = true;
    }

    /// Both sides are joined again with no synced base (the contact was created again in
    /// Google): every slot where they differ is an edit of each side.
    pub fn rejoin(&mut self, crm: &Slots, google: &Slots) {
        // Google edits of the deleted contact that the CRM did not have yet.
        let in_flight: BTreeMap<String, String> = self
            .slots
            .iter()
            .filter(|(_, s)| s.crm.is_none())
            .filter_map(|(k, s)| Some((k.clone(), s.google.clone()?)))
            .collect();
        self.slots.clear();
        self.excluded = false;
        self.rejoining = true;
        self.unbased = true;
        for (key, _) in crate::person::diff(crm, google) {
            let value = |s: &Slots| s.get(&key).cloned().filter(|v| !v.is_empty());
            self.slots.insert(
                key.clone(),
                Slot {
                    base: String::new(),
                    crm: value(crm),
                    google: value(google),
                    in_flight: in_flight.get(&key).cloned(),
                },
            );
        }
    }

    /// An edit made while rejoining: no base, the other side's value competes with it.
    pub fn unsynced(&mut self, other: Side, other_slots: &Slots, changed: &[(String, String)]) {
        for (key, _) in changed {
            let Some(slot) = self.slots.get_mut(key) else {
                continue;
            };
            slot.base = String::new();
            let theirs = other_slots.get(key).cloned().filter(|v| !v.is_empty());
            let pending = match other {
                Side::Crm => &mut slot.crm,
                Side::Google => &mut slot.google,
            };
            if pending.is_none() {
                *pending = theirs;
            }
        }
    }

    /// A contact created again in Google and not yet joined is found by its e-mail or phone:
    /// once the two sides share neither, nothing can tell the plugin they are one contact, and
    /// it is rightly imported as a new one.
    pub fn check_match(&mut self, crm: &Slots, google: &Slots) {
        let keyed = |k: &String| k.starts_with("email:") || k.starts_with("phone:");
        let shared = crm.keys().filter(|k| keyed(k)).any(|k| google.contains_key(k));
        if self.unbased && self.rejoining && !shared && self.unjudged.is_none() {
            self.unjudged = Some("created again in Google, then no e-mail or phone matched its CRM contact before it was joined");
        }
    }

    /// The value a slot must end with, if the edits decide it.
    pub fn expected(&self, key: &str, policy: Policy) -> Option<String> {
        let slot = self.slots.get(key)?;
        match (&slot.crm, &slot.google) {
            (None, None) => None,
            (Some(c), None) => Some(c.clone()),
            (None, Some(g)) => Some(g.clone()),
            (Some(c), Some(g)) if c == g => Some(c.clone()),
            // Clearing a value loses to editing it, whatever the policy.
            (Some(c), Some(g)) if c.is_empty() => Some(g.clone()),
            (Some(c), Some(g)) if g.is_empty() => Some(c.clone()),
            (Some(c), Some(g)) => Some(match policy {
                Policy::CrmWins => c.clone(),
                Policy::GoogleWins => g.clone(),
                Policy::LatestWins if self.google_time > self.crm_time => g.clone(),
                Policy::LatestWins => c.clone(),
            }),
        }
    }

    /// Judges every slot the two sides now agree on, and makes it the new base. A slot whose
    /// expected primary element no longer exists is not judged: the product then makes the
    /// first element primary.
    pub fn resolve(&mut self, crm: &Slots, google: &Slots, policy: Policy) -> Result<(), String> {
        let keys: Vec<String> = self.slots.keys().cloned().collect();
        for key in keys {
            let (c, g) = (
                crm.get(&key).cloned().unwrap_or_default(),
                google.get(&key).cloned().unwrap_or_default(),
            );
            if c != g {
                continue;
            }
            if let Some(want) = self.expected(&key, policy) {
                let primary = key.ends_with('*');
                let gone = primary && {
                    let list = key.trim_end_matches('*');
                    !crm.contains_key(&format!("{list}:{want}"))
                };
                // Delivered to the CRM before the deletion was seen, the old contact's edit
                // then meets the new contact with nothing left to settle: it stays.
                let carried = self.slots[&key].in_flight.as_deref() == Some(c.as_str());
                if want != c && !gone && !carried {
                    let slot = &self.slots[&key];
                    return Err(format!(
                        "{key} is {c:?} on both sides, expected {want:?} ({}; base {:?}, CRM edit {:?} \
                         at {}, Google edit {:?} at {})",
                        policy.name(),
                        slot.base,
                        slot.crm,
                        self.crm_time,
                        slot.google,
                        self.google_time
                    ));
                }
            }
            self.slots.remove(&key);
        }
        Ok(())
    }

    pub fn pending(&self) -> Vec<&String> {
        self.slots.keys().collect()
    }
}
