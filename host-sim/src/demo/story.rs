//! The story: connect, first sync, then each two-way behaviour, each step checked against both
//! sides' real state. A step whose outcome did not happen ends the demo with an error: a demo
//! that merely *prints* success would hide exactly the regressions it should reveal.

use std::io::Write;
use std::time::{Duration, Instant};

use abi::{ActionOutcome, Contact, ContactId, Field, SettingsAction, SettingsPage, Tone, Widget};
use serde_json::{json, Value};

use super::crm_data::{self, DemoCrm, FILTER_NAME};
use super::report::{self, say, thousands};
use super::{consent, progress, Calls, DemoSummary, ProgressDisplay, StepReport, ACCOUNT, PLUGIN};
use crate::fake_google::FakeGoogleControl;
use crate::Sim;

/// The plugin checks Google for changes every 5 minutes by default.
const CHECK_INTERVAL_MS: i64 = 5 * 60_000;
/// How long plugin jobs may take before the demo gives up on a step.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);
/// Distinct key clients the story edits, one per step, so steps never interfere.
const CONTACTS_NEEDED: usize = 5;

/// What a step did: a sentence for the running story, and a short form for the summary table.
pub(super) struct Told {
    pub detail: String,
    pub outcome: String,
}

/// What every step works with: the running CRM, Google's controls and the demo's people.
pub(super) struct Stage<'a> {
    pub sim: &'a Sim,
    pub google: &'a FakeGoogleControl,
    pub crm: DemoCrm,
}

pub(super) fn tell(
    sim: &Sim,
    google: &FakeGoogleControl,
    plugin_dir: &std::path::Path,
    contacts: usize,
    display: ProgressDisplay,
    out: &mut dyn Write,
) -> Result<DemoSummary, String> {
    say(
        out,
        "host-sim demo: a CRM and Google Contacts, kept in sync by the plugin",
    )?;
    let cfg = google.config();
    say(
        out,
        &format!("  plugin       {PLUGIN}, loaded from {}", plugin_dir.display()),
    )?;
    say(
        out,
        &format!(
            "  fake Google  {} ({} reads and {} writes per minute, edits listed {} ms late)",
            google.base_url(),
            cfg.read_quota_per_minute,
            cfg.write_quota_per_minute,
            cfg.propagation_delay_ms
        ),
    )?;
    let crm = crm_data::build(sim, contacts)?;
    say(
        out,
        &format!(
            "  CRM          {} (sales manager, {} plan) and {} (colleague, {} plan); {} contacts",
            crm.manager.name,
            crm.manager.plan.name,
            crm.colleague.name,
            crm.colleague.plan.name,
            thousands(contacts as u64)
        ),
    )?;
    say(
        out,
        &format!(
            "  filter       \"{FILTER_NAME}\" (segment equals key): {} contacts {} may see",
            thousands(crm.key_visible.len() as u64),
            crm.manager.name
        ),
    )?;
    if crm.key_visible.len() < CONTACTS_NEEDED {
        return Err(format!(
            "The filter selects only {} contacts; the story needs {CONTACTS_NEEDED}. Use more --contacts.",
            crm.key_visible.len()
        ));
    }
    say(out, "")?;

    let mut story = Story {
        stage: Stage { sim, google, crm },
        out,
        steps: Vec::new(),
    };
    story.step("Connect Google", |s, _| s.connect())?;
    let (first_sync, synced) = story.step("First sync", |s, out| progress::first_sync(s, display, out))?;
    let key = story.stage.crm.key_visible.clone();
    story.step("CRM edit -> Google", |s, _| Ok((s.crm_edit(key[0])?, ())))?;
    story.step("Google edit -> CRM", |s, _| Ok((s.google_edit(key[1])?, ())))?;
    story.step("Conflict", |s, _| Ok((s.conflict(key[2])?, ())))?;
    story.step("Deleted in Google", |s, _| Ok((s.deleted_in_google(key[3])?, ())))?;
    story.step("Deleted in the CRM", |s, _| Ok((s.deleted_in_crm(key[4])?, ())))?;
    story.step("Sync with no edits", |s, _| Ok((s.quiet_sync()?, ())))?;

    let summary = DemoSummary {
        steps_passed: story.steps.len(),
        steps: story.steps,
        contacts_in_crm: contacts,
        contacts_synced: synced,
        first_sync,
        google: google.stats(),
    };
    report::summary(story.out, &summary)?;
    Ok(summary)
}

