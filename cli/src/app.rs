//! One run of the CLI: read the question, choose table and regions, ask every region
//! concurrently, merge their streams by time, write each record as it comes.

use std::io::Write;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{ProvideCredentials, Region};
use chrono::{DateTime, Local, Utc};
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle, JoinSet};

use crate::cli::{
    Cli, Command, Common, DEFAULT_DEFINITION_SINCE, DEFAULT_LOOKUP_SINCE, DEFAULT_SINCE,
    OutputFormat, TzChoice,
};
use crate::dynamo::{Paging, RegionTable, Tally};
use crate::environment::{
    Environment, RegionChoice, Target, find_environments_dir, resolve_target,
};
use crate::error::{Error, Result, one_line};
use crate::merge::{Merge, Step};
use crate::output::{Found, Zone};
use crate::query::{self, QuerySpec, TaskRef};
use crate::report;
use crate::sink::{JsonSink, Sink, TableSink};
use crate::timerange::TimeRange;

/// A question, read and checked before any AWS call.
#[derive(Debug, Clone)]
enum Question {
    Task(TaskRef, TimeRange),
    Query { spec: QuerySpec, what: String },
}

/// A task id alone names no table partition: the ARN or the cluster to look it up in is needed.
fn bare_task_id(prefix: &str) -> Error {
    Error::BadArgument(format!(
        "{prefix:?} is a task id, not an ARN: pass the full task ARN, <cluster>/{prefix}, or --cluster <name> to look it up in that cluster's events"
    ))
}

fn describe(range: &TimeRange) -> String {
    let (from, to) = range.bounds();
    format!("{from} → {to}")
}

fn read_question(command: &Command, now: DateTime<Utc>) -> Result<Question> {
    Ok(match command {
        Command::Task {
            task,
            cluster,
            since,
        } => {
            let task = query::parse_task_ref(task, cluster.as_deref())?;
            if let TaskRef::Id {
                cluster: None,
                prefix,
            } = &task
            {
                return Err(bare_task_id(prefix));
            }
            let range = TimeRange::parse(since.as_deref(), None, DEFAULT_LOOKUP_SINCE, now)?;
            Question::Task(task, range)
        }
        Command::Cluster {
            name,
            range,
            failures,
        } => {
            let range = range.resolve(DEFAULT_SINCE, now)?;
            if *failures {
                Question::Query {
                    spec: query::cluster_failures(name, &range),
                    what: format!("failures of cluster {name}, {}", describe(&range)),
                }
            } else {
                Question::Query {
                    spec: query::cluster_events(name, &range),
                    what: format!("cluster {name}, {}", describe(&range)),
                }
            }
        }
        Command::Service { service, range } => {
            let service = query::parse_service_ref(service)?;
            let range = range.resolve(DEFAULT_SINCE, now)?;
            Question::Query {
                spec: query::service_events(&service, &range),
                what: format!("service {}, {}", service.key(), describe(&range)),
            }
        }
        Command::Definition { definition, range } => {
            let definition = query::parse_definition(definition)?;
            let range = range.resolve(DEFAULT_DEFINITION_SINCE, now)?;
            let name = match &definition.revision {
                Some(revision) => format!("{}:{revision}", definition.family),
                None => definition.family.clone(),
            };
            Question::Query {
                spec: query::definition_runs(&definition, &range),
                what: format!(
                    "stopped runs of task definition {name}, {}",
                    describe(&range)
                ),
            }
        }
        Command::Redrive(_) => {
            return Err(Error::Internal("redrive is run by redrive::run".into()));
        }
        Command::Report { cluster, range, .. } => {
            let range = range.resolve(DEFAULT_SINCE, now)?;
            Question::Query {
                spec: query::cluster_events(cluster, &range),
                what: format!("timeline of cluster {cluster}, {}", describe(&range)),
            }
        }
    })
}

