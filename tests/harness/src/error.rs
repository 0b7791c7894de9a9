//! The crate's one error type.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the harness can fail at. Each message names what was being done and, where a
/// child process is involved, what it printed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// A document that should be JSON is not.
    #[error("{what}: invalid JSON: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// The repository's own settings (an environment's tfvars) are missing or unreadable.
    #[error("{0}")]
    Setup(String),

    /// `moto_server` is not installed.
    #[error(
        "moto_server is not on PATH: install the local AWS API with `pip install -r tests/requirements.txt` (or `make tools`)"
    )]
    MotoNotInstalled,

    /// moto server started but never answered HTTP, or exited while starting.
    #[error("moto server at {endpoint} {problem}; last lines of {}:\n{log_tail}", log.display())]
    MotoNotReady {
        endpoint: String,
        problem: String,
        log: PathBuf,
        log_tail: String,
    },

    /// A moto control request (reset, replay, ...) failed.
    #[error("moto server at {endpoint}: {what}")]
    Moto { endpoint: String, what: String },

    /// A plain HTTP request failed before a response arrived.
    #[error("{method} {url}: {message}")]
    Http {
        method: String,
        url: String,
        message: String,
    },

    /// A plain HTTP request took longer than its limit.
    #[error("{method} {url}: no response within {timeout:?}")]
    HttpTimeout {
        method: String,
        url: String,
        timeout: Duration,
    },

    /// `terraform` is not installed.
    #[error("terraform is not on PATH: install Terraform >= 1.11")]
    TerraformNotInstalled,

    /// A terraform command exited non-zero.
    #[error("`terraform {args}` failed ({status}):\n{stderr}")]
    Terraform {
        args: String,
        status: String,
        stderr: String,
    },

    /// A function process could not be started or controlled.
    #[error("function process `{program}`: {message}")]
    Function { program: String, message: String },

    /// A call to the local AWS API (through the SDK or the `aws` CLI) failed.
    #[error("{what}: {message}")]
    Aws { what: String, message: String },

    /// Sending an on-failure destination record to SQS failed.
    #[error("sending the on-failure record to {queue_url}: {message}")]
    Destination { queue_url: String, message: String },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Self::Json {
            what: what.into(),
            source,
        }
    }
}
