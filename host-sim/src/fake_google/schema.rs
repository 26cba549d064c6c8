//! Request-body validation against the People API discovery document.
//!
//! Google rejects unknown JSON names and wrongly typed values with a 400; a fake that silently
//! accepted `"emails"` for `"emailAddresses"` would let a buggy client pass its tests.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};

const PEOPLE_DISCOVERY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/discovery/people-v1-discovery.json"
));

/// The parsed People v1 discovery document.
pub fn discovery() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(PEOPLE_DISCOVERY).unwrap_or(Value::Null))
}

pub fn schema(name: &str) -> Option<&'static Map<String, Value>> {
    discovery()["schemas"][name]["properties"].as_object()
}

/// Names of the read-only properties of a schema (they are ignored on input, as Google does).
pub fn read_only_props(name: &str) -> Vec<&'static str> {
    schema(name)
        .map(|props| {
            props
                .iter()
                .filter(|(_, p)| p["readOnly"].as_bool() == Some(true))
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The `$ref` of a Person array field's items, e.g. `emailAddresses` → `EmailAddress`.
pub fn item_schema(schema_name: &str, field: &str) -> Option<&'static str> {
    schema(schema_name)?.get(field)?["items"]["$ref"].as_str()
}

fn find_method<'a>(node: &'a Value, id: &str) -> Option<&'a Value> {
    if let Some(m) = node["methods"]
        .as_object()
        .and_then(|ms| ms.values().find(|m| m["id"] == id))
    {
        return Some(m);
    }
    node["resources"]
        .as_object()?
        .values()
        .find_map(|r| find_method(r, id))
}

/// Google rejects query parameters the method does not define (a misspelt `personfields` is a
/// 400, not a silently ignored option). System parameters (`alt`, `fields`, `prettyPrint`…)
/// are allowed everywhere.
pub fn check_query_params(method_id: &str, query: &[(String, String)]) -> ApiResult<()> {
    let doc = discovery();
    let Some(method) = find_method(doc, method_id) else {
        return Ok(());
    };
    for (name, _) in query {
        let known = doc["parameters"].get(name).is_some()
            || method["parameters"]
                .get(name)
                .is_some_and(|p| p["location"] == "query");
        if !known {
            let msg = format!(
                "Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. \
                 Field '{name}' could not be found in request message."
            );
            return Err(ApiError::bad_field(name, &msg));
        }
    }
    Ok(())
}

/// Validates `value` as an instance of the named schema; `path` is the proto-style location used
/// in error messages (e.g. `person`).
pub fn validate(value: &Value, schema_name: &str, path: &str) -> ApiResult<()> {
    let Some(obj) = value.as_object() else {
        return Err(invalid_value(path, value));
    };
    let Some(props) = schema(schema_name) else {
        return Ok(());
    };
    for (key, v) in obj {
        let Some(prop) = props.get(key).or_else(|| props.get(&snake_to_camel(key))) else {
            let msg = format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at '{path}': Cannot find field."
            );
            return Err(ApiError::bad_field(path, &msg));
        };
        validate_prop(v, prop, &format!("{path}.{}", camel_to_snake(key)))?;
    }
    Ok(())
}

fn validate_prop(value: &Value, prop: &Value, path: &str) -> ApiResult<()> {
    if value.is_null() {
        return Ok(()); // proto3 JSON: null means "default"
    }
    if let Some(r) = prop["$ref"].as_str() {
        return validate(value, r, path);
    }
    let ok = match prop["type"].as_str().unwrap_or("any") {
        "array" => {
            let Some(items) = value.as_array() else {
                return Err(invalid_value(path, value));
            };
            for (i, item) in items.iter().enumerate() {
                validate_prop(item, &prop["items"], &format!("{path}[{i}]"))?;
            }
            true
        }
        "object" => {
            let Some(map) = value.as_object() else {
                return Err(invalid_value(path, value));
            };
            if let Some(ap) = prop.get("additionalProperties") {
                for (k, v) in map {
                    validate_prop(v, ap, &format!("{path}[{k}]"))?;
                }
            }
            true
        }
        "string" => match (value.as_str(), prop["enum"].as_array()) {
            (Some(s), Some(allowed)) => allowed.iter().any(|a| a.as_str() == Some(s)),
            (Some(_), None) => true,
            (None, _) => false,
        },
        "integer" => value.as_i64().is_some() || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_value(path, value))
    }
}

fn invalid_value(path: &str, value: &Value) -> ApiError {
    let msg = format!("Invalid JSON payload received. Invalid value at '{path}' ({value}).");
    ApiError::bad_field(path, &msg)
}

pub fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Google's JSON parser also accepts the proto (snake_case) field names.
pub fn snake_to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Rewrites snake_case keys to lowerCamelCase, recursively, so stored data is canonical.
pub fn canonical_keys(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (snake_to_camel(k), canonical_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(canonical_keys).collect()),
        other => other.clone(),
    }
}
