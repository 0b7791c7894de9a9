//! A failure queue's message read as the event it holds and why it was not recorded. Pure:
//! text in, [`Failure`] out.

use ecs_audit_core::error::UNKNOWN_EVENT_ID;
use serde_json::Value;

use super::queues::QueueKind;

/// One message read from a queue: where it is (to delete or release it), and the event and
/// why it failed, or why the message cannot be redriven.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: QueueKind,
    pub queue_url: String,
    pub receipt_handle: String,
    pub failure: std::result::Result<Failure, String>,
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
}
