//! Reading binding options from a submitted form, refusing bad input with a clear message.

use abi::SettingsAction;

use crate::domain::{BindingOptions, ConflictPolicy, DeleteMode, Direction, GroupChoice};
use crate::mapping::FieldMapping;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("\"{value}\" is not a valid {what}; choose one of: {choices}.")]
    NotAChoice {
        what: &'static str,
        value: String,
        choices: &'static str,
    },
    #[error("The sync interval must be a whole number of minutes from 1 to 1440, not \"{0}\".")]
    Interval(String),
    #[error("Enter the name of the Google group to use.")]
    GroupNameMissing,
    #[error("The group name is too long (at most 200 characters).")]
    GroupNameTooLong,
    #[error("\"{0}\" is not a CRM field key: use letters, digits, '_', '-' or '.', at most 64 characters.")]
    CustomField(String),
}

impl OptionsError {
    /// The error in the reader's language (`Display` stays English, for logs). The choices are
    /// the form's values, which are the same in every language.
    pub fn message(&self, r: &crate::locale::Reader) -> String {
        match self {
            OptionsError::NotAChoice { what, value, choices } => {
                let what_key = match *what {
                    "direction" => "what-direction",
                    "conflict policy" => "what-policy",
                    "deletion option" => "what-delete-mode",
                    _ => "what-group",
                };
                r.t_with(
                    "options-not-a-choice",
                    &[
                        ("value", value.as_str().into()),
                        ("what", r.t(what_key).into()),
                        ("choices", (*choices).into()),
                    ],
                )
            }
            OptionsError::Interval(v) => r.t_with("options-interval", &[("value", v.as_str().into())]),
            OptionsError::GroupNameMissing => r.t("options-group-missing"),
            OptionsError::GroupNameTooLong => r.t("options-group-too-long"),
            OptionsError::CustomField(v) => r.t_with("options-custom-field", &[("value", v.as_str().into())]),
        }
    }
}

fn choice<T: Copy>(
    action: &SettingsAction,
    name: &str,
    what: &'static str,
    table: &[(&str, T)],
    choices: &'static str,
    default: T,
) -> Result<T, OptionsError> {
    let Some(value) = action.field(name).map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    table
        .iter()
        .find(|(k, _)| *k == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| OptionsError::NotAChoice {
            what,
            value: value.chars().take(80).collect(),
            choices,
        })
}

/// Options from a form; absent inputs keep `current`'s values.
pub fn parse_options(
    action: &SettingsAction,
    current: &BindingOptions,
) -> Result<BindingOptions, OptionsError> {
    let direction = choice(
        action,
        "direction",
        "direction",
        &[
            ("two_way", Direction::TwoWay),
            ("crm_to_google", Direction::CrmToGoogle),
            ("google_to_crm", Direction::GoogleToCrm),
        ],
        "two_way, crm_to_google, google_to_crm",
        current.direction,
    )?;
    let policy = choice(
        action,
        "policy",
        "conflict policy",
        &[
            ("latest_wins", ConflictPolicy::LatestWins),
            ("crm_wins", ConflictPolicy::CrmWins),
            ("google_wins", ConflictPolicy::GoogleWins),
        ],
        "latest_wins, crm_wins, google_wins",
        current.policy,
    )?;
    let delete_mode = choice(
        action,
        "delete_mode",
        "deletion option",
        &[
            ("delete", DeleteMode::Delete),
            ("remove_from_group", DeleteMode::RemoveFromGroup),
        ],
        "delete, remove_from_group",
        current.delete_mode,
    )?;
    let group = parse_group(action, &current.group)?;
    let interval_ms = match action
        .field("interval_minutes")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => current.interval_ms,
        Some(v) => match v.parse::<i64>() {
            Ok(m) if (1..=1440).contains(&m) => m * 60_000,
            _ => return Err(OptionsError::Interval(v.chars().take(40).collect())),
        },
    };
    let mapping = match action.field("custom_fields") {
        None => current.mapping.clone(),
        Some(text) => FieldMapping {
            custom_fields: parse_custom_fields(text)?,
            ..current.mapping.clone()
        },
    };
    Ok(BindingOptions {
        direction,
        policy,
        delete_mode,
        group,
        interval_ms,
        mapping,
    })
}

fn parse_group(action: &SettingsAction, current: &GroupChoice) -> Result<GroupChoice, OptionsError> {
    let mode = action.field("group_mode").map(str::trim).unwrap_or("");
    match mode {
        "" => Ok(current.clone()),
        "filter_name" => Ok(GroupChoice::FilterName),
        "my_contacts" => Ok(GroupChoice::MyContacts),
        "existing" => {
            let name = action.field("group_name").map(str::trim).unwrap_or("");
            if name.is_empty() {
                Err(OptionsError::GroupNameMissing)
            } else if name.chars().count() > 200 {
                Err(OptionsError::GroupNameTooLong)
            } else {
                Ok(GroupChoice::Existing(name.to_string()))
            }
        }
        other => Err(OptionsError::NotAChoice {
            what: "group choice",
            value: other.chars().take(80).collect(),
            choices: "filter_name, existing, my_contacts",
        }),
    }
}

fn parse_custom_fields(text: &str) -> Result<Vec<String>, OptionsError> {
    let mut keys = Vec::new();
    for key in text.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let ok = key.len() <= 64
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !ok {
            return Err(OptionsError::CustomField(key.chars().take(80).collect()));
        }
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::Field;

    fn action(fields: &[(&str, &str)]) -> SettingsAction {
        SettingsAction {
            name: "enable".into(),
            fields: fields
                .iter()
                .map(|(n, v)| Field {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn good_input_gives_the_options() {
        let o = parse_options(
            &action(&[
                ("direction", "crm_to_google"),
                ("policy", "google_wins"),
                ("delete_mode", "remove_from_group"),
                ("group_mode", "existing"),
                ("group_name", "Clients"),
                ("interval_minutes", "15"),
                ("custom_fields", "lead_source, segment"),
            ]),
            &BindingOptions::default(),
        )
        .unwrap();
        assert_eq!(o.direction, Direction::CrmToGoogle);
        assert_eq!(o.policy, ConflictPolicy::GoogleWins);
        assert_eq!(o.delete_mode, DeleteMode::RemoveFromGroup);
        assert_eq!(o.group, GroupChoice::Existing("Clients".into()));
        assert_eq!(o.interval_ms, 15 * 60_000);
        assert_eq!(o.mapping.custom_fields, vec!["lead_source", "segment"]);
    }

    #[test]
    fn bad_input_gives_a_message_naming_the_choices() {
        let err =
            parse_options(&action(&[("direction", "sideways")]), &BindingOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"sideways\" is not a valid direction; choose one of: two_way, crm_to_google, google_to_crm."
        );
        let err =
            parse_options(&action(&[("interval_minutes", "-5")]), &BindingOptions::default()).unwrap_err();
        assert!(err.to_string().contains("from 1 to 1440"));
        let err =
            parse_options(&action(&[("group_mode", "existing")]), &BindingOptions::default()).unwrap_err();
        assert_eq!(err, OptionsError::GroupNameMissing);
        let err = parse_options(
            &action(&[("custom_fields", "ok, '; DROP TABLE links;--")]),
            &BindingOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, OptionsError::CustomField(_)));
    }
}
