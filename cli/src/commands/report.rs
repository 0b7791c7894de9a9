//! `ecs-audit report`: a cluster's events from every region folded, one at a time and newest
//! first, into the timeline ([`crate::report`]), with the cluster's crash loops, written as
//! one HTML page to a file or standard output.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, Utc};

use crate::cli::{DEFAULT_SINCE, ReportArgs, TzChoice};
use crate::commands::loops::{self, LoopsQuestion};
use crate::commands::query::describe;
use crate::error::{Error, Result};
use crate::fanout;
use crate::output::Zone;
use crate::query::{self, QuerySpec};
use crate::report::{self, Timeline, TimelineBuilder};
use crate::session::Session;
use crate::timerange::TimeRange;

/// The page asked for: which cluster, over which range, written where.
#[derive(Debug, Clone)]
pub struct ReportQuestion {
    pub cluster: String,
    pub range: TimeRange,
    pub html: PathBuf,
    spec: QuerySpec,
}

/// Reads the cluster and range (once: the query and the page use the same).
pub fn read(args: &ReportArgs, now: DateTime<Utc>) -> Result<ReportQuestion> {
    let range = args.range.resolve(DEFAULT_SINCE, now)?;
    let mut spec = query::cluster_events(&args.cluster, &range);
    // the timeline lets a run go once the stream has passed its start: newest first
    spec.newest_first = true;
    Ok(ReportQuestion {
        spec,
        cluster: args.cluster.clone(),
        range,
        html: args.html.clone(),
    })
}

/// Streams the cluster's events into the timeline, then writes the page to `html` (`-`: to
/// `out`) and, for a file, one line saying what it holds.
pub async fn run(
    session: &Session,
    question: &ReportQuestion,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let ReportQuestion {
        cluster,
        range,
        html,
        spec,
    } = question;
    let mut builder = TimelineBuilder::new(
        cluster,
        &session.target.regions,
        range.since,
        range.until,
        session.now,
    );
    let tallies = fanout::stream(
        session.tables(),
        spec,
        session.paging,
        session.limit,
        |found| {
            builder.add(&found);
            Ok(())
        },
    )
    .await?;
    session.log_tallies(&tallies, log);
    let mut timeline = builder.finish();
    let loops = LoopsQuestion {
        cluster: cluster.clone(),
        service: None,
        range: *range,
    };
    timeline.crash_loops = loops::episodes(session, &loops)
        .await?
        .into_iter()
        .map(|found| (found.region, found.episode))
        .collect();
    write_page(session, &timeline, question, html, out)
}

fn write_page(
    session: &Session,
    timeline: &Timeline,
    question: &ReportQuestion,
    html: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let page = match session.tz {
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
            "wrote {}: {} · cluster {}, {} · {}",
            html.display(),
            timeline.summary(),
            question.cluster,
            describe(&question.range),
            session.target.regions.join(", ")
        )
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Error::Output(error.to_string())),
    }
}
