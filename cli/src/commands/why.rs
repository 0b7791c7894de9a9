//! `ecs-audit why`: why a task ended. The task's history is read first (one Query of its
//! partition, after a lookup when given an id); the core ([`ecs_audit_core::why::plan`]) says
//! what else to read; the deployment's events, the service's actions, the runs that ended
//! the same way and the cluster's crash loops are then read at once, one Query each, in the
//! task's region only; the core
//! assembles the answer. [`answer`] is the answer as data (the JSON, and what other readers
//! such as an MCP tool return); [`run`] prints it.

mod render;

use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use ecs_audit_core::record::AuditRecord;
use ecs_audit_core::text::format_time;
use ecs_audit_core::why::{self, DEFAULT_WINDOW_MINUTES, Found, WhyAnswer};

use crate::cli::{OutputFormat, WhyArgs};
use crate::commands::task::{bare_task_id, find_task, read_task};
use crate::dynamo::{Paging, RegionTable};
use crate::error::{Error, Result};
use crate::fanout;
use crate::query::{
    QuerySpec, TaskRef, deployment_events, same_way_candidates, service_actions, task_history,
};
use crate::session::Session;
use crate::timerange::{TimeRange, parse_duration};

/// The task asked about, where to look an id up, and how far around its stop to look.
#[derive(Debug, Clone)]
pub struct WhyQuestion {
    pub task: TaskRef,
    pub lookup: TimeRange,
    pub window: Duration,
}

impl WhyQuestion {
    /// The region a task ARN names: the one to read when no `--region` is given.
    pub fn implied_region(&self) -> Option<String> {
        match &self.task {
            TaskRef::Arn { region, .. } => region.clone(),
            TaskRef::Id { .. } => None,
        }
    }

    /// An id names no region: it is looked up in every region of the environment.
    pub fn needs_every_region(&self) -> bool {
        matches!(self.task, TaskRef::Id { .. })
    }
}

/// Reads the task reference, the lookup range and the window; a bare id without a cluster,
/// or a window that is not a positive duration, is refused before any AWS call.
pub fn read(args: &WhyArgs, now: DateTime<Utc>) -> Result<WhyQuestion> {
    let (task, lookup) = read_task(
        &args.task,
        args.cluster.as_deref(),
        args.since.as_deref(),
        now,
    )?;
    let window = match args.window.as_deref() {
        None => Duration::minutes(DEFAULT_WINDOW_MINUTES),
        Some(text) => parse_duration(text.trim())
            .ok()
            .filter(|window| *window > Duration::zero())
            .ok_or_else(|| {
                Error::BadArgument(format!(
                    "bad --window value {text:?}: pass a duration such as 30m, 1h or 2h"
                ))
            })?,
    };
    Ok(WhyQuestion {
        task,
        lookup,
        window,
    })
}

/// Every record `spec` matches in one region's table, and the Query pages it took.
async fn read_all(
    table: &RegionTable,
    spec: &QuerySpec,
    paging: Paging,
) -> Result<(Vec<AuditRecord>, usize)> {
    let mut records = Vec::new();
    let paging = Paging {
        max_items: None,
        ..paging
    };
    let tallies = fanout::stream(std::slice::from_ref(table), spec, paging, None, |found| {
        records.push(found.record);
        Ok(())
    })
    .await?;
    Ok((records, tallies.iter().map(|tally| tally.pages).sum()))
}

/// The task's ARN: as given, or looked up by id in the session's regions.
async fn task_arn(session: &Session, question: &WhyQuestion) -> Result<(String, usize)> {
    match &question.task {
        TaskRef::Arn { arn, .. } => Ok((arn.clone(), 0)),
        TaskRef::Id {
            cluster: None,
            prefix,
        } => Err(bare_task_id(prefix)),
        TaskRef::Id {
            cluster: Some(cluster),
            prefix,
        } => {
            let arn = find_task(
                session,
                cluster,
                prefix,
                &question.lookup,
                &mut std::io::sink(),
            )
            .await?;
            // one Query per region (a lookup reads more pages only in a busy cluster)
            Ok((arn, session.tables().len()))
        }
    }
}

