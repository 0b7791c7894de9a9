//! From an ECS event to the audit record stored in DynamoDB: keys, TTL, the attributes a
//! person reads in the console, and the failure classification. Pure: no AWS calls.
//!
//! Keys (see README "Item schema"):
//! - tasks and container instances: `resourceArn` = the resource ARN, `eventKey` = `v` + the
//!   zero-padded `detail.version`, so a duplicate delivery lands on the same item and a
//!   resource's history reads in version order whatever the arrival order;
//! - service actions, deployments and unknown detail-types carry no version: `eventKey` =
//!   `<event time>#<content hash>`, so the same content is the same item.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::event::{
    ContainerInstanceDetail, DeploymentDetail, Detail, Drift, EcsEvent, ServiceActionDetail,
    TaskDetail,
};
use crate::store::Item;

pub const PARTITION_KEY: &str = "resourceArn";
pub const SORT_KEY: &str = "eventKey";
pub const TTL_ATTRIBUTE: &str = "expiresAt";
/// Every event of a cluster by time: `cluster` + `eventTime`.
pub const CLUSTER_TIME_INDEX: &str = "cluster-time";
/// Every event of one service (its actions, deployments and tasks): `serviceKey` + `eventTime`.
pub const SERVICE_TIME_INDEX: &str = "service-time";
/// One entry per finished task run: `family` + `stoppedAt` (only STOPPED task events).
pub const FAMILY_STOPPED_INDEX: &str = "family-stopped";
/// Only failures: `cluster` + `failedAt`.
pub const CLUSTER_FAILURES_INDEX: &str = "cluster-failures";

/// What a timeline index copies besides the keys: enough to read a row in the console
/// (status, stop code, failure, exit codes) while its entry stays far under 1 KB, so each
/// index write costs one write unit whatever the size of the item.
pub const TIMELINE_ATTRIBUTES: &[&str] = &[
    "detailType",
    "service",
    "taskDefinition",
    "lastStatus",
    "desiredStatus",
    "stopCode",
    "eventName",
    "failure",
    "exitCodes",
    "version",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// The whole item: used only where entries are rare (failures), so reasons come along.
    All,
    Include(&'static [&'static str]),
}

/// A global secondary index of the table. `modules/audit-table` declares the same indexes;
/// the Terraform test compares the applied table with this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub hash_key: &'static str,
    pub range_key: &'static str,
    pub projection: Projection,
}

pub const INDEXES: &[IndexSpec] = &[
    IndexSpec {
        name: CLUSTER_TIME_INDEX,
        hash_key: "cluster",
        range_key: "eventTime",
        projection: Projection::Include(TIMELINE_ATTRIBUTES),
    },
    IndexSpec {
        name: SERVICE_TIME_INDEX,
        hash_key: "serviceKey",
        range_key: "eventTime",
        projection: Projection::Include(TIMELINE_ATTRIBUTES),
    },
    IndexSpec {
        name: FAMILY_STOPPED_INDEX,
        hash_key: "family",
        range_key: "stoppedAt",
        projection: Projection::Include(TIMELINE_ATTRIBUTES),
    },
    IndexSpec {
        name: CLUSTER_FAILURES_INDEX,
        hash_key: "cluster",
        range_key: "failedAt",
        projection: Projection::All,
    },
];

