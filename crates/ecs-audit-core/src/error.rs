//! The crate's one error type: what the domain refuses, and what loading an environment can
//! meet.

use std::path::PathBuf;

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

    // Loading an environment or choosing its table and regions (`environment`). Each message
    // is one line saying what to do.
    /// No `<dir>/<name>/terraform.tfvars.json`. (The CLI words this and the next one with its
    /// flags: cli/src/error.rs.)
    #[error("unknown environment {name:?}: there is no {}; one of: {known}", path.display())]
    UnknownEnvironment {
        name: String,
        path: PathBuf,
        known: String,
    },

    /// The environment file exists but cannot be read or parsed.
    #[error("cannot read environment file {}: {message}", path.display())]
    EnvironmentFile { path: PathBuf, message: String },

    /// Neither an environment nor a table name says which table to read.
    #[error(
        "no table to query: pass --env <name> (reads environments/<name>/terraform.tfvars.json) or --table <name> with --region"
    )]
    NoTable,

    /// No region could be chosen.
    #[error("no region to query: {0}")]
    NoRegion(String),

    /// A region the environment does not deploy to.
    #[error(
        "region {region:?} is not one of environment {env:?}'s regions ({regions}); pass one of them, --all-regions, or --table to read a table outside the environment"
    )]
    RegionNotInEnvironment {
        region: String,
        env: String,
        regions: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_event(event_id: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::BadEvent {
            event_id: event_id.into(),
            problem: problem.into(),
        }
    }
}
