//! The crate's one error type. Each variant tells the operator whether retrying can help.

use lambda_runtime::Diagnostic;

pub use ecs_audit_core::error::UNKNOWN_EVENT_ID;

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

    /// A failure notification was not published (SNS, or the claim that makes it exactly
    /// once, failed). The event is recorded; the retry finds the message still unsent and
    /// publishes it.
    #[error("event {event_id}: notification not published: {message}")]
    Notify { event_id: String, message: String },
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
            Error::Notify { .. } => "NotifyError",
        }
    }

    /// True when retrying the same event later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Store { .. } | Error::Notify { .. })
    }
}

/// The domain refuses an event (bad input), a stored item (the store returned something that
/// does not read back: a storage problem, retryable) or its own embedded files (a build
/// defect: the function cannot run as configured).
impl From<ecs_audit_core::Error> for Error {
    fn from(error: ecs_audit_core::Error) -> Self {
        match error {
            ecs_audit_core::Error::BadEvent { event_id, problem } => {
                Error::BadEvent { event_id, problem }
            }
            ecs_audit_core::Error::BadItem(message) => Error::Store {
                event_id: String::new(),
                message,
            },
            ecs_audit_core::Error::Embedded(problem) => Error::Config(problem),
            // The environment loader's errors: the function reads no environment file.
            other => Error::Config(other.to_string()),
        }
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
