//! The subcommands, one module each, every one `read` from its flags (pure, before any AWS
//! call: ranges parsed and task references checked once) and then `run` over the
//! [`Session`] the run opened. To add a question: its flags in [`crate::cli`], its key
//! condition in [`crate::query`], a module here, a line in [`Request`].

pub mod loops;
pub mod mcp;
pub mod query;
pub mod redrive;
pub mod report;
pub mod task;
pub mod why;

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::cli::Command;
use crate::error::Result;
use crate::session::{NamedEnvironment, Session};

/// A subcommand read and checked, ready to run.
#[derive(Debug, Clone)]
pub enum Request {
    Task(task::TaskQuestion),
    Why(why::WhyQuestion),
    Query(query::Question),
    Report(report::ReportQuestion),
    Redrive(redrive::RedriveQuestion),
    Loops(loops::LoopsQuestion),
}

impl Request {
    /// Reads the subcommand's flags; `now` is where durations count back from.
    pub fn read(
        command: &Command,
        environment: Option<&NamedEnvironment>,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        Ok(match command {
            Command::Task(args) => Request::Task(task::read(args, now)?),
            Command::Why(args) => Request::Why(why::read(args, now)?),
            Command::Cluster(args) => Request::Query(query::cluster(args, now)?),
            Command::Service(args) => Request::Query(query::service(args, now)?),
            Command::Definition(args) => Request::Query(query::definition(args, now)?),
            Command::Report(args) => Request::Report(report::read(args, now)?),
            Command::Redrive(args) => Request::Redrive(redrive::read(args, environment)?),
            Command::Loops(args) => Request::Loops(loops::read(args, now)?),
            // A server, not a question: `main` serves it ([`mcp::serve`]) before any request.
            Command::Mcp(_) => {
                return Err(crate::error::Error::BadArgument(
                    "mcp is a server: run `ecs-audit mcp` from an MCP client".into(),
                ));
            }
        })
    }

    /// The region the request itself names (a task ARN's), read when no `--region` is given.
    pub fn implied_region(&self) -> Option<String> {
        match self {
            Request::Task(question) => question.implied_region(),
            Request::Why(question) => question.implied_region(),
            _ => None,
        }
    }

    /// The request reads every region of the environment unless `--region` says otherwise
    /// (`why` looks a task id up wherever it ran).
    pub fn reads_every_region(&self) -> bool {
        matches!(self, Request::Why(question) if question.needs_every_region())
    }

    /// Runs the request: the answer to `out`, progress and questions to `log`.
    pub async fn run(
        &self,
        session: &Session,
        out: &mut dyn Write,
        log: &mut dyn Write,
    ) -> Result<()> {
        match self {
            Request::Task(question) => task::run(session, question, out, log).await,
            Request::Why(question) => why::run(session, question, out, log).await,
            Request::Query(question) => query::run(session, question, out, log).await,
            Request::Report(question) => report::run(session, question, out, log).await,
            Request::Redrive(question) => redrive::run(session, question, out, log).await,
            Request::Loops(question) => loops::run(session, question, out, log).await,
        }
    }
}
