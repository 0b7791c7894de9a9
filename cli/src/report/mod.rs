//! The timeline report: one self-contained HTML page (inline CSS and SVG, no external assets,
//! no script) showing a cluster's task runs over time per service, coloured by how they
//! ended, with the failures listed below and each stop code explained in a sentence.
//!
//! Pure: records in (one at a time, newest first, [`TimelineBuilder`]), the page out. The
//! builder keeps only what the page draws and the runs still open, never the records nor a
//! summary per run: a run is folded from its events ([`run`]) until the stream has passed
//! its start, then laid out ([`pack`]: rows, the routine runs beyond a cap folded into a
//! density band) and counted ([`stats`]) in its lane ([`lane`]); [`render`] writes the page
//! (with `maud`, escaping by construction) around the chart [`svg`] draws.

mod compact;
mod lane;
pub mod pack;
mod render;
mod run;
mod sketch;
pub mod stats;
mod svg;
#[cfg(test)]
mod tests;
mod times;
mod why_link;

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ecs_audit_core::episode::Episode;
use ecs_audit_core::explain::reason;
use ecs_audit_core::record::AuditRecord;

use crate::output::Found;
use compact::{TaskKey, Texts};
use lane::LaneBuilder;
use pack::LaneLayout;
use run::TaskSoFar;
use stats::LaneStats;

pub use ecs_audit_core::explain::explain;
pub use render::render_html;

/// Bar colours, one per way a task ended (also the legend's).
pub const OK_COLOUR: &str = "#2f9e44";
pub const FAILED_COLOUR: &str = "#e03131";
pub const INTERRUPTED_COLOUR: &str = "#f08c00";
pub const RUNNING_COLOUR: &str = "#1c7ed6";
/// Background of a row of the failures list.
pub const FAILURE_ROW_COLOUR: &str = "#fff0f0";

/// How a task ended: the colour of its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ending {
    /// Stopped without a failure (exit 0, scaled in, stopped by a user).
    Ok,
    /// Stopped with a failure: failed to start, an essential container exited non-zero, ...
    Failed,
    /// Fargate Spot interruption or a termination notice: the capacity went away.
    Interrupted,
    /// No STOPPED event yet.
    Running,
}

impl Ending {
    pub const ALL: [Ending; 4] = [
        Ending::Ok,
        Ending::Failed,
        Ending::Interrupted,
        Ending::Running,
    ];

    pub fn colour(self) -> &'static str {
        match self {
            Ending::Ok => OK_COLOUR,
            Ending::Failed => FAILED_COLOUR,
            Ending::Interrupted => INTERRUPTED_COLOUR,
            Ending::Running => RUNNING_COLOUR,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Ending::Ok => "stopped normally",
            Ending::Failed => "failed",
            Ending::Interrupted => "Spot-interrupted / terminated",
            Ending::Running => "still running",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Ending::Ok => "ok",
            Ending::Failed => "failed",
            Ending::Interrupted => "interrupted",
            Ending::Running => "running",
        }
    }
}

/// One task's bar. The texts that repeat across runs are shared: a day holds many.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskBar {
    pub region: Arc<str>,
    pub task_id: String,
    pub definition: Option<Arc<str>>,
    /// `createdAt` (or the first event seen): where the bar begins.
    pub created: DateTime<Utc>,
    /// `startedAt`, when the task got that far: the bar is pale before it.
    pub started: Option<DateTime<Utc>>,
    /// `stoppedAt`, or "now" (clamped to the window) while running.
    pub end: DateTime<Utc>,
    pub ending: Ending,
    pub last_status: Arc<str>,
    pub stop_code: Option<Arc<str>>,
    pub exit_codes: Option<Arc<str>>,
    pub reason: Option<Arc<str>>,
}

/// A service action (or a cluster-level event) shown as a mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub time: DateTime<Utc>,
    pub name: String,
    pub failed: bool,
    pub reason: Option<String>,
}

/// A deployment, from its first event to the one that ended it (or the window's end).
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub start: DateTime<Utc>,
    /// `None` while in progress.
    pub end: Option<DateTime<Utc>>,
    /// The last event's name (`SERVICE_DEPLOYMENT_COMPLETED`, `..._FAILED`, ...).
    pub state: String,
    pub failed: bool,
}

/// One service (or the standalone tasks of one family, or the cluster itself) in one region,
/// as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub name: String,
    pub region: String,
    /// The runs: packed in rows, the routine ones beyond the cap folded.
    pub layout: LaneLayout,
    /// The numbers of all its runs.
    pub stats: LaneStats,
    /// Every failed service event and the first routine ones, by time.
    pub markers: Vec<Marker>,
    /// Routine service events not kept.
    pub more_markers: usize,
    pub deployments: Vec<Deployment>,
}

