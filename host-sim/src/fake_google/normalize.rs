//! Server-computed, read-only values: display names, formatted types, E.164 phone numbers,
//! formatted addresses.

use serde_json::{Map, Value};

/// A reasonable E.164 normalizer (not libphonenumber): strips spaces, dashes, parentheses and
/// dots; keeps a leading `+`; `00` becomes `+`; ten digits without `+` are taken as NANP (`+1`),
/// eleven starting with `1` likewise. Returns `None` when the result is not plausible E.164.
pub fn canonical_phone(value: &str) -> Option<String> {
    let trimmed = value.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::new();
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' | '+' | '\u{a0}' => {}
            _ => return None, // letters, extensions: Google leaves canonicalForm unset
        }
    }
    let e164 = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if digits.len() == 10 {
        format!("1{digits}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        digits
    } else {
        return None;
    };
    (8..=15).contains(&e164.len()).then(|| format!("+{e164}"))
}

/// Google's display form of a `type` value: known types are localized, custom types are echoed.
pub fn formatted_type(t: &str) -> String {
    let known = match t {
        "home" => "Home",
        "work" => "Work",
        "other" => "Other",
        "mobile" => "Mobile",
        "homeFax" => "Home Fax",
        "workFax" => "Work Fax",
        "otherFax" => "Other Fax",
        "pager" => "Pager",
        "workMobile" => "Work Mobile",
        "workPager" => "Work Pager",
        "main" => "Main",
        "googleVoice" => "Google Voice",
        "blog" => "Blog",
        "profile" => "Profile",
        "homePage" => "Home Page",
        "ftp" => "FTP",
        "reservations" => "Reservations",
        "appInstallPage" => "App Install Page",
        "school" => "School",
        "birthday" => "Birthday",
        "anniversary" => "Anniversary",
        "spouse" => "Spouse",
        "child" => "Child",
        "mother" => "Mother",
        "father" => "Father",
        "parent" => "Parent",
        "brother" => "Brother",
        "sister" => "Sister",
        "friend" => "Friend",
        "relative" => "Relative",
        "domesticPartner" => "Domestic Partner",
        "manager" => "Manager",
        "assistant" => "Assistant",
        "referredBy" => "Referred by",
        "partner" => "Partner",
        "account" => "Account",
        "customer" => "Customer",
        "network" => "Network",
        "organization" => "Organization",
        "availability" => "Availability",
        "freeBusy" => "Free/Busy",
        _ => return t.to_string(),
    };
    known.to_string()
}

pub fn formatted_protocol(p: &str) -> String {
    match p {
        "aim" => "AIM",
        "msn" => "MSN",
        "yahoo" => "Yahoo",
        "skype" => "Skype",
        "qq" => "QQ",
        "googleTalk" => "Google Talk",
        "icq" => "ICQ",
        "jabber" => "Jabber",
        "netMeeting" => "NetMeeting",
        other => return other.to_string(),
    }
    .to_string()
}

pub fn formatted_gender(v: &str) -> String {
    match v {
        "male" => "Male".into(),
        "female" => "Female".into(),
        "unspecified" => "Unspecified".into(),
        other => other.to_string(),
    }
}

fn s<'a>(m: &'a Map<String, Value>, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).map(str::trim).unwrap_or("")
}

fn join_nonempty(parts: &[&str], sep: &str) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(sep)
}

/// Fills `displayName`, `displayNameLastFirst` and `unstructuredName` of a stored name.
pub fn complete_name(name: &mut Map<String, Value>) {
    let (prefix, given, middle, family, suffix) = (
        s(name, "honorificPrefix"),
        s(name, "givenName"),
        s(name, "middleName"),
        s(name, "familyName"),
        s(name, "honorificSuffix"),
    );
    let structured = join_nonempty(&[prefix, given, middle, family, suffix], " ");
    let display = if structured.is_empty() {
        s(name, "unstructuredName").to_string()
    } else {
        structured
    };
    let last_first = if family.is_empty() {
        display.clone()
    } else {
        let rest = join_nonempty(&[prefix, given, middle], " ");
        let head = if rest.is_empty() {
            family.to_string()
        } else {
            format!("{family}, {rest}")
        };
        join_nonempty(&[&head, suffix], ", ")
    };
    if display.is_empty() {
        return;
    }
    if s(name, "unstructuredName").is_empty() {
        name.insert("unstructuredName".into(), Value::String(display.clone()));
    }
    name.insert("displayName".into(), Value::String(display));
    name.insert("displayNameLastFirst".into(), Value::String(last_first));
}

/// Google composes `formattedValue` from the structured parts (when any are set).
pub fn formatted_address(a: &Map<String, Value>) -> Option<String> {
    let po_box = s(a, "poBox");
    let po_line = if po_box.is_empty() {
        String::new()
    } else {
        format!("PO Box {po_box}")
    };
    let city_line = {
        let city_region = join_nonempty(&[s(a, "city"), s(a, "region")], ", ");
        join_nonempty(&[&city_region, s(a, "postalCode")], " ")
    };
    let country = if s(a, "country").is_empty() {
        s(a, "countryCode")
    } else {
        s(a, "country")
    };
    let lines = join_nonempty(
        &[
            s(a, "streetAddress"),
            s(a, "extendedAddress"),
            &po_line,
            &city_line,
            country,
        ],
        "\n",
    );
    (!lines.is_empty()).then_some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(canonical_phone("(555) 123-4567").as_deref(), Some("+15551234567"));
        assert_eq!(
            canonical_phone("+44 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            canonical_phone("0049 30 1234567").as_deref(),
            Some("+49301234567")
        );
        assert_eq!(canonical_phone("555.123.4567").as_deref(), Some("+15551234567"));
        assert_eq!(canonical_phone("12345"), None);
        assert_eq!(canonical_phone("call me"), None);
    }

    #[test]
    fn names() {
        let mut n = serde_json::json!({"givenName": "Ada", "familyName": "Lovelace"});
        let m = n.as_object_mut().expect("object");
        complete_name(m);
        assert_eq!(m["displayName"], "Ada Lovelace");
        assert_eq!(m["displayNameLastFirst"], "Lovelace, Ada");
        assert_eq!(m["unstructuredName"], "Ada Lovelace");
    }
}