struct Story<'a, 'o> {
    stage: Stage<'a>,
    out: &'o mut dyn Write,
    steps: Vec<StepReport>,
}

impl Story<'_, '_> {
    /// Runs one step, counting its Google calls, and prints its outcome.
    fn step<T>(
        &mut self,
        name: &str,
        run: impl FnOnce(&Stage, &mut dyn Write) -> Result<(Told, T), String>,
    ) -> Result<T, String> {
        let before = self.stage.google.stats();
        let hook_errors = self.stage.sim.hook_errors().len();
        let result = run(&self.stage, &mut *self.out).and_then(|told| {
            // A hook that failed on the way is a failed step, even if the outcome looks right.
            match self
                .stage
                .sim
                .hook_errors()
                .get(hook_errors..)
                .unwrap_or_default()
            {
                [] => Ok(told),
                errors => Err(format!("the plugin reported: {}", errors.join("; "))),
            }
        });
        match result {
            Ok((told, value)) => {
                let calls = Calls::between(&before, &self.stage.google.stats());
                let step = StepReport {
                    name: name.to_string(),
                    outcome: told.outcome,
                    calls,
                };
                report::step_passed(self.out, &step, &told.detail)?;
                self.steps.push(step);
                Ok(value)
            }
            Err(e) => {
                report::step_failed(self.out, name, &e)?;
                Err(format!("The demo stopped at \"{name}\": {e}"))
            }
        }
    }
}

// ----- the steps -----

