//! From a parsed ECS event to its audit record: keys, TTL, the attributes a person reads, the
//! failure code. Pure: no AWS calls.
//!
//! Keys (README "The item"):
//! - tasks and container instances: `resourceArn` = the resource ARN, `eventKey` = `v` + the
//!   zero-padded `detail.version`, so a duplicate delivery lands on the same item and a
//!   resource's history reads in version order whatever the arrival order;
//! - service actions, deployments and unknown detail-types carry no version: `eventKey` =
//!   `<event time>#<content hash>`, so the same content is the same item.
//!
//! To record a new detail-type: model it in [`crate::event`], fill its record here (a `fill_*`
//! function and its arm in [`build`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::Error;
use crate::event::{
    ContainerInstanceDetail, DeploymentDetail, Detail, Drift, EcsEvent, ServiceActionDetail,
    TaskDetail,
};
use crate::failure::classify_failure;
use crate::keys::{content_hash, version_key};
use crate::limits::{
    Cuts, MAX_CAPACITY_PROVIDERS, MAX_CONTAINERS, MAX_DETAIL_JSON_BYTES, MAX_DRIFT_VALUE_BYTES,
    MAX_KEY_BYTES, MAX_NAME_BYTES, MAX_TEXT_BYTES, key_value,
};
use crate::record::{AttachmentRecord, AuditRecord, ContainerRecord};

mod recent;
use crate::text::{canonical_json, cut, format_time, json_size, last_segment};

const SECONDS_PER_DAY: i64 = 86_400;

/// Maps a parsed event to its record. `retention_days` sets the TTL from the event's own time,
/// so a replayed or redelivered event produces the identical item.
pub fn build(event: &EcsEvent<'_>, retention_days: u32) -> Result<AuditRecord, Error> {
    let envelope = &event.envelope;
    let reject = |problem: String| Error::bad_event(&envelope.id, problem);
    let mut cuts = Cuts::default();
    let mut record = AuditRecord {
        detail_type: cuts.cut("detailType", &envelope.detail_type, MAX_NAME_BYTES),
        event_id: cuts.cut("eventId", &envelope.id, MAX_NAME_BYTES),
        region: cuts.text("region", &envelope.region, MAX_NAME_BYTES),
        account: cuts.text("account", &envelope.account, MAX_NAME_BYTES),
        ..AuditRecord::default()
    };
    let event_time = match &event.detail {
        Detail::Task(task) => {
            fill_task(&mut record, &mut cuts, event, task).map_err(reject)?;
            task.updated_at
        }
        Detail::ContainerInstance(instance) => {
            fill_container_instance(&mut record, &mut cuts, event, instance).map_err(reject)?;
            instance.updated_at
        }
        Detail::ServiceAction(action) => {
            fill_service_action(&mut record, &mut cuts, event, action).map_err(reject)?;
            action.created_at
        }
        Detail::Deployment(deployment) => {
            fill_deployment(&mut record, &mut cuts, event, deployment).map_err(reject)?;
            deployment.updated_at
        }
        Detail::Hook(hook) => {
            recent::fill_hook(&mut record, &mut cuts, event, hook).map_err(reject)?;
            hook.updated_at
        }
        Detail::DaemonAction(action) => {
            recent::fill_daemon_action(&mut record, &mut cuts, event, action).map_err(reject)?;
            action.created_at
        }
        Detail::DaemonDeployment(deployment) => {
            recent::fill_daemon_deployment(&mut record, &mut cuts, event, deployment)
                .map_err(reject)?;
            deployment.updated_at
        }
        Detail::ContainerInstanceHealth(health) => {
            recent::fill_instance_health(&mut record, &mut cuts, event, health).map_err(reject)?;
            // As when this type was recorded generically (the envelope's time: the detail
            // has no event time), so an event stored before it was modelled keeps its key.
            detail_time(event.raw_detail)
        }
        Detail::Other => {
            fill_other(&mut record, &mut cuts, event).map_err(reject)?;
            detail_time(event.raw_detail)
        }
    }
    .unwrap_or(envelope.time);

    record.event_time = format_time(event_time);
    record.expires_at = event_time.timestamp() + i64::from(retention_days) * SECONDS_PER_DAY;
    if record.event_key.is_empty() {
        record.event_key = format!("{}#{}", record.event_time, content_hash(event));
    }
    if record.last_status.as_deref() == Some("STOPPED") && record.stopped_at.is_none() {
        record.stopped_at = Some(record.event_time.clone());
    }
    record.service_key = match (&record.cluster, &record.service) {
        // ECS names are at most 255 characters; a longer pair is junk and stays out of the
        // index rather than failing the write.
        (Some(cluster), Some(service)) if cluster.len() + service.len() < MAX_KEY_BYTES => {
            Some(format!("{cluster}/{service}"))
        }
        _ => None,
    };
    record.failure = classify_failure(&record);
    if record.failure.is_some() {
        record.failed_at = Some(record.event_time.clone());
    }
    record.apply_layout();
    record.drifted_fields = drifted_fields(&event.drifted, &mut cuts);
    if !cuts.0.is_empty() {
        record.original_bytes = Some(json_size(event.raw));
        record.truncated = Some(cuts.0);
    }
    Ok(record)
}

