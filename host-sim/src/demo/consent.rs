//! Plays the user's browser on Google's consent page: the same requests a person clicking
//! "Allow" makes, so the plugin's real OAuth flow (state, PKCE, code exchange) is exercised.

use std::time::Duration;

use url::Url;

/// Opens `auth_url` (the plugin's authorization URL), picks `account`, grants every scope the
/// page asks for, and returns the URL Google redirects back to, carrying `code` and `state`.
pub fn approve(auth_url: &str, account: &str) -> Result<String, String> {
    let start =
        Url::parse(auth_url).map_err(|e| format!("The authorization URL {auth_url} is not a URL: {e}"))?;
    // Redirects are not followed: the answer we want *is* the redirect back to the CRM.
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("No HTTP client for the consent page: {e}"))?;
    let page = http
        .get(start.as_str())
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.text())
        .map_err(|e| format!("Google's consent page {auth_url} could not be opened: {e}"))?;

    let form = Form::parse(&page).ok_or_else(|| format!("{auth_url} is not Google's consent page."))?;
    if !form.accounts.iter().any(|a| a == account) {
        return Err(format!(
            "The consent page offers no account {account} (it offers: {}).",
            form.accounts.join(", ")
        ));
    }
    let decide = start
        .join(&form.action)
        .map_err(|e| format!("The consent form's action is not a URL: {e}"))?;
    let mut fields = vec![
        ("request_id".to_string(), form.request_id),
        ("account".to_string(), account.to_string()),
        ("decision".to_string(), "allow".to_string()),
    ];
    fields.extend(form.scopes.into_iter().map(|s| ("scope".to_string(), s)));
    let answer = http
        .post(decide.as_str())
        .form(&fields)
        .send()
        .map_err(|e| format!("The consent decision could not be sent: {e}"))?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "Google answered the consent with {} instead of a redirect.",
                answer.status()
            )
        })?;
    let back =
        Url::parse(&location).map_err(|e| format!("Google redirected to {location}, not a URL: {e}"))?;
    if let Some((_, error)) = back.query_pairs().find(|(k, _)| k == "error") {
        return Err(format!("Google refused the consent: {error}"));
    }
    if !back.query_pairs().any(|(k, _)| k == "code") {
        return Err(format!(
            "Google's redirect {location} carries no authorization code."
        ));
    }
    Ok(location)
}

/// The callback URL's query as `(name, value)` pairs: the fields of the plugin's
/// `oauth_callback` action.
pub fn callback_fields(callback_url: &str) -> Result<Vec<(String, String)>, String> {
    let url = Url::parse(callback_url).map_err(|e| format!("{callback_url} is not a URL: {e}"))?;
    Ok(url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// What the consent page's form holds. Parsed by markers rather than an HTML parser: the page
/// is the fake's own, and this keeps the demo free of a DOM dependency.
struct Form {
    action: String,
    request_id: String,
    accounts: Vec<String>,
    scopes: Vec<String>,
}

impl Form {
    fn parse(page: &str) -> Option<Form> {
        let form_start = page.find("<form")?;
        let form = &page[form_start..];
        Some(Form {
            action: attribute(form, "action")?,
            request_id: input_values(form, "request_id").into_iter().next()?,
            accounts: input_values(form, "account"),
            scopes: input_values(form, "scope"),
        })
    }
}

/// The first `name="…"` attribute value in `tag_text`.
fn attribute(tag_text: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let start = tag_text.find(&marker)? + marker.len();
    let end = tag_text[start..].find('"')? + start;
    Some(html_unescape(&tag_text[start..end]))
}

/// The `value`s of every `<input name="{name}" …>` in `html`.
fn input_values(html: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\"");
    html.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            tag.contains(&marker).then(|| attribute(tag, "value")).flatten()
        })
        .collect()
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_consent_form() {
        let page = "<html><form id=\"consent\" method=\"post\" action=\"/o/oauth2/v2/auth/decide\">\n\
            <input type=\"hidden\" name=\"request_id\" value=\"r&amp;1\">\n\
            <label><input type=\"radio\" id=\"account-a\" name=\"account\" value=\"a@example.com\" checked> a</label>\n\
            <label><input type=\"radio\" id=\"account-b\" name=\"account\" value=\"b@example.com\"> b</label>\n\
            <label><input type=\"checkbox\" id=\"scope-0\" name=\"scope\" value=\"s1\" checked> S</label>\n\
            </form>";
        let form = Form::parse(page).expect("a form");
        assert_eq!(form.action, "/o/oauth2/v2/auth/decide");
        assert_eq!(form.request_id, "r&1");
        assert_eq!(form.accounts, ["a@example.com", "b@example.com"]);
        assert_eq!(form.scopes, ["s1"]);
    }

    #[test]
    fn a_page_without_a_form_is_refused() {
        assert!(Form::parse("<html>Error 400</html>").is_none());
    }
}
