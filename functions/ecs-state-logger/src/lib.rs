//! ecs-state-logger: records every Amazon ECS state change delivered by EventBridge as one
//! durable, queryable DynamoDB item.
//!
//! Pure modules (`event`, `record`, `capacity`) hold the domain and make no AWS calls;
//! `dynamodb` is the only adapter; `handler` wires them for the Lambda runtime.

pub mod capacity;
pub mod config;
pub mod dynamodb;
pub mod error;
pub mod event;
pub mod handler;
pub mod record;
pub mod store;

pub use config::Config;
pub use error::Error;
