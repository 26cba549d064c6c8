//! `host-sim demo` in-process: the real plugin copied into a plugin directory, a smaller CRM,
//! and the whole story told into a buffer. Every step checks its own outcome against both
//! sides, so reaching the summary means the product's story really happened.

use host_sim::demo::{self, DemoOptions};

#[test]
fn the_demo_tells_the_whole_story_and_every_step_passes() {
    let plugin_dir =
        tests::plugin_dir_with(&[(&tests::plugin_library(), &host_sim::loader::library_file_name())]);
    let options = DemoOptions {
        plugin_dir: plugin_dir.path().to_path_buf(),
        contacts: 200,
        state_dir: None,
    };
    let mut out = Vec::new();
    let result = demo::run(&options, &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let summary = result.unwrap_or_else(|e| panic!("the demo failed: {e}\n--- output ---\n{text}"));

    let names: Vec<&str> = summary.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Connect Google",
            "First sync",
            "CRM edit -> Google",
            "Google edit -> CRM",
            "Conflict",
            "Deleted in Google",
            "Deleted in the CRM",
            "Sync with no edits"
        ]
    );
    assert_eq!(summary.steps_passed, summary.steps.len());
    assert_eq!(text.matches("  ok    ").count(), names.len(), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.contains("\nSummary\n"), "{text}");
    assert!(
        text.contains(&format!("All {} steps passed.", names.len())),
        "{text}"
    );

    assert_eq!(summary.contacts_in_crm, 200);
    assert!(
        (60..=140).contains(&summary.contacts_synced),
        "about half are key clients: {summary:?}"
    );
    let quiet = summary.steps.last().map(|s| s.calls).unwrap_or_default();
    assert_eq!(
        quiet.writes, 0,
        "a sync with no edits wrote to Google: {summary:?}"
    );
    assert!(
        summary.google.writes > 0 && summary.google.total >= summary.google.reads + summary.google.writes
    );

    // Not a terminal (a buffer): plain lines only, never a terminal escape code.
    assert!(!text.contains('\u{1b}'), "escape codes in the output:\n{text}");
    assert!(!text.contains('\r'), "carriage returns in the output:\n{text}");
    assert!(
        text.contains("first sync: "),
        "the first sync's progress is shown as plain lines:\n{text}"
    );
}

#[test]
fn a_missing_plugin_directory_is_reported_with_the_loaders_message() {
    let parent = tempfile::tempdir().expect("temporary directory");
    let missing = parent.path().join("no-such-dir");
    let options = DemoOptions::new(&missing);
    let mut out = Vec::new();
    let error = demo::run(&options, &mut out).expect_err("the demo cannot run without a plugin");
    assert!(error.contains("does not exist"), "{error}");
    assert!(error.contains(&missing.display().to_string()), "{error}");
}
