//! The invocation path: parse, map, write, log. Generic over the store so it runs the same
//! against DynamoDB and in memory.

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

use ecs_audit_core::capacity::{MAX_ITEM_BYTES, WriteCost};
use ecs_audit_core::conflict::{conflict_item, same_event};
use ecs_audit_core::event::{self, event_id_of};
use ecs_audit_core::item::{indexes_of, item_key};
use ecs_audit_core::mapping;
use ecs_audit_core::record::AuditRecord;

use crate::config::Config;
use crate::error::Error;
use crate::store::{PutOutcome, RecordStore};

/// What became of an event that was recorded. Logged as the `outcome` field of the function's
/// JSON log line, exactly as [`Outcome::as_str`] spells it; metric filters match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new item, every modelled field as modelled.
    Written,
    /// A new item; some fields had another type and are kept raw in `driftedFields`.
    WrittenWithWarnings,
    /// The same event was recorded before (same content, see [`same_event`]).
    Duplicate,
    /// A different event already held this key: this one is kept under a key of its own next
    /// to it ([`conflict_item`]).
    Conflict,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Written => "written",
            Outcome::WrittenWithWarnings => "written_with_warnings",
            Outcome::Duplicate => "duplicate",
            Outcome::Conflict => "conflict",
        }
    }

    /// True when this delivery added an item to the table.
    pub fn wrote_item(self) -> bool {
        self != Outcome::Duplicate
    }
}

/// What the function returns for an event it recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub outcome: &'static str,
    pub resource_arn: String,
    /// The key of the item this event is recorded in: on a conflict, the conflict item's.
    pub event_key: String,
    pub write_units: usize,
}

/// Records one event. Bad input and storage failures come back as errors so the platform
/// retries them and, finally, keeps them in the dead-letter queue; nothing is dropped: a
/// drifted field is kept raw, a different event under a taken key gets a key of its own.
pub async fn record_event<S: RecordStore>(
    store: &S,
    config: &Config,
    input: &Value,
) -> Result<Recorded, Error> {
    record(store, config, input)
        .await
        .map(|(recorded, _)| recorded)
}

/// [`record_event`], also returning the record, for what follows a recording (the failure
/// notifications, [`crate::alerts`]).
pub async fn record<S: RecordStore>(
    store: &S,
    config: &Config,
    input: &Value,
) -> Result<(Recorded, AuditRecord), Error> {
    let event = event::parse(input)?;
    let record = mapping::build(&event, config.retention_days)?;
    let item = record.to_item()?;
    let indexes = indexes_of(&item);
    let cost = WriteCost::of(&item, &indexes);
    if cost.item_bytes > MAX_ITEM_BYTES {
        // Field caps make this unreachable for any event up to 1 MB; refuse rather than send a
        // write DynamoDB would reject.
        return Err(Error::bad_event(
            &record.event_id,
            format!(
                "the record would be {} bytes, over DynamoDB's {MAX_ITEM_BYTES}-byte item limit",
                cost.item_bytes
            ),
        ));
    }
    let (outcome, event_key, cost) = match store.put_new(&item).await? {
        PutOutcome::Written if event.drifted.is_empty() => {
            (Outcome::Written, record.event_key.clone(), cost)
        }
        PutOutcome::Written => (Outcome::WrittenWithWarnings, record.event_key.clone(), cost),
        PutOutcome::Exists(stored) if same_event(&stored, &item) => {
            (Outcome::Duplicate, record.event_key.clone(), cost)
        }
        PutOutcome::Exists(_) => {
            let conflict = conflict_item(&item);
            let key = item_key(&conflict).map(|(_, key)| key).unwrap_or_default();
            let cost = WriteCost::of(&conflict, &indexes);
            match store.put_new(&conflict).await? {
                PutOutcome::Written => (Outcome::Conflict, key, cost),
                PutOutcome::Exists(stored) if same_event(&stored, &conflict) => {
                    (Outcome::Duplicate, key, cost)
                }
                PutOutcome::Exists(_) => {
                    // Two different contents with one 64-bit content hash: keep the event in
                    // the failure queue for a person rather than guess.
                    return Err(Error::Store {
                        event_id: record.event_id.clone(),
                        message: format!(
                            "{} {key}: a different item already holds this conflict key",
                            record.resource_arn
                        ),
                    });
                }
            }
        }
    };
    let task_arn = record
        .task_id()
        .map_or("", |_| record.resource_arn.as_str());
    let drifted_fields = event.drifted.len();
    // Set on a conflict and on a redelivery of one: the key the event is recorded under.
    let conflict_key = if event_key != record.event_key {
        event_key.as_str()
    } else {
        ""
    };
    tracing::info!(
        event_id = %record.event_id,
        detail_type = %record.detail_type,
        resource_arn = %record.resource_arn,
        event_key = %record.event_key,
        task_arn,
        outcome = outcome.as_str(),
        conflict_key,
        drifted_fields,
        item_bytes = cost.item_bytes,
        write_units = if outcome.wrote_item() { cost.total_units() } else { 0 },
        "event recorded"
    );
    let recorded = Recorded {
        outcome: outcome.as_str(),
        resource_arn: record.resource_arn.clone(),
        event_key,
        write_units: cost.total_units(),
    };
    Ok((recorded, record))
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