/// Runs the command line, writing the answer to `out` and progress (with `-v`) to `log`.
pub async fn run(cli: Cli, out: &mut dyn Write, log: &mut dyn Write) -> Result<()> {
    if let Command::Redrive(args) = &cli.command {
        return crate::redrive::run(&cli.common, args, out, log).await;
    }
    let now = Utc::now();
    let common = &cli.common;
    let environment = load_environment(common)?;
    let question = read_question(&cli.command, now)?;

    let implied = match &question {
        Question::Task(TaskRef::Arn { region, .. }, _) => region.clone(),
        _ => None,
    };
    let (sdk_config, target) = connect(common, environment.as_ref(), implied).await?;
    let tables = region_tables(&sdk_config, &target);
    let paging = Paging {
        page_size: common.page_size,
        max_items: common.limit,
    };

    let (spec, what) = match question {
        Question::Query { spec, what } => (spec, what),
        Question::Task(TaskRef::Arn { arn, .. }, _) => {
            (query::task_history(&arn), format!("task {arn}"))
        }
        Question::Task(
            TaskRef::Id {
                cluster: None,
                prefix,
            },
            _,
        ) => {
            return Err(bare_task_id(&prefix));
        }
        Question::Task(
            TaskRef::Id {
                cluster: Some(cluster),
                prefix,
            },
            range,
        ) => {
            let arn = find_task(&tables, &cluster, &prefix, &range, paging, log).await?;
            (query::task_history(&arn), format!("task {arn}"))
        }
    };

    let report = match &cli.command {
        Command::Report {
            cluster,
            range,
            html,
        } => Some((cluster, range.resolve(DEFAULT_SINCE, now)?, html)),
        _ => None,
    };
    if let Some((cluster, range, html)) = report {
        let mut builder =
            report::TimelineBuilder::new(cluster, &target.regions, range.since, range.until, now);
        let tallies = stream_all(&tables, &spec, paging, common.limit, |found| {
            builder.add(&found);
            Ok(())
        })
        .await?;
        log_tallies(common, &tables, &tallies, log);
        let timeline = builder.finish();
        return write_report(&timeline, cluster, &range, html, &target, common.tz, out);
    }
    let mut sink: Box<dyn Sink + '_> = match (common.output, common.tz) {
        (OutputFormat::Json, _) => Box::new(JsonSink::new(out)),
        (OutputFormat::Table, TzChoice::Utc) => {
            Box::new(TableSink::new(out, Zone::<Utc>::Utc, spec.sort))
        }
        (OutputFormat::Table, TzChoice::Local) => {
            Box::new(TableSink::new(out, Zone::Local(Local), spec.sort))
        }
    };
    let streamed = stream_all(&tables, &spec, paging, common.limit, |found| {
        sink.push(found).map_err(written)
    })
    .await;
    let tallies = match streamed {
        Err(Error::Output(message)) if message == BROKEN_PIPE => return Ok(()),
        other => other?,
    };
    match sink.finish(&target.regions, &what).map_err(written) {
        Err(Error::Output(message)) if message == BROKEN_PIPE => return Ok(()),
        other => other?,
    }
    log_tallies(common, &tables, &tallies, log);
    Ok(())
}

/// Marks a write to a closed pipe: `ecs-audit ... | head` has what it wanted.
const BROKEN_PIPE: &str = "broken pipe";

fn written(error: std::io::Error) -> Error {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        Error::Output(BROKEN_PIPE.into())
    } else {
        Error::Output(error.to_string())
    }
}

/// With `-v`: what each region read.
fn log_tallies(common: &Common, tables: &[RegionTable], tallies: &[Tally], log: &mut dyn Write) {
    if !common.verbose {
        return;
    }
    for (table, tally) in tables.iter().zip(tallies) {
        let _ = writeln!(
            log,
            "region {}: table {}, {} page(s), {} event(s){}",
            table.region,
            table.table,
            tally.pages,
            tally.events,
            if tally.missing > 0 {
                format!(", {} expired before they could be read", tally.missing)
            } else {
                String::new()
            }
        );
    }
}

/// The environment `--env` names, read from `--environments-dir`, else from the nearest
/// `environments/` above the working directory; `None` without `--env`.
pub(crate) fn load_environment(common: &Common) -> Result<Option<(&str, Environment)>> {
    let Some(name) = common.env.as_deref() else {
        return Ok(None);
    };
    let dir = match &common.environments_dir {
        Some(dir) => dir.clone(),
        None => find_environments_dir(&std::env::current_dir().unwrap_or_default()),
    };
    Ok(Some((name, Environment::load(&dir, name)?)))
}

/// Loads the SDK's configuration, chooses the table and regions to read (`implied`: the
/// region a task ARN names) and checks that credentials are there, before any AWS call.
pub(crate) async fn connect(
    common: &Common,
    environment: Option<&(&str, Environment)>,
    implied: Option<String>,
) -> Result<(SdkConfig, Target)> {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let choice = RegionChoice {
        region: common.region.clone(),
        all_regions: common.all_regions,
        implied,
        sdk_default: sdk_config.region().map(|region| region.to_string()),
    };
    let target = resolve_target(
        environment.map(|(name, env)| (*name, env)),
        common.table.as_deref(),
        &choice,
    )?;
    check_credentials(&sdk_config).await?;
    Ok((sdk_config, target))
}

/// Fails early, with what to do, when the SDK's credential chain finds nothing.
async fn check_credentials(sdk_config: &SdkConfig) -> Result<()> {
    let provider = sdk_config
        .credentials_provider()
        .ok_or_else(|| Error::NoCredentials {
            message: "no credential provider configured".into(),
        })?;
    provider
        .provide_credentials()
        .await
        .map(drop)
        .map_err(|error| Error::NoCredentials {
            message: match error {
                CredentialsError::CredentialsNotLoaded(_) => {
                    "the SDK tried the environment, the profile files, web identity, the container and instance metadata"
                        .into()
                }
                other => one_line(&other),
            },
        })
}