/// DynamoDB limits a sort key to 1024 bytes and a partition key to 2048; identifiers longer
/// than the smaller bound are not real ECS names and would make the write fail.
pub const MAX_KEY_BYTES: usize = 1024;
/// Free text (stop reasons, service reasons) is cut here. ECS's agent already cuts container
/// reasons at 1024 characters; a longer text is an anomaly worth marking, not storing whole.
pub const MAX_TEXT_BYTES: usize = 2048;
/// Other strings (images, names, statuses) are cut here.
pub const MAX_NAME_BYTES: usize = 1024;
/// ECS allows 10 containers per task definition; more is junk, kept as a count.
pub const MAX_CONTAINERS: usize = 20;
pub const MAX_CAPACITY_PROVIDERS: usize = 20;
/// The `detail` of an unmodelled event is stored as JSON up to this size. Events go up to
/// 1 MB (EventBridge's limit since 2026-01-29), an item up to 400 KB: this leaves room for
/// every other attribute, each capped too, so any event fits. A longer detail is cut, marked
/// in `truncated`, with `originalBytes` recorded.
pub const MAX_DETAIL_JSON_BYTES: usize = 320 * 1024;
/// Each raw value in `driftedFields` is kept up to this size (the parser bounds how many).
pub const MAX_DRIFT_VALUE_BYTES: usize = 512;
/// The largest event a delivery can carry: EventBridge events, SQS messages and asynchronous
/// Lambda payloads, since 2026-01-29. Every event up to this size becomes an item.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

const SECONDS_PER_DAY: i64 = 86_400;

/// One stored event. Field names are the DynamoDB attribute names (camelCase, as ECS names
/// them), so the console shows self-describing columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub resource_arn: String,
    pub event_key: String,
    pub detail_type: String,
    pub event_id: String,
    /// UTC with milliseconds, e.g. `2026-11-24T06:17:17.123Z`: sorts as text.
    pub event_time: String,
    /// Epoch seconds: DynamoDB's TTL deletes the item after this.
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `<cluster>/<service>`, on every event of a service: the `service-time` index key.
    /// Service names are unique only within a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// `family:revision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_instance_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_stopped_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping_at: Option<String>,
    /// Set only on STOPPED task events, which puts them, and only them, in the
    /// `family-stopped` index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<ContainerRecord>>,
    /// How many containers beyond [`MAX_CONTAINERS`] the event listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers_omitted: Option<u64>,
    /// `name=code` pairs, readable in the console's table view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_codes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_connected: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_tasks_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_tasks_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_providers: Option<Vec<String>>,
    /// ECS's own code for what went wrong (a stop code or an event name); only on failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Equal to `eventTime` on failures, absent otherwise: the `cluster-failures` index key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<String>,
    /// The whole `detail` as JSON, for detail-types this version does not model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Modelled fields whose value had another type (schema drift): JSON path → the value as
    /// sent (canonical JSON, cut at [`MAX_DRIFT_VALUE_BYTES`]). Everything else is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drifted_fields: Option<BTreeMap<String, String>>,
    /// The attributes cut to keep the item within DynamoDB's 400 KB, each marked in its text
    /// (`…[truncated: N bytes in all]`); `containers` and `capacityProviders` when entries
    /// beyond their caps were left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Vec<String>>,
    /// The event's size as compact JSON, on items where something was cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_bytes: Option<u64>,
    /// On a conflict item: the `eventKey` of the item that first took this event's key with
    /// different content. This item's key is that key + `#conflict#<hash of its content>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AuditRecord {
    /// The record as the attribute map that is stored.
    pub fn to_item(&self) -> Result<Item, Error> {
        match serde_json::to_value(self) {
            Ok(Value::Object(item)) => Ok(item),
            Ok(other) => Err(Error::bad_event(
                &self.event_id,
                format!("record serialized to {other}, not an object"),
            )),
            Err(error) => Err(Error::bad_event(&self.event_id, error.to_string())),
        }
    }

    /// The task's id (last segment of its ARN) for task events.
    pub fn task_id(&self) -> Option<&str> {
        self.resource_arn
            .contains(":task/")
            .then(|| last_segment(&self.resource_arn))
    }

    /// The indexes this item is written to (those whose key attributes it has); each is one
    /// more write on top of the table's.
    pub fn indexes(&self) -> Vec<&'static IndexSpec> {
        let has = |attribute: &str| match attribute {
            "cluster" => self.cluster.is_some(),
            "serviceKey" => self.service_key.is_some(),
            "family" => self.family.is_some(),
            "eventTime" => true,
            "stoppedAt" => self.stopped_at.is_some(),
            "failedAt" => self.failed_at.is_some(),
            _ => false,
        };
        INDEXES
            .iter()
            .filter(|index| has(index.hash_key) && has(index.range_key))
            .collect()
    }
}

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
    record.drifted_fields = drifted_fields(&event.drifted, &mut cuts);
    if !cuts.0.is_empty() {
        record.original_bytes = Some(json_size(event.raw));
        record.truncated = Some(cuts.0);
    }
    Ok(record)
}

