//! What a failure means and why a task stopped, in words: the one place the CLI's table, its
//! HTML report and any other reader take them from. The rules that make an event a failure
//! are in [`crate::failure`]; to explain a new failure code, add its arm to [`explain`].

use crate::record::AuditRecord;

/// The stop (or scheduler) reason and each container's own, once each: a container's reason
/// often repeats the task's word for word. One line (control characters become spaces);
/// empty when nothing says why.
pub fn reason(record: &AuditRecord) -> String {
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
