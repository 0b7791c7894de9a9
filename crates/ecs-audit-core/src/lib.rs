//! ecs-audit-core: the pure domain shared by the Lambda function, the `ecs-audit` CLI and the
//! test harness. No AWS calls and no I/O live here.
pub mod environment;