/// The `driftedFields` attribute: JSON path → the raw value as canonical JSON, each cut at
/// [`MAX_DRIFT_VALUE_BYTES`]. The parser bounds how many there are ([`crate::event::MAX_DRIFT_PASSES`] plus
/// the modelled fields), so the map stays small whatever the event.
fn drifted_fields(drifted: &[Drift], cuts: &mut Cuts) -> Option<BTreeMap<String, String>> {
    (!drifted.is_empty()).then(|| {
        drifted
            .iter()
            .map(|drift| {
                let raw = cuts.cut(
                    "driftedFields",
                    &canonical_json(&drift.raw),
                    MAX_DRIFT_VALUE_BYTES,
                );
                (cut(&drift.path, MAX_NAME_BYTES), raw)
            })
            .collect()
    })
}

/// The resource an event is about: its own ARN field in `detail` when usable, else the first
/// resource EventBridge lists. Neither: the event cannot be keyed, the one reason to refuse it.
fn resource_of(field: &str, own: Option<&str>, event: &EcsEvent<'_>) -> Result<String, String> {
    let own = own.filter(|arn| !arn.is_empty());
    let listed = || {
        event
            .envelope
            .resources
            .iter()
            .map(String::as_str)
            .find(|resource| !resource.is_empty())
    };
    match (own, listed()) {
        (Some(arn), _) => key_value(field, arn),
        (None, Some(resource)) => key_value("resources[0]", resource),
        (None, None) => Err(format!(
            "`{field}` is missing, empty or not a string, and `resources` names nothing: the event cannot be keyed"
        )),
    }
}

