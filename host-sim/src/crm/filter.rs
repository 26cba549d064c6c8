//! Evaluating saved filters' criteria against contacts.

use abi::{Contact, CustomField, SavedFilter};

/// The value of a filterable field: `company`, `position`, `name`, `email`, `phone`, `notes`,
/// or `custom:<key>`.
fn field_value(contact: &Contact, field: &str) -> String {
    match field {
        "company" => contact.company.to_string(),
        "position" => contact.position.to_string(),
        "notes" => contact.notes.to_string(),
        "name" => format!("{} {}", contact.name.given, contact.name.family),
        "email" => contact
            .emails
            .iter()
            .map(|e| e.value.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        "phone" => contact
            .phones
            .iter()
            .map(|e| e.value.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        other => match other.strip_prefix("custom:") {
            Some(key) => contact
                .custom_fields
                .iter()
                .find(|f| f.key.as_str() == key)
                .map(|f| f.value.to_string())
                .unwrap_or_default(),
            None => String::new(),
        },
    }
}

/// Whether `contact` meets every criterion of `filter`.
pub fn matches(filter: &SavedFilter, contact: &Contact) -> bool {
    filter.criteria.iter().all(|c| {
        let value = field_value(contact, &c.field);
        match c.op.as_str() {
            "equals" => value == c.value.as_str(),
            "contains" => value.to_lowercase().contains(&c.value.to_lowercase()),
            "not_empty" => !value.trim().is_empty(),
            _ => false,
        }
    })
}

/// Sets what the filter's `equals` criteria require, so a new contact belongs to the filter.
pub fn satisfy(filter: &SavedFilter, contact: &mut Contact) {
    for c in filter.criteria.iter().filter(|c| c.op.as_str() == "equals") {
        match c.field.as_str() {
            "company" => contact.company = c.value.clone(),
            "position" => contact.position = c.value.clone(),
            other => {
                if let Some(key) = other.strip_prefix("custom:") {
                    contact.custom_fields.retain(|f| f.key.as_str() != key);
                    contact.custom_fields.push(CustomField {
                        key: key.into(),
                        label: key.into(),
                        value: c.value.clone(),
                    });
                }
            }
        }
    }
}
