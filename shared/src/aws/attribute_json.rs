//! JSON ⇄ DynamoDB attribute values, so records are stored as readable attributes without a
//! hand-written mapping per field.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

pub fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

pub fn to_item(object: &Map<String, Value>) -> HashMap<String, AttributeValue> {
    object
        .iter()
        .map(|(k, v)| (k.clone(), to_attribute(v)))
        .collect()
}

pub fn from_item(item: &HashMap<String, AttributeValue>) -> Result<Value, String> {
    item.iter()
        .map(|(k, v)| {
            from_attribute(v)
                .map(|v| (k.clone(), v))
                .map_err(|e| format!("{k}: {e}"))
        })
        .collect::<Result<Map<_, _>, _>>()
        .map(Value::Object)
}

pub fn from_attribute(value: &AttributeValue) -> Result<Value, String> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => Value::Number(parse_number(n)?),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(items) => {
            Value::Array(items.iter().map(from_attribute).collect::<Result<_, _>>()?)
        }
        AttributeValue::M(map) => from_item(map)?,
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(
            items
                .iter()
                .map(|n| parse_number(n).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unsupported attribute type {other:?}")),
    })
}

fn parse_number(text: &str) -> Result<Number, String> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(u.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| format!("`{text}` is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_nested_json() {
        let value = json!({"a": 1, "b": [true, null, "x", -2.5], "c": {"d": u64::MAX}});
        let item = to_item(value.as_object().unwrap());
        assert_eq!(from_item(&item).unwrap(), value);
    }

    #[test]
    fn a_bad_number_names_the_attribute() {
        let item = HashMap::from([("count".to_string(), AttributeValue::N("many".into()))]);
        assert_eq!(
            from_item(&item).unwrap_err(),
            "count: `many` is not a number"
        );
    }
}