/// The `driftedFields` attribute: JSON path → the raw value as canonical JSON, each cut at
/// [`MAX_DRIFT_VALUE_BYTES`]. The parser bounds how many there are ([`MAX_DRIFT_PASSES`] plus
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

/// The size of `value` as compact JSON, counted without building the text.
pub fn json_size(value: &Value) -> u64 {
    struct Counter(u64);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
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
    Ok(())
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

/// The zero-padded width keeps text order equal to numeric order for any `u64`.
pub fn version_key(version: u64) -> String {
    format!("v{version:020}")
}

pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Identifies a version-less event by what it says, not by its envelope id: whether a
/// redelivered event keeps its id is not documented, its content is the same.
pub fn content_hash(event: &EcsEvent<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(event.envelope.detail_type.as_bytes());
    hasher.update([0]);
    for resource in &event.envelope.resources {
        hasher.update(resource.as_bytes());
        hasher.update([0]);
    }
    hasher.update(canonical_json(event.raw_detail).as_bytes());
    hasher.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Attributes that say how an event reached the table, not what it says: a redelivery may
/// carry a new envelope id, a redrive another retention, a new envelope another size, and it
/// is still the same event. This is the one definition of "same content": [`same_event`]
/// and [`conflict_item`] ignore these and compare everything else.
pub const DELIVERY_ATTRIBUTES: &[&str] = &["eventId", "expiresAt", "originalBytes"];

/// Between an event's key and the content hash of a conflict item's key.
pub const CONFLICT_MARKER: &str = "#conflict#";

/// What an item says: every attribute but its key (where it is stored, which a comparison of
/// two items at one key cannot tell apart) and [`DELIVERY_ATTRIBUTES`].
fn content_attributes(item: &Item) -> impl Iterator<Item = (&String, &Value)> {
    item.iter().filter(|(name, _)| {
        let name = name.as_str();
        name != PARTITION_KEY && name != SORT_KEY && !DELIVERY_ATTRIBUTES.contains(&name)
    })
}

/// True when two items record the same event: equal in every attribute but their key and
/// [`DELIVERY_ATTRIBUTES`]. A stored item that differs is a conflict, never a duplicate.
pub fn same_event(a: &Item, b: &Item) -> bool {
    content_attributes(a).count() == content_attributes(b).count()
        && content_attributes(a).all(|(name, value)| b.get(name) == Some(value))
}

/// The item that keeps `item` when a different event already holds its key: the same
/// attributes under `eventKey` + [`CONFLICT_MARKER`] + 16 hex of a SHA-256 of its content
/// (as [`same_event`] sees it), with `conflictOf` naming the key it lost. Deterministic, so
/// a redelivery of the conflicting event lands on this item and is its duplicate.
pub fn conflict_item(item: &Item) -> Item {
    let content: serde_json::Map<String, Value> = content_attributes(item)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let digest = Sha256::digest(canonical_json(&Value::Object(content)).as_bytes());
    let hash: String = digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let key = item
        .get(SORT_KEY)
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut conflict = item.clone();
    conflict.insert(
        SORT_KEY.to_string(),
        Value::String(format!("{key}{CONFLICT_MARKER}{hash}")),
    );
    conflict.insert("conflictOf".to_string(), Value::String(key.to_string()));
    conflict
}

/// JSON with object keys sorted at every level, so equal content gives equal text however a
/// sender orders its keys.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Cuts `value` to at most `max` bytes on a character boundary and says how much was cut.
pub fn cut(value: &str, max: usize) -> String {
    if value.len() <= max {
        return value.to_string();
    }
    let marker = format!(" …[truncated: {} bytes in all]", value.len());
    let mut end = max.saturating_sub(marker.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{marker}", &value[..end])
}

/// The attributes cut to fit, in the order they were cut: the record's `truncated`.
#[derive(Debug, Default)]
struct Cuts(Vec<String>);

impl Cuts {
    /// [`cut`], noting `name` when it cuts.
    fn cut(&mut self, name: &str, value: &str, max: usize) -> String {
        if value.len() > max {
            self.mark(name);
        }
        cut(value, max)
    }

    fn text(&mut self, name: &str, value: &Option<String>, max: usize) -> Option<String> {
        value.as_deref().map(|value| self.cut(name, value, max))
    }

    fn mark(&mut self, name: &str) {
        if !self.0.iter().any(|cut| cut == name) {
            self.0.push(name.to_string());
        }
    }
}

/// A key attribute must be non-empty and within DynamoDB's key size.
fn key_value(field: &str, value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("`{field}` is empty"));
    }
    if value.len() > MAX_KEY_BYTES {
        return Err(format!(
            "`{field}` is {} bytes long; identifiers longer than {MAX_KEY_BYTES} bytes cannot be keys",
            value.len()
        ));
    }
    Ok(value.to_string())
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

fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse;
    use serde_json::json;

    fn envelope(detail_type: &str, resources: Value, detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "8fcb1b1c-4c2d-4a86-9d6f-0123456789ab",
            "detail-type": detail_type,
            "source": "aws.ecs",
            "account": "111122223333",
            "time": "2026-11-20T10:00:01Z",
            "region": "xx-test-1",
            "resources": resources,
            "detail": detail
        })
    }

    fn record_of(input: &Value) -> AuditRecord {
        build(&parse(input).unwrap(), 14).unwrap()
    }

    #[test]
    fn version_keys_sort_as_numbers() {
        assert!(version_key(9) < version_key(10));
        assert!(version_key(u64::MAX - 1) < version_key(u64::MAX));
        assert_eq!(version_key(4), "v00000000000000000004");
    }

    #[test]
    fn cut_respects_character_boundaries_and_marks_the_cut() {
        let long = "é".repeat(5000);
        let cut_text = cut(&long, 2048);
        assert!(cut_text.len() <= 2048, "{}", cut_text.len());
        assert!(cut_text.ends_with("[truncated: 10000 bytes in all]"));
        assert_eq!(cut("short", 2048), "short");
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":null}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

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
    fn same_content_ignores_only_the_delivery_attributes() {
        let detail = json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b",
                            "version": 2, "lastStatus": "RUNNING"});
        let input = envelope("ECS Task State Change", json!([]), detail);
        let item = record_of(&input).to_item().unwrap();
        let mut redelivered = item.clone();
        redelivered.insert("eventId".into(), json!("another-id"));
        redelivered.insert("expiresAt".into(), json!(1));
        redelivered.insert("originalBytes".into(), json!(999));
        assert!(same_event(&item, &redelivered));
        for (name, value) in [
            ("lastStatus", json!("STOPPED")),
            ("region", json!("xx-test-2")),
            ("extra", json!(1)),
        ] {
            let mut other = item.clone();
            other.insert(name.into(), value);
            assert!(!same_event(&item, &other), "{name}");
            assert!(!same_event(&other, &item), "{name}");
        }
        let conflict = conflict_item(&item);
        assert_eq!(
            conflict[SORT_KEY],
            conflict_item(&redelivered)[SORT_KEY],
            "a redelivery has the same conflict key"
        );
        let key = conflict[SORT_KEY].as_str().unwrap();
        assert!(
            key.starts_with("v00000000000000000002#conflict#") && key.len() == 21 + 10 + 16,
            "{key}"
        );
        assert_eq!(conflict["conflictOf"], json!("v00000000000000000002"));
        let mut other = item.clone();
        other.insert("lastStatus".into(), json!("STOPPED"));
        assert_ne!(conflict_item(&other)[SORT_KEY], conflict[SORT_KEY]);
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
