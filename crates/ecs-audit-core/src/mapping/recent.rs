//! Records of the detail-types ECS added in 2025–2026 ([`crate::event::recent`]'s models).
//! None carries a version, so each is keyed `<event time>#<content hash>`; none needs a task
//! ARN: a daemon task that could not even be created is keyed by its daemon.

use crate::event::{
    ContainerInstanceHealthDetail, DaemonActionDetail, DaemonDeploymentDetail, EcsEvent, HookDetail,
};
use crate::limits::{Cuts, MAX_NAME_BYTES, MAX_TEXT_BYTES, key_value};
use crate::record::AuditRecord;
use crate::text::{format_time, last_segment};

use super::{cluster_name, resource_of, service_arn, split_service_arn};

fn usable(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.is_empty())
}

/// A hook belongs to a service: keyed by the service ARN (in `detail`), so the service's
/// deployments and their hooks read from one partition; else by the service deployment.
pub(super) fn fill_hook(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    hook: &HookDetail,
) -> Result<(), String> {
    let service = usable(&hook.service_arn).or_else(|| service_arn(&event.envelope.resources));
    record.resource_arn = match service {
        Some(arn) => key_value("detail.serviceArn", arn)?,
        None => resource_of(
            "detail.serviceDeploymentArn",
            usable(&hook.service_deployment_arn),
            event,
        )?,
    };
    let (service_cluster, service_name) = service.map(split_service_arn).unwrap_or_default();
    record.cluster = match service_cluster {
        Some(cluster) => Some(key_value("detail.serviceArn", cluster)?),
        None => cluster_name(cuts, usable(&hook.cluster_arn), "", ":cluster/"),
    };
    record.service = service_name.map(|name| cuts.cut("service", name, MAX_NAME_BYTES));
    record.event_type = cuts.text("eventType", &hook.event_type, MAX_NAME_BYTES);
    record.event_name = cuts.text("eventName", &hook.event_name, MAX_NAME_BYTES);
    record.hook_id = cuts.text("hookId", &hook.hook_id, MAX_NAME_BYTES);
    record.hook_type = cuts.text("hookType", &hook.hook_type, MAX_NAME_BYTES);
    record.lifecycle_stage = cuts.text("lifecycleStage", &hook.lifecycle_stage, MAX_NAME_BYTES);
    record.hook_expires_at = hook.expires_at.map(format_time);
    let deployment = usable(&hook.service_deployment_arn).or_else(|| {
        event
            .envelope
            .resources
            .iter()
            .map(String::as_str)
            .find(|arn| arn.contains(":service-deployment/"))
    });
    record.deployment_arn = deployment.map(|arn| cuts.cut("deploymentArn", arn, MAX_NAME_BYTES));
    record.reason = cuts.text("reason", &hook.reason, MAX_TEXT_BYTES);
    Ok(())
}

/// `…:daemon/<cluster>/<name>` → `<name>`.
fn daemon_name(arn: &str) -> Option<&str> {
    let (_, path) = arn.split_once(":daemon/")?;
    Some(last_segment(path)).filter(|name| !name.is_empty())
}