fn fill_task(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    task: &TaskDetail,
) -> Result<(), String> {
    record.resource_arn = resource_of("detail.taskArn", task.task_arn.as_deref(), event)?;
    // Without a usable version the key is `<time>#<content hash>`, as for version-less types.
    record.event_key = task.version.map(version_key).unwrap_or_default();
    record.version = task.version;
    record.cluster = cluster_name(
        cuts,
        task.cluster_arn.as_deref(),
        &record.resource_arn,
        ":task/",
    );
    record.group = cuts.text("group", &task.group, MAX_NAME_BYTES);
    record.service = task
        .group
        .as_deref()
        .and_then(|group| group.strip_prefix("service:"))
        .filter(|name| !name.is_empty())
        .map(|name| cuts.cut("service", name, MAX_NAME_BYTES));
    if let Some(arn) = task.task_definition_arn.as_deref() {
        let definition = last_segment(arn);
        let (family, revision) = match definition.rsplit_once(':') {
            Some((family, revision)) => (family, revision.parse::<u64>().ok()),
            None => (definition, None),
        };
        if !family.is_empty() {
            // An index key: one beyond DynamoDB's key size stays out of `family-stopped`,
            // marked, rather than failing the write.
            record.family = if family.len() > MAX_KEY_BYTES {
                cuts.mark("family");
                None
            } else {
                Some(family.to_string())
            };
            record.task_definition = Some(cuts.cut("taskDefinition", definition, MAX_NAME_BYTES));
            record.revision = revision;
        }
    }
    record.started_by = cuts.text("startedBy", &task.started_by, MAX_NAME_BYTES);
    record.launch_type = cuts.text("launchType", &task.launch_type, MAX_NAME_BYTES);
    record.capacity_provider = cuts.text(
        "capacityProvider",
        &task.capacity_provider_name,
        MAX_NAME_BYTES,
    );
    record.availability_zone =
        cuts.text("availabilityZone", &task.availability_zone, MAX_NAME_BYTES);
    record.container_instance_arn = cuts.text(
        "containerInstanceArn",
        &task.container_instance_arn,
        MAX_NAME_BYTES,
    );
    record.last_status = cuts.text("lastStatus", &task.last_status, MAX_NAME_BYTES);
    record.desired_status = cuts.text("desiredStatus", &task.desired_status, MAX_NAME_BYTES);
    record.stop_code = cuts.text("stopCode", &task.stop_code, MAX_NAME_BYTES);
    record.stopped_reason = cuts.text("stoppedReason", &task.stopped_reason, MAX_TEXT_BYTES);
    record.cpu = cuts.text("cpu", &task.cpu, MAX_NAME_BYTES);
    record.memory = cuts.text("memory", &task.memory, MAX_NAME_BYTES);
    record.created_at = task.created_at.map(format_time);
    record.pull_started_at = task.pull_started_at.map(format_time);
    record.pull_stopped_at = task.pull_stopped_at.map(format_time);
    record.started_at = task.started_at.map(format_time);
    record.stopping_at = task.stopping_at.map(format_time);
    // Only a STOPPED event may enter the family-stopped index: one entry per finished run,
    // even if an earlier event of the run already carries `stoppedAt`.
    record.stopped_at = task
        .stopped_at
        .filter(|_| task.last_status.as_deref() == Some("STOPPED"))
        .map(format_time);

    if let Some(containers) = task.containers.as_deref().filter(|c| !c.is_empty()) {
        let kept: Vec<ContainerRecord> = containers
            .iter()
            .take(MAX_CONTAINERS)
            .enumerate()
            // A drifted element (not an object) is kept in `driftedFields`, not here.
            .filter_map(|(index, container)| Some((index, container.as_ref()?)))
            .map(|(index, container)| ContainerRecord {
                name: cuts.text(
                    &format!("containers[{index}].name"),
                    &container.name,
                    MAX_NAME_BYTES,
                ),
                image: cuts.text(
                    &format!("containers[{index}].image"),
                    &container.image,
                    MAX_NAME_BYTES,
                ),
                image_digest: cuts.text(
                    &format!("containers[{index}].imageDigest"),
                    &container.image_digest,
                    MAX_NAME_BYTES,
                ),
                last_status: cuts.text(
                    &format!("containers[{index}].lastStatus"),
                    &container.last_status,
                    MAX_NAME_BYTES,
                ),
                exit_code: container.exit_code,
                reason: cuts.text(
                    &format!("containers[{index}].reason"),
                    &container.reason,
                    MAX_TEXT_BYTES,
                ),
            })
            .collect();
        let exit_codes: Vec<String> = kept
            .iter()
            .filter_map(|c| {
                let code = c.exit_code?;
                Some(format!("{}={code}", c.name.as_deref().unwrap_or("?")))
            })
            .collect();
        record.exit_codes = (!exit_codes.is_empty()).then(|| exit_codes.join(" "));
        if containers.len() > MAX_CONTAINERS {
            cuts.mark("containers");
            record.containers_omitted = Some((containers.len() - MAX_CONTAINERS) as u64);
        }
        record.containers = Some(kept);
    }
    record.failed_attachments = failed_attachments(cuts, task);
    Ok(())
}

/// The task's attachments ECS reports `FAILED`, with the reason EBS puts among the details.
fn failed_attachments(cuts: &mut Cuts, task: &TaskDetail) -> Option<Vec<AttachmentRecord>> {
    let failed: Vec<AttachmentRecord> = task
        .attachments
        .iter()
        .flatten()
        .flatten()
        .filter(|attachment| attachment.status.as_deref() == Some("FAILED"))
        .take(MAX_CONTAINERS)
        .map(|attachment| AttachmentRecord {
            kind: cuts.text("failedAttachments", &attachment.kind, MAX_NAME_BYTES),
            status: attachment.status.clone(),
            reason: attachment
                .detail("statusReason")
                .map(|reason| cuts.cut("failedAttachments", reason, MAX_TEXT_BYTES)),
        })
        .collect();
    (!failed.is_empty()).then_some(failed)
}

