//! The crate's one error type. Every message is one line that says what went wrong and what
//! to do about it; `main` prints it and exits with [`Error::exit_code`].

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--env` names no `environments/<name>/terraform.tfvars.json`.
    #[error(
        "unknown environment {name:?}: there is no {}; pass --env with one of: {known} (or point --environments-dir at the repository's environments/)",
        path.display()
    )]
    UnknownEnvironment {
        name: String,
        path: PathBuf,
        known: String,
    },

    /// The environment file exists but cannot be read or parsed.
    #[error("cannot read environment file {}: {message}; fix the file or pass --table and --region", path.display())]
    EnvironmentFile { path: PathBuf, message: String },

    /// Neither `--env` nor `--table` says which table to read.
    #[error(
        "no table to query: pass --env <name> (reads environments/<name>/terraform.tfvars.json) or --table <name> with --region"
    )]
    NoTable,

    /// No region could be chosen.
    #[error("no region to query: {0}")]
    NoRegion(String),

    /// `--region` names a region the environment does not deploy to.
    #[error(
        "region {region:?} is not one of environment {env:?}'s regions ({regions}); pass one of them, --all-regions, or --table to read a table outside the environment"
    )]
    RegionNotInEnvironment {
        region: String,
        env: String,
        regions: String,
    },

    /// `--since`/`--until` could not be read.
    #[error(
        "bad {flag} value {value:?}: {problem}; use a duration back from now (30s, 90m, 2h, 1d12h, 7d, 2w) or a UTC time (2026-11-20T10:00:00Z, 2026-11-20)"
    )]
    BadTime {
        flag: &'static str,
        value: String,
        problem: String,
    },

    /// Any other argument that parses but makes no sense.
    #[error("{0}")]
    BadArgument(String),

    /// The SDK's credential chain found nothing.
    #[error(
        "no AWS credentials found ({message}); set AWS_PROFILE (and run `aws sso login` if it uses SSO) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )]
    NoCredentials { message: String },

    /// The table does not exist in that region.
    #[error(
        "table {table:?} not found in region {region} (ResourceNotFoundException); check --env/--table and --region, and that the environment is deployed there (make deploy ENV=<env>)"
    )]
    TableNotFound { table: String, region: String },

    /// No request reached DynamoDB (network, endpoint, DNS).
    #[error(
        "cannot reach DynamoDB in region {region}: {message}; check the network, the region name and AWS_ENDPOINT_URL if set"
    )]
    Unreachable { region: String, message: String },

    /// DynamoDB answered with an error other than the ones above.
    #[error("DynamoDB {operation} on table {table:?} in region {region} failed: {message}")]
    Aws {
        operation: &'static str,
        table: String,
        region: String,
        message: String,
    },

    /// A short task id matched no task.
    #[error(
        "no task whose id starts with {id:?} in cluster {cluster:?} between {since} and {until}; widen --since or pass the full task ARN"
    )]
    TaskNotFound {
        id: String,
        cluster: String,
        since: String,
        until: String,
    },

    /// A task ARN with no event in the table of its region.
    #[error(
        "no events of task {arn} in table {table:?} in region {region}: check the ARN, --env/--table, and that the task ran within the retention period"
    )]
    NoTaskEvents {
        arn: String,
        table: String,
        region: String,
    },

    /// A short task id matched more than one task.
    #[error(
        "task id {id:?} is ambiguous: it starts {count} task ids ({candidates}); pass more characters or the full task ARN"
    )]
    AmbiguousTaskId {
        id: String,
        count: usize,
        candidates: String,
    },

    /// A stored item is not an audit record this reader understands.
    #[error("item {key} in region {region} is not an audit record: {message}")]
    BadItem {
        key: String,
        region: String,
        message: String,
    },

    /// A bug or a panic in a concurrent region query.
    #[error("internal error: {0}; please report it with the command line that caused it")]
    Internal(String),

    /// Writing the answer failed (e.g. a closed pipe).
    #[error("cannot write the output: {0}")]
    Output(String),

    /// The MCP connection failed (`ecs-audit mcp`): the client sent what is not MCP, or went away.
    #[error(
        "the MCP connection failed: {0}; start ecs-audit mcp from an MCP client (it speaks JSON-RPC on stdin/stdout)"
    )]
    Mcp(String),

    /// An SQS call on a failure queue failed (redrive).
    #[error(
        "SQS {operation} on queue {queue:?} in region {region} failed: {message}; check --env/--table and --region, and that the environment is deployed there"
    )]
    Queue {
        operation: &'static str,
        queue: String,
        region: String,
        message: String,
    },

    /// Redrive left events in their queues: the handler still rejects them, or DynamoDB failed.
    #[error(
        "{remaining} event(s) were not recorded and stay in their queues (listed above); fix the cause and run redrive again"
    )]
    RedriveIncomplete { remaining: usize },
}

impl Error {
    /// 2 for a command line that cannot work as given, 1 for a failure while answering.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::UnknownEnvironment { .. }
            | Error::NoTable
            | Error::NoRegion(_)
            | Error::RegionNotInEnvironment { .. }
            | Error::BadTime { .. }
            | Error::BadArgument(_)
            | Error::AmbiguousTaskId { .. } => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The core's errors: the environment loader's as the CLI reports them (same words, same exit
/// codes); the domain's (an item that does not read back, a build defect) as internal.
impl From<ecs_audit_core::Error> for Error {
    fn from(error: ecs_audit_core::Error) -> Self {
        use ecs_audit_core::Error as Env;
        match error {
            Env::UnknownEnvironment { name, path, known } => {
                Error::UnknownEnvironment { name, path, known }
            }
            Env::EnvironmentFile { path, message } => Error::EnvironmentFile { path, message },
            Env::NoTable => Error::NoTable,
            Env::NoRegion(message) => Error::NoRegion(message),
            Env::RegionNotInEnvironment {
                region,
                env,
                regions,
            } => Error::RegionNotInEnvironment {
                region,
                env,
                regions,
            },
            other @ (Env::BadEvent { .. } | Env::BadItem(_) | Env::Embedded(_)) => {
                Error::Internal(other.to_string())
            }
        }
    }
}

/// An error and its causes on one line, `outer: inner: root`, each said once: the SDK's
/// errors nest the same words several levels deep.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = error.to_string().replace(['\n', '\r'], " ");
        let text = text.trim().to_string();
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_say_what_to_do() {
        let errors = [
            Error::UnknownEnvironment {
                name: "stagin".into(),
                path: PathBuf::from("environments/stagin/terraform.tfvars.json"),
                known: "dev, local, prd".into(),
            },
            Error::NoTable,
            Error::TableNotFound {
                table: "t".into(),
                region: "xx-test-1".into(),
            },
            Error::NoCredentials {
                message: "no providers in chain provided credentials".into(),
            },
            Error::BadTime {
                flag: "--since",
                value: "2x".into(),
                problem: "unknown unit 'x'".into(),
            },
        ];
        for error in errors {
            let text = error.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(
                ["pass", "set", "use", "check"]
                    .iter()
                    .any(|hint| text.contains(hint)),
                "{text}"
            );
        }
    }

    #[test]
    fn causes_join_on_one_line_once_each() {
        #[derive(Debug, thiserror::Error)]
        #[error("dispatch failure")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("io error:\nconnection refused")]
        struct Inner(#[source] std::io::Error);
        let error = Outer(Inner(std::io::Error::other("connection refused")));
        assert_eq!(
            one_line(&error),
            "dispatch failure: io error: connection refused"
        );
    }

    #[test]
    fn usage_errors_exit_2_failures_exit_1() {
        assert_eq!(Error::NoTable.exit_code(), 2);
        assert_eq!(
            Error::TableNotFound {
                table: "t".into(),
                region: "xx-test-1".into()
            }
            .exit_code(),
            1
        );
    }
}
