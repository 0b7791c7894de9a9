//! The invocation path: parse, map, write, log. Generic over the store so it runs the same
//! against DynamoDB and in memory.

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

use crate::capacity::{MAX_ITEM_BYTES, WriteCost};
use crate::config::Config;
use crate::error::Error;
use crate::event::{self, event_id_of};
use crate::record;
use crate::store::{PutOutcome, RecordStore};

/// What the function returns for an event it recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub outcome: &'static str,
    pub resource_arn: String,
    pub event_key: String,
    pub write_units: usize,
}

/// Records one event. Bad input and storage failures come back as errors so the platform
/// retries them and, finally, keeps them in the dead-letter queue; nothing is dropped.
pub async fn record_event<S: RecordStore>(
    store: &S,
    config: &Config,
    input: &Value,
) -> Result<Recorded, Error> {
    let event = event::parse(input)?;
    let record = record::build(&event, config.retention_days)?;
    let item = record.to_item()?;
    let cost = WriteCost::of(&item, &record.indexes());
    if cost.item_bytes > MAX_ITEM_BYTES {
        // Field caps make this unreachable for any event EventBridge can deliver; refuse
        // rather than send a write DynamoDB would reject.
        return Err(Error::bad_event(
            &record.event_id,
            format!(
                "the record would be {} bytes, over DynamoDB's {MAX_ITEM_BYTES}-byte item limit",
                cost.item_bytes
            ),
        ));
    }
    let outcome = store.put_new(&item).await?;
    let task_arn = record
        .task_id()
        .map_or("", |_| record.resource_arn.as_str());
    tracing::info!(
        event_id = %record.event_id,
        detail_type = %record.detail_type,
        resource_arn = %record.resource_arn,
        event_key = %record.event_key,
        task_arn,
        outcome = outcome.as_str(),
        item_bytes = cost.item_bytes,
        write_units = if outcome == PutOutcome::Written { cost.total_units() } else { 0 },
        "event recorded"
    );
    Ok(Recorded {
        outcome: outcome.as_str(),
        resource_arn: record.resource_arn,
        event_key: record.event_key,
        write_units: cost.total_units(),
    })
}

/// The Lambda entry point: logs every failure with the event it belongs to, then returns it.
pub async fn function_handler<S: RecordStore>(
    store: &S,
    config: &Config,
    event: LambdaEvent<Value>,
) -> Result<Recorded, Error> {
    let result = record_event(store, config, &event.payload).await;
    if let Err(error) = &result {
        let event_id = event_id_of(&event.payload);
        let detail_type = event
            .payload
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if error.is_retryable() {
            tracing::error!(event_id, detail_type, outcome = "failed", error_type = error.error_type(), error = %error, "event not recorded; it will be retried");
        } else {
            tracing::warn!(event_id, detail_type, outcome = "rejected", error_type = error.error_type(), error = %error, "event rejected");
        }
    }
    result
}
