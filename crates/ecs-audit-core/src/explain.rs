//! What a failure means and why a task stopped, in words: the one place the CLI's table, its
//! HTML report and any other reader take them from. The rules that make an event a failure
//! are in [`crate::failure`]; to explain a new failure code, add its arm to [`explain`].

use crate::failure::{self, FailureKind};
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
    for attachment in record.failed_attachments.iter().flatten() {
        let Some(text) = attachment.reason.as_deref().filter(|r| !r.is_empty()) else {
            continue;
        };
        let kind = attachment.kind.as_deref().unwrap_or("attachment");
        parts.push(format!("{kind}: {text}"));
    }
    parts
        .join("; ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn mentions(record: &AuditRecord, needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    failure::reasons(record).any(|text| text.to_ascii_lowercase().contains(&needle))
}

/// One sentence on what a failure kind means, whatever the event: the `why` answer's
/// headline when nothing more precise is known, and the kinds table of `docs/failure-rule.md`.
pub fn kind_sentence(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::OutOfMemory => {
            "A container used more memory than its limit and was killed (SIGKILL, exit 137)."
        }
        FailureKind::ExitCode => {
            "A container of the task exited with a non-zero code on its own; the code says how."
        }
        FailureKind::ImagePull => {
            "The container image could not be pulled (a wrong tag, a deleted image, or no route or permission to the registry)."
        }
        FailureKind::Secrets => {
            "The secrets or registry credentials the task needs (Secrets Manager, SSM Parameter Store) could not be read: check the execution role and the network route to them."
        }
        FailureKind::StartFailure => {
            "ECS could not start the task (network interface, log configuration or another resource); the reason names it."
        }
        FailureKind::HealthCheck => {
            "A health check (the load balancer's or the container's own) kept failing, so the task was replaced."
        }
        FailureKind::Spot => {
            "Spot capacity was reclaimed by AWS (two minutes' warning); not a fault of the task."
        }
        FailureKind::HostTermination => {
            "The host the task ran on was being retired or terminated, so ECS stopped the task."
        }
        FailureKind::InfrastructureHealth => {
            "ECS stopped the task because the infrastructure under it (its instance or host) was unhealthy."
        }
        FailureKind::EbsAttach => {
            "An EBS volume of the task could not be created or attached, so the task could not run."
        }
        FailureKind::Placement => {
            "The scheduler found no capacity to place the task on (CPU, memory, instances or Fargate capacity)."
        }
        FailureKind::Configuration => {
            "The service's task configuration is invalid (for example a role that cannot be assumed)."
        }
        FailureKind::StartImpaired => {
            "The service or daemon keeps failing to start tasks and now waits longer between attempts."
        }
        FailureKind::DeploymentFailed => {
            "The deployment failed (its tasks failed, or an alarm fired) and rolls back if rollback is on."
        }
        FailureKind::HookFailed => {
            "A deployment lifecycle hook failed or timed out, so the deployment did not go on as planned."
        }
        FailureKind::SchedulerError => "The ECS scheduler reported an error; the reason says what.",
    }
}

/// The sentence for a task whose container decided the failure: which container, its exit
/// code and what the code means.
fn container_sentence(record: &AuditRecord) -> String {
    let Some(container) = failure::culprit(record) else {
        return "An essential container stopped, so ECS stopped the whole task.".into();
    };
    let name = container.name.as_deref().unwrap_or("a container");
    let code = container.exit_code.unwrap_or_default();
    if failure::out_of_memory(record, container) {
        return format!(
            "Out of memory: essential container {name} was killed with SIGKILL (exit {code}) because it went over its memory limit; raise the memory or fix the leak."
        );
    }
    match code {
        1 => format!(
            "Essential container {name} exited with code 1 (an application error: see its logs), so ECS stopped the whole task."
        ),
        137 => format!(
            "Essential container {name} was killed with SIGKILL (exit 137) without an out-of-memory reason (killed from outside, or memory pressure the agent did not report), so ECS stopped the whole task."
        ),
        139 => format!(
            "Essential container {name} crashed with a segmentation fault (exit 139), so ECS stopped the whole task."
        ),
        143 => format!(
            "Essential container {name} was stopped with SIGTERM (exit 143) and the task stopped with it."
        ),
        code => format!(
            "Essential container {name} exited with code {code} ({}), so ECS stopped the whole task.",
            failure::exit_code_meaning(code)
        ),
    }
}

