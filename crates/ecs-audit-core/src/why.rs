//! Why a task ended, assembled from the records the table holds: its lifecycle, how it ended
//! in words ([`crate::explain`]), its containers' images, the deployment that started it, what
//! its service did around the stop, and how many others ended the same way. Pure: [`plan`]
//! says what to read around the task's own history, the reader asks the table for it, and
//! [`assemble`] makes the answer from what came back.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::episode::{Episode, Subject};
use crate::event::{DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION};
use crate::explain::{explain, reason};
use crate::record::AuditRecord;
use crate::text::format_time;

/// How far either side of the stop the service's actions and the tasks that ended the same
/// way are read, unless asked otherwise.
pub const DEFAULT_WINDOW_MINUTES: i64 = 60;
/// How far either side of a task's creation its deployment's events are read: a deployment
/// starts minutes before its first tasks and, as a rule, completes, fails or is rolled back
/// within hours of them.
pub const DEPLOYMENT_WINDOW_HOURS: i64 = 24;
/// A service task's `startedBy` is its deployment's id, `ecs-svc/<n>`.
pub const DEPLOYMENT_ID_PREFIX: &str = "ecs-svc/";
/// The reason of the deployment event that starts a circuit breaker's rollback, as ECS words
/// it: "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/…".
pub const ROLLBACK_REASON: &str = "rolling back to deploymentId";

const STOPPED: &str = "STOPPED";
const ESSENTIAL_EXITED: &str = "EssentialContainerExited";

/// A time range, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Span {
    fn around(at: DateTime<Utc>, margin: Duration) -> Self {
        Span {
            from: at - margin,
            to: at + margin,
        }
    }

    fn contains(&self, time: &str) -> bool {
        parse_time(time).is_some_and(|time| self.from <= time && time <= self.to)
    }

    fn window(&self) -> Window {
        Window {
            from: format_time(self.from),
            to: format_time(self.to),
        }
    }
}

/// Whose tasks "the same way" counts: the task's service, or its family when it ran alone;
/// within its cluster either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `key` is the `serviceKey`, `<cluster>/<service>`.
    Service {
        cluster: String,
        service: String,
        key: String,
    },
    Family {
        cluster: String,
        family: String,
    },
}

impl Scope {
    fn describe(&self) -> String {
        match self {
            Scope::Service { key, .. } => format!("service {key}"),
            Scope::Family { cluster, family } => {
                format!("standalone tasks of family {family} in cluster {cluster}")
            }
        }
    }

    fn holds(&self, record: &AuditRecord) -> bool {
        match self {
            Scope::Service { key, .. } => record.service_key.as_deref() == Some(key),
            Scope::Family { cluster, family } => {
                record.service_key.is_none()
                    && record.family.as_deref() == Some(family)
                    && record.cluster.as_deref() == Some(cluster)
            }
        }
    }
}

/// The other tasks to read: those of `scope` that stopped within `span`. A failure is read
/// from the failures index by its `failure` code, any other ending by its stop code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SameWayAsk {
    pub scope: Scope,
    pub span: Span,
    /// The task's family: the key of the stopped-runs index.
    pub family: Option<String>,
    pub failure: Option<String>,
    pub stop_code: Option<String>,
    /// What "the same way" means for this task ([`ending_kind`]).
    pub kind: String,
}

/// What to read besides the task's history, decided from that history.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub task_arn: String,
    /// The service's ARN: the partition of its actions and deployment events.
    pub service_arn: Option<String>,
    /// The deployment id and the span its events are read in.
    pub deployment: Option<(String, Span)>,
    /// The span around the stop the service's actions are read in.
    pub around_stop: Option<Span>,
    pub same_way: Option<SameWayAsk>,
    /// Whose crash loops to read (the cluster's episodes partition), and the span they must
    /// overlap.
    pub crash_loops: Option<(Subject, Span)>,
    /// What the answer cannot show, and why (a running task has no stop to look around).
    pub notes: Vec<String>,
}

