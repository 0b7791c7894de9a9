//! ecs-state-logger: the Lambda function that records every Amazon ECS state change delivered
//! by EventBridge as one durable, queryable DynamoDB item.
//!
//! Only the function's edges live here; the domain (events, the record, keys, failures, the
//! table's schema, write cost) is `ecs-audit-core`:
//! - `main.rs`: the runtime, the SDK client and its timeouts, the connection opened at init;
//! - [`config`]: the Lambda environment (`TABLE_NAME`, `RETENTION_DAYS`), read once;
//! - [`handler`]: one invocation: parse, map, write, tell a duplicate from a conflict, log;
//! - [`store`]: the port (write an item unless its key is taken) and an in-memory store;
//! - [`dynamodb`]: the adapter, the conditional `PutItem`;
//! - [`invoke`]: the deployed invocation: the recording, then [`alerts`] (a failure's message
//!   on the failures topic, crash-loop episodes; the scheduled sweep), configured by
//!   [`alert_config`] and kept by [`alert_store`];
//! - [`error`]: the crate's one error type, which tells Lambda whether a retry can help.
//!
//! A new detail-type or index is a change to `ecs-audit-core` (see its crate docs), not here.

pub mod alert_config;
pub mod alert_store;
pub mod alerts;
pub mod config;
pub mod dynamodb;
pub mod error;
pub mod handler;
pub mod invoke;
pub mod store;

pub use config::Config;
pub use error::Error;
