//! Local stand-ins for what ecs-state-logger meets in AWS, for tests, local replays and
//! benchmarks:
//!
//! - [`RuntimeApi`]: the Lambda Runtime API a function process polls, with
//!   [`RuntimeApi::invoke`] (synchronous invoke) and [`RuntimeApi::invoke_async`] (Lambda's
//!   retries and on-failure destination for asynchronous invokes, as EventBridge uses);
//! - [`FunctionCommand`] / [`FunctionProcess`]: a function binary started with the
//!   environment Lambda gives it, its logs, memory and exit;
//! - [`Arch`]: the Lambda architecture under test (`LAMBDA_ARCH`) and how its binary starts
//!   here (natively, or under QEMU's user-mode emulator);
//! - [`MotoServer`]: the local AWS API, with pause/resume, kill/restart (state kept) and reset;
//! - [`Terraform`]: a Terraform root driven in a private data dir and workspace;
//! - [`events`]: loading event files for replays;
//! - [`fault_proxy`]: a bounded loopback proxy that injects DynamoDB faults on a schedule;
//! - [`no_loss`]: the soak and redelivery checks, run against any function program;
//! - [`synthetic`]: the project's one event generator: a deterministic, seeded stream of ECS
//!   events for benchmarks, the busy day at scale, and `make demo`'s day (the `demo-events`
//!   binary);
//! - [`bench`]: `make bench`'s modules (the `bench` binary is only its `main`);
//! - [`http`]: requests to local servers (moto's control API, the Runtime API);
//! - [`testkit`]: what the black-box tests share (the built package, a targeted apply of
//!   `environments/local`, clients for moto, the built `bootstrap` under a Runtime API).

pub mod arch;
pub mod async_invoke;
pub mod bench;
pub mod error;
pub mod events;
pub mod fault_proxy;
pub mod function;
pub mod http;
pub mod local_env;
pub mod moto;
pub mod no_loss;
pub mod runtime_api;
pub mod synthetic;
pub mod terraform;
pub mod testkit;

pub use arch::{Arch, Launcher};
pub use async_invoke::{AsyncInvocation, RetryPolicy, SqsDestination, failure_record};
pub use error::{Error, Result};
pub use function::{FunctionCommand, FunctionProcess};
pub use moto::{MotoOptions, MotoServer};
pub use runtime_api::{InitError, Invocation, Outcome, RuntimeApi, RuntimeApiConfig};
pub use terraform::Terraform;
