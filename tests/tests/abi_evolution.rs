//! The ABI grows without breaking plugins (abi/src/lib.rs, "What the ABI promises"): plugins
//! built against the frozen 0.1.0 and 0.1.1 ABIs (tests/fixtures/old-abi, abi-0.1.1) load into
//! today's host and answer its hooks, and today's plugin in a host that offers none of the 0.1.1 services
//! speaks English, shows UTC, raises no notice, says so once in its log, and still syncs.

use abi::{ContactsPermission, HostOffers, SettingsPage, Widget};
use host_sim::crm::Visibility;
use host_sim::{Sim, SimConfig};
use tests::{built_library, contact, plugin_dir_with, plugin_library, GoogleWorld, PLUGIN};

const OLD: &str = "old-abi-fixture";
const ALICE: &str = "alice@example.com";

fn texts(view: &abi::SettingsView) -> String {
    let mut out = vec![view.title.to_string()];
    for s in view.sections.iter() {
        out.push(s.heading.to_string());
        for w in s.widgets.iter() {
            match w {
                Widget::Text { text, .. } => out.push(text.to_string()),
                Widget::Facts(facts) => out.extend(facts.iter().map(|f| format!("{}: {}", f.label, f.value))),
                Widget::Button(b) => out.push(b.label.to_string()),
                Widget::Form(f) => {
                    out.push(f.submit_label.to_string());
                    out.extend(f.inputs.iter().map(|i| i.label.to_string()));
                }
                Widget::Table { columns, .. } => out.extend(columns.iter().map(|c| c.to_string())),
                Widget::Progress { label, .. } => out.push(label.to_string()),
            }
        }
    }
    out.join("\n")
}

#[test]
fn a_plugin_built_against_abi_0_1_0_loads_beside_todays_plugin_and_answers_every_hook() {
    an_older_plugin_loads_beside_todays_and_answers_every_hook("fixture_old_abi_plugin", "0.1.0");
}

/// A 0.1.1 plugin's `Plugin` vtable ends before the 0.1.2 hooks, so today's types refuse it; the
/// 0.1.0 types take it (its `HostServices` vtable is longer than theirs, which a prefix type
/// allows), and the hooks 0.1.2 added answer their defaults.
#[test]
fn a_plugin_built_against_abi_0_1_1_loads_beside_todays_plugin_and_answers_every_hook() {
    an_older_plugin_loads_beside_todays_and_answers_every_hook("fixture_abi_0_1_1_plugin", "0.1.1");
}

fn an_older_plugin_loads_beside_todays_and_answers_every_hook(library: &str, version: &str) {
    let old = built_library(library);
    let plugin_dir = plugin_dir_with(&[(&old, "libold.so"), (&plugin_library(), "libnew.so")]);
    let state = tempfile::tempdir().unwrap();
    let mut config = SimConfig::new(plugin_dir.path(), state.path());
    config.manual_clock = Some(abi::Millis(1_795_000_000_000));
    let sim = Sim::start(config).unwrap_or_else(|e| panic!("the old plugin must load: {e}"));
    assert_eq!(sim.plugin_names().len(), 2, "{:?}", sim.plugin_names());
    assert!(!sim
        .logbook()
        .grep(&format!("started against ABI {version}"))
        .is_empty());

    let user = sim
        .crm()
        .add_user(
            "Ann",
            &[abi::FEATURE_GOOGLE_CONTACTS],
            ContactsPermission::Edit,
            &[],
        )
        .unwrap();
    sim.save_filter(abi::SavedFilter {
        id: abi::FilterId(0),
        name: "VIP".into(),
        author: user.id,
        saved: true,
        criteria: Default::default(),
    })
    .unwrap();
    let ann = sim
        .create_contact(
            user.id,
            contact("Ann", "Lee", "ann@example.org", "vip"),
            Visibility::Everyone,
        )
        .unwrap();
    sim.tick(abi::Millis(1_795_000_060_000));

    let view = sim
        .render_settings(OLD, user.id, SettingsPage::Integration)
        .expect("the old plugin renders");
    let text = texts(&view);
    assert!(
        text.contains("user Ann; last tick 1795000060000; 1 contact changes"),
        "{text}"
    );
    let outcome = sim
        .settings_action(
            OLD,
            user.id,
            SettingsPage::Integration,
            abi::SettingsAction {
                name: "ping".into(),
                fields: Default::default(),
            },
        )
        .expect("the old plugin acts");
    assert_eq!(outcome.message.as_str(), "old plugin did ping");
    // The hooks added since answer their defaults through the older vtable: no file, no panel.
    let ping = abi::SettingsAction {
        name: "ping".into(),
        fields: Default::default(),
    };
    assert_eq!(
        sim.download(OLD, user.id, SettingsPage::Integration, &ping),
        Ok(None)
    );
    assert_eq!(sim.render_contact_panel(OLD, user.id, ann.id), Ok(None));
    assert!(!sim.logbook().grep("saw filter VIP").is_empty());
    // The action submitted a job through the 0.1.0 services; a worker ran it with its payload.
    assert!(sim.wait_idle(std::time::Duration::from_secs(30)));
    assert_eq!(sim.logbook().grep("ran ping job: ping").len(), 1);
    sim.shutdown();
    assert_eq!(sim.logbook().grep("old plugin shut down").len(), 1);
    assert!(sim.hook_errors().is_empty(), "{:?}", sim.hook_errors());
}

