//! An item between JSON and DynamoDB's attribute values, both ways, numbers digit for digit.
//!
//! Hand-written rather than `serde_dynamo`: with serde_json's `arbitrary_precision` (which
//! keeps an event's numbers exact, see the workspace manifest) serde_dynamo 4.3 writes every
//! number of a `serde_json::Value` as a map (`{"$serde_json::private::Number": S("42")}`,
//! not `N("42")`: TTL and number comparisons would break) and reads `N` back through `f64`
//! (a 36-digit number loses its digits). This mapping keeps the number's text both ways.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

use crate::error::Error;
use crate::item::Item;
use crate::record::AuditRecord;

pub fn to_attributes(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter()
        .map(|(name, value)| (name.clone(), to_attribute(value)))
        .collect()
}

pub fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(flag) => AttributeValue::Bool(*flag),
        Value::Number(number) => AttributeValue::N(number.to_string()),
        Value::String(text) => AttributeValue::S(text.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(name, value)| (name.clone(), to_attribute(value)))
                .collect(),
        ),
    }
}

/// The reverse mapping, for readers of the table (the query CLI, redrive, tests).
pub fn from_attributes(attributes: &HashMap<String, AttributeValue>) -> Result<Item, Error> {
    attributes
        .iter()
        .map(|(name, value)| Ok((name.clone(), from_attribute(name, value)?)))
        .collect()
}

fn from_attribute(name: &str, value: &AttributeValue) -> Result<Value, Error> {
    let unsupported = || {
        Error::BadItem(format!(
            "attribute {name:?} has a type this reader does not map: {value:?}"
        ))
    };
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(flag) => Value::Bool(*flag),
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::N(text) => parse_number(text).ok_or_else(unsupported)?,
        AttributeValue::L(items) => Value::Array(
            items
                .iter()
                .map(|item| from_attribute(name, item))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(key, value)| Ok((key.clone(), from_attribute(name, value)?)))
                .collect::<Result<Map<_, _>, Error>>()?,
        ),
        AttributeValue::Ss(texts) => {
            Value::Array(texts.iter().cloned().map(Value::String).collect())
        }
        _ => return Err(unsupported()),
    })
}

/// Digit for digit: serde_json's `arbitrary_precision` keeps a number's text, so a 38-digit
/// DynamoDB number reads back exactly as it was written.
fn parse_number(text: &str) -> Option<Value> {
    text.parse::<Number>().ok().map(Value::Number)
}

/// Reads a stored item back into the record type.
pub fn record_from_attributes(
    attributes: &HashMap<String, AttributeValue>,
) -> Result<AuditRecord, Error> {
    let item = from_attributes(attributes)?;
    serde_json::from_value(Value::Object(item))
        .map_err(|error| Error::BadItem(format!("stored item is not an audit record: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_attributes_round_trip() {
        let item = json!({
            "s": "text", "n": 42, "neg": -7, "big": 18446744073709551615u64, "b": true, "z": null,
            "l": [{"name": "app", "exitCode": 137}], "m": {"k": ["v"]}
        });
        let item = item.as_object().cloned().unwrap();
        let attributes = to_attributes(&item);
        assert_eq!(attributes["n"], AttributeValue::N("42".into()));
        assert_eq!(from_attributes(&attributes).unwrap(), item);
    }

    #[test]
    fn numbers_keep_every_digit_both_ways() {
        let item: Item = serde_json::from_str(
            r#"{"big": 123456789012345678901234567890123456, "f": 1.50, "e": -1e400}"#,
        )
        .unwrap();
        let attributes = to_attributes(&item);
        assert_eq!(
            attributes["big"],
            AttributeValue::N("123456789012345678901234567890123456".into())
        );
        assert_eq!(attributes["f"], AttributeValue::N("1.50".into()));
        assert_eq!(from_attributes(&attributes).unwrap(), item);
    }
}
