//! Serde models of the Amazon ECS events that EventBridge delivers (`source: aws.ecs`).
//!
//! Only the fields an audit needs are modelled; every other field is tolerated and ignored,
//! because ECS documents that it adds fields and event types over time. Every `detail` field
//! is optional, since real events omit fields the schema registry lists and carry fields it
//! does not; `mapping` decides what an event without its identifying fields is keyed by.
//!
//! Schema drift costs nothing: a modelled field whose value has another type (a number where
//! a string was, an object where a list was) is set aside as a [`Drift`] with its JSON path and
//! raw value, and the rest of the event parses as usual ([`deserialize_lenient`]). The record
//! keeps the raw values, so nothing is guessed and nothing is lost. Only the envelope is
//! strict: without it an event cannot be identified at all.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::error::{Error, UNKNOWN_EVENT_ID};

pub const ECS_SOURCE: &str = "aws.ecs";
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";
pub const CONTAINER_INSTANCE_STATE_CHANGE: &str = "ECS Container Instance State Change";
pub const SERVICE_ACTION: &str = "ECS Service Action";
pub const DEPLOYMENT_STATE_CHANGE: &str = "ECS Deployment State Change";

/// The EventBridge envelope common to every event.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: Option<String>,
    /// Second resolution; the times inside `detail` carry milliseconds.
    pub time: DateTime<Utc>,
    pub region: Option<String>,
    #[serde(default)]
    pub resources: Vec<String>,
}

/// `ECS Task State Change`: `detail` resembles a DescribeTasks task.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    pub task_arn: Option<String>,
    /// Increments on every change of the task; a duplicate delivery repeats it.
    pub version: Option<u64>,
    pub cluster_arn: Option<String>,
    pub task_definition_arn: Option<String>,
    pub group: Option<String>,
    pub started_by: Option<String>,
    pub launch_type: Option<String>,
    pub capacity_provider_name: Option<String>,
    pub availability_zone: Option<String>,
    pub container_instance_arn: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub platform_version: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub pull_started_at: Option<DateTime<Utc>>,
    pub pull_stopped_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopping_at: Option<DateTime<Utc>>,
    pub execution_stopped_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    /// An element that is not a container is set aside as drift and left as `None`.
    #[serde(deserialize_with = "containers")]
    pub containers: Option<Vec<Option<Container>>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: Option<String>,
    pub image: Option<String>,
    /// `sha256:…`, for images pulled from ECR: which build of a moving tag ran.
    pub image_digest: Option<String>,
    pub last_status: Option<String>,
    /// Absent while running and when the container never started.
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
}

/// `ECS Container Instance State Change` (EC2 and external capacity).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInstanceDetail {
    pub container_instance_arn: Option<String>,
    pub version: Option<u64>,
    pub cluster_arn: Option<String>,
    pub ec2_instance_id: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub agent_connected: Option<bool>,
    pub running_tasks_count: Option<i64>,
    pub pending_tasks_count: Option<i64>,
    #[serde(default)]
    #[serde(deserialize_with = "version_info")]
    pub version_info: Option<VersionInfo>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub agent_version: Option<String>,
}

/// `ECS Service Action`: INFO, WARN and ERROR events of the service scheduler.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceActionDetail {
    pub event_type: Option<String>,
    pub event_name: Option<String>,
    pub cluster_arn: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub capacity_provider_arns: Option<Vec<Option<String>>>,
}

/// `ECS Deployment State Change`. Carries no cluster ARN: the service ARN in `resources[0]`
/// names the cluster.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentDetail {
    pub event_type: Option<String>,
    pub event_name: Option<String>,
    pub deployment_id: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// A nested struct that must come as a JSON object. serde's derive also takes a list, fields in
/// order, which would read `["web", "nginx"]` as a container named `web`: a list where an
/// object was is drift, not data.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = T;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Visitor(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

fn containers<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Option<Container>>>, D::Error> {
    let containers: Option<Vec<Option<ObjectOnly<Container>>>> =
        Deserialize::deserialize(deserializer)?;
    Ok(containers.map(|list| {
        list.into_iter()
            .map(|container| container.map(|ObjectOnly(container)| container))
            .collect()
    }))
}

fn version_info<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<VersionInfo>, D::Error> {
    let info: Option<ObjectOnly<VersionInfo>> = Deserialize::deserialize(deserializer)?;
    Ok(info.map(|ObjectOnly(info)| info))
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

/// A modelled field whose value did not have the modelled type: where it was (a JSON path
/// from the event's root, e.g. `detail.containers[0].exitCode`) and the value as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub path: String,
    pub raw: Value,
}

/// A parsed event. `raw` is the event and `raw_detail` its `detail` exactly as delivered, kept
/// for content hashing, for the original size, and for recording detail-types that are not
/// modelled. `drifted` lists the fields set aside because their type had changed.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsEvent<'a> {
    pub envelope: Envelope,
    pub detail: Detail,
    pub raw: &'a Value,
    pub raw_detail: &'a Value,
    pub drifted: Vec<Drift>,
}

