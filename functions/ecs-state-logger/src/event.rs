//! Serde models of the Amazon ECS events that EventBridge delivers (`source: aws.ecs`).
//!
//! Only the fields an audit needs are modelled; every other field is tolerated and ignored,
//! because ECS documents that it adds fields and event types over time. Fields that identify
//! an event are required; everything else is optional, since real events omit fields the
//! schema registry lists and carry fields it does not. A modelled field with the wrong type is
//! an error: storing a guess would make the audit log lie.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, UNKNOWN_EVENT_ID};

pub const ECS_SOURCE: &str = "aws.ecs";
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";
pub const CONTAINER_INSTANCE_STATE_CHANGE: &str = "ECS Container Instance State Change";
pub const SERVICE_ACTION: &str = "ECS Service Action";
pub const DEPLOYMENT_STATE_CHANGE: &str = "ECS Deployment State Change";

/// The EventBridge envelope common to every event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Second resolution; the times inside `detail` carry milliseconds.
    pub time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub resources: Vec<String>,
}

/// `ECS Task State Change`: `detail` resembles a DescribeTasks task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    pub task_arn: String,
    /// Increments on every change of the task; a duplicate delivery repeats it.
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_provider_name: Option<String>,
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
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_stopped_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_stopped_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<Container>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    /// Absent while running and when the container never started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `ECS Container Instance State Change` (EC2 and external capacity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInstanceDetail {
    pub container_instance_arn: String,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_connected: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_tasks_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_tasks_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_info: Option<VersionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
}

/// `ECS Service Action`: INFO, WARN and ERROR events of the service scheduler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceActionDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_provider_arns: Option<Vec<String>>,
}

/// `ECS Deployment State Change`. Carries no cluster ARN: the service ARN in `resources[0]`
/// names the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Task(Box<TaskDetail>),
    ContainerInstance(ContainerInstanceDetail),
    ServiceAction(ServiceActionDetail),
    Deployment(DeploymentDetail),
    /// A detail-type this version does not model. Recorded generically, never dropped.
    Other,
}

/// A parsed event. `raw_detail` is the `detail` object exactly as delivered, kept for content
/// hashing and for recording detail-types that are not modelled.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsEvent<'a> {
    pub envelope: Envelope,
    pub detail: Detail,
    pub raw_detail: &'a Value,
}

/// Reads the id from anything, so that even a rejection can name the event it rejects.
pub fn event_id_of(input: &Value) -> &str {
    input
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .unwrap_or(UNKNOWN_EVENT_ID)
}

/// Parses one EventBridge event. Every failure names the event id and what is wrong, with the
/// JSON path of the offending field.
pub fn parse(input: &Value) -> Result<EcsEvent<'_>, Error> {
    let event_id = event_id_of(input);
    let reject = |problem: String| Error::bad_event(event_id, problem);

    let object = input.as_object().ok_or_else(|| {
        reject(format!(
            "expected an EventBridge event (a JSON object), got {}",
            json_kind(input)
        ))
    })?;
    let raw_detail = object
        .get("detail")
        .ok_or_else(|| reject("missing field `detail`".into()))?;
    if !raw_detail.is_object() {
        return Err(reject(format!(
            "`detail` must be a JSON object, got {}",
            json_kind(raw_detail)
        )));
    }

    let envelope: Envelope = deserialize_at("", input).map_err(reject)?;
    if envelope.id.is_empty() {
        return Err(reject("`id` is empty".into()));
    }
    if envelope.source != ECS_SOURCE {
        return Err(reject(format!(
            "source is {:?}; this function records only {ECS_SOURCE:?} events (check the rule's event pattern)",
            envelope.source
        )));
    }

    let detail = match envelope.detail_type.as_str() {
        TASK_STATE_CHANGE => Detail::Task(Box::new(
            deserialize_at("detail", raw_detail).map_err(reject)?,
        )),
        CONTAINER_INSTANCE_STATE_CHANGE => {
            Detail::ContainerInstance(deserialize_at("detail", raw_detail).map_err(reject)?)
        }
        SERVICE_ACTION => {
            Detail::ServiceAction(deserialize_at("detail", raw_detail).map_err(reject)?)
        }
        DEPLOYMENT_STATE_CHANGE => {
            Detail::Deployment(deserialize_at("detail", raw_detail).map_err(reject)?)
        }
        "" => return Err(reject("`detail-type` is empty".into())),
        _ => Detail::Other,
    };

    Ok(EcsEvent {
        envelope,
        detail,
        raw_detail,
    })
}

