//! A real headless Chromium clicks through the CRM's pages: activate sync on a filter, connect a
//! Google account on the fake consent page, enable sync, watch the first run finish, change a
//! contact in Google and pull it in with "Sync now"; and preview, enable as previewed, see the
//! recent changes and undo a run.
//!
//! Chromium is driven over the DevTools protocol by `tests::browser` (the `headless_chrome`
//! crate, built so that it never downloads a browser). Without `/usr/bin/chromium` (or
//! `$CHROMIUM`) the test is skipped — except under `CI=true`, where a missing browser is a
//! failure. Screenshots of each step go to `target/browser-screenshots/`.

use abi::{ContactsPermission, FEATURE_GOOGLE_CONTACTS};
use serde_json::json;
use tests::browser::{require_chromium, screenshot_dir, wait_until, Browser};
use tests::WebStack;

const ACCOUNT: &str = "alice@example.com";

#[test]
fn a_user_connects_google_and_syncs_a_filter_in_a_real_browser() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let stack = WebStack::start(true);
    let base = stack.web.base_url();
    let google = stack.google.base_url();

    let (ann, filter_url) = ann_with_customers(&stack);

    let shots = screenshot_dir();
    let mut browser = Browser::launch(&chromium).expect("Chromium starts with a DevTools endpoint");
    let step = |browser: &mut Browser, name: &str| {
        browser.screenshot(&shots.join(format!("{name}.png")));
    };

    // The filter page offers sync to its author.
    browser.goto(&filter_url);
    step(&mut browser, "01-filter-page");
    assert!(browser.text().contains("Customers"), "{}", browser.text());
    browser.click_and_wait("activate");
    step(&mut browser, "02-activated");

    // No account yet: "Connect Google" leads to Google's consent page.
    browser.click_and_wait("connect-google");
    step(&mut browser, "03-consent");
    assert!(
        browser.url().starts_with(&google),
        "expected the consent page, at {}",
        browser.url()
    );
    browser.click(&format!("account-{ACCOUNT}"));
    browser.click_and_wait("allow");
    step(&mut browser, "04-back-from-google");
    assert!(
        browser.url().starts_with(&filter_url),
        "expected the filter page, at {}",
        browser.url()
    );
    assert!(
        browser.exists("enable-sync"),
        "no enable-sync form after connecting:\n{}",
        browser.text()
    );

    // Enable sync with the defaults, into a named group.
    browser.set_value("group_name", "CRM Customers");
    browser.click_and_wait("enable-sync-submit");
    step(&mut browser, "05-enabled");

    // The first run finishes; the page shows its counts and when it ran.
    wait_until(
        &mut browser,
        &base,
        &filter_url,
        "the first sync to finish",
        |b| {
            let text = b.text();
            text.contains("Last sync") && text.contains("Last run") && !b.exists_selector("progress")
        },
    );
    step(&mut browser, "06-first-sync-done");
    let status = browser.text();
    assert_eq!(
        last_run_counts(&status).created_in_google,
        2,
        "the first run's counts are not shown:\n{status}"
    );
    let in_google = stack.google.contacts(ACCOUNT).expect("account exists");
    assert_eq!(in_google.len(), 2, "both contacts reached Google: {in_google:#?}");

    // Someone renames Carol in Google's web UI…
    let carol = in_google
        .iter()
        .find(|p| p.to_string().contains("Carol"))
        .and_then(|p| p["resourceName"].as_str())
        .expect("Carol in Google")
        .trim_start_matches("people/")
        .to_string();
    let http = reqwest::blocking::Client::new();
    let edited = http
        .patch(format!("{google}/control/accounts/{ACCOUNT}/contacts/{carol}"))
        .json(&json!({"names": [{"givenName": "Caroline", "familyName": "Jones"}]}))
        .send()
        .expect("control API answers");
    assert!(edited.status().is_success(), "{:?}", edited.text());

    // …and "Sync now" brings the change into the CRM.
    browser.click_and_wait("sync-now");
    step(&mut browser, "07-sync-now");
    wait_until(
        &mut browser,
        &base,
        &filter_url,
        "the renamed contact in the CRM",
        |b| b.text().contains("Caroline Jones"),
    );
    step(&mut browser, "08-change-in-crm");
    // The CRM's contact list (the page's "Recent changes" names the old value too).
    let listed = browser
        .eval("document.getElementById('contacts').innerText")
        .unwrap_or_default();
    let listed = listed.as_str().unwrap_or("");
    assert!(
        listed.contains("Caroline Jones") && !listed.contains("Carol Jones"),
        "{listed}"
    );

    // The integration page lists the connected account.
    browser.goto(&format!("{base}/ui/users/{}/integrations", ann.id.0));
    step(&mut browser, "09-integrations");
    let accounts = browser
        .eval("document.getElementById('accounts') ? document.getElementById('accounts').innerText : ''")
        .unwrap_or_default();
    assert!(
        accounts.as_str().is_some_and(|t| t.contains(ACCOUNT)),
        "accounts table: {accounts}"
    );
}

