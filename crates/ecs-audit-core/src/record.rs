//! The audit record: one stored event. Its fields are the DynamoDB attribute names
//! (camelCase, as ECS names them), so the console shows self-describing columns; every field
//! but the keys and times is optional and absent from the item when unset.
//!
//! To record a new detail of an event: add the field here, fill it in [`crate::mapping`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::derived::{self, arn_region_account, service_group};
use crate::error::Error;
use crate::item::{Item, indexes_of};
use crate::schema::IndexSpec;
use crate::text::last_segment;
use crate::timeline;

/// One stored event. Field names are the DynamoDB attribute names (camelCase, as ECS names
/// them), so the console shows self-describing columns.
#[skip_serializing_none]
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
    /// Only when the resource ARN does not name it: read it with [`Self::source_region`].
    pub region: Option<String>,
    /// Only when the resource ARN does not name it: read it with [`Self::source_account`].
    pub account: Option<String>,
    /// The cluster name; on task events only those the timelines list ([`crate::timeline`]),
    /// as it is the key of `cluster-time` and `cluster-failures`.
    pub cluster: Option<String>,
    pub service: Option<String>,
    /// `<cluster>/<service>`, on the events of a service the timelines list
    /// ([`crate::timeline`]): the `service-time` index key. Service names are unique only
    /// within a cluster.
    pub service_key: Option<String>,
    /// Only when it is not `service:<service>`: read it with [`Self::task_group`].
    pub group: Option<String>,
    pub started_by: Option<String>,
    /// `family:revision`.
    pub task_definition: Option<String>,
    pub family: Option<String>,
    pub revision: Option<u64>,
    pub launch_type: Option<String>,
    pub capacity_provider: Option<String>,
    pub availability_zone: Option<String>,
    pub container_instance_arn: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub version: Option<u64>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub created_at: Option<String>,
    pub pull_started_at: Option<String>,
    pub pull_stopped_at: Option<String>,
    pub started_at: Option<String>,
    pub stopping_at: Option<String>,
    /// Set only on STOPPED task events, which puts them, and only them, in the
    /// `family-stopped` index.
    pub stopped_at: Option<String>,
    pub containers: Option<Vec<ContainerRecord>>,
    /// The image of every container, when they all run the same one: stored once here, not
    /// in each container ([`crate::derived`]). Read with [`Self::container_image`].
    pub image: Option<String>,
    /// How many containers beyond [`crate::limits::MAX_CONTAINERS`] the event listed.
    pub containers_omitted: Option<u64>,
    /// `name=code` pairs, readable in the console's table view.
    pub exit_codes: Option<String>,
    pub ec2_instance_id: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub agent_connected: Option<bool>,
    pub agent_version: Option<String>,
    pub running_tasks_count: Option<i64>,
    pub pending_tasks_count: Option<i64>,
    pub event_type: Option<String>,
    pub event_name: Option<String>,
    pub reason: Option<String>,
    pub deployment_id: Option<String>,
    /// The service deployment a lifecycle hook belongs to, or a daemon deployment.
    pub deployment_arn: Option<String>,
    pub capacity_providers: Option<Vec<String>>,
    /// Attachments ECS reports `FAILED` (an EBS volume that could not be created or attached).
    pub failed_attachments: Option<Vec<AttachmentRecord>>,
    pub hook_id: Option<String>,
    /// `PAUSE` or `AWS_LAMBDA`.
    pub hook_type: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// When a pause hook times out (not named `expiresAt`: that is the item's TTL).
    pub hook_expires_at: Option<String>,
    /// A Managed Daemon's name (ECS Managed Instances), on daemon events.
    pub daemon: Option<String>,
    /// `TASK_FAILED_TO_RUN` (a task was created) or `TASK_CREATION_FAILED` (none was).
    pub failure_type: Option<String>,
    /// The task a daemon event is about, when there is one; never part of a key.
    pub task_arn: Option<String>,
    /// A container instance's overall health (`OK`, `IMPAIRED`, `INSUFFICIENT_DATA`, ...).
    pub health_status: Option<String>,
    /// `TYPE=STATUS` of each health check behind it, e.g. `DAEMON=IMPAIRED`.
    pub health_checks: Option<Vec<String>>,
    /// ECS's own code for what went wrong (a stop code or an event name); only on failures.
    pub failure: Option<String>,
    /// Equal to `eventTime` on failures, absent otherwise: the `cluster-failures` index key.
    pub failed_at: Option<String>,
    /// The whole `detail` as JSON, for detail-types this version does not model.
    pub detail: Option<String>,
    /// Modelled fields whose value had another type (schema drift): JSON path → the value as
    /// sent (canonical JSON, cut at [`crate::limits::MAX_DRIFT_VALUE_BYTES`]). Everything else is recorded.
    pub drifted_fields: Option<BTreeMap<String, String>>,
    /// The attributes cut to keep the item within DynamoDB's 400 KB, each marked in its text
    /// (`…[truncated: N bytes in all]`); `containers` and `capacityProviders` when entries
    /// beyond their caps were left out.
    pub truncated: Option<Vec<String>>,
    /// The event's size as compact JSON, on items where something was cut.
    pub original_bytes: Option<u64>,
    /// On a conflict item: the `eventKey` of the item that first took this event's key with
    /// different content. This item's key is that key + `#conflict#<hash of its content>`.
    pub conflict_of: Option<String>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRecord {
    pub name: Option<String>,
    /// Absent when every container of the task runs one image, which the item then stores
    /// once: read it with [`AuditRecord::container_image`].
    pub image: Option<String>,
    /// `sha256:…` where the event carries it (ECR images).
    pub image_digest: Option<String>,
    pub last_status: Option<String>,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
}