#[test]
fn todays_plugin_in_a_host_without_the_new_services_speaks_english_in_utc_and_still_syncs() {
    check_host_without_new_services(|c| c.offers = HostOffers::NONE);
}

/// host-sim presents the real 0.1.0 `HostServices` vtable: the plugin's calls of the 0.1.1
/// services run their default bodies, as in a CRM built before they existed.
#[test]
fn todays_plugin_in_a_crm_presenting_the_0_1_0_vtable_still_syncs() {
    check_host_without_new_services(|c| c.abi = host_sim::loader::HostAbi::V0_1_0);
}

fn check_host_without_new_services(configure: impl FnOnce(&mut SimConfig)) {
    let g = GoogleWorld::start(|_| {}, configure);
    let user = g.user("Ann", ContactsPermission::Edit);
    // The CRM knows Ann reads Russian in Moscow, but this host cannot tell the plugin.
    g.sim()
        .shared()
        .locales
        .set(user.id, "ru-RU", "Europe/Moscow")
        .unwrap();
    for i in 0..3 {
        g.add_contact(
            user.id,
            contact(&format!("G{i}"), "F", &format!("p{i}@example.org"), "vip"),
        );
    }
    let filter = g.filter(user.id, "VIP clients", "vip");
    let outcome = g.connect(user.id, ALICE);
    assert!(
        outcome.message.contains("Connected the Google account"),
        "{}",
        outcome.message
    );
    let outcome = g.enable(user.id, filter.id, ALICE, &[]);
    assert!(outcome.message.contains("Sync enabled"), "{}", outcome.message);
    g.settle();
    let group = g.group(ALICE, "VIP clients").expect("the group exists");
    assert_eq!(g.members(ALICE, &group).len(), 3);

    let view = g
        .sim()
        .render_settings(PLUGIN, user.id, SettingsPage::Filter(filter.id))
        .unwrap();
    let text = texts(&view);
    assert!(text.contains("Last sync: just now ("), "{text}");
    assert!(text.contains("Sync now"), "{text}");
    assert!(g.sim().shared().notices.history().is_empty());
    assert!(
        g.sim().logbook().grep("run_job \"review notices\"").is_empty(),
        "no job reviews notices a host cannot show"
    );
    // Said once, however many pages were rendered.
    g.sim()
        .render_settings(PLUGIN, user.id, SettingsPage::Integration)
        .unwrap();
    assert_eq!(
        g.sim()
            .logbook()
            .grep("does not tell users' languages and time zones")
            .len(),
        1
    );
    assert_eq!(
        g.sim().logbook().grep("does not show notices from plugins").len(),
        1
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
}

/// A CRM built against ABI 0.1.0, in miniature: just what today's plugin needs to start and
/// render a page. Its `HostServices` vtable ends before the 0.1.1 services.
#[derive(Clone)]
struct HostOfAbi0_1_0 {
    dir: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

mod old_host {
    use abi_stable::std_types::{ROption, RResult, RStr, RString, RVec};
    use old_abi::*;

    fn none<T>() -> RResult<ROption<T>, HostError> {
        RResult::ROk(ROption::RNone)
    }

    impl HostServices for super::HostOfAbi0_1_0 {
        fn filter_contacts(
            &self,
            _: FilterId,
            _: UserId,
            _: ContactId,
            _: u32,
        ) -> RResult<RVec<Contact>, HostError> {
            RResult::ROk(RVec::new())
        }
        fn filter_includes(&self, _: FilterId, _: UserId, _: ContactId) -> RResult<bool, HostError> {
            RResult::ROk(false)
        }
        fn get_contact(&self, _: UserId, _: ContactId) -> RResult<ROption<Contact>, HostError> {
            none()
        }
        fn create_contact(
            &self,
            _: UserId,
            c: &Contact,
            _: ROption<FilterId>,
        ) -> RResult<Contact, HostError> {
            RResult::ROk(c.clone())
        }
        fn update_contact(&self, _: UserId, c: &Contact) -> RResult<Contact, HostError> {
            RResult::ROk(c.clone())
        }
        fn user(&self, _: UserId) -> RResult<ROption<User>, HostError> {
            none()
        }
        fn filter(&self, _: FilterId) -> RResult<ROption<SavedFilter>, HostError> {
            none()
        }
        fn may_access(&self, _: UserId, _: ContactId) -> RResult<bool, HostError> {
            RResult::ROk(false)
        }
        fn submit_job(&self, _: Job) -> RResult<(), HostError> {
            RResult::ROk(())
        }
        fn data_dir(&self) -> RString {
            self.dir.as_str().into()
        }
        fn secret_get(&self, _: RStr<'_>) -> RResult<ROption<RString>, HostError> {
            none()
        }
        fn secret_set(&self, _: RStr<'_>, _: RStr<'_>) -> RResult<(), HostError> {
            RResult::ROk(())
        }
        fn secret_delete(&self, _: RStr<'_>) -> RResult<(), HostError> {
            RResult::ROk(())
        }
        fn now(&self) -> Millis {
            Millis(1_795_000_000_000)
        }
        fn log(&self, _: LogLevel, _: RStr<'_>, message: RStr<'_>) {
            self.log.lock().unwrap().push(message.to_string());
        }
        fn config(&self, _: RStr<'_>) -> ROption<RString> {
            ROption::RNone
        }
    }
}

#[test]
fn todays_plugin_loads_in_a_crm_built_against_abi_0_1_0_and_falls_back_to_english_and_utc() {
    let plugin_dir = plugin_dir_with(&[(&plugin_library(), "libnew.so")]);
    let data = tempfile::tempdir().unwrap();
    let header = abi_stable::library::lib_header_from_path(&plugin_dir.path().join("libnew.so")).unwrap();
    // The 0.1.0 interface is a prefix of today's: abi_stable accepts the longer vtables.
    let module = header
        .init_root_module::<old_abi::PluginMod_Ref>()
        .unwrap_or_else(|e| panic!("a 0.1.0 CRM must load today's plugin: {e}"));
    let host = HostOfAbi0_1_0 {
        dir: data.path().to_string_lossy().into_owned(),
        log: Default::default(),
    };
    let old_host: old_abi::Host = old_abi::HostServices_TO::from_ptr(
        abi_stable::std_types::RArc::new(host.clone()),
        abi_stable::sabi_trait::TD_Opaque,
    );
    let plugin = (module.new())(old_host).into_result().expect("the plugin starts");
    let ctx = old_abi::SettingsContext {
        user: old_abi::UserId(1),
        page: old_abi::SettingsPage::Integration,
        oauth_callback_url: "http://127.0.0.1/oauth/callback".into(),
    };
    let view = plugin
        .render_settings(&ctx)
        .into_result()
        .expect("the plugin renders");
    assert_eq!(view.title.as_str(), "Google Contacts");
    let headings: Vec<&str> = view.sections.iter().map(|s| s.heading.as_str()).collect();
    assert_eq!(headings, ["Google accounts", "Synced filters"]);
    plugin
        .on_tick(old_abi::Millis(1_795_000_060_000))
        .into_result()
        .unwrap();
    // The 0.1.1 services were answered by their defaults; the plugin said so once.
    let log = host.log.lock().unwrap().clone();
    let told = |needle: &str| log.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(
        told("does not tell users' languages and time zones"),
        1,
        "{log:#?}"
    );
    assert_eq!(told("does not show notices from plugins"), 1, "{log:#?}");
}
