//! The timeline report: one self-contained HTML page (inline CSS and SVG, no external assets,
//! no script) showing a cluster's task runs over time per service, coloured by how they
//! ended, with the failures listed below and each stop code explained in a sentence.
//!
//! Pure: records in (one at a time, [`TimelineBuilder`]), the page out. The builder keeps one
//! small summary per task, never the records; [`pack`] lays runs out in rows and folds the
//! routine ones beyond a cap; [`render`] writes the page (with `maud`, escaping by
//! construction) around the chart [`svg`] draws.

mod compact;
pub mod pack;
mod render;
mod svg;
#[cfg(test)]
mod tests;
mod times;
mod why_link;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ecs_audit_core::explain::reason;
use ecs_audit_core::record::AuditRecord;

use crate::output::Found;
use compact::{TaskKey, Texts};

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

/// One service (or the standalone tasks of one family, or the cluster itself) in one region.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub name: String,
    pub region: String,
    pub tasks: Vec<TaskBar>,
    pub markers: Vec<Marker>,
    pub deployments: Vec<Deployment>,
}

/// One line of the failures list.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRow {
    /// As stored (UTC RFC 3339), shown in the chosen zone.
    pub time: String,
    pub region: String,
    pub service: String,
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
}

impl Timeline {
    pub fn task_count(&self) -> usize {
        self.lanes.iter().map(|lane| lane.tasks.len()).sum()
    }