impl Stage<'_> {
    fn connect(&self) -> Result<(Told, ()), String> {
        let start = self.action(SettingsPage::Integration, "connect", &[])?;
        let auth_url = start
            .redirect_to
            .into_option()
            .ok_or_else(|| format!("the plugin did not send the browser to Google: {}", start.message))?;
        let callback = consent::approve(&auth_url, ACCOUNT)?;
        let fields = consent::callback_fields(&callback)?;
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let done = self.action(SettingsPage::Integration, "oauth_callback", &fields)?;
        self.settle()?;
        let view = self.view(SettingsPage::Integration)?;
        let connected = tables(&view, "accounts").any(|row| {
            row.first() == Some(&ACCOUNT.to_string()) && row.get(1).is_some_and(|s| s == "connected")
        });
        if !connected {
            return Err(format!(
                "{ACCOUNT} is not shown as connected after the consent ({})",
                done.message
            ));
        }
        let detail = format!(
            "{} allowed access on Google's consent page as {ACCOUNT}; the plugin exchanged the code for \
             tokens. \"{}\"",
            self.crm.manager.name, done.message
        );
        Ok((
            Told {
                detail,
                outcome: format!("{ACCOUNT} connected through OAuth consent"),
            },
            (),
        ))
    }

    fn crm_edit(&self, id: ContactId) -> Result<Told, String> {
        let mut contact = self.crm_contact(id)?;
        let title = "Chief Procurement Officer";
        contact.position = title.into();
        let started = Instant::now();
        self.sim
            .update_contact(self.crm.manager.id, contact.clone())
            .map_err(|e| e.to_string())?;
        self.settle()?;
        let took = started.elapsed();
        let person = self
            .person(&contact)?
            .ok_or_else(|| format!("{} is missing from Google", label(&contact)))?;
        let in_google = person["organizations"][0]["title"].as_str().unwrap_or_default();
        if in_google != title {
            return Err(format!(
                "Google shows the title \"{in_google}\" for {}, not \"{title}\"",
                label(&contact)
            ));
        }
        Ok(Told {
            detail: format!(
                "{} made {} \"{title}\" in the CRM; Google showed it {} ms later, without waiting for a check",
                self.crm.manager.name,
                label(&contact),
                took.as_millis()
            ),
            outcome: "new job title in Google at once".into(),
        })
    }

    fn google_edit(&self, id: ContactId) -> Result<Told, String> {
        let contact = self.crm_contact(id)?;
        let note = "Met at the Lisbon trade fair; wants a pilot in Q3";
        self.edit_in_google(
            &contact,
            &json!({"biographies": [{"value": note, "contentType": "TEXT_PLAIN"}]}),
        )?;
        let before_check = self.crm_contact(id)?.notes.to_string() == note;
        self.next_check()?;
        let notes = self.crm_contact(id)?.notes;
        if notes.as_str() != note {
            return Err(format!(
                "the CRM's note for {} is \"{notes}\" after the check",
                label(&contact)
            ));
        }
        let when = if before_check { "already before" } else { "at" };
        Ok(Told {
            detail: format!(
                "a note added to {} in Google's web UI reached the CRM {when} the plugin's next check \
                 ({} min later): \"{note}\"",
                label(&contact),
                CHECK_INTERVAL_MS / 60_000
            ),
            outcome: format!(
                "note in the CRM at the next {}-minute check",
                CHECK_INTERVAL_MS / 60_000
            ),
        })
    }

    fn conflict(&self, id: ContactId) -> Result<Told, String> {
        let contact = self.crm_contact(id)?;
        let (google_value, crm_value) = ("Globex Europe", "Globex International");
        // Google's clock follows real time while the CRM's moves only when told; bring the CRM
        // up to Google's time so the two edits' timestamps compare fairly.
        self.align_clocks();
        let person = self.edit_in_google(
            &contact,
            &json!({"organizations": [{"name": google_value, "title": contact.position.as_str()}]}),
        )?;
        let google_at = update_time_ms(&person).ok_or("Google's contact has no update time")?;
        // A minute and a half later, before the plugin has seen Google's edit, the same field
        // is changed in the CRM. Time moves without a tick, so no check runs in between.
        self.sim.clock().advance(90_000);
        self.google.advance_clock(Duration::from_millis(90_000));
        let mut edited = self.crm_contact(id)?;
        edited.company = crm_value.into();
        let saved = self
            .sim
            .update_contact(self.crm.manager.id, edited)
            .map_err(|e| e.to_string())?;
        let crm_at = saved.updated_at_ms;
        self.settle()?;
        // The run the CRM edit started is the one that met both edits.
        let run = self.fact("Last run")?.unwrap_or_default();
        self.next_check()?;

        let (winner, kept) = if google_at > crm_at {
            ("Google's", google_value)
        } else {
            ("the CRM's", crm_value)
        };
        let in_crm = self.crm_contact(id)?.company.to_string();
        let person = self
            .person(&contact)?
            .ok_or_else(|| format!("{} is missing from Google", label(&contact)))?;
        let in_google = person["organizations"][0]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if in_crm != kept || in_google != kept {
            return Err(format!(
                "latest_wins should keep {winner} edit \"{kept}\", but the CRM says \"{in_crm}\" and Google \
                 \"{in_google}\""
            ));
        }
        Ok(Told {
            detail: format!(
                "{}: the company was changed to \"{google_value}\" in Google at {} and to \"{crm_value}\" \
                 in the CRM at {}, before the plugin saw either ({}). The policy is latest_wins and {winner} \
                 edit is the later one, so both sides now say \"{kept}\"",
                label(&contact),
                report::time_of_day(google_at),
                report::time_of_day(crm_at),
                conflicts_counted(&run)
            ),
            outcome: format!("{winner} later edit kept on both sides (latest_wins)"),
        })
    }

    fn deleted_in_google(&self, id: ContactId) -> Result<Told, String> {
        let before = self
            .sim
            .crm()
            .contact(id)
            .ok_or("the contact is missing from the CRM")?;
        let resource = self.resource_name(&before.contact)?;
        self.google
            .delete_contact(ACCOUNT, &resource)
            .map_err(|e| e.to_string())?;
        self.next_check()?;
        let after = self.sim.crm().contact(id).ok_or_else(|| {
            format!(
                "{} was deleted from the CRM; a Google delete must never do that",
                label(&before.contact)
            )
        })?;
        if after != before {
            return Err(format!(
                "{} was changed in the CRM by a delete in Google",
                label(&before.contact)
            ));
        }
        if self.person(&before.contact)?.is_some() {
            return Err(format!(
                "{} was re-created in Google after being deleted there",
                label(&before.contact)
            ));
        }
        // The filter page tells the user why this contact is no longer synced.
        let view = self.view(SettingsPage::Filter(self.crm.filter.id))?;
        let reason = tables(&view, "health")
            .find(|row| row.first() == Some(&id.0.to_string()))
            .and_then(|row| row.get(2).cloned())
            .ok_or_else(|| {
                format!(
                    "the filter page does not say why {} is no longer synced",
                    label(&before.contact)
                )
            })?;
        Ok(Told {
            detail: format!(
                "{} was deleted in Google; at the next check the plugin unlinked it: the CRM contact is \
                 untouched and is not pushed back to Google. The filter page says: \"{reason}\"",
                label(&before.contact)
            ),
            outcome: "CRM contact kept, unchanged; not re-created".into(),
        })
    }

    fn deleted_in_crm(&self, id: ContactId) -> Result<Told, String> {
        let contact = self.crm_contact(id)?;
        let resource = self.resource_name(&contact)?;
        let started = Instant::now();
        self.sim
            .delete_contact(id, Some(self.crm.manager.id))
            .map_err(|e| e.to_string())?;
        self.settle()?;
        let took = started.elapsed();
        if self.google.contact(ACCOUNT, &resource).is_ok() {
            return Err(format!(
                "{} is still in Google after being deleted in the CRM",
                label(&contact)
            ));
        }
        Ok(Told {
            detail: format!(
                "{} deleted {} in the CRM; the plugin deleted it in Google {} ms later",
                self.crm.manager.name,
                label(&contact),
                took.as_millis()
            ),
            outcome: "deleted in Google at once".into(),
        })
    }

    fn quiet_sync(&self) -> Result<Told, String> {
        let (before, crm_writes) = (self.google.stats(), self.sim.plugin_writes());
        let filter = self.crm.filter.id.0.to_string();
        self.action(
            SettingsPage::Filter(self.crm.filter.id),
            "sync_now",
            &[("filter", &filter)],
        )?;
        self.settle()?;
        self.next_check()?;
        let calls = Calls::between(&before, &self.google.stats());
        let crm_writes = self.sim.plugin_writes().saturating_sub(crm_writes);
        if calls.writes != 0 || crm_writes != 0 {
            return Err(format!(
                "with nothing edited, the plugin wrote {} times to Google and {crm_writes} times to the CRM",
                calls.writes
            ));
        }
        Ok(Told {
            detail: format!(
                "\"Sync now\" and the next check, with nothing edited anywhere: {} Google read{}, 0 writes to \
                 Google, 0 to the CRM",
                calls.reads,
                if calls.reads == 1 { "" } else { "s" }
            ),
            outcome: "0 writes on either side".into(),
        })
    }
}