#[test]
fn denying_consent_on_google_comes_back_with_a_message() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let stack = WebStack::start(true);
    let sim = &stack.world.sim;
    let base = stack.web.base_url();
    let ann = sim
        .crm()
        .add_user("Ann", &[FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit, &[])
        .unwrap();
    let integrations = format!("{base}/ui/users/{}/integrations", ann.id.0);
    let shots = screenshot_dir();

    let mut browser = Browser::launch(&chromium).expect("Chromium starts with a DevTools endpoint");
    browser.goto(&integrations);
    browser.click_and_wait("connect-google");
    assert!(
        browser.url().starts_with(&stack.google.base_url()),
        "expected the consent page, at {}",
        browser.url()
    );
    browser.click_and_wait("deny");
    browser.screenshot(&shots.join("deny-01-back.png"));
    assert!(
        browser.url().starts_with(&integrations),
        "expected the integration page, at {}",
        browser.url()
    );
    assert!(
        browser.exists("flash"),
        "no message after denying:\n{}",
        browser.text()
    );
    assert!(
        browser.exists("connect-google"),
        "connecting can be tried again:\n{}",
        browser.text()
    );
    let accounts = browser
        .eval("document.getElementById('accounts') ? document.getElementById('accounts').innerText : ''")
        .unwrap_or_default();
    assert!(
        !accounts.as_str().unwrap_or("").contains(ACCOUNT),
        "no account was connected: {accounts}"
    );

    // The message shows once.
    browser.goto(&integrations);
    assert!(
        !browser.exists("flash"),
        "the message shows again:\n{}",
        browser.text()
    );
}

#[test]
fn the_oauth_callback_without_a_signed_in_user_explains_what_to_do() {
    let stack = WebStack::start(true);
    let response = reqwest::blocking::get(format!("{}/oauth/callback?code=x&state=y", stack.web.base_url()))
        .expect("the callback answers");
    assert_eq!(response.status().as_u16(), 400);
    let body = response.text().unwrap_or_default();
    assert!(body.contains("not signed in"), "{body}");
}

/// The "Last run" counts as the page shows them, each read as a whole number.
fn last_run_counts(page_text: &str) -> tests::RunCounts {
    let line = page_text
        .lines()
        .find(|l| l.contains(" updated in the CRM, "))
        .unwrap_or_else(|| panic!("no run counts on the page:\n{page_text}"));
    tests::RunCounts::read(line.trim().trim_start_matches("Last run").trim())
}

/// Ann, on a plan with Google Contacts sync, and her filter "Customers" of Carol Jones and Dave
/// Smith at Acme; the filter page's URL.
fn ann_with_customers(stack: &WebStack) -> (abi::User, String) {
    let sim = &stack.world.sim;
    let ann = sim
        .crm()
        .add_user("Ann", &[FEATURE_GOOGLE_CONTACTS], ContactsPermission::Edit, &[])
        .unwrap();
    let filter = tests::company_filter(
        sim,
        ann.id,
        "Customers",
        "Acme",
        &[
            ("Carol", "Jones", "carol@acme.test"),
            ("Dave", "Smith", "dave@acme.test"),
        ],
    );
    let url = format!(
        "{}/ui/users/{}/filters/{}",
        stack.web.base_url(),
        ann.id.0,
        filter.id.0
    );
    (ann, url)
}

