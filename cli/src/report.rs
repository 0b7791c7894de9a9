//! The timeline report: one self-contained HTML page (inline CSS and SVG, no external assets,
//! no script) showing a cluster's tasks as bars over time per service, coloured by how they
//! ended, with the failures listed below and each stop code explained in a sentence.
//!
//! Pure: records, the window and "now" in, text out. Every string from the table is escaped
//! ([`escape`]): events are untrusted input.

use std::collections::BTreeMap;
use std::fmt::{Display, Write as _};

use chrono::{DateTime, Duration, TimeZone, Utc};
use ecs_state_logger::record::AuditRecord;

use crate::output::{self, Found, Zone};

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

/// One task's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskBar {
    pub region: String,
    pub arn: String,
    pub task_id: String,
    pub definition: Option<String>,
    /// `createdAt` (or the first event seen): where the bar begins.
    pub created: DateTime<Utc>,
    /// `startedAt`, when the task got that far: the bar is pale before it.
    pub started: Option<DateTime<Utc>>,
    /// `stoppedAt`, or "now" (clamped to the window) while running.
    pub end: DateTime<Utc>,
    pub ending: Ending,
    pub last_status: String,
    pub stop_code: Option<String>,
    pub exit_codes: Option<String>,
    pub reason: Option<String>,
}

/// A service action or deployment event (or a cluster-level one) shown as a mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub time: DateTime<Utc>,
    pub name: String,
    pub failed: bool,
    pub reason: Option<String>,
}

/// One service (or the standalone tasks of one family, or the cluster itself) in one region.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub name: String,
    pub region: String,
    pub tasks: Vec<TaskBar>,
    pub markers: Vec<Marker>,
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

fn ending_of(last: &AuditRecord) -> Ending {
    if last.last_status.as_deref() != Some("STOPPED") {
        return Ending::Running;
    }
    match last.stop_code.as_deref() {
        Some("SpotInterruption" | "TerminationNotice") => Ending::Interrupted,
        _ if last.failure.is_some() => Ending::Failed,
        _ => Ending::Ok,
    }
}

/// Builds the task bars of one task's records (any order, duplicates allowed).
fn task_bar(region: &str, records: &[&AuditRecord], now: DateTime<Utc>) -> Option<TaskBar> {
    let last = records
        .iter()
        .copied()
        .max_by_key(|record| (record.version.unwrap_or(0), record.event_time.clone()))?;
    let first_seen = records
        .iter()
        .filter_map(|record| parse_time(Some(&record.event_time)))
        .min()?;
    let created = records
        .iter()
        .filter_map(|record| parse_time(record.created_at.as_deref()))
        .min()
        .unwrap_or(first_seen);
    let started = records
        .iter()
        .filter_map(|record| parse_time(record.started_at.as_deref()))
        .min();
    let ending = ending_of(last);
    let end = match ending {
        Ending::Running => now,
        _ => parse_time(last.stopped_at.as_deref())
            .or_else(|| parse_time(Some(&last.event_time)))
            .unwrap_or(now),
    };
    let reason = reason(last);
    Some(TaskBar {
        region: region.to_string(),
        arn: last.resource_arn.clone(),
        task_id: last.task_id().unwrap_or(&last.resource_arn).to_string(),
        definition: last.task_definition.clone(),
        created: created.min(end),
        started: started.filter(|started| *started <= end),
        end,
        ending,
        last_status: last.last_status.clone().unwrap_or_default(),
        stop_code: last.stop_code.clone(),
        exit_codes: last.exit_codes.clone(),
        reason: (!reason.is_empty()).then_some(reason),
    })
}