/// One line of the failures list.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRow {
    /// As stored (UTC RFC 3339), shown in the chosen zone.
    pub time: String,
    pub region: String,
    pub service: String,
    /// The resource's ARN (the task's, for a task): what names the failure elsewhere.
    pub arn: String,
    pub task: String,
    pub code: String,
    pub exit_codes: String,
    pub reason: String,
    pub explanation: String,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub cluster: String,
    pub regions: Vec<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub lanes: Vec<Lane>,
    pub failures: Vec<FailureRow>,
    /// The cluster's crash loops going on at some time in the window, with the region each
    /// was recorded in (read apart from the events: they are few, and in no index).
    pub crash_loops: Vec<(String, Episode)>,
}

impl Timeline {
    pub fn task_count(&self) -> usize {
        self.lanes.iter().map(|lane| lane.stats.runs).sum()
    }

    pub fn count(&self, ending: Ending) -> usize {
        self.lanes.iter().map(|lane| lane.stats.count(ending)).sum()
    }

    /// `14 tasks (9 stopped normally, 3 failed, ...) in 4 lanes, 6 failures`.
    pub fn summary(&self) -> String {
        let endings: Vec<String> = Ending::ALL
            .iter()
            .map(|ending| (ending, self.count(*ending)))
            .filter(|(_, count)| *count > 0)
            .map(|(ending, count)| format!("{count} {}", ending.label()))
            .collect();
        let tasks = match self.task_count() {
            1 => "1 task".to_string(),
            n => format!("{n} tasks"),
        };
        let failures = match self.failures.len() {
            1 => "1 failure".to_string(),
            n => format!("{n} failures"),
        };
        if endings.is_empty() {
            format!("{tasks}, {failures}")
        } else {
            format!("{tasks} ({}), {failures}", endings.join(", "))
        }
    }
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// The lane of events that belong to no service (container instances, cluster-wide actions).
const CLUSTER_LANE: &str = "cluster events (container instances, ...)";

fn lane_name(record: &AuditRecord) -> String {
    match (&record.service, &record.group) {
        (Some(service), _) => service.clone(),
        (None, Some(group)) => match group.strip_prefix("family:") {
            Some(family) => format!("{family} (standalone tasks)"),
            None => format!("{group} (standalone tasks)"),
        },
        (None, None) if record.task_id().is_some() => "(tasks without a group)".to_string(),
        (None, None) => CLUSTER_LANE.to_string(),
    }
}

/// A failure, once per distinct event.
fn failure_row(region: &str, record: &AuditRecord, code: &str) -> FailureRow {
    FailureRow {
        time: record
            .failed_at
            .clone()
            .unwrap_or_else(|| record.event_time.clone()),
        region: region.to_string(),
        service: record
            .service
            .clone()
            .or_else(|| record.group.clone())
            .unwrap_or_else(|| "-".into()),
        arn: record.resource_arn.clone(),
        task: record.task_id().unwrap_or("-").to_string(),
        code: code.to_string(),
        exit_codes: record.exit_codes.clone().unwrap_or_else(|| "-".into()),
        reason: match reason(record) {
            text if text.is_empty() => "-".into(),
            text => text,
        },
        explanation: explain(record),
    }
}

/// How far before a run's start one of its events may still come (clocks and delivery are
/// not exact): a run stays open until the stream is this far past its start.
pub const LATE_EVENTS: Duration = Duration::minutes(10);

type LaneKey = (String, String);
/// An open run in the queue of runs to close: its start when queued, its lane, its key.
type Closing = (Option<DateTime<Utc>>, usize, TaskKey);

/// Builds a [`Timeline`] from a cluster's records taken one at a time, newest first (as the
/// index answers; duplicates and out-of-order deliveries allowed). A run is kept open while
/// its events may still come, until the stream is [`LATE_EVENTS`] past its start; then it is
/// drawn or folded, and counted, and let go. So memory grows with the runs open at once and
/// with what the page draws (capped bars, every failure), not with the runs. Records in
/// another order give the same page if nothing comes more than [`LATE_EVENTS`] out of
/// order; [`build`] sorts a slice first.
#[derive(Debug)]
pub struct TimelineBuilder {
    cluster: String,
    regions: Vec<String>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    lane_index: HashMap<LaneKey, usize>,
    lanes: Vec<(LaneKey, LaneBuilder)>,
    /// Open runs, latest start on top (entries of runs since closed are skipped).
    closing: BinaryHeap<Closing>,
    /// The oldest event time seen: the stream is past it.
    oldest: Option<DateTime<Utc>>,
    texts: Texts,
    failures: Vec<FailureRow>,
    failure_keys: HashSet<(String, String, String)>,
}

impl TimelineBuilder {
    /// `now` ends the bars of running tasks (clamped to `until`).
    pub fn new(
        cluster: &str,
        regions: &[String],
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            cluster: cluster.to_string(),
            regions: regions.to_vec(),
            since,
            until,
            now,
            lane_index: HashMap::new(),
            lanes: Vec::new(),
            closing: BinaryHeap::new(),
            oldest: None,
            texts: Texts::default(),
            failures: Vec::new(),
            failure_keys: HashSet::new(),
        }
    }