fn fill_container_instance(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    instance: &ContainerInstanceDetail,
) -> Result<(), String> {
    record.resource_arn = resource_of(
        "detail.containerInstanceArn",
        instance.container_instance_arn.as_deref(),
        event,
    )?;
    record.event_key = instance.version.map(version_key).unwrap_or_default();
    record.version = instance.version;
    record.cluster = cluster_name(
        cuts,
        instance.cluster_arn.as_deref(),
        &record.resource_arn,
        ":container-instance/",
    );
    record.ec2_instance_id = cuts.text("ec2InstanceId", &instance.ec2_instance_id, MAX_NAME_BYTES);
    record.status = cuts.text("status", &instance.status, MAX_NAME_BYTES);
    record.status_reason = cuts.text("statusReason", &instance.status_reason, MAX_TEXT_BYTES);
    record.agent_connected = instance.agent_connected;
    record.running_tasks_count = instance.running_tasks_count;
    record.pending_tasks_count = instance.pending_tasks_count;
    record.agent_version = instance
        .version_info
        .as_ref()
        .and_then(|info| cuts.text("agentVersion", &info.agent_version, MAX_NAME_BYTES));
    Ok(())
}

fn fill_service_action(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    action: &ServiceActionDetail,
) -> Result<(), String> {
    let service_arn = service_arn(&event.envelope.resources);
    let cluster_arn = action.cluster_arn.as_deref().filter(|arn| !arn.is_empty());
    record.resource_arn = match (service_arn, cluster_arn) {
        (Some(service), _) => key_value("resources[0]", service)?,
        (None, Some(cluster)) => key_value("detail.clusterArn", cluster)?,
        (None, None) => {
            return Err(
                "a service action must name its service (a service ARN in `resources`) or its cluster (`detail.clusterArn`)"
                    .into(),
            );
        }
    };
    let (service_cluster, service) = service_arn.map(split_service_arn).unwrap_or_default();
    record.cluster = match service_cluster {
        Some(cluster) => Some(key_value("resources[0]", cluster)?),
        None => cluster_name(cuts, cluster_arn, "", ":cluster/"),
    };
    record.service = service.map(|name| cuts.cut("service", name, MAX_NAME_BYTES));
    record.event_type = cuts.text("eventType", &action.event_type, MAX_NAME_BYTES);
    record.event_name = cuts.text("eventName", &action.event_name, MAX_NAME_BYTES);
    record.reason = cuts.text("reason", &action.reason, MAX_TEXT_BYTES);
    record.created_at = action.created_at.map(format_time);
    record.capacity_providers = action
        .capacity_provider_arns
        .as_deref()
        .filter(|arns| !arns.is_empty())
        .map(|arns| {
            if arns.len() > MAX_CAPACITY_PROVIDERS {
                cuts.mark("capacityProviders");
            }
            arns.iter()
                .take(MAX_CAPACITY_PROVIDERS)
                .flatten()
                .map(|arn| cuts.cut("capacityProviders", last_segment(arn), MAX_NAME_BYTES))
                .collect()
        });
    Ok(())
}

fn fill_deployment(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
    deployment: &DeploymentDetail,
) -> Result<(), String> {
    let service_arn = service_arn(&event.envelope.resources).ok_or_else(|| {
        format!(
            "a deployment event must carry its service ARN in `resources`, got {:?}",
            event.envelope.resources
        )
    })?;
    record.resource_arn = key_value("resources[0]", service_arn)?;
    let (cluster, service) = split_service_arn(service_arn);
    record.cluster = cluster.map(|c| key_value("resources[0]", c)).transpose()?;
    record.service = service.map(|name| cuts.cut("service", name, MAX_NAME_BYTES));
    record.event_type = cuts.text("eventType", &deployment.event_type, MAX_NAME_BYTES);
    record.event_name = cuts.text("eventName", &deployment.event_name, MAX_NAME_BYTES);
    record.deployment_id = cuts.text("deploymentId", &deployment.deployment_id, MAX_NAME_BYTES);
    record.reason = cuts.text("reason", &deployment.reason, MAX_TEXT_BYTES);
    Ok(())
}

fn fill_other(
    record: &mut AuditRecord,
    cuts: &mut Cuts,
    event: &EcsEvent<'_>,
) -> Result<(), String> {
    let first_resource = event
        .envelope
        .resources
        .first()
        .filter(|resource| !resource.is_empty());
    record.resource_arn = match first_resource {
        Some(resource) => key_value("resources[0]", resource)?,
        None => key_value("detail-type", &event.envelope.detail_type)?,
    };
    let cluster_arn = event.raw_detail.get("clusterArn").and_then(Value::as_str);
    record.cluster = cluster_name(cuts, cluster_arn, "", ":cluster/");
    let json = canonical_json(event.raw_detail);
    record.detail = Some(cuts.cut("detail", &json, MAX_DETAIL_JSON_BYTES));
    Ok(())
}

