//! Shared pieces of the end-to-end tests: finding the built plugin library, laying out a
//! plugin directory, and starting host-sim on it. Tests load the plugin only through
//! host-sim's loader, never by linking the plugin crate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod browser;

use host_sim::{Sim, SimConfig};

/// The library file cargo built for crate `lib_name` (e.g. `crm_google_contacts`), found next
/// to the running test executable (`target/<profile>/deps/`) or one level up.
pub fn built_library(lib_name: &str) -> PathBuf {
    let file = format!(
        "{}{lib_name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().expect("test executable path");
    let mut dir = exe.parent();
    while let Some(d) = dir {
        let candidate = d.join(&file);
        if candidate.is_file() {
            return candidate;
        }
        dir = d.parent();
        if d.file_name().is_some_and(|n| n == "target") {
            break;
        }
    }
    panic!("{file} was not built; run the tests with `cargo test --workspace`")
}

/// The plugin library, as a CRM admin would find it in the build output.
pub fn plugin_library() -> PathBuf {
    built_library("crm_google_contacts")
}

/// A fresh directory holding copies of `files` (source path, name in the directory).
pub fn plugin_dir_with(files: &[(&Path, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary plugin directory");
    for (source, name) in files {
        std::fs::copy(source, dir.path().join(name)).expect("copy library into plugin directory");
    }
    dir
}

/// A host-sim with the real plugin copied into its plugin directory.
pub struct World {
    pub sim: Arc<Sim>,
    pub plugin_dir: tempfile::TempDir,
    pub state_dir: tempfile::TempDir,
}

impl World {
    /// Starts host-sim with a manual clock at a fixed instant; `configure` adjusts the rest.
    pub fn start(configure: impl FnOnce(&mut SimConfig)) -> World {
        let plugin_dir = plugin_dir_with(&[(&plugin_library(), &host_sim::loader::library_file_name())]);
        let state_dir = tempfile::tempdir().expect("temporary state directory");
        let mut config = SimConfig::new(plugin_dir.path(), state_dir.path());
        config.manual_clock = Some(abi::Millis(1_795_000_000_000));
        configure(&mut config);
        let sim = Sim::start(config).unwrap_or_else(|e| panic!("host-sim failed to start: {e}"));
        World {
            sim,
            plugin_dir,
            state_dir,
        }
    }
}

/// The CRM with its web server (what `host-sim serve` runs) and the fake Google. Fields drop in
/// order: server first.
pub struct WebStack {
    pub web: host_sim::web::WebServer,
    pub world: World,
    pub google: host_sim::fake_google::FakeGoogle,
}

impl WebStack {
    /// `real_time`: the CRM runs on the wall clock, as a person using it would have it;
    /// otherwise on [`World`]'s manual clock.
    pub fn start(real_time: bool) -> WebStack {
        let google = host_sim::fake_google::FakeGoogle::start(
            "127.0.0.1:0",
            host_sim::fake_google::FakeGoogleConfig::default(),
        )
        .expect("fake Google starts");
        let bound = host_sim::web::bind("127.0.0.1:0").expect("CRM web server binds");
        let world = World::start(|c| {
            if real_time {
                c.manual_clock = None;
            }
            c.plugin_config = host_sim::web::google_plugin_config(&google.base_url());
            c.oauth_callback_url = bound.callback_url();
        });
        let web = bound.serve(world.sim.clone(), Some(google.base_url()));
        WebStack { web, world, google }
    }
}

/// The plugin's name as host-sim knows it.
pub const PLUGIN: &str = "google-contacts";

/// A host-sim with the real plugin and an in-process fake Google over real HTTP.
pub struct GoogleWorld {
    pub world: World,
    pub google: host_sim::fake_google::FakeGoogle,
    pub control: host_sim::fake_google::FakeGoogleControl,
}

/// The plugin configuration that points it at a fake Google at `base`.
pub fn google_config(base: &str) -> Vec<(String, String)> {
    let cfg = host_sim::fake_google::FakeGoogleConfig::default();
    [
        ("google.people_url", base.to_string()),
        ("google.auth_url", format!("{base}/o/oauth2/v2/auth")),
        ("google.token_url", format!("{base}/token")),
        ("google.revoke_url", format!("{base}/revoke")),
        ("google.userinfo_url", format!("{base}/oauth2/v2/userinfo")),
        ("google.client_id", cfg.client_id),
        ("google.client_secret", cfg.client_secret),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

impl GoogleWorld {
    pub fn start(
        fake: impl FnOnce(&mut host_sim::fake_google::FakeGoogleConfig),
        sim: impl FnOnce(&mut SimConfig),
    ) -> GoogleWorld {
        let mut cfg = host_sim::fake_google::FakeGoogleConfig::default();
        fake(&mut cfg);
        let google =
            host_sim::fake_google::FakeGoogle::start("127.0.0.1:0", cfg).expect("fake Google starts");
        let base = google.base_url();
        let world = World::start(|c| {
            c.plugin_config.extend(google_config(&base));
            // Start the CRM's manual clock where Google's (real-time) clock is, so "latest
            // change wins" compares like with like.
            c.manual_clock = Some(abi::Millis(chrono::Utc::now().timestamp_millis()));
            // The fake shows writes at once unless a test sets a delay; a minute of margin keeps
            // the plugin's "wait for Google to show a create" rule short in test time.
            c.plugin_config
                .insert("sync.visibility_ms".into(), "60000".into());
            c.plugin_config.insert("sync.debounce_ms".into(), "50".into());
            sim(c);
        });
        let control = google.control();
        GoogleWorld {
            world,
            google,
            control,
        }
    }

    pub fn sim(&self) -> &Arc<Sim> {
        &self.world.sim
    }

    /// How many CRM contacts have the family name `family`.
    pub fn crm_named(&self, family: &str) -> usize {
        self.sim()
            .crm()
            .all_contacts()
            .into_iter()
            .filter(|r| r.contact.name.family.as_str() == family)
            .count()
    }

    /// A CRM user whose plan includes the feature.
    pub fn user(&self, name: &str, permission: abi::ContactsPermission) -> abi::User {
        self.sim()
            .crm()
            .add_user(name, &[abi::FEATURE_GOOGLE_CONTACTS], permission, &[])
            .expect("user is created")
    }

    /// Creates `contact` in the CRM, owned by `owner` and visible to everyone.
    pub fn add_contact(&self, owner: abi::UserId, contact: abi::Contact) -> abi::Contact {
        self.sim()
            .create_contact(owner, contact, host_sim::crm::Visibility::Everyone)
            .expect("contact is created")
    }

    /// The contact "A B <a@example.org>" in segment `vip`, owned by `owner`, visible to everyone.
    /// `n` contacts "Given{i} Family{i}" <person{i}@example.org> in segment "vip", visible to
    /// everyone.
    pub fn vip_people(&self, owner: abi::UserId, n: usize) -> Vec<abi::ContactId> {
        (0..n)
            .map(|i| {
                let c = contact(
                    &format!("Given{i}"),
                    &format!("Family{i}"),
                    &format!("person{i}@example.org"),
                    "vip",
                );
                self.sim()
                    .create_contact(owner, c, host_sim::crm::Visibility::Everyone)
                    .expect("the CRM creates the contact")
                    .id
            })
            .collect()
    }

    pub fn add_vip_contact(&self, owner: abi::UserId) -> abi::Contact {
        self.add_contact(owner, contact("A", "B", "a@example.org", "vip"))
    }

    /// A saved filter: contacts whose custom field `segment` equals `segment`.
    pub fn filter(&self, author: abi::UserId, name: &str, segment: &str) -> abi::SavedFilter {
        self.sim()
            .save_filter(abi::SavedFilter {
                id: abi::FilterId(0),
                name: name.into(),
                author,
                saved: true,
                criteria: abi_stable::std_types::RVec::from(vec![abi::Criterion {
                    field: "custom:segment".into(),
                    op: "equals".into(),
                    value: segment.into(),
                }]),
            })
            .expect("filter is saved")
    }

    pub fn action(
        &self,
        user: abi::UserId,
        page: abi::SettingsPage,
        name: &str,
        fields: &[(&str, &str)],
    ) -> abi::ActionOutcome {
        let action = abi::SettingsAction {
            name: name.into(),
            fields: fields
                .iter()
                .map(|(n, v)| abi::Field {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
        };
        self.sim()
            .settings_action(PLUGIN, user, page, action)
            .expect("the action returns an outcome")
    }

    /// Connects `email` for `user` through the real OAuth flow: the plugin's authorization
    /// URL, the fake's consent form, the redirect back with code and state.
    pub fn connect(&self, user: abi::UserId, email: &str) -> abi::ActionOutcome {
        let start = self.action(user, abi::SettingsPage::Integration, "connect", &[]);
        let url = start
            .redirect_to
            .into_option()
            .expect("connect redirects to Google")
            .into_string();
        let location = approve_consent(&url, email);
        let callback = url::Url::parse(&location).expect("callback URL");
        let fields: Vec<(String, String)> = callback
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.action(user, abi::SettingsPage::Integration, "oauth_callback", &fields)
    }

    /// Enables sync of `filter` with `email`, with extra option fields. The outcome must be
    /// looked at: a refused enable followed by "nothing was written" proves nothing
    /// ([`GoogleWorld::enabled`] asserts it was accepted).
    #[must_use = "a refused enable makes later assertions vacuous; use `enabled`"]
    pub fn enable(
        &self,
        user: abi::UserId,
        filter: abi::FilterId,
        email: &str,
        options: &[(&str, &str)],
    ) -> abi::ActionOutcome {
        let filter_text = filter.0.to_string();
        let mut fields = vec![("account", email), ("filter", filter_text.as_str())];
        fields.extend_from_slice(options);
        self.action(user, abi::SettingsPage::Filter(filter), "enable", &fields)
    }

    /// Waits until the plugin's jobs are done.
    pub fn settle(&self) {
        assert!(
            self.sim().wait_idle(std::time::Duration::from_secs(120)),
            "plugin jobs did not finish"
        );
    }

    /// Advances the host clock past the tick period and waits for the jobs it started.
    pub fn tick(&self, ms: i64) {
        self.sim().advance(ms);
        self.settle();
    }

    /// The account's live Google contacts, as Google's web UI would show them.
    pub fn google_contacts(&self, email: &str) -> Vec<serde_json::Value> {
        self.control.contacts(email).expect("fake account exists")
    }

    /// The resource name of the account's group called `name`.
    pub fn group(&self, email: &str, name: &str) -> Option<String> {
        self.control
            .groups(email)
            .expect("fake account exists")
            .into_iter()
            .find(|g| g["name"] == name)
            .and_then(|g| g["resourceName"].as_str().map(str::to_string))
    }

    /// Live contacts of the account that are in `group`.
    pub fn members(&self, email: &str, group: &str) -> Vec<serde_json::Value> {
        self.google_contacts(email)
            .into_iter()
            .filter(|p| {
                p["memberships"].as_array().is_some_and(|ms| {
                    ms.iter()
                        .any(|m| m["contactGroupMembership"]["contactGroupResourceName"] == group)
                })
            })
            .collect()
    }

    pub fn writes(&self) -> u64 {
        self.control.stats().writes
    }
}

/// Plays the user on the fake Google's consent page (host-sim's own robot, shared with the
/// demo): picks `email`, keeps every scope ticked and allows. Returns the redirect back to the
/// CRM, with `code` and `state`.
pub fn approve_consent(auth_url: &str, email: &str) -> String {
    host_sim::demo::consent::approve(auth_url, email).unwrap_or_else(|e| panic!("consent failed: {e}"))
}

/// A CRM contact in segment `segment`, with a name and an email.
pub fn contact(given: &str, family: &str, email: &str, segment: &str) -> abi::Contact {
    abi::Contact {
        name: abi::PersonName {
            given: given.into(),
            family: family.into(),
            ..Default::default()
        },
        emails: abi_stable::std_types::RVec::from(vec![abi::TypedValue {
            value: email.into(),
            kind: "work".into(),
            primary: true,
        }]),
        custom_fields: abi_stable::std_types::RVec::from(vec![abi::CustomField {
            key: "segment".into(),
            label: "Segment".into(),
            value: segment.into(),
        }]),
        ..Default::default()
    }
}

/// The counts of a binding's last run, as its filter page shows them in the "Last run" fact.
/// Each count is read as a whole number, so "15 created" is never taken for "5 created".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunCounts {
    pub created_in_google: u64,
    pub updated_in_google: u64,
    pub created_in_crm: u64,
    pub updated_in_crm: u64,
    pub deleted_in_google: u64,
    pub removed_from_group: u64,
    pub unlinked: u64,
    pub conflicts: u64,
    pub errors: u64,
}

impl RunCounts {
    /// The plugin's English sentence for these counts; reading checks a page against it, so a
    /// changed sentence fails loudly instead of being half read.
    pub fn sentence(&self) -> String {
        format!(
            "{} created and {} updated in Google, {} created and {} updated in the CRM, {} deleted in Google, \
             {} removed from the group, {} unlinked, {} conflicts, {} errors",
            self.created_in_google,
            self.updated_in_google,
            self.created_in_crm,
            self.updated_in_crm,
            self.deleted_in_google,
            self.removed_from_group,
            self.unlinked,
            self.conflicts,
            self.errors
        )
    }

    /// Reads the "Last run" sentence; panics (a test helper) when it is not exactly that shape.
    pub fn read(sentence: &str) -> RunCounts {
        let numbers: Vec<u64> = sentence
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("a count"))
            .collect();
        let [cg, ug, cc, uc, dg, rg, ul, cf, er] = numbers[..] else {
            panic!("not a run's counts: {sentence:?}");
        };
        let counts = RunCounts {
            created_in_google: cg,
            updated_in_google: ug,
            created_in_crm: cc,
            updated_in_crm: uc,
            deleted_in_google: dg,
            removed_from_group: rg,
            unlinked: ul,
            conflicts: cf,
            errors: er,
        };
        assert_eq!(counts.sentence(), sentence, "not a run's counts");
        counts
    }
}

/// A binding's last finished run as its filter page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub counts: RunCounts,
    /// "The last run stopped: …": the run ended with an error, whatever its counts.
    pub stopped: Option<String>,
}

impl LastRun {
    /// Reads the last run from a filter page; `None` when the page says "not yet".
    pub fn from_view(view: &abi::SettingsView) -> Option<LastRun> {
        let widgets = || view.sections.iter().flat_map(|s| s.widgets.iter());
        let sentence = widgets()
            .filter_map(|w| match w {
                abi::Widget::Facts(facts) => facts.iter().find(|f| f.label == "Last run"),
                _ => None,
            })
            .map(|f| f.value.to_string())
            .next()?;
        if sentence == "not yet" {
            return None;
        }
        let stopped = widgets().find_map(|w| match w {
            abi::Widget::Text { text, .. } => text
                .as_str()
                .strip_prefix("The last run stopped: ")
                .map(str::to_string),
            _ => None,
        });
        Some(LastRun {
            counts: RunCounts::read(&sentence),
            stopped,
        })
    }

    /// Asserts the run finished without stopping and without a per-contact error.
    pub fn assert_clean(&self) {
        assert_eq!(self.stopped, None, "the run stopped: {self:?}");
        assert_eq!(self.counts.errors, 0, "the run had errors: {self:?}");
    }
}

/// The rows of the table `id` on a settings page; `None` when the page has no such table.
pub fn table_rows(view: &abi::SettingsView, id: &str) -> Option<Vec<Vec<String>>> {
    view.sections
        .iter()
        .flat_map(|s| s.widgets.iter())
        .find_map(|w| match w {
            abi::Widget::Table { id: table, rows, .. } if table.as_str() == id => Some(
                rows.iter()
                    .map(|r| r.iter().map(|c| c.to_string()).collect())
                    .collect(),
            ),
            _ => None,
        })
}

impl GoogleWorld {
    /// `filter`'s page as `user` sees it.
    pub fn filter_page(&self, user: abi::UserId, filter: abi::FilterId) -> abi::SettingsView {
        self.sim()
            .render_settings(PLUGIN, user, abi::SettingsPage::Filter(filter))
            .expect("the filter page renders")
    }

    /// The last finished run of `filter`'s binding, as `user` sees it on the filter page.
    pub fn last_run(&self, user: abi::UserId, filter: abi::FilterId) -> LastRun {
        let view = self.filter_page(user, filter);
        LastRun::from_view(&view).unwrap_or_else(|| panic!("no finished run yet: {view:?}"))
    }

    /// Enables sync of `filter` and asserts the plugin accepted it.
    pub fn enabled(&self, user: abi::UserId, filter: abi::FilterId, email: &str, options: &[(&str, &str)]) {
        let outcome = self.enable(user, filter, email, options);
        assert!(
            outcome.message.contains("Sync enabled"),
            "enable was refused: {}",
            outcome.message
        );
    }
}

/// Saves `author`'s filter `name` on the contacts whose company is `company`, and creates those
/// contacts (given name, family name, work e-mail), visible to everyone.
pub fn company_filter(
    sim: &Sim,
    author: abi::UserId,
    name: &str,
    company: &str,
    people: &[(&str, &str, &str)],
) -> abi::SavedFilter {
    let filter = sim
        .save_filter(abi::SavedFilter {
            id: abi::FilterId(0),
            name: name.into(),
            author,
            saved: true,
            criteria: vec![abi::Criterion {
                field: "company".into(),
                op: "equals".into(),
                value: company.into(),
            }]
            .into(),
        })
        .expect("the filter is saved");
    for (given, family, email) in people {
        let contact = abi::Contact {
            name: abi::PersonName {
                given: (*given).into(),
                family: (*family).into(),
                ..abi::PersonName::default()
            },
            emails: vec![abi::TypedValue {
                value: (*email).into(),
                kind: "work".into(),
                primary: true,
            }]
            .into(),
            company: company.into(),
            ..abi::Contact::default()
        };
        sim.create_contact(author, contact, host_sim::crm::Visibility::Everyone)
            .expect("the contact is created");
    }
    filter
}
