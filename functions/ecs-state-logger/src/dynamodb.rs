//! DynamoDB adapter: the conditional write. Items become attribute values through the
//! domain's one mapping ([`ecs_audit_core::attributes`]).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use ecs_audit_core::attributes::{from_attributes, to_attributes};
use ecs_audit_core::schema::PARTITION_KEY;
use serde_json::Value;

use crate::error::Error;
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
            let stored = from_attributes(stored).map_err(|error| Error::Store {
                event_id: event_id(),
                message: format!("table {}: {error}", self.table_name),
            })?;
            return Ok(PutOutcome::Exists(Box::new(stored)));
        }
        Err(Error::Store {
            event_id: event_id(),
            message: format!("table {}: {}", self.table_name, DisplayErrorContext(&error)),
        })
    }
}
