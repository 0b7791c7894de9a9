//! ecs-audit: answers the audit questions from the ecs-state-logger table, per region.
//!
//! [`cli`] is the command line; [`commands`] holds one module per subcommand, each read from
//! its flags (pure) and run over one [`session::Session`] (the table, the regions and a
//! client per region, opened once). Pure modules hold the domain: [`timerange`]
//! (`--since`/`--until` → key bounds), [`query`] (each question as an index, key condition
//! and order), [`environment`] (the core
//! crate's loader: table and regions from `environments/<env>/terraform.tfvars.json`), [`merge`] and [`output`] (regions merged by
//! time, table and JSON), [`report`] (the HTML timeline). [`dynamo`] and
//! [`commands::redrive::sqs`] are the only modules that talk to AWS; [`fanout`] asks every
//! region at once.

pub mod cli;
pub mod commands;
pub mod dynamo;
pub mod error;
pub mod fanout;
pub mod merge;
pub mod output;
pub mod query;
pub mod report;
pub mod session;
pub mod sink;
pub mod timerange;

use std::io::Write;

use chrono::Utc;

pub use cli::Cli;
use commands::Request;
/// The environment loader and the table/region choice live in the core crate.
pub use ecs_audit_core::environment;
pub use error::{Error, Result};
use session::Session;

/// Runs the command line, writing the answer to `out` and progress (with `-v`) to `log`:
/// the environment and the subcommand's flags are read and checked first, then the session
/// is opened once, then the subcommand runs over it.
pub async fn run(cli: Cli, out: &mut dyn Write, log: &mut dyn Write) -> Result<()> {
    let now = Utc::now();
    let environment = session::load_environment(&cli.common)?;
    let request = Request::read(&cli.command, environment.as_ref(), now)?;
    let mut common = cli.common;
    if common.region.is_none() && environment.is_some() && request.reads_every_region() {
        common.all_regions = true;
    }
    let session =
        Session::open(&common, environment.as_ref(), request.implied_region(), now).await?;
    request.run(&session, out, log).await
}