/// A task attachment ECS reports `FAILED`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRecord {
    /// `AmazonElasticBlockStorage`, `ElasticNetworkInterface`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<String>,
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

    /// The region the event came from: stored when the resource ARN does not name it
    /// ([`crate::derived`]), else the ARN's.
    pub fn source_region(&self) -> Option<&str> {
        self.region
            .as_deref()
            .or_else(|| arn_region_account(&self.resource_arn).map(|(region, _)| region))
    }

    /// The account the event came from, like [`Self::source_region`].
    pub fn source_account(&self) -> Option<&str> {
        self.account
            .as_deref()
            .or_else(|| arn_region_account(&self.resource_arn).map(|(_, account)| account))
    }

    /// The cluster: stored on what the timelines list, else the one a task ARN names
    /// (`…:task/<cluster>/<id>`; the old ARN format without it names none).
    pub fn cluster_name(&self) -> Option<&str> {
        self.cluster.as_deref().or_else(|| {
            let (_, path) = self.resource_arn.split_once(":task/")?;
            let (cluster, _id) = path.split_once('/')?;
            Some(cluster).filter(|cluster| !cluster.is_empty())
        })
    }

    /// A task's group: stored unless it is its service's (`service:<service>`).
    pub fn task_group(&self) -> Option<String> {
        self.group
            .clone()
            .or_else(|| self.service.as_deref().map(service_group))
            .filter(|_| self.task_id().is_some())
    }

    /// A container's image: its own, or the one all the task's containers share.
    pub fn container_image<'a>(&'a self, container: &'a ContainerRecord) -> Option<&'a str> {
        container.image.as_deref().or(self.image.as_deref())
    }

    /// What of the record is stored: off the timelines unless [`timeline::is_listed`],
    /// nothing its other attributes already say ([`derived`]). The mapping applies it to
    /// every new record; [`crate::conflict`] to items stored before, to compare them.
    pub fn apply_layout(&mut self) {
        timeline::apply(self);
        derived::apply(self);
    }

    /// The indexes this record is written to (those whose two key attributes it has); each
    /// is one more write on top of the table's. With the item at hand, [`indexes_of`] says
    /// the same without serializing the record again.
    pub fn indexes(&self) -> Vec<&'static IndexSpec> {
        self.to_item()
            .map(|item| indexes_of(&item))
            .unwrap_or_default()
    }
}