/// The answer: every part read in the task's region, the independent parts at once.
pub async fn answer(session: &Session, question: &WhyQuestion) -> Result<WhyAnswer> {
    let (arn, lookups) = task_arn(session, question).await?;
    let region = arn.split(':').nth(3).unwrap_or_default().to_string();
    let table = session
        .tables()
        .iter()
        .find(|table| table.region == region)
        .ok_or_else(|| {
            Error::BadArgument(format!(
                "task {arn} ran in region {region:?}, which is not read here ({}): pass --region {region} or --all-regions",
                session.target.regions.join(", ")
            ))
        })?;
    let no_events = || Error::NoTaskEvents {
        arn: arn.clone(),
        table: table.table.clone(),
        region: region.clone(),
    };
    let (history, history_pages) = read_all(table, &task_history(&arn), session.paging).await?;
    let plan = why::plan(&history, question.window).ok_or_else(no_events)?;

    let read_part = |spec: Option<QuerySpec>| async move {
        match spec {
            Some(spec) => read_all(table, &spec, session.paging).await,
            None => Ok((Vec::new(), 0)),
        }
    };
    let range = |span: &why::Span| TimeRange {
        since: span.from,
        until: span.to,
    };
    let deployment = plan
        .service_arn
        .as_deref()
        .zip(plan.deployment.as_ref())
        .map(|(service, (id, span))| deployment_events(service, id, &range(span)));
    let actions = plan
        .service_arn
        .as_deref()
        .zip(plan.around_stop.as_ref())
        .map(|(service, span)| service_actions(service, &range(span)));
    let same_way = plan.same_way.as_ref().map(same_way_candidates);
    // The cluster's episodes up to the span's end: one Query of its episodes partition.
    let crash_loops = async {
        match &plan.crash_loops {
            Some((subject, span)) => {
                let episodes = table
                    .episodes(&subject.cluster, &format_time(span.to))
                    .await?;
                Ok((episodes, 1))
            }
            None => Ok((Vec::new(), 0)),
        }
    };
    let (deployment, actions, same_way, crash_loops) = tokio::try_join!(
        read_part(deployment),
        read_part(actions),
        read_part(same_way),
        crash_loops
    )?;
    let found = Found {
        queries: lookups + history_pages + deployment.1 + actions.1 + same_way.1 + crash_loops.1,
        deployment_events: deployment.0,
        service_actions: actions.0,
        same_way_candidates: same_way.0,
        crash_loop_episodes: crash_loops.0,
    };
    why::assemble(&history, &plan, &found).ok_or_else(no_events)
}

/// Prints the answer: a page for people, or one JSON object.
pub async fn run(
    session: &Session,
    question: &WhyQuestion,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let answer = answer(session, question).await?;
    if session.verbose {
        let _ = writeln!(
            log,
            "task {}: {} DynamoDB Query page(s)",
            answer.task_arn, answer.queries
        );
    }
    let written = match session.output {
        OutputFormat::Json => serde_json::to_writer_pretty(&mut *out, &answer)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        OutputFormat::Table => render::page(&answer, session.tz, out),
    };
    match written {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|error| Error::Output(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn read_args(args: &[&str]) -> Result<WhyQuestion> {
        let mut all = vec!["ecs-audit", "why"];
        all.extend(args);
        let cli = Cli::try_parse_from(all).unwrap();
        match cli.command {
            Command::Why(args) => read(&args, Utc::now()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_task_is_named_by_arn_or_cluster_and_id() {
        let question = read_args(&["arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b"]).unwrap();
        assert_eq!(question.implied_region().as_deref(), Some("xx-test-1"));
        assert!(!question.needs_every_region());
        assert_eq!(question.window, Duration::minutes(60));
        let question = read_args(&["prod/0a1b", "--window", "2h"]).unwrap();
        assert!(question.needs_every_region());
        assert_eq!(question.window, Duration::hours(2));
    }

    #[test]
    fn bad_input_is_refused_before_any_aws_call() {
        let message = |args: &[&str]| read_args(args).unwrap_err().to_string();
        assert!(message(&["0a1b"]).contains("--cluster"));
        assert!(message(&["arn:aws:ecs:xx-test-1:1:service/prod/web"]).contains("not a task ARN"));
        assert!(message(&["prod/0a1b", "--window", "soon"]).contains("--window"));
        assert!(message(&["prod/0a1b", "--window", "0m"]).contains("--window"));
        assert!(message(&["prod/0a1b", "--since", "yesterday"]).contains("--since"));
    }
}
