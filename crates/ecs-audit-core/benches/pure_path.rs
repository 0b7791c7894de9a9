//! The CPU floor per event: what the handler does before and after its one DynamoDB call,
//! with no I/O. `cargo bench -p ecs-audit-core --bench pure_path`.
//!
//! - `parse_and_map/<kind>`: a parsed JSON event → `event::parse` → `mapping::build` →
//!   `to_item` (the item the function stores);
//! - `invocation/<kind>`: everything pure in one invocation: the payload bytes → JSON (what
//!   the runtime client does) → the above → write cost → DynamoDB attribute values (what the
//!   store adapter sends) → the JSON answer.
//!
//! The events are shaped like those ECS sends (envelope, attachments, containers, overrides)
//! so that parsing costs what it costs in production. Sizes are printed with the results.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ecs_audit_core::attributes::to_attributes;
use ecs_audit_core::capacity::{WriteCost, item_size};
use ecs_audit_core::event::parse;
use ecs_audit_core::mapping::build;
use serde_json::{Value, json};

/// A placeholder region: the benchmark needs a value, not a place.
const REGION: &str = "xx-test-1";
const ACCOUNT: &str = "111122223333";
const RETENTION_DAYS: u32 = 14;

fn arn(resource: &str) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:{resource}")
}

fn envelope(detail_type: &str, resources: Vec<String>, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": "8fcb1b1c-4c2d-4a86-9d6f-0123456789ab",
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": "2026-11-20T10:00:01Z",
        "region": REGION,
        "resources": resources,
        "detail": detail
    })
}

fn task_event(last_status: &str, containers: &[(&str, Option<i64>)]) -> Value {
    let task_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let task_arn = arn(&format!("task/prod/{task_id}"));
    let stopped = last_status == "STOPPED";
    let containers: Vec<Value> = containers
        .iter()
        .map(|(name, exit_code)| {
            let mut container = json!({
                "containerArn": arn(&format!("container/prod/{task_id}/{name}")),
                "lastStatus": if stopped { "STOPPED" } else { "RUNNING" },
                "name": name,
                "image": format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}:4.1"),
                "imageDigest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "runtimeId": format!("{task_id}-{name}"),
                "taskArn": task_arn,
                "cpu": "0",
                "networkInterfaces": [{"attachmentId": "eni-0123456789abcdef0", "privateIpv4Address": "10.0.1.23"}]
            });
            if let Some(code) = exit_code {
                container["exitCode"] = json!(code);
            }
            container
        })
        .collect();
    let mut detail = json!({
        "attachments": [{
            "id": "0123456789abcdef0",
            "type": "eni",
            "status": if stopped { "DELETED" } else { "ATTACHED" },
            "details": [
                {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f67890"},
                {"name": "networkInterfaceId", "value": "eni-0123456789abcdef0"},
                {"name": "privateIPv4Address", "value": "10.0.1.23"}
            ]
        }],
        "availabilityZone": format!("{REGION}a"),
        "clusterArn": arn("cluster/prod"),
        "containers": containers,
        "cpu": "512",
        "createdAt": "2026-11-20T09:58:01.120Z",
        "desiredStatus": if stopped { "STOPPED" } else { "RUNNING" },
        "enableExecuteCommand": false,
        "group": "service:web",
        "launchType": "FARGATE",
        "lastStatus": last_status,
        "memory": "1024",
        "overrides": {"containerOverrides": [{"name": "web"}, {"name": "log-router"}]},
        "platformVersion": "1.4.0",
        "pullStartedAt": "2026-11-20T09:58:03.410Z",
        "pullStoppedAt": "2026-11-20T09:58:19.002Z",
        "startedAt": "2026-11-20T09:58:23.447Z",
        "startedBy": "ecs-svc/1234567890123456789",
        "taskArn": task_arn,
        "taskDefinitionArn": arn("task-definition/web:42"),
        "updatedAt": "2026-11-20T10:00:00.250Z",
        "version": if stopped { 7 } else { 3 }
    });
    if stopped {
        detail["stopCode"] = json!("EssentialContainerExited");
        detail["stoppedReason"] = json!("Essential container in task exited");
        detail["stoppingAt"] = json!("2026-11-20T09:59:30.000Z");
        detail["executionStoppedAt"] = json!("2026-11-20T09:59:59.800Z");
        detail["stoppedAt"] = json!("2026-11-20T10:00:00.250Z");
    }
    envelope("ECS Task State Change", vec![task_arn], detail)
}

fn events() -> Vec<(&'static str, Value)> {
    vec![
        (
            "task_running",
            task_event("RUNNING", &[("web", None), ("log-router", None)]),
        ),
        (
            "task_stopped_failed",
            task_event("STOPPED", &[("web", Some(137)), ("log-router", Some(0))]),
        ),
        (
            "service_action",
            envelope(
                "ECS Service Action",
                vec![arn("service/prod/web")],
                json!({
                    "eventType": "ERROR",
                    "eventName": "SERVICE_TASK_PLACEMENT_FAILURE",
                    "clusterArn": arn("cluster/prod"),
                    "capacityProviderArns": [arn("capacity-provider/FARGATE")],
                    "reason": "RESOURCE:FARGATE",
                    "createdAt": "2026-11-20T10:00:00.123Z"
                }),
            ),
        ),
        (
            "deployment",
            envelope(
                "ECS Deployment State Change",
                vec![arn("service/prod/web")],
                json!({
                    "eventType": "INFO",
                    "eventName": "SERVICE_DEPLOYMENT_COMPLETED",
                    "deploymentId": "ecs-svc/1234567890123456789",
                    "updatedAt": "2026-11-20T10:00:00.123Z",
                    "reason": "ECS deployment ecs-svc/1234567890123456789 completed."
                }),
            ),
        ),
    ]
}

/// The pure part of one invocation, from payload bytes to the answer's bytes.
fn invocation(payload: &[u8]) -> (usize, usize) {
    let input: Value = match serde_json::from_slice(payload) {
        Ok(value) => value,
        Err(_) => return (0, 0),
    };
    let Ok(event) = parse(&input) else {
        return (0, 0);
    };
    let Ok(record) = build(&event, RETENTION_DAYS) else {
        return (0, 0);
    };
    let Ok(item) = record.to_item() else {
        return (0, 0);
    };
    let cost = WriteCost::of(&item, &record.indexes());
    let attributes = to_attributes(&item);
    let answer = json!({
        "outcome": "written",
        "resourceArn": record.resource_arn,
        "eventKey": record.event_key,
        "writeUnits": cost.total_units(),
    })
    .to_string();
    (attributes.len(), answer.len())
}

fn benches(c: &mut Criterion) {
    let events = events();
    for (name, event) in &events {
        let item = parse(event)
            .ok()
            .and_then(|parsed| build(&parsed, RETENTION_DAYS).ok())
            .and_then(|record| record.to_item().ok());
        let item_bytes = item.as_ref().map_or(0, item_size);
        println!(
            "{name}: event {} bytes of JSON, item {item_bytes} bytes",
            event.to_string().len()
        );
        assert!(item.is_some(), "{name} must map to an item");
    }

    let mut group = c.benchmark_group("parse_and_map");
    for (name, event) in &events {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let event = parse(black_box(event)).ok()?;
                let record = build(&event, RETENTION_DAYS).ok()?;
                record.to_item().ok()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("invocation");
    for (name, event) in &events {
        let payload = event.to_string().into_bytes();
        group.bench_function(*name, |b| b.iter(|| invocation(black_box(&payload))));
    }
    group.finish();
}

criterion_group! {
    name = pure_path;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = benches
}
criterion_main!(pure_path);