/// Turns the records of a cluster's window into lanes of bars and a failures list.
/// `now` ends the bars of running tasks (clamped to `until`).
pub fn build(
    found: &[Found],
    cluster: &str,
    regions: &[String],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Timeline {
    let bar_now = now.min(until);
    // (region, lane) → (task ARN → its records), and the lane's markers.
    let mut tasks: BTreeMap<(String, String), BTreeMap<String, Vec<&AuditRecord>>> =
        BTreeMap::new();
    let mut markers: BTreeMap<(String, String), Vec<Marker>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut failure_keys = std::collections::HashSet::new();
    for item in found {
        let record = &item.record;
        let region = item.region().to_string();
        let lane = lane_name(record);
        if record.task_id().is_some() {
            tasks
                .entry((region.clone(), lane.clone()))
                .or_default()
                .entry(record.resource_arn.clone())
                .or_default()
                .push(record);
        } else if let Some(time) = parse_time(Some(&record.event_time)) {
            markers
                .entry((region.clone(), lane.clone()))
                .or_default()
                .push(Marker {
                    time,
                    name: record
                        .event_name
                        .clone()
                        .or_else(|| record.status.clone())
                        .unwrap_or_else(|| record.detail_type.clone()),
                    failed: record.failure.is_some(),
                    reason: record
                        .reason
                        .clone()
                        .or_else(|| record.status_reason.clone()),
                });
        }
        if let Some(code) = &record.failure
            && failure_keys.insert((
                region.clone(),
                record.resource_arn.clone(),
                record.event_key.clone(),
            ))
        {
            failures.push(FailureRow {
                time: record
                    .failed_at
                    .clone()
                    .unwrap_or_else(|| record.event_time.clone()),
                region: region.clone(),
                service: record
                    .service
                    .clone()
                    .or_else(|| record.group.clone())
                    .unwrap_or_else(|| "-".into()),
                task: record.task_id().unwrap_or("-").to_string(),
                code: code.clone(),
                exit_codes: record.exit_codes.clone().unwrap_or_else(|| "-".into()),
                reason: match reason(record) {
                    text if text.is_empty() => "-".into(),
                    text => text,
                },
                explanation: explain(record),
            });
        }
    }
    failures.sort_by(|a, b| {
        (&a.time, &a.region, &a.task, &a.code).cmp(&(&b.time, &b.region, &b.task, &b.code))
    });

    let mut keys: Vec<(String, String)> = tasks.keys().chain(markers.keys()).cloned().collect();
    keys.sort_by(|a, b| {
        // the cluster's own lane last in its region
        // regions in the environment's order, the cluster's own lane last in its region
        let order = |key: &(String, String)| {
            let region = regions
                .iter()
                .position(|region| *region == key.0)
                .unwrap_or(regions.len());
            (region, key.0.clone(), key.1 == CLUSTER_LANE, key.1.clone())
        };
        order(a).cmp(&order(b))
    });
    keys.dedup();
    let lanes = keys
        .into_iter()
        .map(|key| {
            let mut bars: Vec<TaskBar> = tasks
                .get(&key)
                .map(|by_arn| {
                    by_arn
                        .values()
                        .filter_map(|records| task_bar(&key.0, records, bar_now))
                        .collect()
                })
                .unwrap_or_default();
            bars.sort_by(|a, b| (a.created, &a.task_id).cmp(&(b.created, &b.task_id)));
            let mut lane_markers = markers.remove(&key).unwrap_or_default();
            lane_markers.sort_by(|a, b| (a.time, &a.name).cmp(&(b.time, &b.name)));
            Lane {
                name: key.1,
                region: key.0,
                tasks: bars,
                markers: lane_markers,
            }
        })
        .collect();
    Timeline {
        cluster: cluster.to_string(),
        regions: regions.to_vec(),
        since,
        until,
        now,
        lanes,
        failures,
    }
}

/// The stop (or scheduler) reason and each container's own, once each: a container's reason
/// often repeats the task's word for word. One line; empty when nothing says why.
fn reason(record: &AuditRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    let task_reasons = [
        &record.stopped_reason,
        &record.reason,
        &record.status_reason,
    ];
    for text in task_reasons.into_iter().flatten() {
        if !text.is_empty() && !parts.contains(text) {
            parts.push(text.clone());
        }
    }
    for container in record.containers.iter().flatten() {
        let Some(text) = container.reason.as_deref().filter(|r| !r.is_empty()) else {
            continue;
        };
        if parts.iter().any(|part| part.contains(text)) {
            continue;
        }
        let name = container.name.as_deref().unwrap_or("container");
        parts.push(format!("{name}: {text}"));
    }
    parts
        .join("; ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The first container that exited non-zero (the essential one that stopped the task, as a
/// rule), preferring one that says why.
fn failed_container(record: &AuditRecord) -> Option<(String, i64, Option<&str>)> {
    let containers: Vec<_> = record
        .containers
        .iter()
        .flatten()
        .filter(|c| c.exit_code.is_some_and(|code| code != 0))
        .collect();
    let chosen = containers
        .iter()
        .find(|c| c.reason.is_some())
        .or(containers.first())?;
    Some((
        chosen.name.clone().unwrap_or_else(|| "a container".into()),
        chosen.exit_code.unwrap_or_default(),
        chosen.reason.as_deref(),
    ))
}

fn mentions(record: &AuditRecord, needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    [
        &record.stopped_reason,
        &record.reason,
        &record.status_reason,
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .chain(
        record
            .containers
            .iter()
            .flatten()
            .filter_map(|c| c.reason.as_deref()),
    )
    .any(|text| text.to_ascii_lowercase().contains(&needle))
}

/// One plain-English sentence on what a failure (a stop code or a scheduler event) means.
pub fn explain(record: &AuditRecord) -> String {
    let code = record
        .failure
        .as_deref()
        .or(record.stop_code.as_deref())
        .or(record.event_name.as_deref())
        .unwrap_or_default();
    match code {
        "TaskFailedToStart" if mentions(record, "CannotPullContainerError") => {
            "The task never started: its container image could not be pulled (a wrong tag, a deleted image, or no network route or permission to the registry).".into()
        }
        "TaskFailedToStart" if mentions(record, "ResourceInitializationError") => {
            "The task never started: ECS could not prepare it (secrets, log configuration or network interface); the reason names the resource.".into()
        }
        "TaskFailedToStart" => {
            "The task never reached RUNNING: ECS could not start it; the reason says why.".into()
        }
        "EssentialContainerExited" => match failed_container(record) {
            Some((name, 137, _)) => format!(
                "Out of memory: essential container {name} was killed with SIGKILL (exit 137), as a rule because it went over its memory limit; raise the memory or fix the leak."
            ),
            Some((name, 139, _)) => format!(
                "Essential container {name} crashed with a segmentation fault (exit 139), so ECS stopped the whole task."
            ),
            Some((name, 143, _)) => format!(
                "Essential container {name} was stopped with SIGTERM (exit 143) and the task stopped with it."
            ),
            Some((name, code, _)) => format!(
                "Essential container {name} exited with code {code} (an application error: see its logs), so ECS stopped the whole task."
            ),
            None => "An essential container stopped, so ECS stopped the whole task.".into(),
        },
        "SpotInterruption" => {
            "Spot capacity was reclaimed by AWS (two minutes' warning); not a fault of the task, the service starts a replacement.".into()
        }
        "TerminationNotice" => {
            "The host the task ran on was being retired or terminated, so ECS stopped the task; the service starts a replacement.".into()
        }
        "TaskFailedElbHealthChecks" => {
            "The load balancer found the task unhealthy, so the service replaced it: check the health check path and port, the grace period, and that the task's security group lets the load balancer in.".into()
        }
        "TaskFailedContainerHealthChecks" => {
            "The container's own health check kept failing, so the service replaced the task: check the health check command and its start period.".into()
        }
        "InfrastructureHealth" => {
            "ECS stopped the task because the infrastructure under it was unhealthy.".into()
        }
        "SERVICE_TASK_PLACEMENT_FAILURE" if mentions(record, "RESOURCE:FARGATE") => {
            "No Fargate capacity was available for the task (capacity provider or Availability Zones exhausted); ECS keeps retrying.".into()
        }
        "SERVICE_TASK_PLACEMENT_FAILURE" if mentions(record, "RESOURCE:MEMORY") => {
            "No container instance had enough free memory to place the task: add instances (or let the capacity provider scale out) or lower the task's memory.".into()
        }
        "SERVICE_TASK_PLACEMENT_FAILURE" if mentions(record, "RESOURCE:CPU") => {
            "No container instance had enough free CPU to place the task: add instances or lower the task's CPU.".into()
        }
        "SERVICE_TASK_PLACEMENT_FAILURE" => {
            "The scheduler could not find anywhere to place the task; the reason names the missing resource or constraint.".into()
        }
        "SERVICE_TASK_CONFIGURATION_FAILURE" => {
            "The service's task configuration is invalid (for example a role that cannot be assumed); no task starts until it is fixed.".into()
        }
        "SERVICE_TASK_START_IMPAIRED" => {
            "The service keeps failing to start tasks and now waits longer between attempts.".into()
        }
        "SERVICE_DEPLOYMENT_FAILED" => {
            "The deployment was declared failed (the circuit breaker saw its tasks fail, or an alarm fired); with rollback on, ECS returns to the last working deployment.".into()
        }
        "UserInitiated" => "Someone (or some automation) stopped the task with StopTask.".into(),
        "ServiceSchedulerInitiated" => {
            "The service scheduler stopped the task: a scale-in, a deployment replacing it, or a failed health check.".into()
        }
        _ if record.event_type.as_deref() == Some("ERROR") => {
            "The ECS scheduler reported an error for the service; the reason says what.".into()
        }
        _ => "ECS recorded this as a failure; the reason says what happened.".into(),
    }
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

const WIDTH: f64 = 1320.0;
const LABEL_WIDTH: f64 = 340.0;
const PLOT_LEFT: f64 = LABEL_WIDTH + 10.0;
const PLOT_RIGHT: f64 = WIDTH - 20.0;
const AXIS_HEIGHT: f64 = 30.0;
const LANE_HEIGHT: f64 = 26.0;
const ROW_HEIGHT: f64 = 20.0;
const BAR_HEIGHT: f64 = 12.0;
const MIN_BAR_WIDTH: f64 = 3.0;

/// Tick spacing: the smallest step giving at most 12 ticks.
fn tick_step(span: Duration) -> Duration {
    let steps = [
        1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080,
    ];
    steps
        .iter()
        .map(|minutes| Duration::minutes(*minutes))
        .find(|step| span.num_seconds() / step.num_seconds().max(1) <= 12)
        .unwrap_or(Duration::days(14))
}

struct Scale {
    since: DateTime<Utc>,
    seconds: f64,
}

impl Scale {
    fn x(&self, time: DateTime<Utc>) -> f64 {
        let offset = (time - self.since).num_milliseconds() as f64 / 1000.0;
        let fraction = (offset / self.seconds).clamp(0.0, 1.0);
        PLOT_LEFT + fraction * (PLOT_RIGHT - PLOT_LEFT)
    }
}

fn time_text<Tz: TimeZone>(time: DateTime<Utc>, zone: &Zone<Tz>, format: &str) -> String
where
    Tz::Offset: Display,
{
    match zone {
        Zone::Utc => time.format(format).to_string(),
        Zone::Local(tz) => time.with_timezone(tz).format(format).to_string(),
    }
}

fn full_time<Tz: TimeZone>(time: DateTime<Utc>, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    output::show_time(&ecs_state_logger::record::format_time(time), zone)
}

fn short_id(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

fn svg<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    let span = (timeline.until - timeline.since).max(Duration::seconds(1));
    let scale = Scale {
        since: timeline.since,
        seconds: span.num_milliseconds() as f64 / 1000.0,
    };
    let multi_region = timeline
        .lanes
        .iter()
        .map(|lane| &lane.region)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    let rows: usize = timeline.lanes.iter().map(|lane| lane.tasks.len()).sum();
    let height =
        AXIS_HEIGHT + timeline.lanes.len() as f64 * LANE_HEIGHT + rows as f64 * ROW_HEIGHT + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="task timeline">"#
    );

    // time axis and grid
    let step = tick_step(span);
    let step_seconds = step.num_seconds().max(1);
    let first_tick = timeline.since.timestamp().div_euclid(step_seconds) * step_seconds
        + if timeline.since.timestamp() % step_seconds == 0 {
            0
        } else {
            step_seconds
        };
    let mut tick = DateTime::<Utc>::from_timestamp(first_tick, 0);
    let mut last_day = String::new();
    while let Some(time) = tick.filter(|time| *time <= timeline.until) {
        let x = scale.x(time);
        let day = time_text(time, zone, "%m-%d");
        let label = if day != last_day {
            last_day = day;
            time_text(time, zone, "%m-%d %H:%M")
        } else {
            time_text(time, zone, "%H:%M")
        };
        let _ = write!(
            s,
            r#"<line class="grid" x1="{x:.1}" y1="{AXIS_HEIGHT}" x2="{x:.1}" y2="{height}"/><text class="tick" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            AXIS_HEIGHT - 10.0,
            escape(&label)
        );
        tick = time.checked_add_signed(step);
    }
    if timeline.now > timeline.since && timeline.now < timeline.until {
        let x = scale.x(timeline.now);
        let _ = write!(
            s,
            r#"<line class="now" x1="{x:.1}" y1="{AXIS_HEIGHT}" x2="{x:.1}" y2="{height}"><title>now</title></line>"#
        );
    }

    let mut y = AXIS_HEIGHT;
    for lane in &timeline.lanes {
        // the lane's header: its name, and its service or cluster events as marks
        let name = if multi_region {
            format!("{} · {}", lane.name, lane.region)
        } else {
            lane.name.clone()
        };
        let _ = write!(
            s,
            r#"<g class="lane"><rect class="lane-band" x="0" y="{y}" width="{WIDTH}" height="{LANE_HEIGHT}"/><text class="lane-name" x="8" y="{:.1}">{}</text>"#,
            y + 17.0,
            escape(&name)
        );
        for marker in &lane.markers {
            let x = scale.x(marker.time);
            let cy = y + LANE_HEIGHT / 2.0;
            let class = if marker.failed {
                "mark mark-failed"
            } else {
                "mark"
            };
            let mut title = format!("{} {}", full_time(marker.time, zone), marker.name);
            if let Some(reason) = &marker.reason {
                title.push_str(": ");
                title.push_str(reason);
            }
            let _ = write!(
                s,
                r#"<path class="{class}" d="M{x:.1} {:.1} l5 6 l-5 6 l-5 -6 z"><title>{}</title></path>"#,
                cy - 6.0,
                escape(&title)
            );
        }
        s.push_str("</g>");
        y += LANE_HEIGHT;

        for task in &lane.tasks {
            let label = match &task.definition {
                Some(definition) => {
                    format!("{} · {}", clip(&task.task_id, 32), clip(definition, 14))
                }
                None => clip(&task.task_id, 32),
            };
            let bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2.0;
            let x_created = scale.x(task.created);
            let x_end = scale.x(task.end).max(x_created + MIN_BAR_WIDTH);
            let x_started = task
                .started
                .map(|started| scale.x(started).clamp(x_created, x_end))
                .unwrap_or(x_created);
            let mut title = format!(
                "task {}{}\n{}: {}",
                task.task_id,
                task.definition
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                task.ending.label(),
                task.last_status
            );
            let _ = write!(title, "\ncreated {}", full_time(task.created, zone));
            if let Some(started) = task.started {
                let _ = write!(title, "\nstarted {}", full_time(started, zone));
            }
            if task.ending != Ending::Running {
                let _ = write!(title, "\nstopped {}", full_time(task.end, zone));
            }
            for (label, value) in [
                ("stop code", &task.stop_code),
                ("exit codes", &task.exit_codes),
                ("reason", &task.reason),
            ] {
                if let Some(value) = value {
                    let _ = write!(title, "\n{label}: {value}");
                }
            }
            let title = escape(&title);
            let _ = write!(
                s,
                r#"<g class="task {}"><text class="task-name" x="20" y="{:.1}">{}</text><title>{title}</title>"#,
                task.ending.class(),
                y + 14.0,
                escape(&label),
            );
            if x_started > x_created {
                let _ = write!(
                    s,
                    r#"<rect class="bar starting" x="{x_created:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"/>"#,
                    x_started - x_created,
                    task.ending.colour()
                );
            }
            let _ = write!(
                s,
                r#"<rect class="bar" x="{x_started:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"/></g>"#,
                (x_end - x_started).max(2.0),
                task.ending.colour()
            );
            y += ROW_HEIGHT;
        }
    }
    s.push_str("</svg>");
    s
}

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328; margin: 24px; background: #ffffff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #57606a; margin: 0 0 12px; }
.legend { display: flex; gap: 18px; flex-wrap: wrap; margin: 8px 0 12px; color: #3d444d; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
.swatch.pale { opacity: 0.35; }
.diamond { display: inline-block; width: 9px; height: 9px; transform: rotate(45deg); background: #8c959f; }
.diamond.failed { background: #c92a2a; }
.scroll { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; }
svg.timeline { display: block; font-size: 12px; }
svg .lane-band { fill: #f3f5f7; }
svg .lane-name { font-weight: 600; fill: #1f2328; }
svg .task-name { fill: #3d444d; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px; }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .now { stroke: #6e7781; stroke-width: 1; stroke-dasharray: 4 3; }
svg .tick { fill: #57606a; font-size: 11px; }
svg .bar.starting { opacity: 0.35; }
svg .mark { fill: #8c959f; }
svg .mark-failed { fill: #c92a2a; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #d0d7de; }
th { background: #f3f5f7; font-weight: 600; white-space: nowrap; }
tr.failure { background: FAILURE_ROW; }
td.time, td.region, td.task { white-space: nowrap; }
td.task, td.exit { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
td.code { font-weight: 600; color: #a61e1e; }
td.reason { color: #3d444d; overflow-wrap: anywhere; min-width: 180px; }
td.explain { min-width: 240px; }
.none { color: #57606a; }
footer { margin-top: 24px; color: #57606a; font-size: 12px; }
"#;

/// The whole page.
pub fn render_html<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    let multi_region = timeline.regions.len() > 1;
    let zone_name = match zone {
        Zone::Utc => "UTC",
        Zone::Local(_) => "local time",
    };
    let mut page = String::new();
    let title = format!("ECS timeline: cluster {}", timeline.cluster);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        escape(&title),
        STYLE.replace("FAILURE_ROW", FAILURE_ROW_COLOUR)
    );
    let regions = match timeline.regions.len() {
        1 => format!("region {}", timeline.regions.join(", ")),
        _ => format!("regions {}", timeline.regions.join(", ")),
    };
    let _ = write!(
        page,
        "<h1>{}</h1>\n<p class=\"meta\">{} → {} ({zone_name}) · {} · {}</p>\n",
        escape(&title),
        escape(&full_time(timeline.since, zone)),
        escape(&full_time(timeline.until, zone)),
        escape(&regions),
        escape(&timeline.summary())
    );

    page.push_str("<h2>Tasks over time, per service</h2>\n<div class=\"legend\">");
    for ending in Ending::ALL {
        let _ = write!(
            page,
            r#"<span><i class="swatch" style="background:{}"></i>{}</span>"#,
            ending.colour(),
            escape(ending.label())
        );
    }
    page.push_str(
        r#"<span><i class="swatch pale" style="background:#6e7781"></i>pale: before startedAt (provisioning, pulling)</span><span><i class="diamond"></i>service event</span><span><i class="diamond failed"></i>service failure</span></div>"#,
    );
    page.push('\n');
    if timeline.lanes.is_empty() {
        page.push_str("<p class=\"none\">No events of this cluster in the window.</p>\n");
    } else {
        page.push_str("<div class=\"scroll\">");
        page.push_str(&svg(timeline, zone));
        page.push_str("</div>\n");
    }

    let _ = writeln!(page, "<h2>Failures ({})</h2>", timeline.failures.len());
    if timeline.failures.is_empty() {
        page.push_str("<p class=\"none\">No failures in the window.</p>\n");
    } else {
        page.push_str("<table class=\"failures\">\n<thead><tr><th>Time</th>");
        if multi_region {
            page.push_str("<th>Region</th>");
        }
        page.push_str("<th>Service</th><th>Task</th><th>Stop code / event</th><th>Exit codes</th><th>Reason</th><th>What it means</th></tr></thead>\n<tbody>\n");
        for failure in &timeline.failures {
            let _ = write!(
                page,
                "<tr class=\"failure\"><td class=\"time\">{}</td>",
                escape(&output::show_time(&failure.time, zone))
            );
            if multi_region {
                let _ = write!(
                    page,
                    "<td class=\"region\">{}</td>",
                    escape(&failure.region)
                );
            }
            let _ = writeln!(
                page,
                "<td class=\"service\">{}</td><td class=\"task\" title=\"{}\">{}</td><td class=\"code\">{}</td><td class=\"exit\">{}</td><td class=\"reason\">{}</td><td class=\"explain\">{}</td></tr>",
                escape(&failure.service),
                escape(&failure.task),
                escape(short_id(&failure.task)),
                // long event names may break after an underscore
                escape(&failure.code).replace('_', "_<wbr>"),
                escape(&failure.exit_codes),
                escape(&failure.reason),
                escape(&failure.explanation)
            );
        }
        page.push_str("</tbody>\n</table>\n");
    }
    let _ = write!(
        page,
        "<footer>Written by ecs-audit at {} from the ecs-state-logger table. Hover a bar or a mark for its times and reasons.</footer>\n</body>\n</html>\n",
        escape(&full_time(timeline.now, zone))
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_state_logger::record::{ContainerRecord, format_time, version_key};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ago(minutes: i64) -> String {
        format_time(now() - Duration::minutes(minutes))
    }

    fn task(
        id: &str,
        service: &str,
        version: u64,
        status: &str,
        minutes: i64,
        edit: impl FnOnce(&mut AuditRecord),
    ) -> Found {
        let mut record = AuditRecord {
            resource_arn: format!("arn:aws:ecs:xx-test-1:1:task/prod/{id}"),
            event_key: version_key(version),
            detail_type: "ECS Task State Change".into(),
            event_time: ago(minutes),
            cluster: Some("prod".into()),
            service: Some(service.into()),
            group: Some(format!("service:{service}")),
            task_definition: Some(format!("{service}:7")),
            last_status: Some(status.into()),
            version: Some(version),
            created_at: Some(ago(300)),
            ..AuditRecord::default()
        };
        if status == "STOPPED" {
            record.stopped_at = Some(record.event_time.clone());
        }
        edit(&mut record);
        record.failure = ecs_state_logger::record::classify_failure(&record);
        if record.failure.is_some() {
            record.failed_at = Some(record.event_time.clone());
        }
        Found {
            region: "xx-test-1".into(),
            record,
        }
    }

    fn service_event(name: &str, kind: &str, minutes: i64, reason: &str) -> Found {
        let mut record = AuditRecord {
            resource_arn: "arn:aws:ecs:xx-test-1:1:service/prod/web".into(),
            event_key: format!("{}#abc", ago(minutes)),
            detail_type: "ECS Service Action".into(),
            event_time: ago(minutes),
            cluster: Some("prod".into()),
            service: Some("web".into()),
            event_type: Some(kind.into()),
            event_name: Some(name.into()),
            reason: Some(reason.into()),
            ..AuditRecord::default()
        };
        record.failure = ecs_state_logger::record::classify_failure(&record);
        record.failed_at = record.failure.as_ref().map(|_| record.event_time.clone());
        Found {
            region: "xx-test-1".into(),
            record,
        }
    }

    fn scenario() -> Vec<Found> {
        vec![
            // OOM: v3 STOPPED arrives before v2 RUNNING, and twice
            task("oom00000000", "web", 3, "STOPPED", 60, |r| {
                r.started_at = Some(ago(280));
                r.stop_code = Some("EssentialContainerExited".into());
                r.stopped_reason = Some("Essential container in task exited".into());
                r.exit_codes = Some("app=137".into());
                r.containers = Some(vec![ContainerRecord {
                    name: Some("app".into()),
                    exit_code: Some(137),
                    reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
                    ..ContainerRecord::default()
                }]);
            }),
            task("oom00000000", "web", 2, "RUNNING", 280, |r| {
                r.started_at = Some(ago(280));
            }),
            task("oom00000000", "web", 3, "STOPPED", 60, |r| {
                r.started_at = Some(ago(280));
                r.stop_code = Some("EssentialContainerExited".into());
                r.exit_codes = Some("app=137".into());
                r.containers = Some(vec![ContainerRecord {
                    name: Some("app".into()),
                    exit_code: Some(137),
                    reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
                    ..ContainerRecord::default()
                }]);
            }),
            task("spot0000000", "worker", 4, "STOPPED", 30, |r| {
                r.started_at = Some(ago(290));
                r.stop_code = Some("SpotInterruption".into());
                r.stopped_reason = Some("Your Spot Task was interrupted.".into());
            }),
            task("pull0000000", "web", 2, "STOPPED", 100, |r| {
                r.created_at = Some(ago(110));
                r.stop_code = Some("TaskFailedToStart".into());
                r.stopped_reason = Some(
                    "CannotPullContainerError: <script>alert('x')</script> & \"quoted\"".into(),
                );
            }),
            task("done0000000", "web", 4, "STOPPED", 200, |r| {
                r.started_at = Some(ago(295));
                r.stop_code = Some("ServiceSchedulerInitiated".into());
            }),
            task("live0000000", "worker", 3, "RUNNING", 20, |r| {
                r.created_at = Some(ago(25));
                r.started_at = Some(ago(24));
            }),
            service_event(
                "SERVICE_TASK_PLACEMENT_FAILURE",
                "ERROR",
                90,
                "RESOURCE:MEMORY",
            ),
            service_event("SERVICE_STEADY_STATE", "INFO", 10, "steady"),
        ]
    }

    fn timeline() -> Timeline {
        build(
            &scenario(),
            "prod",
            &["xx-test-1".to_string()],
            now() - Duration::hours(6),
            now(),
            now(),
        )
    }

    #[test]
    fn tasks_become_one_bar_each_per_service_coloured_by_how_they_ended() {
        let timeline = timeline();
        let names: Vec<&str> = timeline.lanes.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["web", "worker"]);
        let web = &timeline.lanes[0];
        let endings: Vec<(&str, Ending)> = web
            .tasks
            .iter()
            .map(|t| (t.task_id.as_str(), t.ending))
            .collect();
        assert_eq!(
            endings,
            [
                ("done0000000", Ending::Ok),
                ("oom00000000", Ending::Failed),
                ("pull0000000", Ending::Failed),
            ]
        );
        let oom = &web.tasks[1];
        assert_eq!(oom.started.map(format_time), Some(ago(280)));
        assert_eq!(format_time(oom.end), ago(60));
        assert_eq!(oom.exit_codes.as_deref(), Some("app=137"));
        let worker = &timeline.lanes[1];
        assert_eq!(worker.tasks[0].ending, Ending::Interrupted);
        assert_eq!(worker.tasks[1].ending, Ending::Running);
        assert_eq!(worker.tasks[1].end, now());
        assert_eq!(web.markers.len(), 2);
        assert!(web.markers[0].failed);
        assert_eq!(
            timeline.summary(),
            "5 tasks (1 stopped normally, 2 failed, 1 Spot-interrupted / terminated, 1 still running), 4 failures"
        );
    }

    #[test]
    fn failures_are_listed_once_in_time_order_and_explained() {
        let timeline = timeline();
        let codes: Vec<&str> = timeline.failures.iter().map(|f| f.code.as_str()).collect();
        // the duplicate OOM delivery counts once
        assert_eq!(
            codes,
            [
                "TaskFailedToStart",
                "SERVICE_TASK_PLACEMENT_FAILURE",
                "EssentialContainerExited",
                "SpotInterruption"
            ]
        );
        assert!(
            timeline.failures[0]
                .explanation
                .contains("image could not be pulled")
        );
        assert!(timeline.failures[1].explanation.contains("memory"));
        assert!(
            timeline.failures[2]
                .explanation
                .starts_with("Out of memory"),
            "{}",
            timeline.failures[2].explanation
        );
        assert!(timeline.failures[2].explanation.contains("exit 137"));
        assert!(timeline.failures[3].explanation.contains("Spot capacity"));
        assert_eq!(timeline.failures[2].task, "oom00000000");
        assert_eq!(timeline.failures[1].task, "-");
    }

    #[test]
    fn every_stop_code_has_its_own_explanation() {
        let explain_code = |failure: &str, event_type: Option<&str>, reason: &str| {
            explain(&AuditRecord {
                failure: Some(failure.into()),
                event_type: event_type.map(str::to_string),
                reason: Some(reason.into()),
                ..AuditRecord::default()
            })
        };
        let fargate = explain_code("SERVICE_TASK_PLACEMENT_FAILURE", None, "RESOURCE:FARGATE");
        assert!(fargate.contains("No Fargate capacity"), "{fargate}");
        assert!(
            explain_code("SERVICE_DEPLOYMENT_FAILED", None, "circuit breaker").contains("rollback")
        );
        assert!(explain_code("TerminationNotice", None, "").contains("retired"));
        let fallback = explain_code("SOMETHING_NEW", None, "");
        for (_, label) in ecs_state_logger::record::HEALTH_CHECK_REASONS {
            let explanation = explain_code(label, None, "");
            assert!(
                explanation.contains("health check"),
                "{label}: {explanation}"
            );
            assert_ne!(explanation, fallback);
        }
        assert!(
            explain_code("SERVICE_SOMETHING_NEW", Some("ERROR"), "")
                .contains("scheduler reported an error")
        );
        let exit_one = explain(&AuditRecord {
            failure: Some("EssentialContainerExited".into()),
            containers: Some(vec![ContainerRecord {
                name: Some("api".into()),
                exit_code: Some(1),
                ..ContainerRecord::default()
            }]),
            ..AuditRecord::default()
        });
        assert!(exit_one.contains("api exited with code 1"), "{exit_one}");
    }

    #[test]
    fn the_page_is_self_contained_and_escapes_what_the_table_says() {
        let page = render_html(&timeline(), &Zone::<Utc>::Utc);
        assert!(page.starts_with("<!DOCTYPE html>"));
        // no external assets, no script
        assert!(!page.contains("src="), "{page}");
        assert!(!page.contains("<link"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("url("));
        // untrusted text is escaped, in text and in attributes
        assert!(
            page.contains(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"
            )
        );
        // bars in each colour, a row per failure
        for ending in Ending::ALL {
            let bar = format!(r#"fill="{}"/></g>"#, ending.colour());
            assert!(page.contains(&bar), "no {ending:?} bar");
        }
        assert_eq!(page.matches("<tr class=\"failure\">").count(), 4);
        assert!(page.contains("Out of memory"));
        assert!(page.contains("<h2>Failures (4)</h2>"));
        assert!(page.contains("11-20 06:00"), "the first tick names the day");
    }

    #[test]
    fn an_empty_window_says_so() {
        let timeline = build(&[], "prod", &["xx-test-1".into()], now(), now(), now());
        let page = render_html(&timeline, &Zone::<Utc>::Utc);
        assert!(page.contains("No events of this cluster in the window."));
        assert!(page.contains("No failures in the window."));
        assert_eq!(timeline.summary(), "0 tasks, 0 failures");
    }

    #[test]
    fn a_container_reason_that_repeats_the_stop_reason_is_shown_once() {
        let record = AuditRecord {
            stopped_reason: Some("CannotPullContainerError: not found".into()),
            containers: Some(vec![
                ContainerRecord {
                    name: Some("app".into()),
                    reason: Some("CannotPullContainerError: not found".into()),
                    ..ContainerRecord::default()
                },
                ContainerRecord {
                    name: Some("sidecar".into()),
                    reason: Some("OutOfMemoryError:\nkilled".into()),
                    ..ContainerRecord::default()
                },
            ]),
            ..AuditRecord::default()
        };
        assert_eq!(
            reason(&record),
            "CannotPullContainerError: not found; sidecar: OutOfMemoryError: killed"
        );
        assert_eq!(reason(&AuditRecord::default()), "");
    }

    #[test]
    fn escape_handles_every_special_character() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{7}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; "
        );
    }

    #[test]
    fn ticks_stay_few() {
        assert_eq!(tick_step(Duration::hours(24)), Duration::hours(2));
        assert_eq!(tick_step(Duration::hours(2)), Duration::minutes(10));
        assert_eq!(tick_step(Duration::days(7)), Duration::days(1));
    }
}