/// For unmodelled detail-types: the first documented time field that parses.
fn detail_time(detail: &Value) -> Option<DateTime<Utc>> {
    ["updatedAt", "createdAt", "eventTime"]
        .iter()
        .filter_map(|field| detail.get(*field)?.as_str())
        .find_map(|raw| DateTime::parse_from_rfc3339(raw).ok())
        .map(|time| time.with_timezone(&Utc))
}

/// The cluster name, from `cluster_arn` when present, else from a new-format resource ARN
/// (`…:task/<cluster>/<id>`), which embeds it. An index key: one beyond DynamoDB's key size
/// is left out (the event stays out of the cluster indexes) and marked, not a failure.
fn cluster_name(
    cuts: &mut Cuts,
    cluster_arn: Option<&str>,
    resource_arn: &str,
    resource_marker: &str,
) -> Option<String> {
    let from_cluster_arn = cluster_arn.filter(|arn| !arn.is_empty()).map(last_segment);
    let from_resource = || {
        let path = resource_arn.split_once(resource_marker)?.1;
        let (cluster, _id) = path.split_once('/')?;
        Some(cluster)
    };
    let name = from_cluster_arn
        .or_else(from_resource)
        .filter(|name| !name.is_empty())?;
    if name.len() > MAX_KEY_BYTES {
        cuts.mark("cluster");
        return None;
    }
    Some(name.to_string())
}

/// The first service ARN among the event's resources.
fn service_arn(resources: &[String]) -> Option<&str> {
    resources
        .iter()
        .map(String::as_str)
        .find(|resource| resource.starts_with("arn:") && resource.contains(":service/"))
}