/// The answer to "why did this task end?", the same for every reader (table, JSON, MCP).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhyAnswer {
    pub task_arn: String,
    pub region: Option<String>,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub family: Option<String>,
    pub task_definition: Option<String>,
    pub group: Option<String>,
    pub started_by: Option<String>,
    pub launch_type: Option<String>,
    pub capacity_provider: Option<String>,
    pub last_status: Option<String>,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub stopping_at: Option<String>,
    pub stopped_at: Option<String>,
    /// Every recorded version, in order.
    pub lifecycle: Vec<Step>,
    pub ending: Ending,
    pub containers: Vec<ContainerImage>,
    /// The deployment that started the task (service tasks only).
    pub deployment: Option<DeploymentPart>,
    /// What the service did around the stop (stopped service tasks only).
    pub around_stop: Option<AroundStop>,
    /// Other tasks of the service (or family) that ended the same way around the stop.
    pub same_way: Option<SameWay>,
    /// The service's (or standalone family's) crash loops going on within the window around
    /// the stop (or the last event, for a running task): is it still happening? One without
    /// `endedAt` still is. Absent when the task has no service or family.
    pub crash_loop_episodes: Option<Vec<Episode>>,
    /// Why a part is absent.
    pub notes: Vec<String>,
    /// DynamoDB Query pages this answer read (the cost of a `why`).
    pub queries: usize,
}

/// One recorded version of the task.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub time: String,
    pub version: Option<u64>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
}

/// How the task ended, in ECS's codes and in words.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ending {
    pub stopped: bool,
    pub stop_code: Option<String>,
    /// The failure code when the stop is a failure ([`crate::failure`]); absent otherwise.
    pub failure: Option<String>,
    /// What "the same way" compares: the failure or stop code and, for an exited essential
    /// container, the non-zero exit codes.
    pub kind: Option<String>,
    pub explanation: String,
    /// The stop reason and each container's own, once each.
    pub reason: String,
}

/// A container of the task as last recorded.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerImage {
    pub name: Option<String>,
    pub image: Option<String>,
    pub image_digest: Option<String>,
    pub last_status: Option<String>,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: String,
    pub to: String,
}

/// Where a deployment ended up, as its recorded events say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    InProgress,
    Completed,
    Failed,
    /// Failed, and the circuit breaker started a rollback.
    RolledBack,
    /// No event of the deployment in the window read.
    NoEvents,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentPart {
    pub id: String,
    pub outcome: Outcome,
    pub window: Window,
    /// Its events in time order, and the rollback that followed its failure.
    pub events: Vec<ServiceEvent>,
}

