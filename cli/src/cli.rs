//! The command line: every subcommand's flags, parsed by clap. Pure; the commands that
//! answer them are in [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "ecs-audit",
    version,
    about = "Answers audit questions from the ecs-state-logger table: what ran, when, and why it stopped or failed to start",
    after_help = "The endpoint is the SDK's own: set AWS_ENDPOINT_URL to read a local AWS API.\n\
                  Examples:\n  \
                  ecs-audit --env prd task arn:aws:ecs:<region>:<account>:task/prod/0a1b2c3d\n  \
                  ecs-audit --env prd task prod/0a1b           (a short id, looked up in cluster prod)\n  \
                  ecs-audit --env prd why prod/0a1b            (why it ended, and what changed)\n  \
                  ecs-audit --env prd --all-regions cluster prod --since 2h --failures\n  \
                  ecs-audit --env prd service prod/web --since 1d --output json\n  \
                  ecs-audit --env prd definition report:12 --since 7d --tz local\n  \
                  ecs-audit --env prd report --cluster prod --since 1d --html timeline.html\n  \
                  ecs-audit --env prd mcp                       (an MCP server for AI assistants, on stdio)"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Environment whose table and regions to read (environments/<ENV>/terraform.tfvars.json)
    #[arg(long, global = true, value_name = "ENV")]
    pub env: Option<String>,

    /// Where the environments live [default: the nearest environments/ above the working directory]
    #[arg(long, global = true, value_name = "DIR")]
    pub environments_dir: Option<PathBuf>,

    /// Region to read [default: the task ARN's region, else the environment's primary region, else AWS_REGION]
    #[arg(
        long,
        global = true,
        value_name = "REGION",
        conflicts_with = "all_regions"
    )]
    pub region: Option<String>,

    /// Read every region of the environment concurrently and merge the answers by time
    #[arg(long, global = true)]
    pub all_regions: bool,

    /// Table name, instead of the environment's
    #[arg(long, global = true, value_name = "NAME")]
    pub table: Option<String>,

    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Time zone of the times shown in the table
    #[arg(long, global = true, value_enum, default_value_t = TzChoice::Utc)]
    pub tz: TzChoice,

    /// Items per DynamoDB Query page (the Limit parameter); every page is read either way
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    pub page_size: Option<i32>,

    /// Show at most N events (the newest, or the first versions of a task)
    #[arg(long, global = true, value_name = "N")]
    pub limit: Option<usize>,

    /// Print pages and items read per region on stderr
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for people; failures marked ✗
    Table,
    /// One JSON array of records, for scripts
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TzChoice {
    Utc,
    Local,
}

/// A time range; both ends accept a duration back from now (2h, 1d12h, 7d) or a UTC time.
#[derive(Debug, Clone, Args)]
pub struct Range {
    /// Start of the range: a duration back from now (30m, 2h, 1d, 2w) or a time (2026-11-20T10:00:00Z)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// End of the range [default: now]
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

impl Range {
    /// The range these flags name, `default_since` back from `now` when `--since` is absent.
    pub fn resolve(
        &self,
        default_since: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::error::Result<crate::timerange::TimeRange> {
        crate::timerange::TimeRange::parse(
            self.since.as_deref(),
            self.until.as_deref(),
            default_since,
            now,
        )
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// A task's lifecycle, in version order
    Task(TaskArgs),
    /// A cluster's events, newest first (or only its failures)
    Cluster(ClusterArgs),
    /// A service's events (its actions, deployments and tasks), newest first
    Service(ServiceArgs),
    /// The finished runs of a task definition, newest first
    Definition(DefinitionArgs),
    /// Why a task ended: its lifecycle, its ending explained, its images, the deployment that
    /// started it, what its service did around the stop, and the runs that ended the same way
    Why(WhyArgs),
    /// A cluster's tasks as bars over time per service, and its failures explained: one HTML page
    Report(ReportArgs),
    /// Show the events in a region's failure queues and why they failed; record them again
    /// (after a y/N, or --yes), deleting each message once its item is in the table
    Redrive(RedriveArgs),
    /// A cluster's crash loops (a service or family failing again and again), newest first
    Loops(LoopsArgs),
    /// Serve the questions above to an AI assistant: a read-only Model Context Protocol
    /// server on stdin/stdout, a tool per question; AWS is asked only when a tool runs
    Mcp(McpArgs),
}

/// `ecs-audit task`.
#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    /// Task ARN, <cluster>/<id>, or a task id (short ids accepted where unambiguous)
    pub task: String,
    /// Cluster to look a task id up in (its events within --since)
    #[arg(long)]
    pub cluster: Option<String>,
    /// How far back to look a task id up [default: 14d]
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
}

/// `ecs-audit why`.
#[derive(Debug, Clone, Args)]
pub struct WhyArgs {
    /// Task ARN, <cluster>/<id> or a task id (short ids accepted where unambiguous); an id is
    /// looked up in every region of the environment unless --region is given
    pub task: String,
    /// Cluster to look a task id up in (its events within --since)
    #[arg(long)]
    pub cluster: Option<String>,
    /// How far back to look a task id up [default: 14d]
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// How far either side of the stop to read the service's actions and the runs that ended
    /// the same way (30m, 1h, 2h) [default: 1h]
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,
}

/// `ecs-audit cluster`.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Cluster name
    pub name: String,
    #[command(flatten)]
    pub range: Range,
    /// Only failures (the cluster-failures index)
    #[arg(long)]
    pub failures: bool,
}

/// `ecs-audit service`.
#[derive(Debug, Clone, Args)]
pub struct ServiceArgs {
    /// <cluster>/<service> or a service ARN
    pub service: String,
    #[command(flatten)]
    pub range: Range,
}

/// `ecs-audit definition`.
#[derive(Debug, Clone, Args)]
pub struct DefinitionArgs {
    /// <family> or <family>:<revision>
    pub definition: String,
    #[command(flatten)]
    pub range: Range,
}

/// `ecs-audit report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Cluster name
    #[arg(long)]
    pub cluster: String,
    #[command(flatten)]
    pub range: Range,
    /// Write the self-contained HTML page here (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
}

