//! The failure rule, in one place: which events are failures worth an investigation, the
//! code each gets (its `failure` attribute, the `cluster-failures` index key) and its
//! [`FailureKind`]. What each means in words is in [`crate::explain`]; `docs/failure-rule.md`
//! is rendered from the tables below ([`table::markdown`]) and a test keeps it so.
//!
//! The principle: a run is a failure only if ECS or the task's own containers say so.
//! - A task is judged once, on its `STOPPED` event (the earlier events repeat the stop).
//! - ECS says so with a failed attachment (an EBS volume that could not attach), a failure
//!   stop code ([`STOP_CODES`]), a failed health check in the stop reason
//!   ([`HEALTH_CHECK_REASONS`]), or a failure event of the scheduler ([`FAILURE_EVENTS`], and
//!   any other `ERROR` event).
//! - The containers say so when one exits non-zero *on its own*. The event has no `essential`
//!   flag, so the rule reads what it has: once an essential container exits, ECS stops the
//!   others with SIGTERM (exit 143) and, after the stop timeout, SIGKILL (137 without an
//!   out-of-memory reason). Those exits are the stop's consequence, not its cause
//!   ([`is_stop_signal`]); only when every exit is such a signal was the essential container
//!   itself signalled, and then the signal is the cause ([`culprit`]).

use crate::record::{AuditRecord, ContainerRecord};

mod kind;
pub mod table;

pub use kind::FailureKind;

/// Stopped reasons of tasks the service scheduler replaced for failing health checks, and the
/// failure label each gets. ECS codes these stops `ServiceSchedulerInitiated`, like a
/// scale-in; only the reason, worded as AWS documents it, tells them apart.
pub const HEALTH_CHECK_REASONS: &[(&str, &str)] = &[
    ("Task failed ELB health checks", "TaskFailedElbHealthChecks"),
    (
        "Task failed container health checks",
        "TaskFailedContainerHealthChecks",
    ),
];

/// The failure label of a task whose attachment (an EBS volume) ECS reports `FAILED` when the
/// stop code alone is not a failure.
pub const ATTACHMENT_FAILED: &str = "AttachmentFailed";

/// What a stop code says about the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRule {
    /// ECS says the run failed; the kind, unless the reasons name a more precise one
    /// ([`REASON_PATTERNS`]).
    Failure(FailureKind),
    /// An essential container exited: the containers' exit codes decide ([`culprit`]).
    ContainersDecide,
    /// Someone or the scheduler stopped a healthy task: routine whatever the exit codes
    /// (they are the stop's SIGTERM/SIGKILL), unless the reason is a failed health check.
    Routine,
}

/// Every stop code ECS documents (SDK `TaskStopCode`), with its rule and why. A stop code not
/// listed here (ECS adds them) and a missing one are judged like `EssentialContainerExited`.
pub const STOP_CODES: &[(&str, StopRule, &str)] = &[
    (
        "TaskFailedToStart",
        StopRule::Failure(FailureKind::StartFailure),
        "ECS could not start the task (image, secrets, network, volume)",
    ),
    (
        "EssentialContainerExited",
        StopRule::ContainersDecide,
        "an essential container exited: a failure only if a container exited non-zero on its own",
    ),
    (
        "UserInitiated",
        StopRule::Routine,
        "StopTask by a person or automation",
    ),
    (
        "ServiceSchedulerInitiated",
        StopRule::Routine,
        "scale-in or a deployment replacing the task; a failure only with a health-check reason",
    ),
    (
        "SpotInterruption",
        StopRule::Failure(FailureKind::Spot),
        "Spot capacity reclaimed",
    ),
    (
        "TerminationNotice",
        StopRule::Failure(FailureKind::HostTermination),
        "the host is being retired or terminated",
    ),
    (
        "InfrastructureHealth",
        StopRule::Failure(FailureKind::InfrastructureHealth),
        "the infrastructure under the task was unhealthy",
    ),
];

/// Text in a reason (the stop reason, the event's reason or status reason, a container's
/// reason, a failed attachment's reason; case-insensitive) and the kind it names. The first
/// pattern that matches wins, so the more precise come first.
pub const REASON_PATTERNS: &[(&str, FailureKind)] = &[
    ("OutOfMemoryError", FailureKind::OutOfMemory),
    ("CannotPullContainerError", FailureKind::ImagePull),
    ("pull image manifest", FailureKind::ImagePull),
    ("unable to pull secrets", FailureKind::Secrets),
    ("unable to retrieve secret", FailureKind::Secrets),
    ("secretsmanager", FailureKind::Secrets),
    ("ssm:GetParameters", FailureKind::Secrets),
    ("AmazonElasticBlockStorage", FailureKind::EbsAttach),
    ("EBS volume", FailureKind::EbsAttach),
    ("RESOURCE:", FailureKind::Placement),
];

