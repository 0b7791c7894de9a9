//! One task run's events folded into what its bar needs, kept only while the run may still
//! get events (the builder lets it go once the stream has passed its start). Its texts are
//! shared ([`Texts`]): a day's runs repeat a few of them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ecs_audit_core::explain::reason;
use ecs_audit_core::record::AuditRecord;

use super::compact::{TaskKey, Texts};
use super::{Ending, TaskBar, parse_time};

/// What a task's latest event says (the one with the highest version, then the latest
/// time).
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

/// One task's events so far. Any one event of a run is enough to draw it (a STOPPED event
/// carries `createdAt`, `startedAt` and `stoppedAt`); more refine it.
#[derive(Debug, Clone)]
pub(super) struct TaskSoFar {
    first_seen: Option<DateTime<Utc>>,
    created: Option<DateTime<Utc>>,
    started: Option<DateTime<Utc>>,
    last: Last,
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

    pub(super) fn new(record: &AuditRecord, texts: &mut Texts) -> Self {
        Self {
            first_seen: parse_time(Some(&record.event_time)),
            created: parse_time(record.created_at.as_deref()),
            started: parse_time(record.started_at.as_deref()),
            last: Self::last_of(record, texts),
        }
    }

    pub(super) fn add(&mut self, record: &AuditRecord, texts: &mut Texts) {
        self.first_seen = earliest(self.first_seen, parse_time(Some(&record.event_time)));
        self.created = earliest(self.created, parse_time(record.created_at.as_deref()));
        self.started = earliest(self.started, parse_time(record.started_at.as_deref()));
        if order_of(record) > self.last.order {
            self.last = Self::last_of(record, texts);
        }
    }

    /// Where the bar begins: `createdAt`, or the first event seen. Only ever moves earlier.
    pub(super) fn start(&self) -> Option<DateTime<Utc>> {
        self.created.or(self.first_seen)
    }

    /// The bar of the task `key`; `now` ends a running task's. `None` without a readable time.
    pub(super) fn bar(
        self,
        key: &TaskKey,
        region: &Arc<str>,
        now: DateTime<Utc>,
    ) -> Option<TaskBar> {
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