/// Deserializes `value`, reporting a failure with the path of the field at fault.
fn deserialize_at<T: DeserializeOwned>(prefix: &str, value: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let inner = error.inner().to_string();
        let path = error.path().to_string();
        let path = match (prefix.is_empty(), path.as_str()) {
            (true, ".") => String::new(),
            (true, _) => path,
            (false, ".") => prefix.to_string(),
            (false, _) => format!("{prefix}.{path}"),
        };
        if path.is_empty() {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task_event(detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "3317b2af-7005-947d-b652-f55e762e571a",
            "detail-type": "ECS Task State Change",
            "source": "aws.ecs",
            "account": "111122223333",
            "time": "2020-01-23T17:57:58Z",
            "region": "xx-test-1",
            "resources": ["arn:aws:ecs:xx-test-1:111122223333:task/example/abc"],
            "detail": detail
        })
    }

    fn rejection(input: &Value) -> String {
        match parse(input) {
            Err(Error::BadEvent { event_id, problem }) => format!("{event_id}: {problem}"),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_minimal_task_event() {
        let input = task_event(
            json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/example/abc", "version": 3}),
        );
        let event = parse(&input).unwrap();
        match event.detail {
            Detail::Task(task) => {
                assert_eq!(task.version, 3);
                assert_eq!(task.last_status, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_path_of_a_wrongly_typed_field() {
        let input = task_event(json!({
            "taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/example/abc",
            "version": 3,
            "containers": [{"name": "app", "exitCode": "137"}]
        }));
        let message = rejection(&input);
        assert!(
            message.starts_with("3317b2af-7005-947d-b652-f55e762e571a: "),
            "{message}"
        );
        assert!(
            message.contains("detail.containers[0].exitCode"),
            "{message}"
        );
    }

    #[test]
    fn requires_the_identifying_fields() {
        let message = rejection(&task_event(json!({"version": 3})));
        assert!(message.contains("taskArn"), "{message}");
        let message = rejection(&task_event(json!({"taskArn": "arn:x", "version": "3"})));
        assert!(message.contains("detail.version"), "{message}");
        let message = rejection(&task_event(json!({"taskArn": "arn:x", "version": -1})));
        assert!(message.contains("detail.version"), "{message}");
    }

    #[test]
    fn rejects_what_is_not_an_ecs_event() {
        assert!(rejection(&json!([1, 2])).contains("got an array"));
        assert!(rejection(&json!("text")).starts_with(UNKNOWN_EVENT_ID));
        let mut other_source = task_event(json!({"taskArn": "arn:x", "version": 1}));
        other_source["source"] = json!("aws.ec2");
        assert!(rejection(&other_source).contains("\"aws.ec2\""));
        let mut no_detail = task_event(json!({}));
        no_detail.as_object_mut().unwrap().remove("detail");
        assert!(rejection(&no_detail).contains("missing field `detail`"));
        let mut bad_time = task_event(json!({"taskArn": "arn:x", "version": 1}));
        bad_time["time"] = json!("yesterday");
        assert!(rejection(&bad_time).contains("time"));
    }

    #[test]
    fn keeps_unknown_detail_types() {
        let mut input = task_event(json!({"anything": [1, 2, 3]}));
        input["detail-type"] = json!("ECS Something New");
        let event = parse(&input).unwrap();
        assert_eq!(event.detail, Detail::Other);
        assert_eq!(event.raw_detail, &json!({"anything": [1, 2, 3]}));
    }
}
