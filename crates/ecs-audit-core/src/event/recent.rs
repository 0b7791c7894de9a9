//! The `detail` of the detail-types ECS added in 2025–2026: deployment lifecycle hooks,
//! Managed Daemons (ECS Managed Instances) and container instance health. Modelled like the
//! others in [`super`]: every field optional, unknown fields ignored, a field of another type
//! set aside as drift.
//!
//! Sources (each fixture under `tests/fixtures/events` names its page in the fixtures README):
//! - hooks: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_hook_state_change_events.html>
//! - daemons: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html>
//! - instance health: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_container_instance_health_events.html>

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::objects;

/// `ECS Hook State Change`: a deployment lifecycle hook changed status (`HOOK_IN_PROGRESS`,
/// `HOOK_AWAITING_ACTION`, `HOOK_SUCCEEDED`, `HOOK_FAILED`, `HOOK_TIMED_OUT`). `resources[0]`
/// is the service deployment's ARN; the service ARN is in `detail`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookDetail {
    pub event_type: Option<String>,
    pub event_name: Option<String>,
    pub hook_id: Option<String>,
    /// `PAUSE` or `AWS_LAMBDA`.
    pub hook_type: Option<String>,
    /// When a pause hook times out unless someone continues or rolls back the deployment.
    pub expires_at: Option<DateTime<Utc>>,
    /// e.g. `POST_TEST_TRAFFIC_SHIFT`.
    pub lifecycle_stage: Option<String>,
    pub cluster_arn: Option<String>,
    pub service_arn: Option<String>,
    pub service_deployment_arn: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// `ECS Daemon Service Action`: `DAEMON_TASK_START_IMPAIRED` with a `failureType` of
/// `TASK_FAILED_TO_RUN` (a task was created: `taskArn` present) or `TASK_CREATION_FAILED`
/// (no task at all, and `resources` empty).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonActionDetail {
    pub event_type: Option<String>,
    pub event_name: Option<String>,
    pub cluster_arn: Option<String>,
    pub container_instance_arn: Option<String>,
    pub task_arn: Option<String>,
    pub daemon_arn: Option<String>,
    pub daemon_revision_arn: Option<String>,
    pub daemon_task_definition_arn: Option<String>,
    pub capacity_provider_name: Option<String>,
    pub failure_type: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// `ECS Daemon Deployment State Change`: `DAEMON_DEPLOYMENT_PENDING`, `_IN_PROGRESS`,
/// `_SUCCESSFUL`, `_STOPPED`, `_STOP_REQUESTED`, `_ROLLBACK_IN_PROGRESS`,
/// `_ROLLBACK_SUCCESSFUL` (INFO) and `_ROLLBACK_FAILED` (ERROR).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonDeploymentDetail {
    pub event_type: Option<String>,
    pub event_name: Option<String>,
    pub cluster_arn: Option<String>,
    pub daemon_arn: Option<String>,
    pub daemon_deployment_arn: Option<String>,
    pub target_daemon_revision_arn: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// `ECS Container Instance Health Change` (EC2 and ECS Managed Instances): the overall status
/// and the checks behind it (container runtime, accelerated devices, daemons).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInstanceHealthDetail {
    pub cluster_arn: Option<String>,
    pub container_instance_arn: Option<String>,
    pub capacity_provider_name: Option<String>,
    pub ec2_instance_id: Option<String>,
    pub overall_status: Option<String>,
    #[serde(default)]
    #[serde(deserialize_with = "objects")]
    pub health_checks: Option<Vec<Option<HealthCheck>>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<String>,
    pub last_updated: Option<DateTime<Utc>>,
    pub last_status_change: Option<DateTime<Utc>>,
    /// e.g. `XID_46`, `Agent disconnected since …`; `null` while OK.
    pub status_reason: Option<String>,
}
