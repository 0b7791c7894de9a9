//! `ecs-audit redrive`: what a region's failure queues hold, why each event failed, and, on
//! confirmation, each event recorded again through the function's own write path
//! ([`record_event`] with the [`DynamoDbStore`]), its message deleted only once its item is
//! in the table.
//!
//! Two queues per region, both named after the environment (`<name>-…`):
//! - `failed-events`, the function's on-failure destination: Lambda's invocation record, with
//!   the event as `requestPayload` and the function's error as `responsePayload`;
//! - `delivery-dlq`, the rule's dead-letter queue: the event itself as the body, EventBridge's
//!   reason in the `ERROR_CODE` and `ERROR_MESSAGE` message attributes.
//!
//! Safe to repeat: the write is first-write-wins, so an event recorded in the meantime (or
//! twice in the queues) is a duplicate, which counts as recorded. Events the handler still
//! rejects stay in their queue, listed with their error. Reading and parsing a message are
//! pure ([`parse_failure_record`], [`parse_dlq_message`]); only [`run`] talks to AWS.

use std::collections::HashMap;
use std::io::Write;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue};
use clap::{Args, ValueEnum};
use ecs_audit_core::contract::{self, Queue};
use ecs_audit_core::error::UNKNOWN_EVENT_ID;
use ecs_state_logger::config::DEFAULT_RETENTION_DAYS;
use ecs_state_logger::dynamodb::DynamoDbStore;
use ecs_state_logger::handler::{Outcome, record_event};
use serde_json::Value;

use crate::app::{connect, load_environment};
use crate::cli::Common;
use crate::error::{Error, Result};

/// How long the messages read stay invisible to other readers while they are shown, confirmed
/// and redriven; those not deleted are made visible again at once.
const VISIBILITY_TIMEOUT_SECONDS: i32 = 600;
/// ReceiveMessage returns at most 10 messages per call.
const RECEIVE_BATCH: i32 = 10;
/// Long polling on the read that finds a queue empty: it asks every SQS server, not a sample.
const RECEIVE_WAIT_SECONDS: i32 = 1;
/// Error texts are cut to this many characters in the listing.
const SHOWN_ERROR_CHARS: usize = 240;

/// `ecs-audit redrive`.
#[derive(Debug, Clone, Args)]
pub struct RedriveArgs {
    /// Which of the region's failure queues to read
    #[arg(long, value_enum, default_value_t = QueueChoice::Both)]
    pub queue: QueueChoice,

    /// Redrive without asking
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Only show what failed and why; redrive and delete nothing
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,

    /// Days a redriven record is kept [default: the environment's retention_days, else 14]
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueChoice {
    /// `<name>-failed-events`: invocations the function failed, after Lambda's retries
    FailedEvents,
    /// `<name>-delivery-dlq`: events EventBridge could not deliver to the function
    DeliveryDlq,
    /// Both
    Both,
}

impl QueueChoice {
    pub fn kinds(self) -> &'static [QueueKind] {
        match self {
            QueueChoice::FailedEvents => &[QueueKind::FailedEvents],
            QueueChoice::DeliveryDlq => &[QueueKind::DeliveryDlq],
            QueueChoice::Both => &[QueueKind::FailedEvents, QueueKind::DeliveryDlq],
        }
    }
}

/// The two kinds of failure queue, and how each holds its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    FailedEvents,
    DeliveryDlq,
}

impl QueueKind {
    pub fn suffix(self) -> &'static str {
        match self {
            QueueKind::FailedEvents => "failed-events",
            QueueKind::DeliveryDlq => "delivery-dlq",
        }
    }

    /// The queue's name for an environment named `name`, from the pattern the module names
    /// it by (modules/regional-logger/contract.json). [`run`] checks that file first.
    pub fn queue_name(self, name: &str) -> String {
        let queue = match self {
            QueueKind::FailedEvents => Queue::FailedEvents,
            QueueKind::DeliveryDlq => Queue::DeliveryDlq,
        };
        queue.name_for(name).unwrap_or_default()
    }
}

/// An event that was not recorded, and why, as its queue message tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub event: Value,
    pub error_type: String,
    pub error_message: String,
}

impl Failure {
    /// The event's `id`, or `<no id>`.
    pub fn event_id(&self) -> &str {
        self.event
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .unwrap_or(UNKNOWN_EVENT_ID)
    }

