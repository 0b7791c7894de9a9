//! Which events the timeline indexes (`cluster-time`, `service-time`) list. Each entry is one
//! more write unit, and a task sends six to eight events on its way from PROVISIONING to
//! STOPPED, so listing all of them made the indexes cost more than the table. The timelines
//! answer "what ran when": a task is listed when it starts running and when it stops (a task
//! that never ran still sends STOPPED); the steps in between stay in the table, where a task's
//! whole lifecycle is one Query on its partition. Every other event (container instances,
//! service actions, deployments, unknown types) and every failure stays listed.
//!
//! DynamoDB indexes are sparse: an item without an index's key attribute is not written to
//! it. A task event between the two ends therefore carries neither `cluster` nor `serviceKey`
//! (the cluster is still in its task ARN, the service in `service`).

use crate::record::AuditRecord;

/// Task statuses on the way up to RUNNING and down to STOPPED (ECS's task lifecycle). A status
/// not named here, also one ECS adds later, stays on the timelines.
const STEPS_BETWEEN: &[&str] = &[
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
];

/// Whether `record` is listed in the timeline indexes.
pub fn is_listed(record: &AuditRecord) -> bool {
    if record.failure.is_some() {
        return true;
    }
    match record.last_status.as_deref() {
        Some(status) if STEPS_BETWEEN.contains(&status) => false,
        // Asked to stop while still running: the STOPPED event follows with the reason and
        // `stoppingAt`.
        Some("RUNNING") => record.desired_status.as_deref() != Some("STOPPED"),
        _ => true,
    }
}

/// Takes `record` off the timelines unless [`is_listed`]: drops their key attributes.
pub fn apply(record: &mut AuditRecord) {
    if !is_listed(record) {
        record.cluster = None;
        record.service_key = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(last: &str, desired: &str) -> AuditRecord {
        AuditRecord {
            resource_arn: "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b".into(),
            cluster: Some("prod".into()),
            service: Some("web".into()),
            service_key: Some("prod/web".into()),
            last_status: Some(last.into()),
            desired_status: Some(desired.into()),
            ..AuditRecord::default()
        }
    }

    #[test]
    fn a_task_is_listed_when_it_starts_running_and_when_it_stops() {
        let listed: Vec<(&str, &str)> = [
            ("PROVISIONING", "RUNNING"),
            ("PENDING", "RUNNING"),
            ("ACTIVATING", "RUNNING"),
            ("RUNNING", "RUNNING"),
            ("RUNNING", "STOPPED"),
            ("DEACTIVATING", "STOPPED"),
            ("STOPPING", "STOPPED"),
            ("DEPROVISIONING", "STOPPED"),
            ("STOPPED", "STOPPED"),
        ]
        .into_iter()
        .filter(|(last, desired)| is_listed(&task(last, desired)))
        .collect();
        assert_eq!(listed, vec![("RUNNING", "RUNNING"), ("STOPPED", "STOPPED")]);
    }

    #[test]
    fn failures_unknown_statuses_and_other_events_stay_listed() {
        let mut failed = task("DEPROVISIONING", "STOPPED");
        failed.failure = Some("TaskFailedToStart".into());
        assert!(is_listed(&failed));
        assert!(is_listed(&task("SOMETHING_NEW", "RUNNING")));
        assert!(is_listed(&AuditRecord {
            cluster: Some("prod".into()),
            event_name: Some("SERVICE_STEADY_STATE".into()),
            ..AuditRecord::default()
        }));
    }

    #[test]
    fn a_step_between_loses_only_the_timeline_keys() {
        let mut step = task("PENDING", "RUNNING");
        apply(&mut step);
        assert_eq!((&step.cluster, &step.service_key), (&None, &None));
        assert_eq!(step.service.as_deref(), Some("web"));
        assert_eq!(step.cluster_name(), Some("prod"));
        let mut running = task("RUNNING", "RUNNING");
        apply(&mut running);
        assert_eq!(running.service_key.as_deref(), Some("prod/web"));
        assert_eq!(running.cluster.as_deref(), Some("prod"));
    }
}
