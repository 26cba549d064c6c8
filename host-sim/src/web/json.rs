//! JSON for the API, written by hand: the ABI's settings types carry no serde derives (they
//! cross a C ABI and stay free of serialization concerns), so their JSON form is defined here.
//! Contacts and users do derive serde; for them this module only fills in omitted fields.

use abi::{
    ActionOutcome, Contact, ContactsPermission, Field, Form, Input, InputKind, SettingsAction, SettingsView,
    User, Widget,
};
use abi_stable::std_types::RVec;
use serde_json::{json, Map, Value};

use crate::crm::{ContactRecord, Visibility};

use super::html::tone_name;

pub fn view(view: &SettingsView) -> Value {
    json!({
        "title": view.title.as_str(),
        "refresh_after_ms": view.refresh_after_ms.into_option(),
        "sections": view.sections.iter().map(|s| json!({
            "id": s.id.as_str(),
            "heading": s.heading.as_str(),
            "widgets": s.widgets.iter().map(widget).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn fields(fields: &RVec<Field>) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|f| (f.name.to_string(), Value::String(f.value.to_string())))
            .collect(),
    )
}

fn widget(w: &Widget) -> Value {
    match w {
        Widget::Text { text, tone } => {
            json!({"type": "text", "text": text.as_str(), "tone": tone_name(*tone)})
        }
        Widget::Facts(facts) => json!({
            "type": "facts",
            "facts": facts.iter().map(|f| json!({"label": f.label.as_str(), "value": f.value.as_str()})).collect::<Vec<_>>(),
        }),
        Widget::Table { id, columns, rows } => json!({
            "type": "table",
            "id": id.as_str(),
            "columns": columns.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "rows": rows.iter().map(|r| r.iter().map(|c| c.as_str()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        }),
        Widget::Progress { label, done, total } => {
            json!({"type": "progress", "label": label.as_str(), "done": done, "total": total})
        }
        Widget::Button(b) => json!({
            "type": "button",
            "id": b.id.as_str(),
            "label": b.label.as_str(),
            "action": action(&b.action),
            "tone": tone_name(b.tone),
            "confirm": b.confirm.as_str(),
        }),
        Widget::Form(f) => form(f),
    }
}

fn form(f: &Form) -> Value {
    json!({
        "type": "form",
        "id": f.id.as_str(),
        "action": f.action.as_str(),
        "submit_label": f.submit_label.as_str(),
        "inputs": f.inputs.iter().map(input).collect::<Vec<_>>(),
        "hidden": fields(&f.hidden),
    })
}

fn input(i: &Input) -> Value {
    let kind = match i.kind {
        InputKind::Text => "text",
        InputKind::Number => "number",
        InputKind::Select => "select",
        InputKind::Checkbox => "checkbox",
    };
    json!({
        "name": i.name.as_str(),
        "label": i.label.as_str(),
        "kind": kind,
        "value": i.value.as_str(),
        "options": i.options.iter().map(|c| json!({"value": c.value.as_str(), "label": c.label.as_str()})).collect::<Vec<_>>(),
        "help": i.help.as_str(),
    })
}

pub fn action(a: &SettingsAction) -> Value {
    json!({"name": a.name.as_str(), "fields": fields(&a.fields)})
}

pub fn outcome(o: &ActionOutcome) -> Value {
    json!({
        "message": o.message.as_str(),
        "tone": tone_name(o.tone),
        "redirect_to": o.redirect_to.as_ref().map(|r| r.as_str()).into_option(),
    })
}

/// `{name, fields: {k: v}}`; field values may be strings, numbers or booleans.
pub fn parse_action(body: &Value) -> Result<SettingsAction, String> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or("\"name\" (a string) is required.")?;
    let mut out = Vec::new();
    match body.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("Field \"{k}\" must be a string, number or boolean.")),
                };
                out.push(Field {
                    name: k.as_str().into(),
                    value: value.into(),
                });
            }
        }
        Some(_) => return Err("\"fields\" must be an object of field name to value.".into()),
    }
    Ok(SettingsAction {
        name: name.into(),
        fields: out.into(),
    })
}

pub fn permission_name(p: ContactsPermission) -> &'static str {
    match p {
        ContactsPermission::None => "none",
        ContactsPermission::View => "view",
        ContactsPermission::Edit => "edit",
    }
}

pub fn parse_permission(s: &str) -> Result<ContactsPermission, String> {
    match s.to_ascii_lowercase().as_str() {
        "none" => Ok(ContactsPermission::None),
        "view" => Ok(ContactsPermission::View),
        "edit" => Ok(ContactsPermission::Edit),
        other => Err(format!(
            "Unknown contacts permission \"{other}\"; use \"none\", \"view\" or \"edit\"."
        )),
    }
}

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id.0,
        "name": u.name.as_str(),
        "email": u.email.as_str(),
        "plan": {"name": u.plan.name.as_str(), "features": u.plan.features.iter().map(|f| f.as_str()).collect::<Vec<_>>()},
        "contacts_permission": permission_name(u.contacts_permission),
        "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