    pub fn detail_type(&self) -> &str {
        self.event
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

fn text_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

/// Reads a Lambda on-failure destination record: the event is `requestPayload`, the error the
/// function returned is `responsePayload` (`errorType`, `errorMessage`). A record without a
/// response (the event expired before an attempt) names its `requestContext.condition`.
pub fn parse_failure_record(body: &str) -> std::result::Result<Failure, String> {
    let record: Value = serde_json::from_str(body)
        .map_err(|error| format!("the message is not a Lambda failure record: {error}"))?;
    let event = match record.get("requestPayload") {
        Some(Value::Null) | None => {
            return Err("the failure record has no requestPayload (the event)".into());
        }
        Some(event) => event.clone(),
    };
    let response = record.get("responsePayload").unwrap_or(&Value::Null);
    let error_type = text_at(response, "/errorType")
        .or_else(|| text_at(&record, "/responseContext/functionError"))
        .or_else(|| text_at(&record, "/requestContext/condition"))
        .unwrap_or("Unknown")
        .to_string();
    let error_message = match response {
        Value::Null => text_at(&record, "/requestContext/condition")
            .map(|condition| format!("{condition} (no response from the function)"))
            .unwrap_or_default(),
        Value::String(text) => text.clone(),
        other => text_at(other, "/errorMessage")
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string()),
    };
    Ok(Failure {
        event,
        error_type,
        error_message,
    })
}

/// Reads an EventBridge dead-letter message: the body is the event, the reason is in the
/// `ERROR_CODE` and `ERROR_MESSAGE` message attributes.
pub fn parse_dlq_message(
    body: &str,
    error_code: Option<&str>,
    error_message: Option<&str>,
) -> std::result::Result<Failure, String> {
    let event: Value = serde_json::from_str(body)
        .map_err(|error| format!("the message body is not an event: {error}"))?;
    Ok(Failure {
        event,
        error_type: error_code
            .filter(|code| !code.is_empty())
            .unwrap_or("Unknown")
            .to_string(),
        error_message: error_message.unwrap_or_default().to_string(),
    })
}

fn attribute<'a>(
    attributes: Option<&'a HashMap<String, MessageAttributeValue>>,
    name: &str,
) -> Option<&'a str> {
    attributes?.get(name)?.string_value()
}