/// Preview → Enable as previewed → an edit in Google → Recent changes → Undo this run → the
/// export → the contact's own history, each page screenshotted (`preview-*.png`).
#[test]
fn a_user_previews_enables_as_previewed_and_undoes_a_run_in_a_real_browser() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let stack = WebStack::start(true);
    let sim = &stack.world.sim;
    let base = stack.web.base_url();
    let google = stack.google.base_url();
    let (ann, filter_url) = ann_with_customers(&stack);
    let shots = screenshot_dir();
    let mut browser = Browser::launch(&chromium).expect("Chromium starts with a DevTools endpoint");
    let step = |browser: &mut Browser, name: &str| {
        browser.screenshot(&shots.join(format!("preview-{name}.png")));
    };
    browser.goto(&filter_url);
    browser.click_and_wait("activate");
    browser.click_and_wait("connect-google");
    browser.click(&format!("account-{ACCOUNT}"));
    browser.click_and_wait("allow");

    // Preview first: nothing is written, the page shows what the first run would do.
    browser.click("preview");
    browser.click_and_wait("enable-sync-submit");
    wait_until(&mut browser, &base, &filter_url, "the preview", |b| {
        b.text().contains("Totals")
    });
    step(&mut browser, "01-preview");
    let text = browser.text();
    assert!(text.contains("Created in Google"), "{text}");
    assert!(
        stack.google.contacts(ACCOUNT).expect("account exists").is_empty(),
        "a preview wrote to Google"
    );

    // Enable as previewed: the first run does what the preview showed.
    browser.click_and_wait("enable-previewed");
    wait_until(&mut browser, &base, &filter_url, "the first run", |b| {
        b.text().contains("did what the preview showed")
    });
    step(&mut browser, "02-enabled-as-previewed");

    // An edit in Google, pulled in by "Sync now".
    let carol = stack
        .google
        .contacts(ACCOUNT)
        .expect("account exists")
        .iter()
        .find(|p| p.to_string().contains("Carol"))
        .and_then(|p| p["resourceName"].as_str().map(str::to_string))
        .expect("Carol in Google");
    let id = carol.trim_start_matches("people/");
    let edited = reqwest::blocking::Client::new()
        .patch(format!("{google}/control/accounts/{ACCOUNT}/contacts/{id}"))
        .json(&json!({"names": [{"givenName": "Caroline", "familyName": "Jones"}]}))
        .send()
        .expect("control API answers");
    assert!(edited.status().is_success(), "{:?}", edited.text());
    browser.click_and_wait("sync-now");
    wait_until(&mut browser, &base, &filter_url, "the edit in the CRM", |b| {
        b.text().contains("Caroline Jones")
    });

    // Recent changes show it: the name, in the CRM, edited in Google.
    step(&mut browser, "03-recent-changes");
    let history = browser
        .eval("document.getElementById('history').innerText")
        .unwrap_or_default();
    let history = history.as_str().unwrap_or("").to_string();
    assert!(
        history.contains("edited in Google") && history.contains("Caroline Jones"),
        "{history}"
    );

    // Undo this run: the old name comes back in the CRM, and the next sync takes it to Google.
    browser
        .eval("window.confirm = () => true")
        .unwrap_or_else(|e| panic!("{e}"));
    browser.click_and_wait("undo-run");
    wait_until(&mut browser, &base, &filter_url, "the undo", |b| {
        b.text().contains("Undo done: 1 put back")
    });
    step(&mut browser, "04-undone");
    wait_until(&mut browser, &base, &filter_url, "the old name in Google", |_| {
        stack
            .google
            .contacts(ACCOUNT)
            .unwrap_or_default()
            .iter()
            .any(|p| p["names"][0]["givenName"] == "Carol")
    });
    let carol_in_crm = sim
        .crm()
        .all_contacts()
        .into_iter()
        .any(|r| r.contact.name.given.as_str() == "Carol");
    assert!(carol_in_crm, "the CRM has Carol again");

    // "Export as CSV" posts its form like any button; the CRM answers with the file.
    browser.goto(&filter_url);
    let export = browser
        .eval(
            "(async () => { const f = document.getElementById('export-history').form; \
             const r = await fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f))}); \
             return r.headers.get('content-disposition') + '\\n' + await r.text(); })()",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let export = export.as_str().unwrap_or("");
    assert!(
        export.starts_with("attachment; filename=\"sync-history-filter-")
            && export.contains("Caroline Jones"),
        "{export}"
    );

    // Carol's own page in the CRM shows what the sync did to her.
    let carol = sim
        .crm()
        .all_contacts()
        .into_iter()
        .find(|r| r.contact.name.given.as_str() == "Carol")
        .expect("Carol in the CRM");
    browser.goto(&format!(
        "{base}/ui/users/{}/contacts/{}",
        ann.id.0, carol.contact.id.0
    ));
    step(&mut browser, "05-contact-history");
    let text = browser.text();
    assert!(
        text.contains("Changes made by the sync of “Customers”") && text.contains("Caroline Jones"),
        "{text}"
    );
}