/// Keyed by the daemon (its history is one partition), else by the task, else by what
/// EventBridge lists, else by the cluster: `TASK_CREATION_FAILED` has no task and may list
/// no resources.
pub(super) fn fill_daemon_action(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    action: &DaemonActionDetail,
) -> Result<(), String> {
    let listed = event
        .envelope
        .resources
        .iter()
        .map(String::as_str)
        .find(|resource| !resource.is_empty());
    record.resource_arn = match (
        usable(&action.daemon_arn),
        usable(&action.task_arn),
        listed,
        usable(&action.cluster_arn),
    ) {
        (Some(daemon), ..) => key_value("detail.daemonArn", daemon)?,
        (None, Some(task), ..) => key_value("detail.taskArn", task)?,
        (None, None, Some(resource), _) => key_value("resources[0]", resource)?,
        (None, None, None, Some(cluster)) => key_value("detail.clusterArn", cluster)?,
        (None, None, None, None) => {
            return Err(
                "a daemon action must name its daemon, task, a resource or its cluster: the event cannot be keyed"
                    .into(),
            );
        }
    };
    record.cluster = cluster_name(
        cuts,
        usable(&action.cluster_arn),
        &record.resource_arn,
        ":daemon/",
    );
    record.daemon = usable(&action.daemon_arn)
        .and_then(daemon_name)
        .map(|name| cuts.cut("daemon", name, MAX_NAME_BYTES));
    record.task_arn = cuts.text("taskArn", &action.task_arn, MAX_NAME_BYTES);
    record.container_instance_arn = cuts.text(
        "containerInstanceArn",
        &action.container_instance_arn,
        MAX_NAME_BYTES,
    );
    record.task_definition = usable(&action.daemon_task_definition_arn)
        .map(|arn| cuts.cut("taskDefinition", last_segment(arn), MAX_NAME_BYTES));
    record.capacity_provider = cuts.text(
        "capacityProvider",
        &action.capacity_provider_name,
        MAX_NAME_BYTES,
    );
    record.failure_type = cuts.text("failureType", &action.failure_type, MAX_NAME_BYTES);
    record.event_type = cuts.text("eventType", &action.event_type, MAX_NAME_BYTES);
    record.event_name = cuts.text("eventName", &action.event_name, MAX_NAME_BYTES);
    record.reason = cuts.text("reason", &action.reason, MAX_TEXT_BYTES);
    record.created_at = action.created_at.map(format_time);
    Ok(())
}

pub(super) fn fill_daemon_deployment(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    deployment: &DaemonDeploymentDetail,
) -> Result<(), String> {
    record.resource_arn = resource_of("detail.daemonArn", usable(&deployment.daemon_arn), event)?;
    record.cluster = cluster_name(
        cuts,
        usable(&deployment.cluster_arn),
        &record.resource_arn,
        ":daemon/",
    );
    record.daemon =
        daemon_name(&record.resource_arn).map(|name| cuts.cut("daemon", name, MAX_NAME_BYTES));
    record.deployment_arn = cuts.text(
        "deploymentArn",
        &deployment.daemon_deployment_arn,
        MAX_NAME_BYTES,
    );
    record.event_type = cuts.text("eventType", &deployment.event_type, MAX_NAME_BYTES);
    record.event_name = cuts.text("eventName", &deployment.event_name, MAX_NAME_BYTES);
    record.reason = cuts.text("reason", &deployment.reason, MAX_TEXT_BYTES);
    Ok(())
}