/// `y` or `yes`, any case, is yes; anything else (an empty line, end of input) is no.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// An error text on one line, control characters shown as spaces, cut to `max` characters.
pub fn shown(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// One message read from a queue.
#[derive(Debug, Clone)]
struct Pending {
    kind: QueueKind,
    queue_url: String,
    receipt_handle: String,
    /// The event and why it failed, or why the message cannot be redriven.
    failure: std::result::Result<Failure, String>,
}

impl Pending {
    fn describe(&self) -> String {
        match &self.failure {
            Ok(failure) => format!(
                "{:<13}  {}  {}  {}: {}",
                self.kind.suffix(),
                failure.event_id(),
                if failure.detail_type().is_empty() {
                    "-"
                } else {
                    failure.detail_type()
                },
                failure.error_type,
                shown(&failure.error_message, SHOWN_ERROR_CHARS)
            ),
            Err(problem) => format!(
                "{:<13}  {UNKNOWN_EVENT_ID}  -  Unreadable: {}",
                self.kind.suffix(),
                shown(problem, SHOWN_ERROR_CHARS)
            ),
        }
    }
}

/// One region's queues and table.
struct Region {
    name: String,
    sqs: aws_sdk_sqs::Client,
    store: DynamoDbStore,
    pending: Vec<Pending>,
}

fn queue_error(
    operation: &'static str,
    queue: &str,
    region: &str,
    message: impl Into<String>,
) -> Error {
    Error::Queue {
        operation,
        queue: queue.to_string(),
        region: region.to_string(),
        message: message.into().replace(['\n', '\r'], " "),
    }
}

impl Region {
    fn new(sdk_config: &SdkConfig, region: &str, table: &str) -> Self {
        let sqs_config = aws_sdk_sqs::config::Builder::from(sdk_config)
            .region(aws_sdk_sqs::config::Region::new(region.to_string()))
            .build();
        let dynamodb_config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
            .region(aws_sdk_dynamodb::config::Region::new(region.to_string()))
            .build();
        Region {
            name: region.to_string(),
            sqs: aws_sdk_sqs::Client::from_conf(sqs_config),
            store: DynamoDbStore::new(aws_sdk_dynamodb::Client::from_conf(dynamodb_config), table),
            pending: Vec::new(),
        }
    }

    async fn queue_url(&self, queue: &str) -> Result<String> {
        let output = self
            .sqs
            .get_queue_url()
            .queue_name(queue)
            .send()
            .await
            .map_err(|error| {
                let message = if error
                    .as_service_error()
                    .is_some_and(|e| e.is_queue_does_not_exist())
                {
                    "the queue does not exist (QueueDoesNotExist)".to_string()
                } else {
                    aws_sdk_sqs::error::DisplayErrorContext(&error).to_string()
                };
                queue_error("GetQueueUrl", queue, &self.name, message)
            })?;
        output
            .queue_url()
            .map(str::to_string)
            .ok_or_else(|| queue_error("GetQueueUrl", queue, &self.name, "no queue URL returned"))
    }

    /// Reads every message of the queue, hiding each for the run.
    async fn read(&mut self, kind: QueueKind, name: &str) -> Result<()> {
        let queue = kind.queue_name(name);
        let queue_url = self.queue_url(&queue).await?;
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(RECEIVE_BATCH)
                .visibility_timeout(VISIBILITY_TIMEOUT_SECONDS)
                .wait_time_seconds(RECEIVE_WAIT_SECONDS)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|error| {
                    queue_error(
                        "ReceiveMessage",
                        &queue,
                        &self.name,
                        aws_sdk_sqs::error::DisplayErrorContext(&error).to_string(),
                    )
                })?;
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(());
            }
            for message in messages {
                let Some(receipt_handle) = message.receipt_handle().map(str::to_string) else {
                    continue;
                };
                let body = message.body().unwrap_or_default();
                let failure = match kind {
                    QueueKind::FailedEvents => parse_failure_record(body),
                    QueueKind::DeliveryDlq => {
                        let attributes = message.message_attributes();
                        parse_dlq_message(
                            body,
                            attribute(attributes, "ERROR_CODE"),
                            attribute(attributes, "ERROR_MESSAGE"),
                        )
                    }
                };
                self.pending.push(Pending {
                    kind,
                    queue_url: queue_url.clone(),
                    receipt_handle,
                    failure,
                });
            }
        }
    }

    /// Makes messages visible again at once (they stay in their queues). A failure only
    /// delays them until the visibility timeout ends, so it is a warning.
    async fn release(&self, messages: &[&Pending], log: &mut dyn Write) {
        let mut by_queue: Vec<(&str, Vec<&Pending>)> = Vec::new();
        for message in messages {
            match by_queue
                .iter_mut()
                .find(|(url, _)| *url == message.queue_url)
            {
                Some((_, list)) => list.push(message),
                None => by_queue.push((&message.queue_url, vec![message])),
            }
        }
        for (queue_url, list) in by_queue {
            for chunk in list.chunks(10) {
                let entries: Vec<ChangeMessageVisibilityBatchRequestEntry> = chunk
                    .iter()
                    .enumerate()
                    .filter_map(|(n, message)| {
                        ChangeMessageVisibilityBatchRequestEntry::builder()
                            .id(n.to_string())
                            .receipt_handle(&message.receipt_handle)
                            .visibility_timeout(0)
                            .build()
                            .ok()
                    })
                    .collect();
                let result = self
                    .sqs
                    .change_message_visibility_batch()
                    .queue_url(queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await;
                let problem = match result {
                    Ok(output) if output.failed().is_empty() => continue,
                    Ok(output) => format!("{} message(s) refused", output.failed().len()),
                    Err(error) => aws_sdk_sqs::error::DisplayErrorContext(&error).to_string(),
                };
                let _ = writeln!(
                    log,
                    "warning: could not make messages of {queue_url} visible again ({}); they reappear within {VISIBILITY_TIMEOUT_SECONDS} s",
                    shown(&problem, SHOWN_ERROR_CHARS)
                );
            }
        }
    }
}

/// What a redrive did in one region.
#[derive(Debug, Default)]
struct Tally {
    written: usize,
    duplicate: usize,
    kept: Vec<String>,
}

fn output_error(error: std::io::Error) -> Error {
    Error::Output(error.to_string())
}

