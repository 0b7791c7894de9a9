//! What Lambda does with an asynchronous invocation (the way EventBridge invokes a target):
//! retry a function error up to `max_retry_attempts` times, then send an invocation record
//! to the on-failure destination.
//!
//! The record has the shape Lambda documents for destinations
//! (`version`, `timestamp`, `requestContext`, `requestPayload`, `responseContext`,
//! `responsePayload`); only the SQS destination type is emulated.

use std::time::Duration;

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::runtime_api::{Invocation, Outcome, RuntimeApi, new_request_id};

/// Lambda's retry settings for asynchronous invocations (`aws_lambda_function_event_invoke_config`).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (Lambda: 0..=2, default 2).
    pub max_retry_attempts: u32,
    /// Pause between attempts. Lambda waits about one and two minutes; the harness defaults
    /// to none.
    pub retry_delay: Duration,
    /// Where a record goes when every attempt failed.
    pub on_failure: Option<SqsDestination>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retry_attempts: 2,
            retry_delay: Duration::ZERO,
            on_failure: None,
        }
    }
}

impl RetryPolicy {
    /// The default policy (2 retries, no delay) with an on-failure queue.
    pub fn with_destination(destination: SqsDestination) -> Self {
        Self {
            on_failure: Some(destination),
            ..Self::default()
        }
    }
}

/// An SQS queue used as an on-failure destination.
#[derive(Debug, Clone)]
pub struct SqsDestination {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDestination {
    /// A destination using an existing client.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// A destination on a local AWS API (moto) with fake credentials.
    pub fn local(endpoint: &str, region: &str, queue_url: impl Into<String>) -> Self {
        Self::new(local_sqs_client(endpoint, region), queue_url)
    }

    /// The queue URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// The SQS client.
    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    /// Sends one record; returns the SQS message id.
    pub async fn send(&self, record: &Value) -> Result<String> {
        let sent = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(record.to_string())
            .send()
            .await
            .map_err(|e| Error::Destination {
                queue_url: self.queue_url.clone(),
                message: aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(),
            })?;
        Ok(sent.message_id().unwrap_or_default().to_owned())
    }
}

/// An SQS client for a local endpoint, with fake credentials (no profile or IMDS lookups).
pub fn local_sqs_client(endpoint: &str, region: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing", "testing", None, None, "harness",
        ))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// The result of one asynchronous invocation.
#[derive(Debug, Clone)]
pub struct AsyncInvocation {
    /// Every attempt, in order (1 + retries at most). All share one request id, as in Lambda.
    pub attempts: Vec<Invocation>,
    /// The on-failure record, when every attempt failed.
    pub failure_record: Option<Value>,
    /// The SQS message id of the record, when it was sent to a destination.
    pub destination_message_id: Option<String>,
}

impl AsyncInvocation {
    /// Whether some attempt succeeded.
    pub fn succeeded(&self) -> bool {
        self.attempts.last().is_some_and(|a| !a.is_error())
    }

    /// The last attempt.
    pub fn last(&self) -> Option<&Invocation> {
        self.attempts.last()
    }
}

impl RuntimeApi {
    /// Invokes asynchronously: retries function errors per `policy`, then sends the
    /// on-failure record. Fails only if the record cannot be sent.
    pub async fn invoke_async(
        &self,
        event: Value,
        policy: &RetryPolicy,
    ) -> Result<AsyncInvocation> {
        let request_id = new_request_id();
        let mut attempts = Vec::new();
        for attempt in 0..=policy.max_retry_attempts {
            if attempt > 0 && !policy.retry_delay.is_zero() {
                tokio::time::sleep(policy.retry_delay).await;
            }
            let invocation = self.invoke_as(request_id.clone(), &event).await;
            let failed = invocation.is_error();
            attempts.push(invocation);
            if !failed {
                return Ok(AsyncInvocation {
                    attempts,
                    failure_record: None,
                    destination_message_id: None,
                });
            }
        }

        let mut result = AsyncInvocation {
            failure_record: None,
            destination_message_id: None,
            attempts,
        };
        if let Some(last) = result.attempts.last() {
            let count = u32::try_from(result.attempts.len()).unwrap_or(u32::MAX);
            let record = failure_record(&event, last, count, &self.qualified_function_arn());
            if let Some(destination) = &policy.on_failure {
                result.destination_message_id = Some(destination.send(&record).await?);
            }
            result.failure_record = Some(record);
        }
        Ok(result)
    }

    /// `...:function:<name>:$LATEST`, as destination records name the function.
    pub fn qualified_function_arn(&self) -> String {
        format!("{}:$LATEST", self.function_arn())
    }
}

/// The on-failure destination record Lambda sends after the last failed attempt.
pub fn failure_record(
    event: &Value,
    last: &Invocation,
    approximate_invoke_count: u32,
    function_arn: &str,
) -> Value {
    let response_payload = match (&last.error_body, &last.outcome) {
        (Some(body @ Value::Object(_)), _) => body.clone(),
        (
            _,
            Outcome::Error {
                error_type,
                error_message,
            },
        ) => json!({ "errorType": error_type, "errorMessage": error_message }),
        (_, Outcome::Response(v)) => v.clone(),
    };
    json!({
        "version": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "requestContext": {
            "requestId": last.request_id,
            "functionArn": function_arn,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": approximate_invoke_count,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": response_payload,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn record_shape() {
        let now = Instant::now();
        let last = Invocation {
            request_id: "r-1".into(),
            outcome: Outcome::Error {
                error_type: "InvalidEvent".into(),
                error_message: "bad".into(),
            },
            error_body: None,
            queued: now,
            handed_out: now,
            completed: now,
        };
        let event = json!({"id": "e-1"});
        let record = failure_record(
            &event,
            &last,
            3,
            "arn:aws:lambda:xx-test-1:1:function:f:$LATEST",
        );
        assert_eq!(record["version"], "1.0");
        assert_eq!(record["requestContext"]["requestId"], "r-1");
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(record["requestPayload"], event);
        assert_eq!(record["responseContext"]["statusCode"], 200);
        assert_eq!(record["responseContext"]["executedVersion"], "$LATEST");
        assert_eq!(record["responseContext"]["functionError"], "Unhandled");
        assert_eq!(record["responsePayload"]["errorType"], "InvalidEvent");
        assert_eq!(record["responsePayload"]["errorMessage"], "bad");
        let ts = record["timestamp"].as_str().unwrap_or_default();
        assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
    }
}
