//! What `make bench` (the `bench` binary, a thin `main` over [`driver::bench`]) is made of:
//! its arguments ([`args`]), the two functions and how each is started (here), the events'
//! expected items ([`expected`]), the warm run and its scan ([`warm`], [`run`], [`stats`]),
//! their tables ([`tables`]), CPU accounting ([`cpu`]), the cold path ([`cold`]: TLS to the
//! local API, a CPU quota of Lambda's share, fresh processes), prices ([`prices`]), the
//! report ([`report`]) and the write budget from the mapping alone ([`units`]).

pub mod args;
pub mod cold;
pub mod cpu;
pub mod cpu_quota;
pub mod driver;
pub mod expected;
pub mod prices;
pub mod report;
pub mod run;
pub mod stats;
pub mod tables;
pub mod tls_api;
pub mod units;
pub mod warm;

use std::path::Path;
use std::time::Duration;

use crate::{FunctionCommand, RuntimeApiConfig};

/// The baseline's table, as its README names it.
pub const BASELINE_TABLE: &str = "ecslogger";
pub const BASELINE_HANDLER: &str = "handler.ecslogger";
pub const RETENTION_DAYS: u32 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    Rust,
    Python,
}

impl Implementation {
    pub fn label(self) -> &'static str {
        match self {
            Implementation::Rust => "ecs-state-logger (Rust)",
            Implementation::Python => "Python recipe",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Implementation::Rust => "rust",
            Implementation::Python => "python",
        }
    }

    /// The Runtime API for this function in `region`: named after the table it writes
    /// (`rust_table` for the Rust function), with the invocation `timeout` and how long an
    /// invocation may wait in the queue (`queue_timeout`).
    pub fn runtime_config(
        self,
        rust_table: &str,
        region: &str,
        timeout: Duration,
        queue_timeout: Duration,
    ) -> RuntimeApiConfig {
        RuntimeApiConfig {
            function_name: match self {
                Implementation::Rust => rust_table.to_owned(),
                Implementation::Python => BASELINE_TABLE.to_owned(),
            },
            region: region.to_owned(),
            timeout,
            queue_timeout: Some(queue_timeout),
            ..RuntimeApiConfig::default()
        }
    }

    /// The function's process: the `bootstrap`, or the recipe under awslambdaric (the
    /// interpreter is `$PYTHON`, which scripts/bench.sh resolves past any shim), with the
    /// environment each needs beyond Lambda's.
    pub fn command(
        self,
        bootstrap: &Path,
        baseline_dir: &Path,
        rust_table: &str,
    ) -> FunctionCommand {
        match self {
            Implementation::Rust => FunctionCommand::new(bootstrap)
                .env("TABLE_NAME", rust_table)
                .env("RETENTION_DAYS", RETENTION_DAYS.to_string()),
            Implementation::Python => FunctionCommand::python_ric(baseline_dir, BASELINE_HANDLER)
                .env("TABLE", BASELINE_TABLE)
                // Lambda's task root is read-only: the handler compiles at each cold start.
                .env("PYTHONDONTWRITEBYTECODE", "1"),
        }
    }
}