    fn lane(&mut self, key: LaneKey) -> usize {
        if let Some(index) = self.lane_index.get(&key) {
            return *index;
        }
        let index = self.lanes.len();
        self.lane_index.insert(key.clone(), index);
        self.lanes
            .push((key, LaneBuilder::new(self.since, self.until)));
        index
    }

    pub fn add(&mut self, item: &Found) {
        let record = &item.record;
        let region = item.region().to_string();
        if let Some(code) = &record.failure
            && self.failure_keys.insert((
                region.clone(),
                record.resource_arn.clone(),
                record.event_key.clone(),
            ))
        {
            self.failures.push(failure_row(&region, record, code));
        }
        let time = parse_time(Some(&record.event_time));
        if record.task_id().is_some() {
            let lane = self.lane((region, lane_name(record)));
            let key = TaskKey::new(&record.resource_arn, &mut self.texts);
            let open = &mut self.lanes[lane].1.open;
            match open.get_mut(&key) {
                Some(task) => task.add(record, &mut self.texts),
                None => {
                    let task = TaskSoFar::new(record, &mut self.texts);
                    self.closing.push((task.start(), lane, key.clone()));
                    open.insert(key, task);
                }
            }
        } else if let Some(time) = time {
            let name = record
                .event_name
                .clone()
                .or_else(|| record.status.clone())
                .unwrap_or_else(|| record.detail_type.clone());
            let lane = self.lane((region, lane_name(record)));
            let lane = &mut self.lanes[lane].1;
            match &record.deployment_id {
                Some(id) => lane.add_deployment_event(id, (time, name, record.failure.is_some())),
                None => lane.add_marker(Marker {
                    time,
                    name,
                    failed: record.failure.is_some(),
                    reason: record
                        .reason
                        .clone()
                        .or_else(|| record.status_reason.clone()),
                }),
            }
        }
        if let Some(time) = time {
            self.oldest = Some(self.oldest.map_or(time, |oldest| oldest.min(time)));
        }
        self.close_runs(false);
    }

    /// Closes the open runs the stream is [`LATE_EVENTS`] past (`all`: every one), latest
    /// start first.
    fn close_runs(&mut self, all: bool) {
        let bar_now = self.now.min(self.until);
        let past = self
            .oldest
            .and_then(|oldest| oldest.checked_add_signed(LATE_EVENTS));
        while let Some((start, _, _)) = self.closing.peek() {
            let due = all || matches!((start, past), (Some(start), Some(past)) if *start > past);
            if !due {
                return;
            }
            let Some((start, lane, key)) = self.closing.pop() else {
                return;
            };
            let (lane_key, builder) = &mut self.lanes[lane];
            let Some(task) = builder.open.get(&key) else {
                continue;
            };
            // an earlier event moved its start: back in the queue at its place
            if task.start() < start {
                self.closing.push((task.start(), lane, key));
                continue;
            }
            let Some(task) = builder.open.remove(&key) else {
                continue;
            };
            let region = self.texts.get(&lane_key.0);
            if let Some(bar) = task.bar(&key, &region, bar_now) {
                builder.add_run(bar);
            }
        }
    }

    pub fn finish(mut self) -> Timeline {
        self.close_runs(true);
        self.failures.sort_by(|a, b| {
            (&a.time, &a.region, &a.task, &a.code).cmp(&(&b.time, &b.region, &b.task, &b.code))
        });
        let regions = &self.regions;
        // regions in the environment's order, the cluster's own lane last in its region
        self.lanes.sort_by_cached_key(|(key, _)| {
            let region = regions
                .iter()
                .position(|region| *region == key.0)
                .unwrap_or(regions.len());
            (region, key.0.clone(), key.1 == CLUSTER_LANE, key.1.clone())
        });
        let lanes = self
            .lanes
            .into_iter()
            .map(|((region, name), lane)| lane.finish(name, region))
            .collect();
        Timeline {
            cluster: self.cluster,
            regions: self.regions,
            since: self.since,
            until: self.until,
            now: self.now,
            lanes,
            failures: self.failures,
            crash_loops: Vec::new(),
        }
    }
}

/// Turns the records of a cluster's window, in any order, into lanes of bars and a failures
/// list (newest first, as [`TimelineBuilder`] takes them).
pub fn build(
    found: &[Found],
    cluster: &str,
    regions: &[String],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Timeline {
    let mut order: Vec<&Found> = found.iter().collect();
    // stored times are UTC with milliseconds: they order as their text does
    order.sort_by(|a, b| b.record.event_time.cmp(&a.record.event_time));
    let mut builder = TimelineBuilder::new(cluster, regions, since, until, now);
    for item in order {
        builder.add(item);
    }
    builder.finish()
}
