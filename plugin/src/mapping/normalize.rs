//! Normalization: the forms in which both sides' values are compared.
//!
//! A contact that nobody edited must compare equal to what Google echoes back after a write, or
//! every sync would write again. So everything that Google (or a user's typing habit) may change
//! without changing the meaning is normalized away here: surrounding and repeated whitespace, the
//! case of e-mail addresses, the punctuation of phone numbers, the case of standard `type` values.

/// Standard `type` values of e-mail addresses, in Google's spelling.
pub const EMAIL_TYPES: &[&str] = &["home", "work", "other"];
/// Standard `type` values of phone numbers, in Google's spelling.
pub const PHONE_TYPES: &[&str] = &[
    "home",
    "work",
    "mobile",
    "homeFax",
    "workFax",
    "otherFax",
    "pager",
    "workMobile",
    "workPager",
    "main",
    "googleVoice",
    "other",
];
/// Standard `type` values of URLs, in Google's spelling.
pub const URL_TYPES: &[&str] = &[
    "home",
    "work",
    "blog",
    "profile",
    "homePage",
    "ftp",
    "reservations",
    "appInstallPage",
    "other",
];
/// Standard `type` values of addresses, in Google's spelling.
pub const ADDRESS_TYPES: &[&str] = &["home", "work", "other"];
/// Messenger protocols Google knows; any other text is a custom protocol, which Google keeps.
pub const IM_PROTOCOLS: &[&str] = &[
    "aim",
    "msn",
    "yahoo",
    "skype",
    "qq",
    "googleTalk",
    "icq",
    "jabber",
    "netMeeting",
];
/// Standard gender values; any other text is a custom gender.
pub const GENDERS: &[&str] = &["male", "female", "unspecified"];

/// Single-line text: trimmed, inner whitespace runs collapsed to one space.
pub fn text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Multi-line text (notes): line breaks kept (they are content), `\r\n`/`\r` unified to `\n`,
/// surrounding whitespace trimmed.
pub fn multiline(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n").trim().to_string()
}

/// An e-mail address's identity: addresses are case-insensitive in practice.
pub fn email_key(s: &str) -> String {
    text(s).to_lowercase()
}

/// A phone number's identity.
///
/// Computes the same E.164 form as Google's `canonicalForm` (as the fake Google does: separators
/// stripped, leading `+` kept, `00` → `+`, 10 digits or 11 starting with `1` → NANP `+1…`). When
/// no plausible E.164 form exists (extensions, letters, short numbers) the identity is the value
/// without separators, lowercased.
///
/// Both sides derive the identity from `value` rather than trusting Google's `canonicalForm`: a
/// region-aware real Google may canonicalize `8 (495) …` differently than we can, and two
/// different identities for one unchanged number would make every sync write again.
pub fn phone_key(s: &str) -> String {
    e164(s).unwrap_or_else(|| {
        s.chars()
            .filter(|c| !is_phone_separator(*c))
            .collect::<String>()
            .to_lowercase()
    })
}

fn is_phone_separator(c: char) -> bool {
    matches!(c, '-' | '(' | ')' | '.') || c.is_whitespace()
}

fn e164(s: &str) -> Option<String> {
    let trimmed = s.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::new();
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            c if is_phone_separator(c) => {}
            _ => return None,
        }
    }
    let number = if plus {
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
    (8..=15).contains(&number.len()).then(|| format!("+{number}"))
}

/// A `type` (or protocol, or gender) value: a standard value in any case becomes Google's
/// spelling (Google echoes standard types in its own spelling); custom text is kept, trimmed.
pub fn kind(s: &str, standard: &[&str]) -> String {
    let t = text(s);
    standard
        .iter()
        .find(|k| k.eq_ignore_ascii_case(&t))
        .map_or(t, |k| (*k).to_string())
}

/// ISO 3166-1 alpha-2 codes are upper case.
pub fn country_code(s: &str) -> String {
    text(s).to_uppercase()
}

/// A web address's identity: the text, without a trailing slash (`https://a.com/` = `https://a.com`).
pub fn url_key(s: &str) -> String {
    let t = text(s);
    t.strip_suffix('/').map_or(t.clone(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_keys_match_googles_canonical_form() {
        assert_eq!(phone_key("(650) 253-0000"), "+16502530000");
        assert_eq!(phone_key("650.253.0000"), "+16502530000");
        assert_eq!(phone_key("6502530000"), "+16502530000");
        assert_eq!(phone_key("1 650 253 0000"), "+16502530000");
        assert_eq!(phone_key(" +1 (650) 253-0000 "), "+16502530000");
        assert_eq!(phone_key("+44 20 7946 0958"), "+442079460958");
        assert_eq!(phone_key("0049 30 1234567"), "+49301234567");
        assert_eq!(phone_key("+7\u{a0}495\u{a0}123-45-67"), "+74951234567");
        // No plausible E.164 form: separators stripped, nothing invented.
        assert_eq!(phone_key("12345"), "12345");
        assert_eq!(phone_key("+1 650 253 0000 ext. 12"), "+16502530000ext12");
        assert_eq!(phone_key("Call ME"), "callme");
    }

    #[test]
    fn text_forms() {
        assert_eq!(text("  Ann \t  Lee \n"), "Ann Lee");
        assert_eq!(multiline(" a\r\n\r\nb \r"), "a\n\nb");
        assert_eq!(email_key(" Ann@Example.COM "), "ann@example.com");
        assert_eq!(kind("HOMEFAX", PHONE_TYPES), "homeFax");
        assert_eq!(kind(" Cottage ", PHONE_TYPES), "Cottage");
        assert_eq!(kind("GoogleTalk", IM_PROTOCOLS), "googleTalk");
        assert_eq!(kind("telegram", IM_PROTOCOLS), "telegram");
        assert_eq!(country_code(" de"), "DE");
        assert_eq!(url_key("https://a.com/"), "https://a.com");
    }
}