/// `ecs-audit loops`.
#[derive(Debug, Clone, Args)]
pub struct LoopsArgs {
    /// Cluster name
    #[arg(long)]
    pub cluster: String,
    /// Only this service's loops (or a standalone family's: family:<name>)
    #[arg(long)]
    pub service: Option<String>,
    /// Loops going on at some time in this range [default: the last 7d]
    #[command(flatten)]
    pub range: Range,
}

/// `ecs-audit redrive`.
#[derive(Debug, Clone, Args)]
pub struct RedriveArgs {
    /// Which of the region's failure queues to read
    #[arg(long, value_enum, default_value_t = QueueChoice::Both)]
    pub queue: QueueChoice,

    /// Redrive without asking
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Only show what failed and why; redrive and delete nothing
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,

    /// Days a redriven record is kept [default: the environment's retention_days, else 14]
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
}

/// `ecs-audit mcp`: the common flags (`--env`, `--region`, `--table`, …) are every tool
/// call's defaults; a call may name another environment or region.
#[derive(Debug, Clone, Args)]
pub struct McpArgs {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueChoice {
    /// `<name>-failed-events`: invocations the function failed, after Lambda's retries
    FailedEvents,
    /// `<name>-delivery-dlq`: events EventBridge could not deliver to the function
    DeliveryDlq,
    /// Both
    Both,
}

/// Default `--since` of each subcommand.
pub const DEFAULT_SINCE: &str = "1d";
pub const DEFAULT_DEFINITION_SINCE: &str = "7d";
pub const DEFAULT_LOOKUP_SINCE: &str = "14d";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn common_flags_go_before_or_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "ecs-audit",
            "cluster",
            "prod",
            "--since",
            "2h",
            "--env",
            "local",
            "--all-regions",
            "--failures",
            "--output",
            "json",
        ])
        .unwrap();
        assert_eq!(cli.common.env.as_deref(), Some("local"));
        assert!(cli.common.all_regions);
        assert_eq!(cli.common.output, OutputFormat::Json);
        match cli.command {
            Command::Cluster(ClusterArgs {
                name,
                range,
                failures,
            }) => {
                assert_eq!(name, "prod");
                assert_eq!(range.since.as_deref(), Some("2h"));
                assert!(failures);
            }
            other => panic!("{other:?}"),
        }
        let error = Cli::try_parse_from([
            "ecs-audit",
            "--region",
            "xx-test-1",
            "--all-regions",
            "cluster",
            "prod",
        ])
        .unwrap_err();
        assert!(error.to_string().contains("cannot be used with"), "{error}");
        assert!(Cli::try_parse_from(["ecs-audit", "--page-size", "0", "cluster", "p"]).is_err());
    }
}