/// `…:service/<cluster>/<service>` → (cluster, service); the old `…:service/<service>` format
/// names no cluster.
fn split_service_arn(arn: &str) -> (Option<&str>, Option<&str>) {
    let Some((_, path)) = arn.split_once(":service/") else {
        return (None, None);
    };
    match path.split_once('/') {
        Some((cluster, service)) => (
            Some(cluster).filter(|c| !c.is_empty()),
            Some(service).filter(|s| !s.is_empty()),
        ),
        None => (None, Some(path).filter(|s| !s.is_empty())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse;
    use crate::schema::{
        CLUSTER_FAILURES_INDEX, CLUSTER_TIME_INDEX, FAMILY_STOPPED_INDEX, SERVICE_TIME_INDEX,
    };
    use crate::testing::{envelope, record_of};
    use serde_json::json;

    #[test]
    fn ttl_counts_from_the_event_time() {
        let input = envelope(
            "ECS Task State Change",
            json!([]),
            json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b", "version": 2,
                   "updatedAt": "2026-11-20T10:00:00.250Z"}),
        );
        let record = record_of(&input);
        assert_eq!(record.event_time, "2026-11-20T10:00:00.250Z");
        let event_seconds = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(record.expires_at, event_seconds + 14 * 86_400);
        assert_eq!(record.cluster.as_deref(), Some("prod"));
    }

    #[test]
    fn service_actions_are_keyed_by_time_and_content() {
        let detail = json!({"eventType": "ERROR", "eventName": "SERVICE_TASK_PLACEMENT_FAILURE",
            "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod",
            "createdAt": "2026-11-20T10:00:00.123Z", "reason": "RESOURCE:FARGATE"});
        let arn = "arn:aws:ecs:xx-test-1:111122223333:service/prod/web";
        let first = record_of(&envelope(
            "ECS Service Action",
            json!([arn]),
            detail.clone(),
        ));
        let mut redelivered = envelope("ECS Service Action", json!([arn]), detail);
        redelivered["id"] = json!("another-envelope-id");
        let second = record_of(&redelivered);
        assert_eq!(first.resource_arn, arn);
        assert_eq!(
            (first.cluster.as_deref(), first.service.as_deref()),
            (Some("prod"), Some("web"))
        );
        assert_eq!(first.event_key, second.event_key);
        assert!(first.event_key.starts_with("2026-11-20T10:00:00.123Z#"));
        assert_eq!(
            first.failure.as_deref(),
            Some("SERVICE_TASK_PLACEMENT_FAILURE")
        );
        assert_eq!(first.failed_at.as_deref(), Some("2026-11-20T10:00:00.123Z"));
        assert_eq!(first.service_key.as_deref(), Some("prod/web"));
        let indexes: Vec<&str> = first.indexes().iter().map(|index| index.name).collect();
        assert_eq!(
            indexes,
            vec![
                CLUSTER_TIME_INDEX,
                SERVICE_TIME_INDEX,
                CLUSTER_FAILURES_INDEX
            ]
        );
    }

    #[test]
    fn a_completed_batch_task_is_not_a_failure() {
        let input = envelope(
            "ECS Task State Change",
            json!([]),
            json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b", "version": 5,
                   "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
                   "taskDefinitionArn": "arn:aws:ecs:xx-test-1:111122223333:task-definition/report:12",
                   "containers": [{"name": "report", "exitCode": 0}]}),
        );
        let record = record_of(&input);
        assert_eq!(record.failure, None);
        assert_eq!(record.exit_codes.as_deref(), Some("report=0"));
        assert_eq!(
            (record.family.as_deref(), record.revision),
            (Some("report"), Some(12))
        );
        assert_eq!(
            record.stopped_at.as_deref(),
            Some(record.event_time.as_str())
        );
        let indexes: Vec<&str> = record.indexes().iter().map(|index| index.name).collect();
        assert_eq!(indexes, vec![CLUSTER_TIME_INDEX, FAMILY_STOPPED_INDEX]);
        assert_eq!(record.service_key, None);
    }

    #[test]
    fn only_the_stopped_event_of_a_run_enters_the_family_stopped_index() {
        let detail = |last_status: &str| {
            json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b", "version": 5,
                   "lastStatus": last_status, "stoppedAt": "2026-11-20T10:00:00.500Z",
                   "taskDefinitionArn": "arn:aws:ecs:xx-test-1:111122223333:task-definition/report:12"})
        };
        let early = record_of(&envelope(
            "ECS Task State Change",
            json!([]),
            detail("DEPROVISIONING"),
        ));
        assert_eq!(early.stopped_at, None);
        assert!(
            !early
                .indexes()
                .iter()
                .any(|index| index.name == FAMILY_STOPPED_INDEX)
        );
        let last = record_of(&envelope(
            "ECS Task State Change",
            json!([]),
            detail("STOPPED"),
        ));
        assert_eq!(last.stopped_at.as_deref(), Some("2026-11-20T10:00:00.500Z"));
        assert!(
            last.indexes()
                .iter()
                .any(|index| index.name == FAMILY_STOPPED_INDEX)
        );
    }

    #[test]
    fn an_event_without_a_usable_identity_is_keyed_by_what_is_left_or_refused() {
        let task = |detail: Value, resources: Value| {
            build(
                &parse(&envelope("ECS Task State Change", resources, detail)).unwrap(),
                14,
            )
        };
        let arn = "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b";
        // No usable version: keyed by time and content, like a version-less event.
        let record = task(json!({"taskArn": arn, "version": "two"}), json!([])).unwrap();
        assert_eq!(record.resource_arn, arn);
        assert!(
            record.event_key.starts_with("2026-11-20T10:00:01.000Z#"),
            "{}",
            record.event_key
        );
        assert_eq!(record.version, None);
        assert!(
            record
                .drifted_fields
                .unwrap()
                .contains_key("detail.version")
        );
        // No usable task ARN: the resource EventBridge names.
        let record = task(json!({"taskArn": 12, "version": 2}), json!([arn])).unwrap();
        assert_eq!(
            (record.resource_arn.as_str(), record.event_key.as_str()),
            (arn, "v00000000000000000002")
        );
        assert_eq!(record.cluster.as_deref(), Some("prod"));
        // Neither: nothing to key it by.
        let error = task(json!({"version": 2}), json!([])).unwrap_err();
        assert!(error.to_string().contains("cannot be keyed"), "{error}");
    }

    #[test]
    fn oversized_identifiers_are_rejected_not_cut() {
        let input = envelope(
            "ECS Task State Change",
            json!([]),
            json!({"taskArn": format!("arn:aws:ecs:xx-test-1:1:task/c/{}", "a".repeat(2000)), "version": 1}),
        );
        let error = build(&parse(&input).unwrap(), 14).unwrap_err();
        assert!(error.to_string().contains("detail.taskArn"), "{error}");
    }
}