/// One plain-English sentence on what a failure (a stop code or a scheduler event) means.
pub fn explain(record: &AuditRecord) -> String {
    if let Some(sentence) = attachment_sentence(record) {
        return sentence;
    }
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
        "TaskFailedToStart" if failure::kind(record) == Some(FailureKind::Secrets) => {
            "The task never started: its secrets or registry credentials could not be read (Secrets Manager or SSM Parameter Store): check the execution role's permissions and the network route to those services.".into()
        }
        "TaskFailedToStart" if mentions(record, "ResourceInitializationError") => {
            "The task never started: ECS could not prepare it (secrets, log configuration or network interface); the reason names the resource.".into()
        }
        "TaskFailedToStart" => {
            "The task never reached RUNNING: ECS could not start it; the reason says why.".into()
        }
        "EssentialContainerExited" => container_sentence(record),
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
            "ECS stopped the task because the infrastructure under it was unhealthy (an impaired instance or host, which ECS replaces); the service starts a replacement elsewhere.".into()
        }
        "DAEMON_TASK_START_IMPAIRED" => daemon_sentence(record),
        "DAEMON_DEPLOYMENT_ROLLBACK_IN_PROGRESS" => {
            "The daemon's deployment failed (its tasks failed, or the circuit breaker or an alarm fired) and ECS is rolling it back.".into()
        }
        "DAEMON_DEPLOYMENT_ROLLBACK_FAILED" => {
            "The daemon's deployment failed and so did its rollback: the daemon may run mixed revisions until someone fixes it.".into()
        }
        "HOOK_FAILED" => {
            "A deployment lifecycle hook failed (for a pause hook: someone chose ROLLBACK), so ECS rolls the deployment back.".into()
        }
        "HOOK_TIMED_OUT" => {
            "A deployment lifecycle hook timed out without an answer; ECS applied the hook's timeout action (roll back, by default).".into()
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
        _ if record.task_id().is_some() && record.failure.is_some() => container_sentence(record),
        _ if record.event_type.as_deref() == Some("ERROR") => {
            "The ECS scheduler reported an error for the service; the reason says what.".into()
        }
        _ => "ECS recorded this as a failure; the reason says what happened.".into(),
    }
}

/// A failed attachment explains the run whatever the stop code: say which and why.
fn attachment_sentence(record: &AuditRecord) -> Option<String> {
    let attachment = record.failed_attachments.as_ref()?.first()?;
    let what = match attachment.kind.as_deref() {
        Some("AmazonElasticBlockStorage") | None => "its EBS volume".to_string(),
        Some(other) => format!("its {other} attachment"),
    };
    let why = attachment
        .reason
        .as_deref()
        .map(|reason| format!(": {reason}"))
        .unwrap_or_default();
    Some(format!(
        "The task could not run: {what} could not be created or attached{why}. Check the volume configuration, the infrastructure role's permissions and the Availability Zone."
    ))
}

