//! ecs-audit: answers the audit questions from the ecs-state-logger table, per region.
//!
//! Pure modules hold the domain: [`timerange`] (`--since`/`--until` → key bounds),
//! [`query`] (each question as an index, key condition and order), [`environment`] (the core
//! crate's: table and regions from `environments/<env>/terraform.tfvars.json`), [`output`]
//! (merge across regions, table and JSON), [`report`] (the HTML timeline). [`dynamo`] is the
//! only module that talks to AWS; [`app`] wires them for one run.

pub mod app;
pub mod cli;
pub mod dynamo;
pub mod error;
pub mod merge;
pub mod output;
pub mod query;
pub mod redrive;
pub mod report;
pub mod sink;
pub mod timerange;

pub use app::run;
pub use cli::Cli;
/// The environment loader and the table/region choice live in the core crate.
pub use ecs_audit_core::environment;
pub use error::{Error, Result};
