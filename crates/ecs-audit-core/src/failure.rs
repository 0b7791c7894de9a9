//! The failure rules: which events are failures worth an investigation, and the code each
//! gets (its `failure` attribute, the `cluster-failures` index key). What each code means in
//! words is in [`crate::explain`].

use crate::record::AuditRecord;

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

/// ECS's own code for a failure worth an investigation (a stop code, an event name, or a
/// health-check label from [`HEALTH_CHECK_REASONS`]), or `None` for routine changes.
pub fn classify_failure(record: &AuditRecord) -> Option<String> {
    if record.task_id().is_some() {
        if record.last_status.as_deref() != Some("STOPPED") {
            // The same stop is reported by RUNNING/DEPROVISIONING events first; classify the
            // final event only, so each failed run is one entry in the failures index.
            return None;
        }
        let nonzero_exit = record
            .containers
            .iter()
            .flatten()
            .any(|container| container.exit_code.is_some_and(|code| code != 0));
        let health_check = record.stopped_reason.as_deref().and_then(|reason| {
            HEALTH_CHECK_REASONS
                .iter()
                .find(|(prefix, _)| reason.starts_with(prefix))
        });
        return match record.stop_code.as_deref() {
            Some(
                code @ ("TaskFailedToStart"
                | "SpotInterruption"
                | "TerminationNotice"
                | "InfrastructureHealth"),
            ) => Some(code.to_string()),
            _ if health_check.is_some() => health_check.map(|(_, label)| label.to_string()),
            Some("EssentialContainerExited") | None if nonzero_exit => {
                Some("EssentialContainerExited".to_string())
            }
            _ => None,
        };
    }
    match record.event_name.as_deref()? {
        name @ ("SERVICE_TASK_PLACEMENT_FAILURE"
        | "SERVICE_TASK_CONFIGURATION_FAILURE"
        | "SERVICE_TASK_START_IMPAIRED"
        | "SERVICE_DEPLOYMENT_FAILED") => Some(name.to_string()),
        name if record.event_type.as_deref() == Some("ERROR") => Some(name.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{envelope, record_of};
    use serde_json::json;

    #[test]
    fn scheduler_stops_are_failures_only_when_the_reason_is_a_failed_health_check() {
        let stopped = |reason: &str, status: &str| {
            record_of(&envelope(
                "ECS Task State Change",
                json!([]),
                json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0c1d", "version": 6,
                       "lastStatus": status, "stopCode": "ServiceSchedulerInitiated",
                       "group": "service:api", "stoppedReason": reason,
                       "containers": [{"name": "api", "exitCode": 143}]}),
            ))
            .failure
        };
        assert_eq!(
            stopped("Task failed container health checks", "STOPPED").as_deref(),
            Some("TaskFailedContainerHealthChecks")
        );
        assert_eq!(
            stopped(
                "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:xx-test-1:111122223333:targetgroup/api/1)",
                "STOPPED"
            )
            .as_deref(),
            Some("TaskFailedElbHealthChecks")
        );
        // The same stop seen before STOPPED stays out of the failures index.
        assert_eq!(
            stopped("Task failed container health checks", "DEPROVISIONING"),
            None
        );
        // A scale-in or a deployment replacing the task is routine, whatever the exit code.
        assert_eq!(
            stopped(
                "Scaling activity initiated by (deployment ecs-svc/1234)",
                "STOPPED"
            ),
            None
        );
    }
}