fn region_tables(sdk_config: &SdkConfig, target: &Target) -> Vec<RegionTable> {
    target
        .regions
        .iter()
        .map(|region| {
            let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
                .region(Region::new(region.clone()))
                .build();
            RegionTable {
                client: Client::from_conf(config),
                region: region.clone(),
                table: target.table.clone(),
            }
        })
        .collect()
}

/// Records a region's stream holds before its reader waits for the merge.
const CHUNKS_AHEAD: usize = 2;

/// Asks every region at once and hands each record to `each` in the question's order, as
/// the regions' pages arrive (a k-way merge of their sorted streams); at most `limit`. A
/// region that fails stops the whole answer with its error; returns what each region read,
/// in the regions' order.
async fn stream_all(
    tables: &[RegionTable],
    spec: &QuerySpec,
    paging: Paging,
    limit: Option<usize>,
    mut each: impl FnMut(Found) -> Result<()>,
) -> Result<Vec<Tally>> {
    let mut receivers = Vec::with_capacity(tables.len());
    let mut producers = Vec::with_capacity(tables.len());
    for table in tables {
        let (sender, receiver) = mpsc::channel(CHUNKS_AHEAD);
        producers.push(Some(tokio::spawn(table.clone().stream(
            spec.clone(),
            paging,
            sender,
        ))));
        receivers.push(receiver);
    }
    let mut tallies = vec![Tally::default(); tables.len()];
    let mut merge = Merge::new(tables.len(), spec.sort, spec.newest_first);
    let mut emitted = 0;
    let outcome: Result<()> = async {
        loop {
            match merge.step() {
                Step::Need(source) => match receivers[source].recv().await {
                    Some(chunk) => merge.push(source, chunk),
                    None => {
                        // the region's stream ended: fail at once if it ended in an error
                        if let Some(producer) = producers[source].take() {
                            tallies[source] = joined(producer.await)?;
                        }
                        merge.finish(source);
                    }
                },
                Step::Group(group) => {
                    for found in group {
                        if limit.is_some_and(|limit| emitted >= limit) {
                            return Ok(());
                        }
                        each(found)?;
                        emitted += 1;
                    }
                }
                Step::Done => return Ok(()),
            }
        }
    }
    .await;
    drop(receivers);
    if let Err(error) = outcome {
        producers.iter().flatten().for_each(JoinHandle::abort);
        return Err(error);
    }
    // stopped early (--limit): each region stops at its next send
    for (position, producer) in producers.into_iter().enumerate() {
        if let Some(producer) = producer {
            tallies[position] = joined(producer.await)?;
        }
    }
    Ok(tallies)
}

fn joined(result: std::result::Result<Result<Tally>, JoinError>) -> Result<Tally> {
    result.map_err(|error| Error::Internal(format!("a region's query stopped: {error}")))?
}

/// Finds the one task ARN whose id starts with `prefix` among `cluster`'s events.
async fn find_task(
    tables: &[RegionTable],
    cluster: &str,
    prefix: &str,
    range: &TimeRange,
    paging: Paging,
    log: &mut dyn Write,
) -> Result<String> {
    let spec = query::task_lookup(cluster, prefix, range);
    let paging = Paging {
        max_items: None,
        ..paging
    };
    let mut tasks = JoinSet::new();
    for table in tables {
        let table = table.clone();
        let spec = spec.clone();
        tasks.spawn(async move { table.arns(&spec, paging).await });
    }
    let mut records = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (arns, _pages) = joined
            .map_err(|error| Error::Internal(format!("a region's lookup stopped: {error}")))??;
        records.extend(
            arns.into_iter()
                .map(|arn| ecs_audit_core::record::AuditRecord {
                    resource_arn: arn,
                    ..Default::default()
                }),
        );
    }
    let mut arns = query::matching_task_arns(&records, prefix);
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

/// `report`: the timeline page to `html` (`-`: to `out`), and one line saying what it holds.
fn write_report(
    timeline: &report::Timeline,
    cluster: &str,
    range: &TimeRange,
    html: &std::path::Path,
    target: &Target,
    tz: TzChoice,
    out: &mut dyn Write,
) -> Result<()> {
    let page = match tz {
        TzChoice::Utc => report::render_html(timeline, &Zone::<Utc>::Utc),
        TzChoice::Local => report::render_html(timeline, &Zone::Local(Local)),
    };
    let written = if html.as_os_str() == "-" {
        out.write_all(page.as_bytes())
    } else {
        std::fs::write(html, &page)
            .map_err(|error| Error::Output(format!("cannot write {}: {error}", html.display())))?;
        writeln!(
            out,
            "wrote {}: {} · cluster {cluster}, {} · {}",
            html.display(),
            timeline.summary(),
            describe(range),
            target.regions.join(", ")
        )
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Error::Output(error.to_string())),
    }
}
