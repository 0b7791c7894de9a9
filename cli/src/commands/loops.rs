//! `ecs-audit loops`: a cluster's crash-loop episodes (recorded by the function, see
//! `ecs_audit_core::episode`), newest first, in every region asked. The read API the `why`
//! answer, the report and the MCP server can share: [`episodes`].

use std::io::Write;

use chrono::{DateTime, Utc};
use ecs_audit_core::episode::Episode;
use serde::Serialize;

use crate::cli::{LoopsArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::timerange::TimeRange;

/// How far back `loops` looks without `--since`.
pub const DEFAULT_LOOPS_SINCE: &str = "7d";

#[derive(Debug, Clone)]
pub struct LoopsQuestion {
    pub cluster: String,
    /// A service name, or `family:<name>`.
    pub service: Option<String>,
    pub range: TimeRange,
}

pub fn read(args: &LoopsArgs, now: DateTime<Utc>) -> Result<LoopsQuestion> {
    Ok(LoopsQuestion {
        cluster: args.cluster.clone(),
        service: args.service.clone(),
        range: args.range.resolve(DEFAULT_LOOPS_SINCE, now)?,
    })
}

/// One episode and the region it was recorded in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionEpisode {
    pub region: String,
    #[serde(flatten)]
    pub episode: Episode,
}

/// The episodes the question asks for, newest first, from every region of the session.
pub async fn episodes(session: &Session, question: &LoopsQuestion) -> Result<Vec<RegionEpisode>> {
    let (since, until) = question.range.bounds();
    let mut found = Vec::new();
    for table in session.tables() {
        for episode in table.episodes(&question.cluster, &until).await? {
            let wanted = question
                .service
                .as_deref()
                .is_none_or(|service| episode.subject.name() == service);
            if wanted && episode.overlaps(&since, &until) {
                found.push(RegionEpisode {
                    region: table.region.clone(),
                    episode,
                });
            }
        }
    }
    found.sort_by(|a, b| b.episode.started_at.cmp(&a.episode.started_at));
    Ok(found)
}

pub async fn run(
    session: &Session,
    question: &LoopsQuestion,
    out: &mut dyn Write,
    _log: &mut dyn Write,
) -> Result<()> {
    let found = episodes(session, question).await?;
    let text = match session.output {
        OutputFormat::Json => serde_json::to_string_pretty(&found)
            .map_err(|error| Error::Output(error.to_string()))?,
        OutputFormat::Table => render(&found, &question.cluster),
    };
    writeln!(out, "{text}").map_err(|error| Error::Output(error.to_string()))
}

fn render(found: &[RegionEpisode], cluster: &str) -> String {
    if found.is_empty() {
        return format!("no crash loops in cluster {cluster} in this range");
    }
    let mut lines = vec![format!(
        "{:<14} {:<24} {:<24} {:<24} {:>8}  {}",
        "REGION", "SERVICE", "STARTED", "ENDED", "FAILURES", "LAST FAILURE KIND"
    )];
    for RegionEpisode { region, episode } in found {
        lines.push(format!(
            "{:<14} {:<24} {:<24} {:<24} {:>8}  {}",
            region,
            episode.subject.name(),
            episode.started_at,
            episode.ended_at.as_deref().unwrap_or("ongoing"),
            episode.failures,
            episode.last_kind
        ));
    }
    lines.join("\n")
}
