//! The failure rule over every stop code, every exit-code pattern (the sidecar case among
//! them), the reason patterns and the failure events.

use serde_json::{Value, json};

use super::*;
use crate::testing::{envelope, record_of};

const TASK_ARN: &str = "arn:aws:ecs:xx-test-1:111122223333:task/prod/0c1d";

/// A STOPPED task event with `stop_code` (none when empty) and `containers` as
/// `(name, exit code, reason)`.
fn stopped(stop_code: &str, reason: &str, containers: &[(&str, Option<i64>, &str)]) -> AuditRecord {
    stopped_with(stop_code, reason, containers, json!([]))
}

fn stopped_with(
    stop_code: &str,
    reason: &str,
    containers: &[(&str, Option<i64>, &str)],
    attachments: Value,
) -> AuditRecord {
    let containers: Vec<Value> = containers
        .iter()
        .map(|(name, exit_code, reason)| {
            let mut container = json!({"name": name, "lastStatus": "STOPPED"});
            if let Some(code) = exit_code {
                container["exitCode"] = json!(code);
            }
            if !reason.is_empty() {
                container["reason"] = json!(reason);
            }
            container
        })
        .collect();
    let mut detail = json!({"taskArn": TASK_ARN, "version": 6, "lastStatus": "STOPPED",
        "group": "service:api", "containers": containers, "attachments": attachments});
    if !stop_code.is_empty() {
        detail["stopCode"] = json!(stop_code);
    }
    if !reason.is_empty() {
        detail["stoppedReason"] = json!(reason);
    }
    record_of(&envelope("ECS Task State Change", json!([]), detail))
}

fn verdict(record: &AuditRecord) -> (Option<&str>, Option<FailureKind>) {
    (record.failure.as_deref(), kind(record))
}

#[test]
fn the_essential_container_exiting_0_with_sidecars_stopped_by_ecs_is_a_clean_run() {
    // The essential container finished; ECS then stopped the sidecars with SIGTERM, and one
    // that ignored it with SIGKILL after the stop timeout.
    let run = stopped(
        "EssentialContainerExited",
        "Essential container in task exited",
        &[
            ("job", Some(0), ""),
            ("envoy", Some(143), ""),
            ("log-router", Some(143), ""),
            ("xray", Some(137), ""),
        ],
    );
    assert_eq!(verdict(&run), (None, None));
    assert_eq!(run.failed_at, None);
    assert!(
        !run.indexes()
            .iter()
            .any(|index| index.name == crate::schema::CLUSTER_FAILURES_INDEX)
    );
}

#[test]
fn a_container_that_exits_non_zero_on_its_own_is_the_failure() {
    let exit = |code: i64, reason: &str| {
        stopped(
            "EssentialContainerExited",
            "Essential container in task exited",
            &[("app", Some(code), reason), ("envoy", Some(143), "")],
        )
    };
    for code in [1, 2, 126, 127, 139, 255, 134] {
        let run = exit(code, "");
        assert_eq!(
            verdict(&run),
            (
                Some("EssentialContainerExited"),
                Some(FailureKind::ExitCode)
            ),
            "exit {code}"
        );
        assert_eq!(culprit(&run).and_then(|c| c.name.as_deref()), Some("app"));
    }
    // 137 with an out-of-memory reason is the cause, not the stop's SIGKILL.
    let oom = exit(
        137,
        "OutOfMemoryError: Container killed due to memory usage",
    );
    assert_eq!(
        verdict(&oom),
        (
            Some("EssentialContainerExited"),
            Some(FailureKind::OutOfMemory)
        )
    );
    // The out-of-memory reason may be the task's only.
    let oom = stopped(
        "EssentialContainerExited",
        "OutOfMemoryError: Container killed due to memory usage",
        &[("app", Some(137), ""), ("envoy", Some(0), "")],
    );
    assert_eq!(kind(&oom), Some(FailureKind::OutOfMemory));
    // A clean exit alone is clean; so is a sidecar's clean exit next to it.
    assert_eq!(verdict(&exit(0, "")), (None, None));
}

#[test]
fn when_every_exit_is_a_signal_the_signalled_container_is_the_cause() {
    // Nothing exited on its own: someone signalled the essential container itself.
    for code in [143, 137] {
        let run = stopped(
            "EssentialContainerExited",
            "Essential container in task exited",
            &[("app", Some(code), "")],
        );
        assert_eq!(
            verdict(&run),
            (
                Some("EssentialContainerExited"),
                Some(FailureKind::ExitCode)
            ),
            "exit {code}"
        );
    }
    // Containers that never ran (no exit code) say nothing.
    let run = stopped("EssentialContainerExited", "", &[("app", None, "")]);
    assert_eq!(verdict(&run), (None, None));
}