/// The overall status, each check as `TYPE=STATUS`, and the checks' reasons in
/// `statusReason` (where every reader already looks for why).
pub(super) fn fill_instance_health(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    health: &ContainerInstanceHealthDetail,
) -> Result<(), String> {
    record.resource_arn = resource_of(
        "detail.containerInstanceArn",
        usable(&health.container_instance_arn),
        event,
    )?;
    record.cluster = cluster_name(
        cuts,
        usable(&health.cluster_arn),
        &record.resource_arn,
        ":container-instance/",
    );
    record.ec2_instance_id = cuts.text("ec2InstanceId", &health.ec2_instance_id, MAX_NAME_BYTES);
    record.capacity_provider = cuts.text(
        "capacityProvider",
        &health.capacity_provider_name,
        MAX_NAME_BYTES,
    );
    record.health_status = cuts.text("healthStatus", &health.overall_status, MAX_NAME_BYTES);
    let checks: Vec<_> = health.health_checks.iter().flatten().flatten().collect();
    let summary: Vec<String> = checks
        .iter()
        .map(|check| {
            let text = format!(
                "{}={}",
                check.kind.as_deref().unwrap_or("?"),
                check.status.as_deref().unwrap_or("?")
            );
            cuts.cut("healthChecks", &text, MAX_NAME_BYTES)
        })
        .collect();
    record.health_checks = (!summary.is_empty()).then_some(summary);
    let reasons: Vec<String> = checks
        .iter()
        .filter_map(|check| {
            let reason = usable(&check.status_reason)?;
            Some(format!(
                "{}: {reason}",
                check.kind.as_deref().unwrap_or("?")
            ))
        })
        .collect();
    if !reasons.is_empty() {
        record.status_reason = Some(cuts.cut("statusReason", &reasons.join("; "), MAX_TEXT_BYTES));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::event::parse;
    use crate::mapping::build;
    use crate::testing::{envelope, record_of};

    const DAEMON: &str = "arn:aws:ecs:xx-test-1:111122223333:daemon/prod/agent";
    const CLUSTER: &str = "arn:aws:ecs:xx-test-1:111122223333:cluster/prod";

    #[test]
    fn a_daemon_task_that_was_never_created_is_keyed_without_a_task() {
        let record = record_of(&envelope(
            "ECS Daemon Service Action",
            json!([]),
            json!({"eventType": "WARNING", "eventName": "DAEMON_TASK_START_IMPAIRED",
                   "clusterArn": CLUSTER, "daemonArn": DAEMON,
                   "failureType": "TASK_CREATION_FAILED", "createdAt": "2026-03-24T12:01:00.000Z"}),
        ));
        assert_eq!(record.resource_arn, DAEMON);
        assert!(record.event_key.starts_with("2026-03-24T12:01:00.000Z#"));
        assert_eq!(
            (record.cluster.as_deref(), record.daemon.as_deref()),
            (Some("prod"), Some("agent"))
        );
        assert_eq!(record.task_arn, None);
        assert_eq!(
            record.failure.as_deref(),
            Some("DAEMON_TASK_START_IMPAIRED")
        );
        // Without a daemon ARN either: the cluster. Without anything: refused, clearly.
        let record = record_of(&envelope(
            "ECS Daemon Service Action",
            json!([]),
            json!({"eventName": "DAEMON_TASK_START_IMPAIRED", "clusterArn": CLUSTER}),
        ));
        assert_eq!(record.resource_arn, CLUSTER);
        let input = envelope(
            "ECS Daemon Service Action",
            json!([]),
            json!({"eventName": "DAEMON_TASK_START_IMPAIRED"}),
        );
        let error = build(&parse(&input).unwrap(), 14).unwrap_err();
        assert!(error.to_string().contains("cannot be keyed"), "{error}");
    }

    #[test]
    fn a_hook_is_recorded_with_its_service() {
        let record = record_of(&envelope(
            "ECS Hook State Change",
            json!(["arn:aws:ecs:xx-test-1:111122223333:service-deployment/prod/web/0EYS"]),
            json!({"eventType": "INFO", "eventName": "HOOK_AWAITING_ACTION", "hookId": "ecs-pause-1",
                   "hookType": "PAUSE", "expiresAt": "2026-03-05T16:04:41Z",
                   "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "clusterArn": CLUSTER,
                   "serviceArn": "arn:aws:ecs:xx-test-1:111122223333:service/prod/web",
                   "updatedAt": "2026-03-05T15:54:41.618059641Z"}),
        ));
        assert_eq!(
            record.resource_arn,
            "arn:aws:ecs:xx-test-1:111122223333:service/prod/web"
        );
        assert_eq!(record.service_key.as_deref(), Some("prod/web"));
        assert_eq!(record.event_time, "2026-03-05T15:54:41.618Z");
        assert_eq!(
            record.hook_expires_at.as_deref(),
            Some("2026-03-05T16:04:41.000Z")
        );
        assert_eq!(
            record.deployment_arn.as_deref(),
            Some("arn:aws:ecs:xx-test-1:111122223333:service-deployment/prod/web/0EYS")
        );
        assert_eq!(record.failure, None, "awaiting action is not a failure");
    }
}