/// Events of the scheduler that are failures, by event name (unique across detail-types),
/// with the kind each gets when no reason pattern names a more precise one. Every other
/// event with `eventType` `ERROR` is a failure of kind [`FailureKind::SchedulerError`].
pub const FAILURE_EVENTS: &[(&str, &str, FailureKind)] = &[
    (
        crate::event::SERVICE_ACTION,
        "SERVICE_TASK_PLACEMENT_FAILURE",
        FailureKind::Placement,
    ),
    (
        crate::event::SERVICE_ACTION,
        "SERVICE_TASK_CONFIGURATION_FAILURE",
        FailureKind::Configuration,
    ),
    (
        crate::event::SERVICE_ACTION,
        "SERVICE_TASK_START_IMPAIRED",
        FailureKind::StartImpaired,
    ),
    (
        crate::event::DEPLOYMENT_STATE_CHANGE,
        "SERVICE_DEPLOYMENT_FAILED",
        FailureKind::DeploymentFailed,
    ),
    (
        crate::event::DAEMON_SERVICE_ACTION,
        "DAEMON_TASK_START_IMPAIRED",
        FailureKind::StartImpaired,
    ),
    (
        crate::event::DAEMON_DEPLOYMENT_STATE_CHANGE,
        "DAEMON_DEPLOYMENT_ROLLBACK_IN_PROGRESS",
        FailureKind::DeploymentFailed,
    ),
    (
        crate::event::DAEMON_DEPLOYMENT_STATE_CHANGE,
        "DAEMON_DEPLOYMENT_ROLLBACK_FAILED",
        FailureKind::DeploymentFailed,
    ),
    (
        crate::event::HOOK_STATE_CHANGE,
        "HOOK_FAILED",
        FailureKind::HookFailed,
    ),
    (
        crate::event::HOOK_STATE_CHANGE,
        "HOOK_TIMED_OUT",
        FailureKind::HookFailed,
    ),
];

/// Exit codes and what they mean; any other code above 128 is "killed by signal N".
pub const EXIT_CODES: &[(i64, &str)] = &[
    (0, "success: the process finished on its own"),
    (
        1,
        "an application error: the program reported a failure (see its logs)",
    ),
    (
        2,
        "a usage error: bad arguments or a shell built-in misused",
    ),
    (
        126,
        "the command could not run (not executable, or no permission)",
    ),
    (127, "command not found: a wrong entrypoint or command"),
    (
        137,
        "killed with SIGKILL (128+9): out of memory when a reason says OutOfMemoryError, else force-stopped after the stop timeout",
    ),
    (
        139,
        "a segmentation fault (SIGSEGV, 128+11): the program crashed",
    ),
    (
        143,
        "stopped with SIGTERM (128+15): asked to stop, as ECS does when it stops a task",
    ),
    (
        255,
        "exit status -1 or out of range: often the entrypoint failed before the program ran",
    ),
];

/// What an exit code means, in words.
pub fn exit_code_meaning(code: i64) -> String {
    match EXIT_CODES.iter().find(|(known, _)| *known == code) {
        Some((_, meaning)) => (*meaning).to_string(),
        None if (129..=192).contains(&code) => format!("killed by signal {}", code - 128),
        None => "an application-defined error (see its logs)".to_string(),
    }
}

/// The rule of a stop code; an unknown or missing one is judged by the containers.
pub fn stop_rule(stop_code: Option<&str>) -> StopRule {
    STOP_CODES
        .iter()
        .find(|(code, _, _)| Some(*code) == stop_code)
        .map_or(StopRule::ContainersDecide, |(_, rule, _)| *rule)
}

fn contains_ignoring_case(text: &str, needle: &str) -> bool {
    text.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

/// True when the container was killed for its memory: its own reason says so, or it was
/// SIGKILLed (137) and the task's reason says so.
pub fn out_of_memory(record: &AuditRecord, container: &ContainerRecord) -> bool {
    let says = |text: &Option<String>| {
        text.as_deref()
            .is_some_and(|text| contains_ignoring_case(text, "OutOfMemory"))
    };
    says(&container.reason) || (container.exit_code == Some(137) && says(&record.stopped_reason))
}

/// An exit that is how ECS stops the other containers once the task stops: SIGTERM (143), or
/// SIGKILL (137) after the stop timeout when nothing says the container ran out of memory.
pub fn is_stop_signal(record: &AuditRecord, container: &ContainerRecord) -> bool {
    match container.exit_code {
        Some(143) => true,
        Some(137) => !out_of_memory(record, container),
        _ => false,
    }
}

/// The container whose exit made the run a failure, if any: among the containers that
/// exited on their own (not [`is_stop_signal`]), one with a non-zero code; when every exit
/// was a stop signal, the signalled one (nothing else explains the stop). An out-of-memory
/// kill first, then one that says why, then the first.
pub fn culprit(record: &AuditRecord) -> Option<&ContainerRecord> {
    let exited: Vec<&ContainerRecord> = record
        .containers
        .iter()
        .flatten()
        .filter(|container| container.exit_code.is_some())
        .collect();
    let on_their_own: Vec<&ContainerRecord> = exited
        .iter()
        .copied()
        .filter(|container| !is_stop_signal(record, container))
        .collect();
    let candidates: Vec<&ContainerRecord> = if on_their_own.is_empty() {
        exited
    } else {
        on_their_own
    }
    .into_iter()
    .filter(|container| container.exit_code != Some(0))
    .collect();
    candidates
        .iter()
        .find(|container| out_of_memory(record, container))
        .or_else(|| {
            candidates
                .iter()
                .find(|container| container.reason.is_some())
        })
        .or_else(|| candidates.first())
        .copied()
}

/// Every reason the record carries: the stop reason, the event's reason and status reason,
/// the containers' and the failed attachments' reasons.
pub fn reasons(record: &AuditRecord) -> impl Iterator<Item = &str> {
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
            .filter_map(|container| container.reason.as_deref()),
    )
    .chain(
        record
            .failed_attachments
            .iter()
            .flatten()
            .filter_map(|attachment| attachment.reason.as_deref()),
    )
}