// ----- helpers shared by the steps -----

impl Stage<'_> {
    pub(super) fn action(
        &self,
        page: SettingsPage,
        name: &str,
        fields: &[(&str, &str)],
    ) -> Result<ActionOutcome, String> {
        let action = SettingsAction {
            name: name.into(),
            fields: fields
                .iter()
                .map(|(n, v)| Field {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
        };
        let outcome = self
            .sim
            .settings_action(PLUGIN, self.crm.manager.id, page, action)
            .map_err(|e| format!("the plugin's \"{name}\" action failed: {}", e.message))?;
        if outcome.tone == Tone::Error {
            return Err(format!("the plugin refused \"{name}\": {}", outcome.message));
        }
        Ok(outcome)
    }

    pub(super) fn view(&self, page: SettingsPage) -> Result<abi::SettingsView, String> {
        self.sim
            .render_settings(PLUGIN, self.crm.manager.id, page)
            .map_err(|e| format!("the plugin's settings page failed: {}", e.message))
    }

    /// Waits for the plugin's jobs, as a user waits for the page to say "done".
    pub(super) fn settle(&self) -> Result<(), String> {
        if self.sim.wait_idle(JOB_TIMEOUT) {
            Ok(())
        } else {
            Err(format!(
                "the plugin's jobs were still running after {} s",
                JOB_TIMEOUT.as_secs()
            ))
        }
    }

    /// Lets the check interval (and a minute) pass on both clocks, and waits for the check.
    /// Google's clock moves too, so its propagation delay is over by the time the check lists.
    fn next_check(&self) -> Result<(), String> {
        let by = CHECK_INTERVAL_MS + 60_000;
        self.google.advance_clock(Duration::from_millis(by as u64));
        self.sim.advance(by);
        self.settle()
    }

    fn align_clocks(&self) {
        let behind = self.google.now().timestamp_millis() - self.sim.clock().now().0;
        if behind > 0 {
            self.sim.clock().advance(behind);
        }
    }

    fn crm_contact(&self, id: ContactId) -> Result<Contact, String> {
        self.sim
            .crm()
            .contact(id)
            .map(|r| r.contact)
            .ok_or_else(|| format!("contact {} is missing from the CRM", id.0))
    }

    /// The live Google contact holding `contact`'s primary email, if any.
    fn person(&self, contact: &Contact) -> Result<Option<Value>, String> {
        let email = contact
            .emails
            .first()
            .map(|e| e.value.to_string())
            .unwrap_or_default();
        let people = self.google.contacts(ACCOUNT).map_err(|e| e.to_string())?;
        Ok(people.into_iter().find(|p| {
            p["emailAddresses"]
                .as_array()
                .is_some_and(|es| es.iter().any(|e| e["value"] == email.as_str()))
        }))
    }

    fn resource_name(&self, contact: &Contact) -> Result<String, String> {
        self.person(contact)?
            .and_then(|p| p["resourceName"].as_str().map(str::to_string))
            .ok_or_else(|| format!("{} is missing from Google", label(contact)))
    }

    /// Edits `contact` in Google as its web UI would; returns the edited person.
    fn edit_in_google(&self, contact: &Contact, person: &Value) -> Result<Value, String> {
        let resource = self.resource_name(contact)?;
        self.google
            .edit_contact(ACCOUNT, &resource, person)
            .map_err(|e| e.to_string())
    }

    /// Contacts in the synced Google group.
    pub(super) fn group_members(&self) -> Result<usize, String> {
        let groups = self.google.groups(ACCOUNT).map_err(|e| e.to_string())?;
        let group = groups
            .iter()
            .find(|g| g["name"] == FILTER_NAME)
            .ok_or_else(|| format!("Google has no group \"{FILTER_NAME}\""))?;
        Ok(group["memberResourceNames"].as_array().map_or(0, Vec::len))
    }

    /// The filter page's progress bar, while a run is under way.
    pub(super) fn progress(&self) -> Result<Option<(u64, u64)>, String> {
        let view = self.view(SettingsPage::Filter(self.crm.filter.id))?;
        Ok(view
            .sections
            .iter()
            .flat_map(|s| s.widgets.iter())
            .find_map(|w| match w {
                Widget::Progress { done, total, .. } => Some((*done, *total)),
                _ => None,
            }))
    }

    /// A fact of the filter page, e.g. "Last sync".
    pub(super) fn fact(&self, label: &str) -> Result<Option<String>, String> {
        let view = self.view(SettingsPage::Filter(self.crm.filter.id))?;
        Ok(view
            .sections
            .iter()
            .flat_map(|s| s.widgets.iter())
            .find_map(|w| match w {
                Widget::Facts(facts) => facts
                    .iter()
                    .find(|f| f.label.as_str() == label)
                    .map(|f| f.value.to_string()),
                _ => None,
            }))
    }
}

/// The rows of the table `id` on a settings page.
fn tables<'v>(view: &'v abi::SettingsView, id: &'v str) -> impl Iterator<Item = Vec<String>> + 'v {
    view.sections
        .iter()
        .flat_map(|s| s.widgets.iter())
        .flat_map(move |w| match w {
            Widget::Table { id: table, rows, .. } if table.as_str() == id => rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
}

/// "the plugin counted 1 conflict", from the "Last run" fact ("…, 1 conflicts, 0 errors").
fn conflicts_counted(last_run: &str) -> String {
    let count = last_run
        .split(", ")
        .find_map(|part| part.strip_suffix(" conflicts"))
        .and_then(|n| n.trim().parse::<u64>().ok());
    match count {
        Some(1) => "the plugin counted 1 conflict".into(),
        Some(n) => format!("the plugin counted {n} conflicts"),
        None => "the plugin's last run is not shown".into(),
    }
}

/// "Olivia Novak (Northwind Traders)".
fn label(c: &Contact) -> String {
    format!("{} {} ({})", c.name.given, c.name.family, c.company)
}

/// When Google last changed a person, from its CONTACT source, in ms since the epoch.
fn update_time_ms(person: &Value) -> Option<i64> {
    let sources = person["metadata"]["sources"].as_array()?;
    let source = sources
        .iter()
        .find(|s| s["type"] == "CONTACT")
        .or(sources.first())?;
    let text = source["updateTime"].as_str()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}
