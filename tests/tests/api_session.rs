//! The example session in `host-sim/API.md` works as written: each `curl` line of the block
//! marked ```` ```sh session ```` runs against a live CRM (the doc's host swapped for the live
//! one) and answers 2xx with JSON. Also: the API's errors are JSON with the right status.

use serde_json::Value;
use tests::WebStack;

/// The host the doc's examples use (`host-sim serve`'s default).
const DOC_HOST: &str = "http://127.0.0.1:8080";

fn api_doc() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../host-sim/API.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The commands of the fenced block whose info string is `sh session`, with `\`-continued
/// lines joined.
fn session_commands(doc: &str) -> Vec<String> {
    let mut lines = doc.lines().skip_while(|l| l.trim() != "```sh session").skip(1);
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in lines.by_ref() {
        if line.trim_start().starts_with("```") {
            break;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                if current.trim_start().starts_with("curl") {
                    commands.push(current.trim().to_string());
                }
                current.clear();
            }
        }
    }
    commands
}

/// Splits a command line as a POSIX shell would for the quoting the doc uses.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c if c.is_whitespace() => words.extend(word.take()),
            '#' if word.is_none() => break,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// A curl invocation, as far as the doc uses curl.
struct Curl {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

fn parse_curl(line: &str) -> Curl {
    let words = shell_words(line);
    assert_eq!(words.first().map(String::as_str), Some("curl"), "{line}");
    let mut curl = Curl {
        method: String::new(),
        url: String::new(),
        headers: Vec::new(),
        body: None,
    };
    let mut it = words.iter().skip(1);
    while let Some(w) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| panic!("{w} needs a value in: {line}"))
        };
        match w.as_str() {
            "-s" | "-S" | "-sS" | "-f" | "-sf" | "-fsS" | "--silent" | "--fail" | "--show-error" => {}
            "-X" | "--request" => curl.method = value(),
            "-H" | "--header" => {
                let h = value();
                let (k, v) = h
                    .split_once(':')
                    .unwrap_or_else(|| panic!("bad header {h} in: {line}"));
                curl.headers.push((k.trim().to_string(), v.trim().to_string()));
            }
            "-d" | "--data" | "--data-raw" | "--json" => curl.body = Some(value()),
            url if url.starts_with("http") => curl.url = url.to_string(),
            other => panic!("the session uses a curl option this test does not know: {other} in: {line}"),
        }
    }
    if curl.method.is_empty() {
        curl.method = if curl.body.is_some() {
            "POST".into()
        } else {
            "GET".into()
        };
    }
    assert!(!curl.url.is_empty(), "no URL in: {line}");
    curl
}

fn run(http: &reqwest::blocking::Client, base: &str, curl: &Curl) -> (u16, String) {
    let url = curl.url.replacen(DOC_HOST, base, 1);
    let method = reqwest::Method::from_bytes(curl.method.as_bytes()).expect("HTTP method");
    let mut request = http.request(method, &url);
    for (k, v) in &curl.headers {
        request = request.header(k, v);
    }
    if let Some(body) = &curl.body {
        request = request.body(body.clone());
    }
    let response = request
        .send()
        .unwrap_or_else(|e| panic!("{} {url}: {e}", curl.method));
    (response.status().as_u16(), response.text().unwrap_or_default())
}

#[test]
fn the_documented_session_runs_against_a_live_server() {
    let stack = WebStack::start(true);
    let base = stack.web.base_url();
    let commands = session_commands(&api_doc());
    assert!(
        commands.len() >= 15,
        "the session block was not found or is short: {commands:?}"
    );
    let http = reqwest::blocking::Client::new();
    for line in &commands {
        let curl = parse_curl(line);
        assert!(
            curl.url.starts_with(DOC_HOST),
            "the session should use {DOC_HOST}: {line}"
        );
        let (status, body) = run(&http, &base, &curl);
        assert!((200..300).contains(&status), "{line}\n→ {status} {body}");
        let json: Result<Value, _> = serde_json::from_str(&body);
        assert!(json.is_ok(), "{line}\n→ not JSON: {body}");
    }
    // The session's story holds: Bob saw only Carol through the filter, the action answered.
    let contacts: Value = http
        .get(format!("{base}/api/contacts"))
        .send()
        .and_then(|r| r.json())
        .expect("contacts list");
    let ids: Vec<u64> = contacts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![4], "Carol was deleted, Dave remains: {contacts}");
}

