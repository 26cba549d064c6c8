//! The plugin is a real library that host-sim loads from a plugin directory, calls through the
//! stable ABI, and keeps running when the plugin fails.

use std::time::Duration;

use abi::{
    Contact, ContactsPermission, Criterion, FilterId, Millis, PluginErrorKind, SavedFilter, SettingsAction,
    SettingsPage, FEATURE_GOOGLE_CONTACTS,
};
use abi_stable::std_types::RVec;
use host_sim::crm::Visibility;
use host_sim::loader::{library_file_name, load_plugin_dir, LoadError};
use tests::{built_library, plugin_dir_with, plugin_library, World, PLUGIN};

fn filter(author: abi::UserId) -> SavedFilter {
    SavedFilter {
        id: FilterId(0),
        name: "Customers".into(),
        author,
        saved: true,
        criteria: RVec::from(vec![Criterion {
            field: "company".into(),
            op: "not_empty".into(),
            value: "".into(),
        }]),
    }
}

#[test]
fn plugin_is_loaded_from_a_copy_in_the_plugin_directory() {
    let world = World::start(|_| {});
    assert_eq!(world.sim.plugin_names(), vec![PLUGIN.to_string()]);
    assert!(world.plugin_dir.path().join(library_file_name()).is_file());
    assert!(world.sim.logbook().grep("Google Contacts plugin started").len() == 1);
}