#[test]
fn every_stop_code_follows_its_rule_whatever_the_exit_codes() {
    let patterns: &[&[(&str, Option<i64>, &str)]] = &[
        &[("app", Some(0), "")],
        &[("app", Some(1), "")],
        &[("app", Some(137), "")],
        &[("app", Some(0), ""), ("sidecar", Some(143), "")],
        &[("app", Some(139), ""), ("sidecar", Some(143), "")],
        &[("app", None, "")],
    ];
    for (code, rule, _) in STOP_CODES {
        for containers in patterns {
            let run = stopped(code, "", containers);
            let expected = match rule {
                StopRule::Failure(kind) => Some((code.to_string(), *kind)),
                StopRule::Routine => None,
                StopRule::ContainersDecide => {
                    culprit(&run).map(|_| (code.to_string(), FailureKind::ExitCode))
                }
            };
            let got = run.failure.clone().zip(kind(&run));
            assert_eq!(got, expected, "{code} with {containers:?}");
        }
    }
    // Spelled out, the table's verdicts for an application error next to a stopped sidecar:
    let app_error = [("app", Some(1), ""), ("sidecar", Some(143), "")];
    let failure_of = |code: &str| stopped(code, "", &app_error).failure;
    assert_eq!(failure_of("UserInitiated"), None);
    assert_eq!(failure_of("ServiceSchedulerInitiated"), None);
    for code in [
        "TaskFailedToStart",
        "EssentialContainerExited",
        "SpotInterruption",
        "TerminationNotice",
        "InfrastructureHealth",
    ] {
        assert_eq!(failure_of(code).as_deref(), Some(code));
    }
    // A stop code ECS adds later, or none at all: the containers decide.
    assert_eq!(failure_of("SomethingNew").as_deref(), Some("SomethingNew"));
    assert_eq!(failure_of("").as_deref(), Some("EssentialContainerExited"));
    assert_eq!(
        stopped("SomethingNew", "", &[("app", Some(0), "")]).failure,
        None
    );
}

#[test]
fn stop_codes_that_are_failures_get_their_kind() {
    let kind_of = |code: &str, reason: &str| kind(&stopped(code, reason, &[("app", None, "")]));
    assert_eq!(kind_of("SpotInterruption", ""), Some(FailureKind::Spot));
    assert_eq!(
        kind_of("TerminationNotice", ""),
        Some(FailureKind::HostTermination)
    );
    assert_eq!(
        kind_of("InfrastructureHealth", ""),
        Some(FailureKind::InfrastructureHealth)
    );
    // A task that failed to start: the reason makes the kind precise.
    for (reason, expected) in [
        (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
            FailureKind::ImagePull,
        ),
        (
            "ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve secret from asm",
            FailureKind::Secrets,
        ),
        (
            "ResourceInitializationError: failed to validate logger args",
            FailureKind::StartFailure,
        ),
        ("", FailureKind::StartFailure),
    ] {
        assert_eq!(
            kind_of("TaskFailedToStart", reason),
            Some(expected),
            "{reason}"
        );
    }
}

#[test]
fn scheduler_stops_are_failures_only_when_the_reason_is_a_failed_health_check() {
    let replaced = |reason: &str| {
        stopped(
            "ServiceSchedulerInitiated",
            reason,
            &[("api", Some(143), "")],
        )
    };
    assert_eq!(
        verdict(&replaced("Task failed container health checks")),
        (
            Some("TaskFailedContainerHealthChecks"),
            Some(FailureKind::HealthCheck)
        )
    );
    assert_eq!(
        verdict(&replaced(
            "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:xx-test-1:111122223333:targetgroup/api/1)"
        )),
        (
            Some("TaskFailedElbHealthChecks"),
            Some(FailureKind::HealthCheck)
        )
    );
    // A scale-in or a deployment replacing the task is routine, whatever the exit code.
    assert_eq!(
        verdict(&replaced(
            "Scaling activity initiated by (deployment ecs-svc/1234)"
        )),
        (None, None)
    );
}

#[test]
fn only_the_stopped_event_of_a_run_is_judged() {
    let detail = json!({"taskArn": TASK_ARN, "version": 5, "lastStatus": "DEPROVISIONING",
        "stopCode": "TaskFailedToStart", "containers": [{"name": "app", "exitCode": 1}]});
    let record = record_of(&envelope("ECS Task State Change", json!([]), detail));
    assert_eq!(verdict(&record), (None, None));
}

