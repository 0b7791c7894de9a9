//! DynamoDB adapter: the conditional write, and the mapping between JSON values and
//! DynamoDB attribute values.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

use crate::error::Error;
use crate::record::{AuditRecord, PARTITION_KEY};
use crate::store::{Item, PutOutcome, RecordStore};

pub struct DynamoDbStore {
    client: Client,
    table_name: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        DynamoDbStore {
            client,
            table_name: table_name.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
    }
}

impl RecordStore for DynamoDbStore {
    async fn put_new(&self, item: &Item) -> Result<PutOutcome, Error> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table_name)
            .set_item(Some(to_attributes(item)))
            // First write wins: a redelivered event must neither fail nor overwrite.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Written),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(PutOutcome::Duplicate)
            }
            Err(error) => Err(Error::Store {
                event_id: item
                    .get("eventId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                message: format!("table {}: {}", self.table_name, DisplayErrorContext(&error)),
            }),
        }
    }
}

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
    let unsupported = || Error::Store {
        event_id: String::new(),
        message: format!("attribute {name:?} has a type this reader does not map: {value:?}"),
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

fn parse_number(text: &str) -> Option<Value> {
    if let Ok(integer) = text.parse::<i64>() {
        return Some(Value::from(integer));
    }
    if let Ok(integer) = text.parse::<u64>() {
        return Some(Value::from(integer));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

/// Reads a stored item back into the record type.
pub fn record_from_attributes(
    attributes: &HashMap<String, AttributeValue>,
) -> Result<AuditRecord, Error> {
    let item = from_attributes(attributes)?;
    serde_json::from_value(Value::Object(item)).map_err(|error| Error::Store {
        event_id: String::new(),
        message: format!("stored item is not an audit record: {error}"),
    })
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
}