/// The kind the first matching [`REASON_PATTERNS`] entry names, if any reason matches.
pub fn kind_from_reasons(record: &AuditRecord) -> Option<FailureKind> {
    let reasons: Vec<String> = reasons(record).map(str::to_ascii_lowercase).collect();
    REASON_PATTERNS
        .iter()
        .find(|(pattern, _)| {
            let pattern = pattern.to_ascii_lowercase();
            reasons.iter().any(|reason| reason.contains(&pattern))
        })
        .map(|(_, kind)| *kind)
}

fn has_failed_attachment(record: &AuditRecord) -> bool {
    record
        .failed_attachments
        .as_ref()
        .is_some_and(|failed| !failed.is_empty())
}

/// ECS's own code for a failure worth an investigation (a stop code, an event name, a
/// health-check label from [`HEALTH_CHECK_REASONS`], or [`ATTACHMENT_FAILED`]), or `None`
/// for routine changes and clean runs.
pub fn classify_failure(record: &AuditRecord) -> Option<String> {
    if record.task_id().is_some() {
        return classify_task(record);
    }
    let name = record.event_name.as_deref()?;
    let listed = FAILURE_EVENTS
        .iter()
        .any(|(_, failure, _)| *failure == name);
    (listed || record.event_type.as_deref() == Some("ERROR")).then(|| name.to_string())
}

fn classify_task(record: &AuditRecord) -> Option<String> {
    if record.last_status.as_deref() != Some("STOPPED") {
        // The same stop is reported by RUNNING/DEPROVISIONING events first; classify the
        // final event only, so each failed run is one entry in the failures index.
        return None;
    }
    let stop_code = record.stop_code.as_deref();
    let rule = stop_rule(stop_code);
    if let (StopRule::Failure(_), Some(code)) = (rule, stop_code) {
        return Some(code.to_string());
    }
    if has_failed_attachment(record) {
        return Some(ATTACHMENT_FAILED.to_string());
    }
    let health_check = record.stopped_reason.as_deref().and_then(|reason| {
        HEALTH_CHECK_REASONS
            .iter()
            .find(|(prefix, _)| reason.starts_with(prefix))
    });
    if let Some((_, label)) = health_check {
        return Some(label.to_string());
    }
    match rule {
        StopRule::Routine | StopRule::Failure(_) => None,
        StopRule::ContainersDecide => {
            culprit(record)?;
            Some(stop_code.unwrap_or("EssentialContainerExited").to_string())
        }
    }
}

/// The kind of a failure (`None` when the record is not one): the stop code's or the event's
/// kind, made precise by the reasons where the code alone is vague (a task that failed to
/// start: image, secrets or volume; a daemon task that could not start: placement or image).
pub fn kind(record: &AuditRecord) -> Option<FailureKind> {
    let code = record.failure.as_deref()?;
    if has_failed_attachment(record) || code == ATTACHMENT_FAILED {
        return Some(FailureKind::EbsAttach);
    }
    if HEALTH_CHECK_REASONS.iter().any(|(_, label)| *label == code) {
        return Some(FailureKind::HealthCheck);
    }
    if let Some((_, StopRule::Failure(kind), _)) = STOP_CODES
        .iter()
        .find(|(stop_code, _, _)| *stop_code == code)
    {
        return Some(match kind {
            FailureKind::StartFailure => kind_from_reasons(record).unwrap_or(*kind),
            other => *other,
        });
    }
    if let Some((_, _, kind)) = FAILURE_EVENTS.iter().find(|(_, name, _)| *name == code) {
        return Some(match kind {
            FailureKind::StartImpaired if record.failure_type.is_some() => {
                kind_from_reasons(record).unwrap_or(*kind)
            }
            other => *other,
        });
    }
    if record.task_id().is_some() {
        return Some(match culprit(record) {
            Some(container) if out_of_memory(record, container) => FailureKind::OutOfMemory,
            _ => FailureKind::ExitCode,
        });
    }
    Some(FailureKind::SchedulerError)
}

#[cfg(test)]
mod tests;
