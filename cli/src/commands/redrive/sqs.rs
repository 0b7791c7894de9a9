//! The SQS edge of a redrive: finds a region's failure queue, reads every message (hidden
//! from other readers meanwhile), deletes the redriven ones and makes the rest visible again.
//! What a message means is [`super::message`]'s business.

use std::collections::HashMap;
use std::io::Write;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue};

use super::listing::{SHOWN_ERROR_CHARS, shown};
use super::message::{Message, parse_dlq_message, parse_failure_record};
use super::queues::QueueKind;
use crate::error::{Error, Result};

/// How long the messages read stay invisible to other readers while they are shown, confirmed
/// and redriven; those not deleted are made visible again at once.
const VISIBILITY_TIMEOUT_SECONDS: i32 = 600;
/// ReceiveMessage returns at most 10 messages per call.
const RECEIVE_BATCH: i32 = 10;
/// ChangeMessageVisibilityBatch takes at most 10 entries per call.
const VISIBILITY_BATCH: usize = 10;
/// Long polling on the read that finds a queue empty: it asks every SQS server, not a sample.
const RECEIVE_WAIT_SECONDS: i32 = 1;

/// One region's failure queues.
pub struct Queues {
    region: String,
    client: Client,
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

fn attribute<'a>(
    attributes: Option<&'a HashMap<String, MessageAttributeValue>>,
    name: &str,
) -> Option<&'a str> {
    attributes?.get(name)?.string_value()
}

impl Queues {
    pub fn new(region: &str, client: Client) -> Self {
        Queues {
            region: region.to_string(),
            client,
        }
    }

    async fn queue_url(&self, queue: &str) -> Result<String> {
        let output = self
            .client
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
                    DisplayErrorContext(&error).to_string()
                };
                queue_error("GetQueueUrl", queue, &self.region, message)
            })?;
        output
            .queue_url()
            .map(str::to_string)
            .ok_or_else(|| queue_error("GetQueueUrl", queue, &self.region, "no queue URL returned"))
    }

    /// Reads every message of the `kind` queue of the environment `name`, hiding each for
    /// the run.
    pub async fn read(&self, kind: QueueKind, name: &str) -> Result<Vec<Message>> {
        let queue = kind.queue_name(name);
        let queue_url = self.queue_url(&queue).await?;
        let mut read = Vec::new();
        loop {
            let output = self
                .client
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
                        &self.region,
                        DisplayErrorContext(&error).to_string(),
                    )
                })?;
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(read);
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
                read.push(Message {
                    kind,
                    queue_url: queue_url.clone(),
                    receipt_handle,
                    failure,
                });
            }
        }
    }

    /// Deletes a message whose event is in the table; the error, on one line, when SQS refuses.
    pub async fn delete(&self, message: &Message) -> std::result::Result<(), String> {
        self.client
            .delete_message()
            .queue_url(&message.queue_url)
            .receipt_handle(&message.receipt_handle)
            .send()
            .await
            .map(drop)
            .map_err(|error| DisplayErrorContext(&error).to_string())
    }

    /// Makes messages visible again at once (they stay in their queues). A failure only
    /// delays them until the visibility timeout ends, so it is a warning.
    pub async fn release(&self, messages: &[&Message], log: &mut dyn Write) {
        let mut by_queue: Vec<(&str, Vec<&Message>)> = Vec::new();
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
            for chunk in list.chunks(VISIBILITY_BATCH) {
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
                    .client
                    .change_message_visibility_batch()
                    .queue_url(queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await;
                let problem = match result {
                    Ok(output) if output.failed().is_empty() => continue,
                    Ok(output) => format!("{} message(s) refused", output.failed().len()),
                    Err(error) => DisplayErrorContext(&error).to_string(),
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
