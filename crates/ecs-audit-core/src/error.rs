//! The crate's one error type: what the domain can refuse.

/// Event id used in messages when the input carries none.
pub const UNKNOWN_EVENT_ID: &str = "<no id>";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The event itself is wrong. Retrying the same bytes fails the same way.
    #[error("event {event_id}: rejected: {problem}")]
    BadEvent { event_id: String, problem: String },

    /// A stored item that does not read back as a record (a type this mapping does not know,
    /// an attribute of another type than the record's).
    #[error("{0}")]
    BadItem(String),

    /// A file the code is built with (the table's schema, the module contract) does not parse:
    /// a defect of the build, which a unit test catches before anything ships.
    #[error("{0}")]
    Embedded(String),
}

impl Error {
    pub fn bad_event(event_id: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::BadEvent {
            event_id: event_id.into(),
            problem: problem.into(),
        }
    }
}
