//! The crate's one error type. Each variant tells the operator whether retrying can help.

use lambda_runtime::Diagnostic;

/// Event id used in messages when the input carries none.
pub const UNKNOWN_EVENT_ID: &str = "<no id>";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The function is misconfigured; no event can be processed until it is fixed.
    #[error("configuration error: {0}")]
    Config(String),

    /// The event itself is wrong. Retrying the same bytes fails the same way; the platform's
    /// retries end in the dead-letter queue, where a redrive can pick it up after a fix.
    #[error("event {event_id}: rejected: {problem}")]
    BadEvent { event_id: String, problem: String },

    /// DynamoDB did not take the write after the SDK's own retries. Retrying later can succeed.
    #[error("event {event_id}: DynamoDB write failed: {message}")]
    Store { event_id: String, message: String },
}

impl Error {
    pub fn bad_event(event_id: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::BadEvent {
            event_id: event_id.into(),
            problem: problem.into(),
        }
    }

    /// The `errorType` reported to Lambda, so logs, metrics and dead-letter records can tell
    /// bad input from a retryable outage without parsing the message.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::Config(_) => "ConfigError",
            Error::BadEvent { .. } => "BadEvent",
            Error::Store { .. } => "StoreError",
        }
    }

    /// True when retrying the same event later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Store { .. })
    }
}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Self {
        Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}
