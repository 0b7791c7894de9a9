//! The MCP tools' parameters: each tool's JSON-schema'd arguments and the command line they
//! stand for. Pure: a tool call becomes the same [`Command`] and [`Common`] flags the CLI
//! parses, so the server answers with the CLI's own code path.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::cli::{
    ClusterArgs, Command, Common, DefinitionArgs, LoopsArgs, OutputFormat, Range, ServiceArgs,
    TaskArgs, TzChoice, WhyArgs,
};

/// What a tool's arguments ask: one CLI subcommand.
pub trait ToolParams: JsonSchema + for<'de> Deserialize<'de> + 'static {
    /// The subcommand these arguments stand for.
    fn command(self) -> (Scope, Command);
}

/// Where to read, as every tool takes it: the CLI's `--env`, `--region` and `--limit`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct Scope {
    /// Environment whose table and regions to read (environments/<ENV>/terraform.tfvars.json); default: the server's --env
    pub environment: Option<String>,
    /// One region of the environment to read; default: every region of the environment
    pub region: Option<String>,
    /// At most this many events (the newest, or a task's first versions)
    #[schemars(range(min = 1))]
    pub limit: Option<usize>,
}

impl Scope {
    /// The CLI's flags for this call: the server's own (`--env`, `--environments-dir`,
    /// `--table`, `--page-size`) under the call's scope, answering in JSON. Without a
    /// region, every region of the environment is read (`--all-regions`), as a person
    /// asking the log from an assistant rarely knows which region a task ran in.
    pub fn common(self, server: &Common) -> Common {
        let env = self.environment.or_else(|| server.env.clone());
        let region = self.region.or_else(|| server.region.clone());
        Common {
            all_regions: region.is_none() && env.is_some(),
            env,
            region,
            environments_dir: server.environments_dir.clone(),
            table: server.table.clone(),
            output: OutputFormat::Json,
            tz: TzChoice::Utc,
            page_size: server.page_size,
            limit: self.limit,
            verbose: server.verbose,
        }
    }
}

/// A time range, as the CLI's `--since` and `--until`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct Window {
    /// Start: a duration back from now (30m, 2h, 1d, 2w) or a UTC time (2026-11-20T10:00:00Z); default 1d (7d for a task definition and for crash loops)
    pub since: Option<String>,
    /// End: a duration back from now or a UTC time; default now
    pub until: Option<String>,
}

impl From<Window> for Range {
    fn from(window: Window) -> Self {
        Range {
            since: window.since,
            until: window.until,
        }
    }
}

/// `task_history`: `ecs-audit task`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct TaskHistory {
    /// Task ARN, <cluster>/<id>, or a task id with `cluster` (short ids accepted where unambiguous)
    pub task: String,
    /// Cluster to look a task id up in
    pub cluster: Option<String>,
    /// How far back to look a task id up: a duration (2h, 14d) or a UTC time; default 14d
    pub since: Option<String>,
    #[serde(flatten)]
    pub scope: Scope,
}

impl ToolParams for TaskHistory {
    fn command(self) -> (Scope, Command) {
        let args = TaskArgs {
            task: self.task,
            cluster: self.cluster,
            since: self.since,
        };
        (self.scope, Command::Task(args))
    }
}

/// `why_stopped`: `ecs-audit why`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct WhyStopped {
    /// Task ARN, <cluster>/<id>, or a task id with `cluster` (short ids accepted where unambiguous)
    pub task: String,
    /// Cluster to look a task id up in
    pub cluster: Option<String>,
    /// How far back to look a task id up: a duration (2h, 14d) or a UTC time; default 14d
    pub since: Option<String>,
    /// How far either side of the stop to read the service's actions and the runs that ended the same way (30m, 1h, 2h); default 1h
    pub window: Option<String>,
    #[serde(flatten)]
    pub scope: Scope,
}

impl ToolParams for WhyStopped {
    fn command(self) -> (Scope, Command) {
        let args = WhyArgs {
            task: self.task,
            cluster: self.cluster,
            since: self.since,
            window: self.window,
        };
        (self.scope, Command::Why(args))
    }
}

/// `crash_loops`: `ecs-audit loops`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct CrashLoops {
    /// Cluster name
    pub cluster: String,
    /// Only this service's loops (or a standalone family's: family:<name>)
    pub service: Option<String>,
    #[serde(flatten)]
    pub window: Window,
    #[serde(flatten)]
    pub scope: Scope,
}

impl ToolParams for CrashLoops {
    fn command(self) -> (Scope, Command) {
        let args = LoopsArgs {
            cluster: self.cluster,
            service: self.service,
            range: self.window.into(),
        };
        (self.scope, Command::Loops(args))
    }
}

/// `cluster_failures`: `ecs-audit cluster --failures`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ClusterFailures {
    /// Cluster name
    pub cluster: String,
    #[serde(flatten)]
    pub window: Window,
    #[serde(flatten)]
    pub scope: Scope,
}

impl ToolParams for ClusterFailures {
    fn command(self) -> (Scope, Command) {
        let args = ClusterArgs {
            name: self.cluster,
            range: self.window.into(),
            failures: true,
        };
        (self.scope, Command::Cluster(args))
    }
}

/// `service_history`: `ecs-audit service`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ServiceHistory {
    /// <cluster>/<service> or a service ARN
    pub service: String,
    #[serde(flatten)]
    pub window: Window,
    #[serde(flatten)]
    pub scope: Scope,
}

impl ToolParams for ServiceHistory {
    fn command(self) -> (Scope, Command) {
        let args = ServiceArgs {
            service: self.service,
            range: self.window.into(),
        };
        (self.scope, Command::Service(args))
    }
}

/// `definition_runs`: `ecs-audit definition`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct DefinitionRuns {
    /// <family> or <family>:<revision>
    pub definition: String,
    #[serde(flatten)]
    pub window: Window,
    #[serde(flatten)]
    pub scope: Scope,
}

impl ToolParams for DefinitionRuns {
    fn command(self) -> (Scope, Command) {
        let args = DefinitionArgs {
            definition: self.definition,
            range: self.window.into(),
        };
        (self.scope, Command::Definition(args))
    }
}
