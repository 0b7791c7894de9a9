//! `ecs-audit cluster`, `service` and `definition`: a question read from its flags (pure), then
//! its answer streamed from every region into a table or a JSON array ([`answer`], which
//! `task` uses too).

use std::io::Write;

use chrono::{DateTime, Local, Utc};

use crate::cli::{
    ClusterArgs, DEFAULT_DEFINITION_SINCE, DEFAULT_SINCE, DefinitionArgs, OutputFormat,
    ServiceArgs, TzChoice,
};
use crate::error::{Error, Result};
use crate::fanout;
use crate::output::Zone;
use crate::query::{self, QuerySpec};
use crate::session::Session;
use crate::sink::{JsonSink, Sink, TableSink};
use crate::timerange::TimeRange;

/// A question of the table, and what its summary line calls it.
#[derive(Debug, Clone)]
pub struct Question {
    pub spec: QuerySpec,
    pub what: String,
}

/// `<from> → <to>`, as the summary line shows a range.
pub fn describe(range: &TimeRange) -> String {
    let (from, to) = range.bounds();
    format!("{from} → {to}")
}

/// `cluster <name>` (or its failures) within the range.
pub fn cluster(args: &ClusterArgs, now: DateTime<Utc>) -> Result<Question> {
    let ClusterArgs {
        name,
        range,
        failures,
    } = args;
    let range = range.resolve(DEFAULT_SINCE, now)?;
    Ok(if *failures {
        Question {
            spec: query::cluster_failures(name, &range),
            what: format!("failures of cluster {name}, {}", describe(&range)),
        }
    } else {
        Question {
            spec: query::cluster_events(name, &range),
            what: format!("cluster {name}, {}", describe(&range)),
        }
    })
}

/// `service <cluster>/<service>` within the range.
pub fn service(args: &ServiceArgs, now: DateTime<Utc>) -> Result<Question> {
    let service = query::parse_service_ref(&args.service)?;
    let range = args.range.resolve(DEFAULT_SINCE, now)?;
    Ok(Question {
        spec: query::service_events(&service, &range),
        what: format!("service {}, {}", service.key(), describe(&range)),
    })
}

/// `definition <family>[:<revision>]`: its stopped runs within the range.
pub fn definition(args: &DefinitionArgs, now: DateTime<Utc>) -> Result<Question> {
    let definition = query::parse_definition(&args.definition)?;
    let range = args.range.resolve(DEFAULT_DEFINITION_SINCE, now)?;
    let name = match &definition.revision {
        Some(revision) => format!("{}:{revision}", definition.family),
        None => definition.family.clone(),
    };
    Ok(Question {
        spec: query::definition_runs(&definition, &range),
        what: format!(
            "stopped runs of task definition {name}, {}",
            describe(&range)
        ),
    })
}

/// Runs the question in every region of the session and writes each record as it comes, in
/// the session's format; a closed pipe (`| head`) ends the answer quietly.
pub async fn run(
    session: &Session,
    question: &Question,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let Question { spec, what } = question;
    let mut sink: Box<dyn Sink + '_> = match (session.output, session.tz) {
        (OutputFormat::Json, _) => Box::new(JsonSink::new(out)),
        (OutputFormat::Table, TzChoice::Utc) => {
            Box::new(TableSink::new(out, Zone::<Utc>::Utc, spec.sort))
        }
        (OutputFormat::Table, TzChoice::Local) => {
            Box::new(TableSink::new(out, Zone::Local(Local), spec.sort))
        }
    };
    let streamed = fanout::stream(
        session.tables(),
        spec,
        session.paging,
        session.limit,
        |found| sink.push(found).map_err(written),
    )
    .await;
    let tallies = match streamed {
        Err(Error::Output(message)) if message == BROKEN_PIPE => return Ok(()),
        other => other?,
    };
    match sink.finish(&session.target.regions, what).map_err(written) {
        Err(Error::Output(message)) if message == BROKEN_PIPE => return Ok(()),
        other => other?,
    }
    session.log_tallies(&tallies, log);
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