/// Runs `ecs-audit redrive`: lists the failures of every region asked for, asks (unless
/// `--yes` or `--dry-run`), redrives, and fails when any event stays in its queue.
pub async fn run(
    common: &Common,
    args: &RedriveArgs,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let environment = load_environment(common)?;
    let retention_days = args
        .retention_days
        .or_else(|| environment.as_ref()?.1.retention_days)
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    // The bounds the module validates retention_days against; also checks the file the
    // queue names come from.
    let bounds = contract::retention_days().map_err(|error| Error::Internal(error.to_string()))?;
    if !bounds.contains(&retention_days) {
        return Err(Error::BadArgument(format!(
            "retention days {retention_days}: pass --retention-days from {} to {}",
            bounds.start(),
            bounds.end()
        )));
    }

    let (sdk_config, target) = connect(common, environment.as_ref(), None).await?;
    let config = ecs_state_logger::Config {
        table_name: target.table.clone(),
        retention_days,
    };

    // Read and show.
    let mut regions = Vec::new();
    for name in &target.regions {
        let mut region = Region::new(&sdk_config, name, &target.table);
        for kind in args.queue.kinds() {
            region.read(*kind, &target.table).await?;
        }
        regions.push(region);
    }
    let total: usize = regions.iter().map(|region| region.pending.len()).sum();
    for region in &regions {
        let count = |kind: QueueKind| {
            region
                .pending
                .iter()
                .filter(|message| message.kind == kind)
                .count()
        };
        let queues: Vec<String> = args
            .queue
            .kinds()
            .iter()
            .map(|kind| format!("{} in {}", count(*kind), kind.queue_name(&target.table)))
            .collect();
        writeln!(
            out,
            "region {}: {} failed event(s): {}",
            region.name,
            region.pending.len(),
            queues.join(", ")
        )
        .map_err(output_error)?;
        for message in &region.pending {
            writeln!(out, "  {}", message.describe()).map_err(output_error)?;
        }
    }
    if total == 0 {
        writeln!(
            out,
            "nothing to redrive: the failure queues are empty in {}",
            target.regions.join(", ")
        )
        .map_err(output_error)?;
        return Ok(());
    }
    let go = if args.dry_run {
        false
    } else if args.yes {
        true
    } else {
        let _ = write!(
            log,
            "Record these {total} event(s) in table {} ({}) and delete their messages? [y/N] ",
            target.table,
            target.regions.join(", ")
        );
        let _ = log.flush();
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).is_ok() && is_yes(&answer)
    };
    if !go {
        for region in &regions {
            let all: Vec<&Pending> = region.pending.iter().collect();
            region.release(&all, log).await;
        }
        writeln!(
            out,
            "{}: {total} message(s) left in their queues",
            if args.dry_run {
                "dry run"
            } else {
                "not redriven"
            }
        )
        .map_err(output_error)?;
        return Ok(());
    }

    // Redrive: record each event, delete its message once the item is in the table.
    let mut remaining = 0;
    for region in &regions {
        let mut tally = Tally::default();
        let mut keep: Vec<&Pending> = Vec::new();
        let mut stopped: Option<String> = None;
        for message in &region.pending {
            if stopped.is_some() {
                keep.push(message);
                continue;
            }
            let failure = match &message.failure {
                Ok(failure) => failure,
                Err(_) => {
                    tally.kept.push(message.describe());
                    keep.push(message);
                    continue;
                }
            };
            match record_event(&region.store, &config, &failure.event).await {
                Ok(recorded) => {
                    let deleted = region
                        .sqs
                        .delete_message()
                        .queue_url(&message.queue_url)
                        .receipt_handle(&message.receipt_handle)
                        .send()
                        .await;
                    if let Err(error) = deleted {
                        // The item is written: the next redrive finds it a duplicate.
                        tally.kept.push(format!(
                            "{:<13}  {}  recorded ({}), but its message was not deleted: {}",
                            message.kind.suffix(),
                            failure.event_id(),
                            recorded.outcome,
                            shown(
                                &aws_sdk_sqs::error::DisplayErrorContext(&error).to_string(),
                                SHOWN_ERROR_CHARS
                            )
                        ));
                        keep.push(message);
                    } else if recorded.outcome != Outcome::Duplicate.as_str() {
                        // Written, written with warnings, or kept as a conflict: a new item.
                        tally.written += 1;
                    } else {
                        tally.duplicate += 1;
                    }
                }
                Err(error) => {
                    let line = format!(
                        "{:<13}  {}  {}: {}",
                        message.kind.suffix(),
                        failure.event_id(),
                        error.error_type(),
                        shown(&error.to_string(), SHOWN_ERROR_CHARS)
                    );
                    tally.kept.push(line);
                    keep.push(message);
                    if error.is_retryable() {
                        // DynamoDB is failing: the rest would fail the same way, slowly.
                        stopped = Some(shown(&error.to_string(), SHOWN_ERROR_CHARS));
                    }
                }
            }
        }
        region.release(&keep, log).await;
        let untried = keep.len().saturating_sub(tally.kept.len());
        writeln!(
            out,
            "redrive {}: {} message(s): {} written, {} duplicate, {} kept in the queue",
            region.name,
            region.pending.len(),
            tally.written,
            tally.duplicate,
            keep.len()
        )
        .map_err(output_error)?;
        for line in &tally.kept {
            writeln!(out, "  kept {line}").map_err(output_error)?;
        }
        if let Some(reason) = stopped {
            writeln!(
                out,
                "  stopped after a DynamoDB failure; {untried} more message(s) not tried: {reason}"
            )
            .map_err(output_error)?;
        }
        remaining += keep.len();
    }
    if remaining > 0 {
        return Err(Error::RedriveIncomplete { remaining });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"id": "e-1", "detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": {}})
    }

    #[test]
    fn a_lambda_failure_record_gives_the_event_and_the_function_error() {
        let record = json!({
            "version": "1.0",
            "timestamp": "2026-11-20T10:00:00.000Z",
            "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:xx-test-1:1:function:f:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": event(),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": "StoreError", "errorMessage": "event e-1: DynamoDB write failed: timeout"},
        });
        let failure = parse_failure_record(&record.to_string()).unwrap();
        assert_eq!(failure.event, event());
        assert_eq!(failure.error_type, "StoreError");
        assert_eq!(
            failure.error_message,
            "event e-1: DynamoDB write failed: timeout"
        );
        assert_eq!(failure.event_id(), "e-1");
        assert_eq!(failure.detail_type(), "ECS Task State Change");
    }

    #[test]
    fn a_record_without_a_response_names_its_condition() {
        let record = json!({
            "requestContext": {"condition": "EventAgeExceeded", "approximateInvokeCount": 0},
            "requestPayload": event(),
        });
        let failure = parse_failure_record(&record.to_string()).unwrap();
        assert_eq!(failure.error_type, "EventAgeExceeded");
        assert!(
            failure.error_message.contains("EventAgeExceeded"),
            "{failure:?}"
        );

        // A timeout's response has a message and no type; the context says Unhandled.
        let record = json!({
            "requestPayload": event(),
            "responseContext": {"functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "Task timed out after 10.00 seconds"},
        });
        let failure = parse_failure_record(&record.to_string()).unwrap();
        assert_eq!(failure.error_type, "Unhandled");
        assert_eq!(failure.error_message, "Task timed out after 10.00 seconds");
    }

    #[test]
    fn unreadable_failure_records_say_why() {
        let error = parse_failure_record("{not json").unwrap_err();
        assert!(error.contains("not a Lambda failure record"), "{error}");
        let error = parse_failure_record(r#"{"responsePayload": {}}"#).unwrap_err();
        assert!(error.contains("requestPayload"), "{error}");
        let error = parse_failure_record(r#"{"requestPayload": null}"#).unwrap_err();
        assert!(error.contains("requestPayload"), "{error}");
    }

    #[test]
    fn a_payload_that_is_not_an_event_is_still_redriven_to_be_judged_by_the_handler() {
        let failure = parse_failure_record(r#"{"requestPayload": [1, 2]}"#).unwrap();
        assert_eq!(failure.event, json!([1, 2]));
        assert_eq!(failure.event_id(), UNKNOWN_EVENT_ID);
        assert_eq!(failure.error_type, "Unknown");
    }

    #[test]
    fn a_dead_letter_is_the_event_with_eventbridge_reason_in_attributes() {
        let failure = parse_dlq_message(
            &event().to_string(),
            Some("ThrottlingException"),
            Some("Rate exceeded"),
        )
        .unwrap();
        assert_eq!(failure.event, event());
        assert_eq!(failure.error_type, "ThrottlingException");
        assert_eq!(failure.error_message, "Rate exceeded");

        let failure = parse_dlq_message(&event().to_string(), None, None).unwrap();
        assert_eq!(failure.error_type, "Unknown");
        assert_eq!(failure.error_message, "");

        let error = parse_dlq_message("<xml/>", Some("X"), None).unwrap_err();
        assert!(error.contains("not an event"), "{error}");
    }

    #[test]
    fn only_yes_is_yes() {
        for yes in ["y", "Y", "yes", " YES\n", "y\r\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "sure", "1"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn errors_are_shown_on_one_line_and_cut_on_a_character() {
        assert_eq!(shown("a\nb\tc\u{1b}[0m", 100), "a b c [0m");
        assert_eq!(shown("€€€€", 2), "€€…");
        assert_eq!(shown("abc", 3), "abc");
    }

    #[test]
    fn queue_names_follow_the_module() {
        assert_eq!(
            QueueKind::FailedEvents.queue_name("audit"),
            "audit-failed-events"
        );
        assert_eq!(
            QueueKind::DeliveryDlq.queue_name("audit"),
            "audit-delivery-dlq"
        );
        assert_eq!(QueueChoice::Both.kinds().len(), 2);
        assert_eq!(
            QueueChoice::DeliveryDlq.kinds(),
            &[QueueKind::DeliveryDlq][..]
        );
    }
}