/// A Managed Daemon's task that could not start: created and failed, or never created.
fn daemon_sentence(record: &AuditRecord) -> String {
    let detail = match failure::kind(record) {
        Some(FailureKind::ImagePull) => " (its image could not be pulled)",
        Some(FailureKind::Placement) => " (the instance lacks the CPU, memory or ports it needs)",
        Some(FailureKind::Secrets) => " (its secrets could not be read)",
        _ => "",
    };
    match record.failure_type.as_deref() {
        Some("TASK_CREATION_FAILED") => format!(
            "ECS could not even create the daemon's task on the container instance{detail}; the instance runs without its daemon until this is fixed."
        ),
        Some("TASK_FAILED_TO_RUN") => format!(
            "The daemon's task was created but never reached RUNNING{detail}; the instance runs without its daemon until this is fixed."
        ),
        _ => format!("ECS is unable to start the daemon's tasks{detail}."),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::{envelope, record_of};

    fn task(stop_code: &str, reason: &str, containers: Value, attachments: Value) -> AuditRecord {
        record_of(&envelope(
            "ECS Task State Change",
            json!([]),
            json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0c1d", "version": 6,
                   "lastStatus": "STOPPED", "stopCode": stop_code, "stoppedReason": reason,
                   "containers": containers, "attachments": attachments}),
        ))
    }

    fn exited(code: i64) -> String {
        explain(&task(
            "EssentialContainerExited",
            "Essential container in task exited",
            json!([{"name": "app", "exitCode": code}, {"name": "envoy", "exitCode": 143}]),
            json!([]),
        ))
    }

    #[test]
    fn exit_codes_are_explained_with_their_meaning_naming_the_container_that_exited() {
        assert!(
            exited(1).contains("app exited with code 1"),
            "{}",
            exited(1)
        );
        assert!(exited(1).contains("application error"));
        assert!(
            exited(139).contains("segmentation fault"),
            "{}",
            exited(139)
        );
        assert!(exited(255).contains("exit status -1"), "{}", exited(255));
        assert!(exited(127).contains("command not found"), "{}", exited(127));
        // The sidecar ECS stopped is never named as the cause.
        assert!(!exited(139).contains("envoy"), "{}", exited(139));
        let oom = explain(&task(
            "EssentialContainerExited",
            "Essential container in task exited",
            json!([{"name": "envoy", "exitCode": 143},
                   {"name": "app", "exitCode": 137,
                    "reason": "OutOfMemoryError: Container killed due to memory usage"}]),
            json!([]),
        ));
        assert!(oom.starts_with("Out of memory"), "{oom}");
        assert!(oom.contains("app") && oom.contains("exit 137"), "{oom}");
        let killed = explain(&task(
            "EssentialContainerExited",
            "",
            json!([{"name": "app", "exitCode": 137}]),
            json!([]),
        ));
        assert!(killed.contains("SIGKILL") && !killed.starts_with("Out of memory"));
    }

    #[test]
    fn a_failed_ebs_attachment_is_explained_with_its_reason() {
        let record = task(
            "TaskFailedToStart",
            "Task failed to start",
            json!([{"name": "app"}]),
            json!([{"type": "AmazonElasticBlockStorage", "status": "FAILED",
                    "details": [{"name": "statusReason", "value": "volume quota exceeded"}]}]),
        );
        let sentence = explain(&record);
        assert!(sentence.contains("EBS volume"), "{sentence}");
        assert!(sentence.contains("volume quota exceeded"), "{sentence}");
        assert!(reason(&record).contains("AmazonElasticBlockStorage: volume quota exceeded"));
    }

    #[test]
    fn new_failures_have_their_own_sentences() {
        let infrastructure = explain(&task("InfrastructureHealth", "", json!([]), json!([])));
        assert!(
            infrastructure.contains("infrastructure"),
            "{infrastructure}"
        );
        let secrets = explain(&task(
            "TaskFailedToStart",
            "ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve secret from asm",
            json!([]),
            json!([]),
        ));
        assert!(secrets.contains("secrets"), "{secrets}");
        let event = |detail_type: &str, detail: Value| {
            explain(&record_of(&envelope(
                detail_type,
                json!(["arn:aws:ecs:xx-test-1:111122223333:service/prod/web"]),
                detail,
            )))
        };
        let creation = event(
            "ECS Daemon Service Action",
            json!({"eventName": "DAEMON_TASK_START_IMPAIRED", "failureType": "TASK_CREATION_FAILED",
                   "daemonArn": "arn:aws:ecs:xx-test-1:111122223333:daemon/prod/agent",
                   "reason": "RESOURCE:CPU - insufficient CPU"}),
        );
        assert!(
            creation.contains("could not even create") && creation.contains("CPU"),
            "{creation}"
        );
        let run = event(
            "ECS Daemon Service Action",
            json!({"eventName": "DAEMON_TASK_START_IMPAIRED", "failureType": "TASK_FAILED_TO_RUN",
                   "daemonArn": "arn:aws:ecs:xx-test-1:111122223333:daemon/prod/agent",
                   "reason": "CannotPullContainerError: pull image manifest"}),
        );
        assert!(
            run.contains("never reached RUNNING") && run.contains("image"),
            "{run}"
        );
        let hook = event(
            "ECS Hook State Change",
            json!({"eventName": "HOOK_TIMED_OUT", "hookType": "PAUSE"}),
        );
        assert!(hook.contains("timed out"), "{hook}");
    }

    #[test]
    fn every_kind_has_its_own_sentence() {
        let sentences: std::collections::BTreeSet<&str> = FailureKind::ALL
            .iter()
            .map(|kind| kind_sentence(*kind))
            .collect();
        assert_eq!(sentences.len(), FailureKind::ALL.len());
        assert!(sentences.iter().all(|sentence| sentence.ends_with('.')));
    }
}
