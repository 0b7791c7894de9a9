//! ecs-audit-core: the domain of the ECS audit log, shared by the Lambda function
//! (`functions/ecs-state-logger`), the `ecs-audit` CLI and the test harness. Pure: no AWS
//! calls, no I/O; the only DynamoDB type it knows is the attribute value ([`attributes`]).
//!
//! The path of an event, one file per step:
//! - [`event`]: the EventBridge envelope and the ECS `detail` of each detail-type, parsed
//!   leniently (a field of another type is set aside as drift, never fatal);
//! - [`mapping`]: event → [`record::AuditRecord`], the item a person reads; [`keys`] makes its
//!   sort key, [`limits`] cuts what is too big, [`failure`] says whether it is a failure
//!   and of which kind (the one rule, rendered into `docs/failure-rule.md`), [`timeline`]
//!   which events the timeline indexes list, [`derived`] what is not stored twice;
//! - [`item`]: the record as stored (attribute name → JSON), [`attributes`] the same in
//!   DynamoDB's types, [`conflict`] what counts as the same event when a key is taken;
//! - [`schema`]: the table's keys and indexes, read from `modules/audit-table/schema.json`
//!   (the file the Terraform module reads); [`capacity`] the write cost of an item;
//! - [`explain`]: each failure and stop reason in words, for every reader; [`why`] a task's
//!   ending joined to its deployment, its service's actions and the runs that ended alike;
//! - [`notification`]: the failures topic's messages (per failure, crash loop started and
//!   ended); [`episode`] the crash-loop rule and the keys of its items;
//! - [`contract`]: what the regional logger module shares with the code (retention bounds,
//!   queue names), read from `modules/regional-logger/contract.json`;
//! - [`text`]: times, canonical JSON, cutting, short hashes;
//! - [`environment`]: an environment's settings (`environments/<env>/terraform.tfvars.json`),
//!   the one loader the CLI, the harness and the scripts (`ecs-audit-env`) read them through.
//!
//! To add a detail-type: model its `detail` in `event.rs`, fill its record in `mapping.rs`
//! (new attributes in `record.rs`), and, if it can be a failure, add its rule to `failure.rs`
//! and its sentence to `explain.rs`. To add an index: add it to
//! `modules/audit-table/schema.json` (and a name constant in `schema.rs` for the code that
//! queries it); the record needs its two key attributes.

#[cfg(feature = "dynamodb")]
pub mod attributes;
pub mod capacity;
pub mod conflict;
pub mod contract;
pub mod derived;
pub mod environment;
pub mod episode;
pub mod error;
pub mod event;
pub mod explain;
pub mod failure;
pub mod item;
pub mod keys;
pub mod limits;
pub mod mapping;
pub mod notification;
pub mod record;
pub mod schema;
pub mod text;
pub mod timeline;
pub mod why;

#[cfg(test)]
mod testing;

pub use error::Error;
pub use item::Item;
pub use record::{AttachmentRecord, AuditRecord, ContainerRecord};
