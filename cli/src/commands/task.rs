//! `ecs-audit task`: a task's lifecycle in version order. A full ARN is its own partition; a
//! short id is first looked up among its cluster's events in every region, once.

use std::io::Write;

use chrono::{DateTime, Utc};
use ecs_audit_core::record::AuditRecord;

use crate::cli::{DEFAULT_LOOKUP_SINCE, TaskArgs};
use crate::commands::query::{self, Question};
use crate::error::{Error, Result};
use crate::fanout;
use crate::query::{TaskRef, matching_task_arns, parse_task_ref, task_history, task_lookup};
use crate::session::Session;
use crate::timerange::TimeRange;

/// The task asked for: an ARN, or an id prefix to look up in a cluster within `lookup`.
#[derive(Debug, Clone)]
pub struct TaskQuestion {
    pub task: TaskRef,
    pub lookup: TimeRange,
}

impl TaskQuestion {
    /// The region a task ARN names: the one to read when no `--region` is given.
    pub fn implied_region(&self) -> Option<String> {
        match &self.task {
            TaskRef::Arn { region, .. } => region.clone(),
            TaskRef::Id { .. } => None,
        }
    }
}

/// Reads the task reference and the lookup range; a bare id without a cluster is refused
/// here, before any AWS call.
pub fn read(args: &TaskArgs, now: DateTime<Utc>) -> Result<TaskQuestion> {
    let (task, lookup) = read_task(
        &args.task,
        args.cluster.as_deref(),
        args.since.as_deref(),
        now,
    )?;
    Ok(TaskQuestion { task, lookup })
}

/// A task reference and the range to look an id up in, as `task` and `why` take them; a
/// bare id without a cluster is refused.
pub fn read_task(
    task: &str,
    cluster: Option<&str>,
    since: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(TaskRef, TimeRange)> {
    let task = parse_task_ref(task, cluster)?;
    if let TaskRef::Id {
        cluster: None,
        prefix,
    } = &task
    {
        return Err(bare_task_id(prefix));
    }
    let lookup = TimeRange::parse(since, None, DEFAULT_LOOKUP_SINCE, now)?;
    Ok((task, lookup))
}

/// A task id alone names no table partition: the ARN or the cluster to look it up in is needed.
pub fn bare_task_id(prefix: &str) -> Error {
    Error::BadArgument(format!(
        "{prefix:?} is a task id, not an ARN: pass the full task ARN, <cluster>/{prefix}, or --cluster <name> to look it up in that cluster's events"
    ))
}

/// Writes the task's history, looking its ARN up first when given an id.
pub async fn run(
    session: &Session,
    question: &TaskQuestion,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let arn = match &question.task {
        TaskRef::Arn { arn, .. } => arn.clone(),
        TaskRef::Id {
            cluster: None,
            prefix,
        } => return Err(bare_task_id(prefix)),
        TaskRef::Id {
            cluster: Some(cluster),
            prefix,
        } => find_task(session, cluster, prefix, &question.lookup, log).await?,
    };
    let question = Question {
        spec: task_history(&arn),
        what: format!("task {arn}"),
    };
    query::run(session, &question, out, log).await
}

/// Finds the one task ARN whose id starts with `prefix` among `cluster`'s events.
pub async fn find_task(
    session: &Session,
    cluster: &str,
    prefix: &str,
    range: &TimeRange,
    log: &mut dyn Write,
) -> Result<String> {
    let spec = task_lookup(cluster, prefix, range);
    let records: Vec<AuditRecord> = fanout::arns(session.tables(), &spec, session.paging)
        .await?
        .into_iter()
        .map(|arn| AuditRecord {
            resource_arn: arn,
            ..Default::default()
        })
        .collect();
    let mut arns = matching_task_arns(&records, prefix);
    arns.sort();
    let (since, until) = range.bounds();
    match arns.len() {
        0 => Err(Error::TaskNotFound {
            id: prefix.to_string(),
            cluster: cluster.to_string(),
            since,
            until,
        }),
        1 => {
            let _ = writeln!(log, "task id {prefix} is {}", arns[0]);
            Ok(arns.remove(0))
        }
        count => Err(Error::AmbiguousTaskId {
            id: prefix.to_string(),
            count,
            candidates: arns
                .iter()
                .take(5)
                .map(|arn| arn.rsplit('/').next().unwrap_or(arn))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