#[test]
fn a_failed_ebs_attachment_is_a_failure_of_kind_ebs_attach() {
    let ebs = json!([
        {"id": "eni-att", "type": "eni", "status": "DELETED", "details": []},
        {"id": "vol-att", "type": "AmazonElasticBlockStorage", "status": "FAILED",
         "details": [{"name": "volumeName", "value": "data"},
                     {"name": "statusReason", "value": "The volume vol-0abc could not be attached"}]}
    ]);
    let failed = stopped_with(
        "TaskFailedToStart",
        "Task failed to start",
        &[("app", None, "")],
        ebs.clone(),
    );
    assert_eq!(
        verdict(&failed),
        (Some("TaskFailedToStart"), Some(FailureKind::EbsAttach))
    );
    let attachment = &failed.failed_attachments.as_ref().unwrap()[0];
    assert_eq!(
        attachment.kind.as_deref(),
        Some("AmazonElasticBlockStorage")
    );
    assert!(attachment.reason.as_deref().unwrap().contains("vol-0abc"));
    // Whatever the stop code says, ECS reported the attachment FAILED.
    let routine = stopped_with("UserInitiated", "", &[("app", Some(0), "")], ebs);
    assert_eq!(
        verdict(&routine),
        (Some(ATTACHMENT_FAILED), Some(FailureKind::EbsAttach))
    );
    // Attached volumes are not failures.
    let fine = stopped_with(
        "EssentialContainerExited",
        "",
        &[("app", Some(0), "")],
        json!([{"type": "AmazonElasticBlockStorage", "status": "ATTACHED"}]),
    );
    assert_eq!(verdict(&fine), (None, None));
}

#[test]
fn failure_events_and_errors_are_failures_with_their_kind() {
    let event = |detail_type: &str, resources: Value, detail: Value| {
        record_of(&envelope(detail_type, resources, detail))
    };
    let service = json!(["arn:aws:ecs:xx-test-1:111122223333:service/prod/web"]);
    for (detail_type, name, expected) in FAILURE_EVENTS {
        let record = event(
            detail_type,
            service.clone(),
            json!({"eventType": "INFO", "eventName": name,
                   "daemonArn": "arn:aws:ecs:xx-test-1:111122223333:daemon/prod/agent",
                   "serviceArn": "arn:aws:ecs:xx-test-1:111122223333:service/prod/web"}),
        );
        assert_eq!(verdict(&record), (Some(*name), Some(*expected)), "{name}");
    }
    let throttled = event(
        "ECS Service Action",
        service.clone(),
        json!({"eventType": "ERROR", "eventName": "ECS_OPERATION_THROTTLED"}),
    );
    assert_eq!(
        verdict(&throttled),
        (
            Some("ECS_OPERATION_THROTTLED"),
            Some(FailureKind::SchedulerError)
        )
    );
    for routine in [
        "SERVICE_STEADY_STATE",
        "HOOK_AWAITING_ACTION",
        "HOOK_SUCCEEDED",
        "SERVICE_DEPLOYMENT_COMPLETED",
    ] {
        let record = event(
            "ECS Service Action",
            service.clone(),
            json!({"eventType": "INFO", "eventName": routine}),
        );
        assert_eq!(verdict(&record), (None, None), "{routine}");
    }
}

#[test]
fn a_daemon_task_that_cannot_start_gets_the_kind_its_reason_names() {
    let daemon = |failure_type: &str, reason: &str| {
        record_of(&envelope(
            "ECS Daemon Service Action",
            json!([]),
            json!({"eventType": "WARNING", "eventName": "DAEMON_TASK_START_IMPAIRED",
                   "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod",
                   "daemonArn": "arn:aws:ecs:xx-test-1:111122223333:daemon/prod/agent",
                   "failureType": failure_type, "reason": reason}),
        ))
    };
    assert_eq!(
        kind(&daemon(
            "TASK_CREATION_FAILED",
            "RESOURCE:CPU - Unable to place daemon task on container instance: insufficient CPU"
        )),
        Some(FailureKind::Placement)
    );
    assert_eq!(
        kind(&daemon(
            "TASK_FAILED_TO_RUN",
            "Task failed to reach RUNNING status: CannotPullContainerError: pull image manifest has been retried 5 time(s)"
        )),
        Some(FailureKind::ImagePull)
    );
    assert_eq!(
        kind(&daemon("TASK_FAILED_TO_RUN", "something else")),
        Some(FailureKind::StartImpaired)
    );
}

#[test]
fn exit_codes_have_meanings() {
    assert!(exit_code_meaning(137).contains("SIGKILL"));
    assert!(exit_code_meaning(139).contains("segmentation fault"));
    assert!(exit_code_meaning(143).contains("SIGTERM"));
    assert!(exit_code_meaning(1).contains("application error"));
    assert_eq!(exit_code_meaning(134), "killed by signal 6");
    assert!(exit_code_meaning(3).contains("application-defined"));
}