/// After this many fields set aside one by one, a drifting field is set aside whole at its
/// top-level field (`detail.containers` rather than `detail.containers[7].exitCode`), so a
/// hostile event costs a bounded number of passes: this plus the number of modelled fields.
pub const MAX_DRIFT_PASSES: usize = 32;

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

    let (detail, drifted) = match envelope.detail_type.as_str() {
        TASK_STATE_CHANGE => {
            let (task, drifted) = deserialize_lenient("detail", raw_detail).map_err(reject)?;
            (Detail::Task(Box::new(task)), drifted)
        }
        CONTAINER_INSTANCE_STATE_CHANGE => {
            let (instance, drifted) = deserialize_lenient("detail", raw_detail).map_err(reject)?;
            (Detail::ContainerInstance(instance), drifted)
        }
        SERVICE_ACTION => {
            let (action, drifted) = deserialize_lenient("detail", raw_detail).map_err(reject)?;
            (Detail::ServiceAction(action), drifted)
        }
        DEPLOYMENT_STATE_CHANGE => {
            let (deployment, drifted) =
                deserialize_lenient("detail", raw_detail).map_err(reject)?;
            (Detail::Deployment(deployment), drifted)
        }
        "" => return Err(reject("`detail-type` is empty".into())),
        _ => (Detail::Other, Vec::new()),
    };

    Ok(EcsEvent {
        envelope,
        detail,
        raw: input,
        raw_detail,
        drifted,
    })
}

/// Deserializes `value` (found at `prefix`) as `T`, setting aside each field `T` cannot take:
/// the failing field is removed from a working copy (an array element is replaced by `null`,
/// so the others keep their index) and parsing starts again, until it succeeds. The common
/// case, no drift, parses once and copies nothing.
pub fn deserialize_lenient<T: DeserializeOwned>(
    prefix: &str,
    value: &Value,
) -> Result<(T, Vec<Drift>), String> {
    let mut working = Cow::Borrowed(value);
    let mut drifted = Vec::new();
    loop {
        let error = match serde_path_to_error::deserialize::<_, T>(working.as_ref()) {
            Ok(parsed) => return Ok((parsed, drifted)),
            Err(error) => error,
        };
        let mut segments = error.path().iter().cloned().collect::<Vec<_>>();
        if drifted.len() >= MAX_DRIFT_PASSES {
            segments.truncate(1);
        }
        let raw = set_aside(working.to_mut(), &segments).ok_or_else(|| {
            // Only a value that is not an object at all ends here; `parse` checks that first.
            format!("{}: {}", path_text(prefix, &segments), error.inner())
        })?;
        drifted.push(Drift {
            path: path_text(prefix, &segments),
            raw,
        });
    }
}

/// Takes the value at `segments` out of `value`: removed from its object, or replaced by `null`
/// in its array. `None` if there is no such value (an empty path included).
fn set_aside(value: &mut Value, segments: &[serde_path_to_error::Segment]) -> Option<Value> {
    use serde_path_to_error::Segment;
    let (last, parents) = segments.split_last()?;
    let mut cursor = value;
    for segment in parents {
        cursor = match segment {
            Segment::Map { key } => cursor.get_mut(key.as_str())?,
            Segment::Seq { index } => cursor.get_mut(*index)?,
            _ => return None,
        };
    }
    match last {
        Segment::Map { key } => cursor.as_object_mut()?.remove(key.as_str()),
        Segment::Seq { index } => cursor.get_mut(*index).map(Value::take),
        _ => None,
    }
}

fn path_text(prefix: &str, segments: &[serde_path_to_error::Segment]) -> String {
    use serde_path_to_error::Segment;
    let mut text = prefix.to_string();
    for segment in segments {
        match segment {
            Segment::Seq { index } => text.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            _ => text.push_str(".?"),
        }
    }
    text
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
                assert_eq!(task.version, Some(3));
                assert_eq!(task.last_status, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wrongly_typed_field_is_set_aside_with_its_path_and_the_rest_parses() {
        let input = task_event(json!({
            "taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/example/abc",
            "version": "3",
            "lastStatus": "STOPPED",
            "containers": [{"name": "app", "exitCode": "137"}, 7, {"name": "side", "exitCode": 0}],
            "capacityProviderArns": "not modelled for tasks"
        }));
        let event = parse(&input).unwrap();
        let paths: Vec<&str> = event.drifted.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "detail.containers[0].exitCode",
                "detail.containers[1]",
                "detail.version"
            ]
        );
        assert_eq!(event.drifted[0].raw, json!("137"));
        assert_eq!(event.drifted[1].raw, json!(7));
        assert_eq!(event.drifted[2].raw, json!("3"));
        let Detail::Task(task) = event.detail else {
            panic!("{:?}", event.detail)
        };
        assert_eq!(task.version, None);
        assert_eq!(task.last_status.as_deref(), Some("STOPPED"));
        let containers = task.containers.unwrap();
        assert_eq!(containers.len(), 3, "the others keep their index");
        assert_eq!(containers[0].as_ref().unwrap().name.as_deref(), Some("app"));
        assert_eq!(containers[0].as_ref().unwrap().exit_code, None);
        assert_eq!(containers[1], None);
        assert_eq!(containers[2].as_ref().unwrap().exit_code, Some(0));
    }

    #[test]
    fn a_flood_of_drift_is_set_aside_whole_after_a_bound() {
        let containers: Vec<Value> = (0..500).map(|_| json!({"exitCode": "x"})).collect();
        let input = task_event(json!({"taskArn": "arn:x", "version": 1, "containers": containers}));
        let event = parse(&input).unwrap();
        assert_eq!(event.drifted.len(), MAX_DRIFT_PASSES + 1);
        let last = event.drifted.last().unwrap();
        assert_eq!(last.path, "detail.containers");
        assert_eq!(last.raw.as_array().map(Vec::len), Some(500));
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