/// A deployment event or service action.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEvent {
    pub time: String,
    pub event_name: Option<String>,
    pub event_type: Option<String>,
    pub deployment_id: Option<String>,
    pub reason: Option<String>,
    /// For failures: what it means ([`crate::explain`]).
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AroundStop {
    pub window: Window,
    pub actions: Vec<ServiceEvent>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SameWay {
    pub scope: String,
    pub kind: String,
    pub window: Window,
    /// Other tasks, this one not counted.
    pub count: usize,
    pub first: Option<Sighting>,
    pub last: Option<Sighting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sighting {
    pub task_arn: String,
    pub stopped_at: String,
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// When a run stopped: its `stoppedAt`, else the time of its STOPPED event.
fn stop_time(record: &AuditRecord) -> &str {
    record.stopped_at.as_deref().unwrap_or(&record.event_time)
}

/// What "ended the same way" compares for a stopped task: its failure code (or its stop code
/// when it is no failure), and for an exited essential container the non-zero exit codes of
/// its containers (`app=137`): an out-of-memory kill and an exit 1 are different endings.
/// `None` while the task has not stopped.
pub fn ending_kind(record: &AuditRecord) -> Option<String> {
    if record.last_status.as_deref() != Some(STOPPED) {
        return None;
    }
    let code = record
        .failure
        .as_deref()
        .or(record.stop_code.as_deref())
        .unwrap_or(STOPPED);
    if code != ESSENTIAL_EXITED {
        return Some(code.to_string());
    }
    let mut exits: Vec<&str> = record
        .exit_codes
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .filter(|pair| !pair.ends_with("=0"))
        .collect();
    exits.sort_unstable();
    Some(
        std::iter::once(code)
            .chain(exits)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The task's last record: the highest version (the history comes in key order).
fn last_of(history: &[AuditRecord]) -> Option<&AuditRecord> {
    history
        .iter()
        .filter(|record| record.task_id().is_some())
        .max_by(|a, b| {
            a.version
                .cmp(&b.version)
                .then(a.event_key.cmp(&b.event_key))
        })
}

/// The newest value of a field across the history.
fn newest<'a>(
    history: &'a [AuditRecord],
    field: impl Fn(&'a AuditRecord) -> Option<&'a str>,
) -> Option<String> {
    let mut ordered: Vec<&AuditRecord> = history.iter().collect();
    ordered.sort_by(|a, b| {
        a.version
            .cmp(&b.version)
            .then(a.event_key.cmp(&b.event_key))
    });
    ordered.into_iter().rev().find_map(field).map(str::to_owned)
}

/// `arn:<partition>:ecs:<region>:<account>:service/<cluster>/<service>` for a task of that
/// service: where its actions and deployment events are kept.
fn service_arn(task_arn: &str, cluster: &str, service: &str) -> Option<String> {
    let parts: Vec<&str> = task_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "ecs", region, account, _] => Some(format!(
            "arn:{partition}:ecs:{region}:{account}:service/{cluster}/{service}"
        )),
        _ => None,
    }
}

/// What to read besides the history: `None` when the history holds no task event.
/// `window` is how far either side of the stop to look.
pub fn plan(history: &[AuditRecord], window: Duration) -> Option<Plan> {
    let last = last_of(history)?;
    let task_arn = last.resource_arn.clone();
    let cluster = newest(history, AuditRecord::cluster_name);
    let service = newest(history, |r| r.service.as_deref());
    let family = newest(history, |r| r.family.as_deref());
    let started_by = newest(history, |r| r.started_by.as_deref());
    let mut notes = Vec::new();

    let service_arn = match (&cluster, &service) {
        (Some(cluster), Some(service)) => service_arn(&task_arn, cluster, service),
        _ => None,
    };
    let created = newest(history, |r| r.created_at.as_deref())
        .or_else(|| history.iter().map(|r| r.event_time.clone()).min())
        .and_then(|text| parse_time(&text));
    let deployment = match (&started_by, &service_arn, created) {
        (Some(id), Some(_), Some(created)) if id.starts_with(DEPLOYMENT_ID_PREFIX) => Some((
            id.clone(),
            Span::around(created, Duration::hours(DEPLOYMENT_WINDOW_HOURS)),
        )),
        (Some(other), _, _) if !other.starts_with(DEPLOYMENT_ID_PREFIX) => {
            notes.push(format!(
                "started by {other:?}, not by a service deployment (ecs-svc/…): no deployment to show"
            ));
            None
        }
        (None, _, _) => {
            notes.push("the task's events name no startedBy: no deployment to show".into());
            None
        }
        _ => None,
    };

    let stopped = last.last_status.as_deref() == Some(STOPPED);
    let stop = parse_time(stop_time(last)).filter(|_| stopped);
    let around_stop = match (stop, &service_arn) {
        (Some(stop), Some(_)) => Some(Span::around(stop, window)),
        _ => None,
    };
    let scope = match (cluster, service, family.clone()) {
        (Some(cluster), Some(service), _) => Some(Scope::Service {
            key: format!("{cluster}/{service}"),
            cluster,
            service,
        }),
        (Some(cluster), None, Some(family)) => Some(Scope::Family { cluster, family }),
        _ => None,
    };
    // An ending that is no failure is read from the family's stopped runs: without a family
    // there is nothing to read.
    let readable = last.failure.is_some() || family.is_some();
    let same_way = match (stop, scope, ending_kind(last)) {
        (Some(stop), Some(scope), Some(kind)) if readable => Some(SameWayAsk {
            scope,
            span: Span::around(stop, window),
            family,
            failure: last.failure.clone(),
            stop_code: last.stop_code.clone(),
            kind,
        }),
        _ => None,
    };
    let crash_loops = Subject::of(last).zip(
        stop.or_else(|| parse_time(&last.event_time))
            .map(|at| Span::around(at, window)),
    );
    if stop.is_none() {
        notes.push(format!(
            "the task has not stopped (last recorded status {}): nothing around a stop to show",
            last.last_status.as_deref().unwrap_or("unknown")
        ));
    }
    Some(Plan {
        task_arn,
        service_arn,
        deployment,
        around_stop,
        same_way,
        crash_loops,
        notes,
    })
}

fn service_event(record: &AuditRecord) -> ServiceEvent {
    ServiceEvent {
        time: record.event_time.clone(),
        event_name: record.event_name.clone(),
        event_type: record.event_type.clone(),
        deployment_id: record.deployment_id.clone(),
        reason: record.reason.clone(),
        explanation: record.failure.as_ref().map(|_| explain(record)),
    }
}

/// The deployment's events and where it ended up; `records` are the service's deployment
/// events the reader found (its own, and rollbacks).
fn deployment_part(id: &str, span: &Span, records: &[AuditRecord]) -> DeploymentPart {
    let mut own: Vec<&AuditRecord> = records
        .iter()
        .filter(|r| r.detail_type == DEPLOYMENT_STATE_CHANGE)
        .filter(|r| r.deployment_id.as_deref() == Some(id) && span.contains(&r.event_time))
        .collect();
    own.sort_by(|a, b| a.event_time.cmp(&b.event_time));
    own.dedup_by(|a, b| a.event_key == b.event_key);
    let failed_at = own
        .iter()
        .find(|r| r.event_name.as_deref() == Some("SERVICE_DEPLOYMENT_FAILED"))
        .map(|r| r.event_time.clone());
    // The rollback is another deployment: the first one ECS started "rolling back" once this
    // one had failed.
    let rollback = failed_at.as_ref().and_then(|failed_at| {
        records
            .iter()
            .filter(|r| r.detail_type == DEPLOYMENT_STATE_CHANGE)
            .filter(|r| r.deployment_id.as_deref() != Some(id))
            .filter(|r| &r.event_time >= failed_at && span.contains(&r.event_time))
            .filter(|r| {
                r.reason
                    .as_deref()
                    .is_some_and(|t| t.contains(ROLLBACK_REASON))
            })
            .min_by(|a, b| a.event_time.cmp(&b.event_time))
    });
    let outcome = match own.last().and_then(|r| r.event_name.as_deref()) {
        None => Outcome::NoEvents,
        Some("SERVICE_DEPLOYMENT_COMPLETED") => Outcome::Completed,
        _ if failed_at.is_some() && rollback.is_some() => Outcome::RolledBack,
        _ if failed_at.is_some() => Outcome::Failed,
        Some(_) => Outcome::InProgress,
    };
    DeploymentPart {
        id: id.to_string(),
        outcome,
        window: span.window(),
        events: own.into_iter().chain(rollback).map(service_event).collect(),
    }
}

fn around_stop(span: &Span, records: &[AuditRecord]) -> AroundStop {
    let mut actions: Vec<&AuditRecord> = records
        .iter()
        .filter(|r| r.detail_type == SERVICE_ACTION && span.contains(&r.event_time))
        .collect();
    actions.sort_by(|a, b| a.event_time.cmp(&b.event_time));
    actions.dedup_by(|a, b| a.event_key == b.event_key && a.resource_arn == b.resource_arn);
    AroundStop {
        window: span.window(),
        actions: actions.into_iter().map(service_event).collect(),
    }
}

fn same_way(task_arn: &str, ask: &SameWayAsk, records: &[AuditRecord]) -> SameWay {
    // One run per task: the STOPPED record, counted once whatever number of copies came back.
    let mut runs: BTreeMap<&str, &str> = BTreeMap::new();
    for record in records {
        let same = record.task_id().is_some()
            && record.resource_arn != task_arn
            && ask.scope.holds(record)
            && span_holds_stop(&ask.span, record)
            && ending_kind(record).as_deref() == Some(ask.kind.as_str());
        if same {
            runs.insert(&record.resource_arn, stop_time(record));
        }
    }
    let mut sightings: Vec<Sighting> = runs
        .into_iter()
        .map(|(arn, at)| Sighting {
            task_arn: arn.to_string(),
            stopped_at: at.to_string(),
        })
        .collect();
    sightings.sort_by(|a, b| (&a.stopped_at, &a.task_arn).cmp(&(&b.stopped_at, &b.task_arn)));
    SameWay {
        scope: ask.scope.describe(),
        kind: ask.kind.clone(),
        window: ask.span.window(),
        count: sightings.len(),
        first: sightings.first().cloned(),
        last: sightings.last().cloned(),
    }
}

fn span_holds_stop(span: &Span, record: &AuditRecord) -> bool {
    span.contains(stop_time(record))
}

/// What the reader found for each part of a [`Plan`].
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub deployment_events: Vec<AuditRecord>,
    pub service_actions: Vec<AuditRecord>,
    pub same_way_candidates: Vec<AuditRecord>,
    /// The cluster's crash-loop episodes (the plan's subject's are picked from them).
    pub crash_loop_episodes: Vec<Episode>,
    pub queries: usize,
}

/// The answer, from the task's history, the plan made from it and what was read for it.
pub fn assemble(history: &[AuditRecord], plan: &Plan, found: &Found) -> Option<WhyAnswer> {
    let last = last_of(history)?;
    let mut steps: Vec<&AuditRecord> = history.iter().filter(|r| r.task_id().is_some()).collect();
    steps.sort_by(|a, b| {
        a.version
            .cmp(&b.version)
            .then(a.event_key.cmp(&b.event_key))
    });
    let stopped = last.last_status.as_deref() == Some(STOPPED);
    let explanation = if stopped {
        explain(last)
    } else {
        format!(
            "The task has not stopped: its last recorded status is {} (at {}).",
            last.last_status.as_deref().unwrap_or("unknown"),
            last.event_time
        )
    };
    Some(WhyAnswer {
        task_arn: plan.task_arn.clone(),
        region: newest(history, AuditRecord::source_region),
        cluster: newest(history, AuditRecord::cluster_name),
        service: newest(history, |r| r.service.as_deref()),
        family: newest(history, |r| r.family.as_deref()),
        task_definition: newest(history, |r| r.task_definition.as_deref()),
        group: newest(history, |r| r.group.as_deref())
            .or_else(|| history.iter().find_map(AuditRecord::task_group)),
        started_by: newest(history, |r| r.started_by.as_deref()),
        launch_type: newest(history, |r| r.launch_type.as_deref()),
        capacity_provider: newest(history, |r| r.capacity_provider.as_deref()),
        last_status: last.last_status.clone(),
        created_at: newest(history, |r| r.created_at.as_deref()),
        started_at: newest(history, |r| r.started_at.as_deref()),
        stopping_at: newest(history, |r| r.stopping_at.as_deref()),
        stopped_at: last.stopped_at.clone(),
        lifecycle: steps
            .iter()
            .map(|r| Step {
                time: r.event_time.clone(),
                version: r.version,
                last_status: r.last_status.clone(),
                desired_status: r.desired_status.clone(),
            })
            .collect(),
        ending: Ending {
            stopped,
            stop_code: last.stop_code.clone(),
            failure: last.failure.clone(),
            kind: ending_kind(last),
            explanation,
            reason: reason(last),
        },
        containers: containers(&steps),
        deployment: plan
            .deployment
            .as_ref()
            .map(|(id, span)| deployment_part(id, span, &found.deployment_events)),
        around_stop: plan
            .around_stop
            .as_ref()
            .map(|span| around_stop(span, &found.service_actions)),
        same_way: plan
            .same_way
            .as_ref()
            .map(|ask| same_way(&plan.task_arn, ask, &found.same_way_candidates)),
        crash_loop_episodes: plan.crash_loops.as_ref().map(|(subject, span)| {
            let (from, to) = (format_time(span.from), format_time(span.to));
            found
                .crash_loop_episodes
                .iter()
                .filter(|episode| &episode.subject == subject && episode.overlaps(&from, &to))
                .cloned()
                .collect()
        }),
        notes: plan.notes.clone(),
        queries: found.queries,
    })
}

/// Each container as last recorded, a field kept from an earlier event when a later one
/// leaves it out (a STOPPED event may not repeat the digest).
fn containers(steps: &[&AuditRecord]) -> Vec<ContainerImage> {
    let mut by_name: Vec<ContainerImage> = Vec::new();
    let with_record = steps.iter().copied().flat_map(|record| {
        record
            .containers
            .iter()
            .flatten()
            .map(move |container| (record, container))
    });
    for (record, container) in with_record {
        // A container's image may be stored once for the whole task (`record.image`).
        let image = record.container_image(container).map(str::to_owned);
        let position = by_name.iter().position(|c| c.name == container.name);
        let entry = match position {
            Some(position) => &mut by_name[position],
            None => {
                by_name.push(ContainerImage {
                    name: container.name.clone(),
                    image: None,
                    image_digest: None,
                    last_status: None,
                    exit_code: None,
                    reason: None,
                });
                let end = by_name.len() - 1;
                &mut by_name[end]
            }
        };
        let keep = |old: &mut Option<String>, new: &Option<String>| {
            if new.is_some() {
                old.clone_from(new);
            }
        };
        keep(&mut entry.image, &image);
        keep(&mut entry.image_digest, &container.image_digest);
        keep(&mut entry.last_status, &container.last_status);
        keep(&mut entry.reason, &container.reason);
        if container.exit_code.is_some() {
            entry.exit_code = container.exit_code;
        }
    }
    by_name
}

#[cfg(test)]
#[path = "why_tests.rs"]
mod tests;
