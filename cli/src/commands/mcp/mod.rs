//! `ecs-audit mcp`: the audit log as a Model Context Protocol server over stdio, read-only.
//! Each tool is one of the CLI's questions ([`params`]) answered by the CLI's own code
//! ([`answer`]): the same [`crate::commands::Request`], `--output json`, the same JSON.
//!
//! Starting and listing tools touch no AWS: no session is opened until a tool runs, so a
//! client can connect before a login; credentials and AWS errors surface as that call's
//! tool error. To add a tool: its parameters in [`params`] and one function below.

mod answer;
pub mod params;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, Implementation, JsonObject, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};

use crate::cli::Common;
use crate::error::{Error, Result, one_line};
use crate::session;
use answer::{answer, input_schema};
use params::{
    ClusterFailures, CrashLoops, DefinitionRuns, ServiceHistory, TaskHistory, WhyStopped,
};

/// What an assistant reads first: what the log is and how to ask it.
const INSTRUCTIONS: &str = "Answers from the ecs-state-logger audit table: every ECS task, service and deployment \
event of an environment, kept for its retention period (days or months, not the console's hour), in every region \
it deploys to. Each tool returns the JSON records `ecs-audit ... --output json` prints. Without `region`, every \
region of the environment is read. Times are UTC; `since`/`until` take a duration back from now (30m, 2h, 1d, 2w) \
or a UTC time.";

/// The server: the flags it was started with (`--env`, `--environments-dir`, `--table`,
/// `--region`, `--page-size`), which every tool call starts from.
#[derive(Clone)]
pub struct AuditServer {
    common: Arc<Common>,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl AuditServer {
    pub fn new(common: Common) -> Self {
        AuditServer {
            common: Arc::new(common),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "A task's lifecycle (PROVISIONING to STOPPED), in version order, with its containers, exit codes and stop reason: `ecs-audit task`",
        input_schema = input_schema::<TaskHistory>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn task_history(&self, arguments: JsonObject) -> CallToolResult {
        answer::<TaskHistory>(&self.common, arguments).await
    }

    #[tool(
        description = "Why a task stopped: how it ended in plain words (exit codes, out of memory, image pull, secrets, health checks, Spot, placement, EBS), each container's image and digest, the deployment that started it and that deployment's events, what the service did around the stop, and how many other runs ended the same way: `ecs-audit why`",
        input_schema = input_schema::<WhyStopped>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn why_stopped(&self, arguments: JsonObject) -> CallToolResult {
        answer::<WhyStopped>(&self.common, arguments).await
    }

    #[tool(
        description = "A cluster's crash loops (a service or standalone family failing again and again): when each started and ended, how many failures, the last failure's kind; loops going on at some time in the range (default the last 7d), newest first: `ecs-audit loops`",
        input_schema = input_schema::<CrashLoops>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn crash_loops(&self, arguments: JsonObject) -> CallToolResult {
        answer::<CrashLoops>(&self.common, arguments).await
    }

    #[tool(
        description = "A cluster's failures (stopped tasks that failed or never started, placement failures, failed deployments), newest first, each explained: `ecs-audit cluster --failures`",
        input_schema = input_schema::<ClusterFailures>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn cluster_failures(&self, arguments: JsonObject) -> CallToolResult {
        answer::<ClusterFailures>(&self.common, arguments).await
    }

    #[tool(
        description = "A service's events (its actions, deployments and tasks), newest first: `ecs-audit service`",
        input_schema = input_schema::<ServiceHistory>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn service_history(&self, arguments: JsonObject) -> CallToolResult {
        answer::<ServiceHistory>(&self.common, arguments).await
    }

    #[tool(
        description = "The finished runs of a task definition (family or family:revision), newest first: `ecs-audit definition`",
        input_schema = input_schema::<DefinitionRuns>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn definition_runs(&self, arguments: JsonObject) -> CallToolResult {
        answer::<DefinitionRuns>(&self.common, arguments).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for AuditServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("ecs-audit", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Serves MCP on stdin/stdout until the client closes the connection. The environment named
/// by `--env` is read first (a local file: a typo fails here, not at the first question).
pub async fn serve(common: Common) -> Result<()> {
    session::load_environment(&common)?;
    let running = AuditServer::new(common)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|error| Error::Mcp(one_line(&error)))?;
    running
        .waiting()
        .await
        .map_err(|error| Error::Mcp(one_line(&error)))?;
    Ok(())
}