#[test]
fn api_errors_are_json_with_telling_statuses() {
    let stack = WebStack::start(true);
    let base = stack.web.base_url();
    let http = reqwest::blocking::Client::new();
    let call = |method: &str, path: &str, body: &str| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = http
            .request(method, format!("{base}{path}"))
            .body(body.to_string())
            .send()
            .expect("answer");
        let status = r.status().as_u16();
        let json: Value = r.json().expect("JSON error body");
        (status, json["error"].as_str().unwrap_or("").to_string(), json)
    };
    let (s, _, ann) = call(
        "POST",
        "/api/users",
        r#"{"name": "Ann", "features": ["google_contacts_sync"]}"#,
    );
    assert_eq!(s, 201);
    let (s, _, _) = call(
        "POST",
        "/api/users",
        r#"{"name": "Bob", "contacts_permission": "view"}"#,
    );
    assert_eq!(s, 201);
    assert_eq!(ann["id"], 1);

    let cases = [
        ("POST", "/api/users", "{not json", 400, "not valid JSON"),
        ("POST", "/api/users", r#"{"name": 7}"#, 400, "\"name\""),
        (
            "POST",
            "/api/users",
            r#"{"name": "C", "contacts_permission": "root"}"#,
            400,
            "Unknown contacts permission",
        ),
        ("GET", "/api/users/abc", "", 400, "not a user id"),
        ("GET", "/api/users/99", "", 404, "no user 99"),
        (
            "POST",
            "/api/contacts",
            r#"{"owner": 1, "contact": {"nmae": "x"}}"#,
            400,
            "Unknown field contact.nmae",
        ),
        (
            "POST",
            "/api/contacts",
            r#"{"owner": 2, "contact": {}}"#,
            403,
            "may not edit",
        ),
        (
            "POST",
            "/api/contacts",
            r#"{"owner": 1, "visibility": "friends"}"#,
            400,
            "visibility",
        ),
        ("GET", "/api/contacts/12345", "", 404, "no contact 12345"),
        ("DELETE", "/api/contacts/12345", "", 404, "no contact 12345"),
        ("POST", "/api/filters", r#"{"name": "x"}"#, 400, "author"),
        (
            "POST",
            "/api/filters",
            r#"{"name": "x", "author": 1, "criteria": [{"field": "company", "op": "like"}]}"#,
            400,
            "op",
        ),
        (
            "GET",
            "/api/users/1/plugins/nope/settings",
            "",
            404,
            "No plugin named",
        ),
        (
            "GET",
            "/api/users/1/plugins/google-contacts/settings?page=filter:777",
            "",
            404,
            "no filter 777",
        ),
        (
            "GET",
            "/api/users/1/plugins/google-contacts/settings?page=sideways",
            "",
            400,
            "Unknown page",
        ),
        (
            "POST",
            "/api/users/1/plugins/google-contacts/actions",
            r#"{"fields": {}}"#,
            400,
            "\"name\"",
        ),
        ("POST", "/api/clock/advance", r#"{"ms": -5}"#, 400, "\"ms\""),
        (
            "POST",
            "/api/wait-idle",
            r#"{"timeout_ms": "soon"}"#,
            400,
            "timeout_ms",
        ),
        ("GET", "/api/nowhere", "", 404, "no API route"),
    ];
    for (method, path, body, status, needle) in cases {
        let (s, error, json) = call(method, path, body);
        assert_eq!(s, status, "{method} {path} {body} → {json}");
        assert!(
            error.to_lowercase().contains(&needle.to_lowercase()),
            "{method} {path} → {error:?}, wanted {needle:?}"
        );
    }

    // A contact Bob may not see is a 403 as Bob, and Bob (view only) may not edit.
    let (s, _, carol) = call(
        "POST",
        "/api/contacts",
        r#"{"owner": 1, "visibility": "owner", "contact": {"company": "Acme"}}"#,
    );
    assert_eq!(s, 201);
    let cid = carol["id"].as_u64().expect("contact id");
    let (s, _, _) = call("GET", &format!("/api/contacts/{cid}?as_user=2"), "");
    assert_eq!(s, 403);
    let (s, _, _) = call(
        "PATCH",
        &format!("/api/contacts/{cid}"),
        r#"{"as_user": 2, "contact": {"notes": "x"}}"#,
    );
    assert_eq!(s, 403);
}

#[test]
fn the_doc_parser_reads_quoted_json_and_continuations() {
    let doc = "x\n```sh session\ncurl -s -X POST http://127.0.0.1:8080/api/x \\\n  -d '{\"a\": \"b c\"}'\necho no\n```\n";
    let commands = session_commands(doc);
    assert_eq!(commands.len(), 1);
    let curl = parse_curl(&commands[0]);
    assert_eq!(
        (curl.method.as_str(), curl.url.as_str()),
        ("POST", "http://127.0.0.1:8080/api/x")
    );
    assert_eq!(curl.body.as_deref(), Some("{\"a\": \"b c\"}"));
}
