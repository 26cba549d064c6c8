//! The Fluent catalogs, compiled into the library, and the lookup with English as fallback.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language the plugin speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    En,
    Ru,
    Pl,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Ru, Language::Pl];

    /// The language of a BCP 47 tag ("ru-RU" → Russian); anything else is English.
    pub fn from_tag(tag: &str) -> Language {
        let primary = tag
            .parse::<LanguageIdentifier>()
            .map(|id| id.language.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        match primary.as_str() {
            "ru" => Language::Ru,
            "pl" => Language::Pl,
            _ => Language::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ru => "ru",
            Language::Pl => "pl",
        }
    }

    pub(super) fn source(self) -> &'static str {
        match self {
            Language::En => include_str!("en.ftl"),
            Language::Ru => include_str!("ru.ftl"),
            Language::Pl => include_str!("pl.ftl"),
        }
    }

    fn index(self) -> usize {
        match self {
            Language::En => 0,
            Language::Ru => 1,
            Language::Pl => 2,
        }
    }
}

/// A message variable: plural rules select on counts, texts are inserted as they are.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Count(i64),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Count(v)
    }
}

impl From<u64> for Arg {
    fn from(v: u64) -> Self {
        Arg::Count(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Arg {
    fn from(v: usize) -> Self {
        Arg::Count(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

pub(super) type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle; 3] {
    static BUNDLES: OnceLock<[Bundle; 3]> = OnceLock::new();
    BUNDLES.get_or_init(|| Language::ALL.map(bundle))
}

fn bundle(language: Language) -> Bundle {
    bundle_from(language, language.source())
}

pub(super) fn bundle_from(language: Language, source: &str) -> Bundle {
    let id: LanguageIdentifier = language.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // The host escapes and lays out plain text; bidi isolation marks would only show as noise.
    bundle.set_use_isolating(false);
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(partial, errors)| {
        log::error!("The {} messages have syntax errors: {errors:?}", language.code());
        partial
    });
    if let Err(errors) = bundle.add_resource(resource) {
        log::error!("The {} messages repeat ids: {errors:?}", language.code());
    }
    bundle
}

/// Formats `key` in `language`, falling back to English, then to the key itself (logged).
pub(super) fn format(language: Language, key: &str, args: &[(&str, Arg)]) -> String {
    let all = bundles();
    format_in(&[&all[language.index()], &all[Language::En.index()]], key, args).unwrap_or_else(|| {
        log::error!("No message {key} in any language");
        key.to_string()
    })
}

/// Formats `key` with the first bundle of `chain` that has it.
pub(super) fn format_in(chain: &[&Bundle], key: &str, args: &[(&str, Arg)]) -> Option<String> {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        match value {
            Arg::Text(t) => fluent_args.set(*name, FluentValue::from(t.as_str())),
            Arg::Count(n) => fluent_args.set(*name, FluentValue::from(*n)),
        }
    }
    chain.iter().find_map(|bundle| {
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            log::warn!("Message {key}: {errors:?}");
        }
        Some(text.into_owned())
    })
}

/// Every message id of a language, for the completeness test.
#[cfg(test)]
pub(super) fn ids(language: Language) -> Vec<String> {
    let resource = match FluentResource::try_new(language.source().to_string()) {
        Ok(r) => r,
        Err((_, errors)) => panic!("{} has syntax errors: {errors:?}", language.code()),
    };
    resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}
