//! Markup in CRM data never becomes markup on the CRM's pages: filters, contacts, users and the
//! messages flashed after actions all show escaped, in text and in attribute values.

use abi::{
    Contact, ContactsPermission, Criterion, FilterId, PersonName, SavedFilter, TypedValue,
    FEATURE_GOOGLE_CONTACTS,
};
use abi_stable::std_types::RVec;
use host_sim::crm::Visibility;
use tests::WebStack;

const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
const IMG: &str = "\"><img src=x onerror=alert(1)>";
const IMG_ESCAPED: &str = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";

fn assert_escaped(page: &str, html: &str, raw: &str, escaped: &str) {
    assert!(
        !html.contains(raw),
        "{page} holds the raw markup {raw:?}:\n{html}"
    );
    assert!(
        html.contains(escaped),
        "{page} does not show {escaped:?}:\n{html}"
    );
}

#[test]
fn hostile_names_show_as_text_on_every_page() {
    let stack = WebStack::start(false);
    let sim = &stack.world.sim;
    let base = stack.web.base_url();
    let user = sim
        .crm()
        .add_user(
            IMG,
            &[FEATURE_GOOGLE_CONTACTS],
            ContactsPermission::Edit,
            &[SCRIPT],
        )
        .unwrap();
    let filter = sim
        .save_filter(SavedFilter {
            id: FilterId(0),
            name: SCRIPT.into(),
            author: user.id,
            saved: true,
            criteria: RVec::from(vec![Criterion {
                field: "company".into(),
                op: "equals".into(),
                value: IMG.into(),
            }]),
        })
        .unwrap();
    let contact = sim
        .create_contact(
            user.id,
            Contact {
                name: PersonName {
                    given: IMG.into(),
                    family: SCRIPT.into(),
                    ..PersonName::default()
                },
                emails: RVec::from(vec![TypedValue {
                    value: SCRIPT.into(),
                    kind: IMG.into(),
                    primary: true,
                }]),
                company: IMG.into(),
                notes: SCRIPT.into(),
                ..Contact::default()
            },
            Visibility::Everyone,
        )
        .unwrap();

    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str, cookie: Option<&str>| {
        let mut request = http.get(format!("{base}{path}"));
        if let Some(c) = cookie {
            request = request.header("Cookie", c);
        }
        let response = request.send().expect("page answers");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        response.text().expect("page body")
    };
    let uid = user.id.0;
    let pages = [
        "/".to_string(),
        format!("/ui/users/{uid}/integrations"),
        format!("/ui/users/{uid}/filters"),
        format!("/ui/users/{uid}/filters/{}", filter.id.0),
        format!("/ui/users/{uid}/contacts/{}", contact.id.0),
    ];
    for path in &pages {
        let html = get(path, None);
        // The user's name is on every page but the start page's header; it is in the table there.
        assert_escaped(path, &html, IMG, IMG_ESCAPED);
        if path != &pages[1] {
            assert_escaped(path, &html, SCRIPT, SCRIPT_ESCAPED);
        }
    }

    // A flash message carrying markup (the plugin repeats an unknown action's name).
    let action = http
        .post(format!(
            "{base}/ui/users/{uid}/actions?page=filter:{}",
            filter.id.0
        ))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("__action={}&x={}", url_encode(SCRIPT), url_encode(IMG)))
        .send()
        .expect("action answers");
    assert_eq!(action.status().as_u16(), 303);
    let cookie = action
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("crm_flash="))
        .and_then(|c| c.split(';').next())
        .expect("a flash cookie")
        .to_string();
    let html = get(&format!("/ui/users/{uid}/filters/{}", filter.id.0), Some(&cookie));
    assert!(html.contains("id=\"flash\""), "no flash shown:\n{html}");
    assert_escaped("the flash", &html, SCRIPT, SCRIPT_ESCAPED);
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