#[test]
fn every_hook_is_called_through_the_library_and_acts() {
    let world = World::start(|_| {});
    let sim = &world.sim;
    let user = sim
        .crm()
        .add_user("Ann", &[FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit, &[])
        .unwrap();
    let saved = sim.save_filter(filter(user.id)).unwrap();
    let contact = Contact {
        company: "Acme".into(),
        ..Contact::default()
    };
    sim.create_contact(user.id, contact, Visibility::Everyone)
        .unwrap();
    sim.advance(60_000);
    let view = sim
        .render_settings(PLUGIN, user.id, SettingsPage::Filter(saved.id))
        .unwrap();
    assert!(!view.title.is_empty());
    let action = SettingsAction {
        name: "no-such-action".into(),
        fields: RVec::new(),
    };
    let outcome = sim
        .settings_action(PLUGIN, user.id, SettingsPage::Integration, action)
        .unwrap();
    assert!(outcome.message.contains("no-such-action"), "{}", outcome.message);
    assert!(sim.wait_idle(Duration::from_secs(30)));
    sim.shutdown();

    for hook in [
        "on_filter_saved",
        "on_contact_changed",
        "on_tick",
        "render_settings",
        "handle_settings_action",
        "run_job",
        "shutdown",
    ] {
        assert!(!sim.logbook().grep(hook).is_empty(), "no log line from {hook}");
    }
    assert!(sim.hook_errors().is_empty(), "{:?}", sim.hook_errors());
}

#[test]
fn jobs_run_on_host_worker_threads_not_on_the_hook_thread() {
    let world = World::start(|c| c.workers = 3);
    let sim = &world.sim;
    let user = sim
        .crm()
        .add_user("Ann", &[FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit, &[])
        .unwrap();
    std::thread::Builder::new()
        .name("crm-request".into())
        .spawn({
            let sim = sim.clone();
            move || {
                sim.create_contact(user.id, Contact::default(), Visibility::Everyone)
                    .unwrap();
            }
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(sim.wait_idle(Duration::from_secs(30)));
    let hook = sim.logbook().grep("on_contact_changed");
    let job = sim.logbook().grep("run_job");
    assert_eq!(hook[0].thread, "crm-request");
    assert!(!job.is_empty());
    assert!(job.iter().all(|l| l.thread.starts_with("worker-")), "{job:?}");
}

#[test]
fn ticks_arrive_at_the_configured_period_on_the_controllable_clock() {
    let world = World::start(|c| {
        c.manual_clock = Some(Millis(1_000_000));
        c.tick_period_ms = 5_000;
    });
    let sim = &world.sim;
    sim.advance(4_999);
    assert!(sim.ticks().is_empty());
    sim.advance(1);
    sim.advance(12_000);
    assert_eq!(
        sim.ticks(),
        vec![Millis(1_005_000), Millis(1_010_000), Millis(1_015_000)]
    );
    assert_eq!(sim.logbook().grep("on_tick").len(), 3);
}

#[test]
fn a_panicking_hook_returns_an_error_and_the_host_keeps_going() {
    let world = World::start(|c| {
        c.plugin_config
            .insert("debug.panic_in".into(), "on_tick,render_settings".into());
    });
    let sim = &world.sim;
    let user = sim
        .crm()
        .add_user("Ann", &[FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit, &[])
        .unwrap();
    let err = sim
        .render_settings(PLUGIN, user.id, SettingsPage::Integration)
        .unwrap_err();
    assert_eq!(err.kind, PluginErrorKind::Panicked);
    assert!(err.message.contains("render_settings"), "{}", err.message);
    sim.advance(60_000);
    assert!(sim.hook_errors().iter().any(|e| e.contains("on_tick failed")));
    // The next hooks work.
    sim.create_contact(user.id, Contact::default(), Visibility::Everyone)
        .unwrap();
    assert!(sim.wait_idle(Duration::from_secs(30)));
    assert!(!sim.logbook().grep("run_job").is_empty());
}

fn load_error(files: &[(&std::path::Path, &str)]) -> LoadError {
    let dir = plugin_dir_with(files);
    match load_plugin_dir(dir.path()) {
        Ok(_) => panic!("the plugin directory loaded"),
        Err(e) => e,
    }
}

#[test]
fn missing_plugin_dir_is_reported_with_what_to_do() {
    let err = load_plugin_dir(std::path::Path::new("/nonexistent/plugins"))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "The plugin directory /nonexistent/plugins does not exist. Create it and copy the plugin's .so file into it."
    );
}

#[test]
fn empty_plugin_dir_is_reported_with_the_file_to_copy() {
    let err = load_error(&[]);
    assert!(matches!(err, LoadError::DirEmpty(_)));
    assert!(
        err.to_string().contains("holds no plugin library (*.so)"),
        "{err}"
    );
    assert!(err.to_string().contains("libcrm_google_contacts.so"), "{err}");
}

#[test]
fn a_file_that_is_not_a_shared_library_is_named() {
    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), b"this is not ELF").unwrap();
    let err = load_error(&[(junk.path(), "libjunk.so")]);
    assert!(matches!(err, LoadError::NotALibrary { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("libjunk.so is not a loadable shared library"),
        "{text}"
    );
    assert!(text.contains("Remove it from the plugin directory"), "{text}");
}

#[test]
fn a_library_without_the_root_module_is_not_a_plugin() {
    let err = load_error(&[(&built_library("fixture_not_a_plugin"), "libother.so")]);
    assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("libother.so is a shared library but not a CRM plugin"),
        "{err}"
    );
}

#[test]
fn a_plugin_built_for_another_major_abi_version_is_refused() {
    let err = load_error(&[(&built_library("fixture_wrong_version"), "libfuture.so")]);
    let text = err.to_string();
    assert!(matches!(err, LoadError::VersionMismatch { .. }), "{err:?}");
    let ours = <abi::PluginMod_Ref as abi_stable::library::RootModule>::VERSION_STRINGS.version;
    assert!(
        text.contains(&format!(
            "libfuture.so was built for ABI version 7.0.0, but this CRM expects {ours}"
        )),
        "{text}"
    );
}

#[test]
fn a_plugin_with_another_layout_is_refused_with_abi_stables_full_report() {
    let err = load_error(&[(&built_library("fixture_wrong_layout"), "liblayout.so")]);
    let text = err.to_string();
    assert!(matches!(err, LoadError::AbiMismatch { .. }), "{err:?}");
    assert!(
        text.contains("liblayout.so does not match this CRM's plugin interface"),
        "{text}"
    );
    // abi_stable's own report names the mismatching type.
    assert!(
        text.contains("abi_stable's report:") && text.contains("PluginMod"),
        "{text}"
    );
}

#[test]
fn two_plugins_with_the_same_name_are_refused() {
    let lib = plugin_library();
    let err = load_error(&[(&lib, "liba.so"), (&lib, "libb.so")]);
    let text = err.to_string();
    assert!(matches!(err, LoadError::DuplicateName { .. }), "{err:?}");
    assert!(text.contains("are both the plugin \"google-contacts\""), "{text}");
}
