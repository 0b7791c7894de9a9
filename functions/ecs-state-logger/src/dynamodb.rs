//! DynamoDB adapter: the conditional write, and the mapping between JSON values and
//! DynamoDB attribute values.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
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
        let event_id = || {
            item.get("eventId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table_name)
            .set_item(Some(to_attributes(item)))
            // First write wins: a redelivered event must neither fail nor overwrite.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            // The item in the way comes back with the failure, so the handler can tell a
            // redelivery from a different event without a read (PutItem is the only permission).
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(PutOutcome::Written),
            Err(error) => error,
        };
        if let Some(PutItemError::ConditionalCheckFailedException(failed)) =
            error.as_service_error()
        {
            let stored = failed.item().ok_or_else(|| Error::Store {
                event_id: event_id(),
                message: format!(
                    "table {}: the key is taken, but DynamoDB did not return the item in the way, so a redelivery cannot be told from a different event",
                    self.table_name
                ),
            })?;
            return Ok(PutOutcome::Exists(Box::new(from_attributes(stored)?)));
        }
        Err(Error::Store {
            event_id: event_id(),
            message: format!("table {}: {}", self.table_name, DisplayErrorContext(&error)),
        })
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