    pub fn count(&self, ending: Ending) -> usize {
        self.lanes
            .iter()
            .flat_map(|lane| &lane.tasks)
            .filter(|task| task.ending == ending)
            .count()
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

fn ending_of(last: &Last) -> Ending {
    if last.last_status.as_deref() != Some("STOPPED") {
        return Ending::Running;
    }
    match last.stop_code.as_deref() {
        Some("SpotInterruption" | "TerminationNotice") => Ending::Interrupted,
        _ if last.failed => Ending::Failed,
        _ => Ending::Ok,
    }
}

/// What a task's latest event says (the one with the highest version, then the latest
/// time). Its texts are shared ([`Texts`]): a day's runs repeat a few of them.
#[derive(Debug, Clone)]
struct Last {
    order: (u64, Option<DateTime<Utc>>),
    definition: Option<Arc<str>>,
    last_status: Option<Arc<str>>,
    stop_code: Option<Arc<str>>,
    stopped_at: Option<DateTime<Utc>>,
    exit_codes: Option<Arc<str>>,
    reason: Arc<str>,
    failed: bool,
}

/// One task's events so far, folded into what its bar needs.
#[derive(Debug, Clone)]
struct TaskSoFar {
    first_seen: Option<DateTime<Utc>>,
    created: Option<DateTime<Utc>>,
    started: Option<DateTime<Utc>>,
    last: Last,
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A record's place in its task's history: its version, then its time (stored times are
/// UTC with milliseconds, so they order as their text does).
fn order_of(record: &AuditRecord) -> (u64, Option<DateTime<Utc>>) {
    (
        record.version.unwrap_or(0),
        parse_time(Some(&record.event_time)),
    )
}

impl TaskSoFar {
    fn last_of(record: &AuditRecord, texts: &mut Texts) -> Last {
        Last {
            order: order_of(record),
            definition: texts.get_opt(record.task_definition.as_deref()),
            last_status: texts.get_opt(record.last_status.as_deref()),
            stop_code: texts.get_opt(record.stop_code.as_deref()),
            stopped_at: parse_time(record.stopped_at.as_deref()),
            exit_codes: texts.get_opt(record.exit_codes.as_deref()),
            reason: texts.get(&reason(record)),
            failed: record.failure.is_some(),
        }
    }

    fn new(record: &AuditRecord, texts: &mut Texts) -> Self {
        Self {
            first_seen: parse_time(Some(&record.event_time)),
            created: parse_time(record.created_at.as_deref()),
            started: parse_time(record.started_at.as_deref()),
            last: Self::last_of(record, texts),
        }
    }

    fn add(&mut self, record: &AuditRecord, texts: &mut Texts) {
        self.first_seen = earliest(self.first_seen, parse_time(Some(&record.event_time)));
        self.created = earliest(self.created, parse_time(record.created_at.as_deref()));
        self.started = earliest(self.started, parse_time(record.started_at.as_deref()));
        if order_of(record) > self.last.order {
            self.last = Self::last_of(record, texts);
        }
    }

    /// The bar of the task `key`; `now` ends a running task's. `None` without a readable time.
    fn bar(self, key: &TaskKey, region: &Arc<str>, now: DateTime<Utc>) -> Option<TaskBar> {
        let first_seen = self.first_seen?;
        let last = self.last;
        let ending = ending_of(&last);
        let end = match ending {
            Ending::Running => now,
            _ => last.stopped_at.or(last.order.1).unwrap_or(now),
        };
        let created = self.created.unwrap_or(first_seen);
        let arn = key.arn();
        let task_id = if arn.contains(":task/") {
            arn.rsplit('/').next().unwrap_or(&arn)
        } else {
            &arn
        }
        .to_string();
        Some(TaskBar {
            region: region.clone(),
            task_id,
            definition: last.definition,
            created: created.min(end),
            started: self.started.filter(|started| *started <= end),
            end,
            ending,
            last_status: last.last_status.unwrap_or_else(|| "".into()),
            stop_code: last.stop_code,
            exit_codes: last.exit_codes,
            reason: (!last.reason.is_empty()).then_some(last.reason),
        })
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

type LaneKey = (String, String);
/// A deployment event: when, its name, whether it is a failure.
type DeploymentEvent = (DateTime<Utc>, String, bool);

/// Builds a [`Timeline`] from a cluster's records, taken one at a time in any order
/// (duplicates and a global table's copies allowed). Holds one summary per task and per
/// service event, never the records.
#[derive(Debug)]
pub struct TimelineBuilder {
    cluster: String,
    regions: Vec<String>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    tasks: BTreeMap<LaneKey, HashMap<TaskKey, TaskSoFar>>,
    texts: Texts,
    markers: BTreeMap<LaneKey, Vec<Marker>>,
    deployments: BTreeMap<LaneKey, BTreeMap<String, Vec<DeploymentEvent>>>,
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
            tasks: BTreeMap::new(),
            texts: Texts::default(),
            markers: BTreeMap::new(),
            deployments: BTreeMap::new(),
            failures: Vec::new(),
            failure_keys: HashSet::new(),
        }
    }

    pub fn add(&mut self, item: &Found) {
        let record = &item.record;
        let region = item.region().to_string();
        let lane = lane_name(record);
        if let Some(code) = &record.failure
            && self.failure_keys.insert((
                region.clone(),
                record.resource_arn.clone(),
                record.event_key.clone(),
            ))
        {
            self.failures.push(failure_row(&region, record, code));
        }
        if record.task_id().is_some() {
            let key = TaskKey::new(&record.resource_arn, &mut self.texts);
            let tasks = self.tasks.entry((region, lane)).or_default();
            match tasks.get_mut(&key) {
                Some(task) => task.add(record, &mut self.texts),
                None => {
                    tasks.insert(key, TaskSoFar::new(record, &mut self.texts));
                }
            }
            return;
        }
        let Some(time) = parse_time(Some(&record.event_time)) else {
            return;
        };
        let name = record
            .event_name
            .clone()
            .or_else(|| record.status.clone())
            .unwrap_or_else(|| record.detail_type.clone());
        if let Some(id) = &record.deployment_id {
            self.deployments
                .entry((region, lane))
                .or_default()
                .entry(id.clone())
                .or_default()
                .push((time, name, record.failure.is_some()));
            return;
        }
        self.markers
            .entry((region, lane))
            .or_default()
            .push(Marker {
                time,
                name,
                failed: record.failure.is_some(),
                reason: record
                    .reason
                    .clone()
                    .or_else(|| record.status_reason.clone()),
            });
    }

    pub fn finish(mut self) -> Timeline {
        let bar_now = self.now.min(self.until);
        self.failures.sort_by(|a, b| {
            (&a.time, &a.region, &a.task, &a.code).cmp(&(&b.time, &b.region, &b.task, &b.code))
        });
        let mut keys: Vec<LaneKey> = self
            .tasks
            .keys()
            .chain(self.markers.keys())
            .chain(self.deployments.keys())
            .cloned()
            .collect();
        let regions = &self.regions;
        // regions in the environment's order, the cluster's own lane last in its region
        keys.sort_by_cached_key(|key| {
            let region = regions
                .iter()
                .position(|region| *region == key.0)
                .unwrap_or(regions.len());
            (region, key.0.clone(), key.1 == CLUSTER_LANE, key.1.clone())
        });
        keys.dedup();
        let lanes = keys
            .into_iter()
            .map(|key| {
                let region = self.texts.get(&key.0);
                let mut bars: Vec<TaskBar> = self
                    .tasks
                    .remove(&key)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(task, so_far)| so_far.bar(&task, &region, bar_now))
                    .collect();
                bars.sort_by(|a, b| (a.created, &a.task_id).cmp(&(b.created, &b.task_id)));
                let mut markers = self.markers.remove(&key).unwrap_or_default();
                markers.sort_by(|a, b| (a.time, &a.name).cmp(&(b.time, &b.name)));
                let deployments = self
                    .deployments
                    .remove(&key)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(id, events)| deployment(id, events))
                    .collect();
                Lane {
                    name: key.1,
                    region: key.0,
                    tasks: bars,
                    markers,
                    deployments,
                }
            })
            .collect();
        Timeline {
            cluster: self.cluster,
            regions: self.regions,
            since: self.since,
            until: self.until,
            now: self.now,
            lanes,
            failures: self.failures,
        }
    }
}

/// A deployment from its events: it ends at the first event that says it completed or failed.
fn deployment(id: String, mut events: Vec<DeploymentEvent>) -> Option<Deployment> {
    events.sort();
    let start = events.first()?.0;
    let ended = events.iter().find(|(_, name, failed)| {
        *failed || name.ends_with("_COMPLETED") || name.ends_with("_FAILED")
    });
    let (end, state, failed) = match ended {
        Some((time, name, failed)) => (Some(*time), name.clone(), *failed),
        None => {
            let (_, name, failed) = events.last()?;
            (None, name.clone(), *failed)
        }
    };
    Some(Deployment {
        id,
        start,
        end,
        state,
        failed,
    })
}

/// Turns the records of a cluster's window into lanes of bars and a failures list.
pub fn build(
    found: &[Found],
    cluster: &str,
    regions: &[String],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Timeline {
    let mut builder = TimelineBuilder::new(cluster, regions, since, until, now);
    for item in found {
        builder.add(item);
    }
    builder.finish()
}