pub fn visibility(v: &Visibility) -> Value {
    match v {
        Visibility::Everyone => json!("everyone"),
        Visibility::Owner => json!("owner"),
        Visibility::Shared(users) => json!({"shared": users.iter().map(|u| u.0).collect::<Vec<_>>()}),
    }
}

/// `"everyone"`, `"owner"` or `{"shared": [user ids]}`.
pub fn parse_visibility(v: &Value) -> Result<Visibility, String> {
    const HELP: &str = "\"visibility\" must be \"everyone\", \"owner\" or {\"shared\": [user ids]}.";
    match v {
        Value::String(s) if s.eq_ignore_ascii_case("everyone") => Ok(Visibility::Everyone),
        Value::String(s) if s.eq_ignore_ascii_case("owner") => Ok(Visibility::Owner),
        Value::Object(m) => {
            let ids = m.get("shared").and_then(Value::as_array).ok_or(HELP)?;
            let ids = ids
                .iter()
                .map(|i| i.as_u64().map(abi::UserId).ok_or(HELP))
                .collect::<Result<_, _>>()?;
            Ok(Visibility::Shared(ids))
        }
        _ => Err(HELP.into()),
    }
}

pub fn contact(c: &Contact) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

pub fn record(r: &ContactRecord) -> Value {
    json!({
        "id": r.contact.id.0,
        "owner": r.owner.0,
        "visibility": visibility(&r.visibility),
        "contact": contact(&r.contact),
    })
}

/// A contact from JSON laid over `base`: fields left out keep `base`'s values, and the items
/// of lists (emails, addresses, …) may leave out their own fields too. Unknown fields are an
/// error, so that a typo does not silently drop data.
pub fn contact_over(base: &Contact, input: &Value) -> Result<Contact, String> {
    if !input.is_object() {
        return Err("The contact must be a JSON object.".into());
    }
    let merged = merge(&contact(base), input, "contact")?;
    serde_json::from_value(merged).map_err(|e| format!("Invalid contact: {e}"))
}

/// The shape a list item or optional struct takes when the input gives only some fields.
fn template(key: &str) -> Option<Value> {
    let typed = || serde_json::to_value(abi::TypedValue::default()).ok();
    match key {
        "emails" | "phones" | "websites" => typed(),
        "addresses" => serde_json::to_value(abi::Address::default()).ok(),
        "messengers" => serde_json::to_value(abi::Messenger::default()).ok(),
        "custom_fields" => serde_json::to_value(abi::CustomField::default()).ok(),
        "birthday" => Some(json!({"year": null, "month": 1, "day": 1})),
        _ => None,
    }
}

fn merge(base: &Value, input: &Value, path: &str) -> Result<Value, String> {
    match (base, input) {
        (Value::Object(b), Value::Object(i)) => {
            let mut out: Map<String, Value> = b.clone();
            for (k, v) in i {
                let here = format!("{path}.{k}");
                let Some(old) = b.get(k) else {
                    return Err(format!("Unknown field {here}."));
                };
                let new = match (template(k), v) {
                    (Some(t), Value::Array(items)) => Value::Array(
                        items
                            .iter()
                            .map(|item| merge(&t, item, &here))
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                    (Some(t), Value::Object(_)) => merge(&t, v, &here)?,
                    _ => merge(old, v, &here)?,
                };
                out.insert(k.clone(), new);
            }
            Ok(Value::Object(out))
        }
        (_, v) => Ok(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_contact_fills_in_the_rest() {
        let input = json!({"name": {"given": "Ann"}, "emails": [{"value": "ann@x.test"}], "birthday": {"month": 3, "day": 9}});
        let c = contact_over(&Contact::default(), &input).unwrap();
        assert_eq!(c.name.given.as_str(), "Ann");
        assert_eq!(c.emails[0].value.as_str(), "ann@x.test");
        assert_eq!(c.birthday.into_option().map(|b| (b.month, b.day)), Some((3, 9)));
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = contact_over(&Contact::default(), &json!({"name": {"first": "Ann"}})).unwrap_err();
        assert_eq!(err, "Unknown field contact.name.first.");
    }

    #[test]
    fn actions_take_scalar_fields() {
        let a =
            parse_action(&json!({"name": "enable", "fields": {"interval_minutes": 15, "x": true}})).unwrap();
        assert_eq!(a.field("interval_minutes"), Some("15"));
        assert_eq!(a.field("x"), Some("true"));
        assert!(parse_action(&json!({"fields": {}})).is_err());
    }
}
