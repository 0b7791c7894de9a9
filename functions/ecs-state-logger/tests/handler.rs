//! The handler with the in-memory store: outcomes, idempotency, ordering and rejections.

use ecs_state_logger::handler::record_event;
use ecs_state_logger::record::{AuditRecord, version_key};
use ecs_state_logger::store::MemoryStore;
use ecs_state_logger::{Config, Error};
use serde_json::{Value, json};

fn config() -> Config {
    Config {
        table_name: "audit".into(),
        retention_days: 14,
    }
}

fn task_event(task_id: &str, version: u64, last_status: &str, time: &str) -> Value {
    json!({
        "version": "0",
        "id": format!("evt-{task_id}-{version}"),
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": "111122223333",
        "time": time,
        "region": "xx-test-1",
        "resources": [format!("arn:aws:ecs:xx-test-1:111122223333:task/prod/{task_id}")],
        "detail": {
            "taskArn": format!("arn:aws:ecs:xx-test-1:111122223333:task/prod/{task_id}"),
            "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod",
            "taskDefinitionArn": "arn:aws:ecs:xx-test-1:111122223333:task-definition/web:7",
            "group": "service:web",
            "lastStatus": last_status,
            "desiredStatus": "RUNNING",
            "version": version,
            "updatedAt": time
        }
    })
}

fn records(store: &MemoryStore) -> Vec<AuditRecord> {
    store
        .items()
        .into_iter()
        .map(|item| serde_json::from_value(Value::Object(item)).unwrap())
        .collect()
}

#[tokio::test]
async fn a_same_second_burst_of_one_definition_keeps_every_event() {
    // GIVEN twenty tasks of one task definition changing state in the same second
    let store = MemoryStore::default();
    for n in 0..20 {
        let event = task_event(
            &format!("{n:032x}"),
            1,
            "PROVISIONING",
            "2026-11-20T10:00:00Z",
        );
        // WHEN each is recorded
        let recorded = record_event(&store, &config(), &event).await.unwrap();
        assert_eq!(recorded.outcome, "written");
    }
    // THEN each has its own item
    assert_eq!(store.items().len(), 20);
}

#[tokio::test]
async fn a_redelivered_event_is_a_successful_no_op() {
    let store = MemoryStore::default();
    let event = task_event("a1", 3, "RUNNING", "2026-11-20T10:00:00.500Z");
    let first = record_event(&store, &config(), &event).await.unwrap();
    let mut again = event.clone();
    again["id"] = json!("a-new-envelope-id");
    let second = record_event(&store, &config(), &again).await.unwrap();
    assert_eq!((first.outcome, second.outcome), ("written", "duplicate"));
    assert_eq!(first.event_key, second.event_key);
    assert_eq!(records(&store).len(), 1);
    assert_eq!(records(&store)[0].event_id, "evt-a1-3");
}

#[tokio::test]
async fn out_of_order_versions_read_back_in_version_order() {
    let store = MemoryStore::default();
    for (version, status) in [
        (5, "STOPPED"),
        (2, "PENDING"),
        (11, "STOPPED"),
        (3, "RUNNING"),
    ] {
        let event = task_event("b2", version, status, "2026-11-20T10:00:00Z");
        record_event(&store, &config(), &event).await.unwrap();
    }
    let mut keys: Vec<String> = records(&store).into_iter().map(|r| r.event_key).collect();
    keys.sort();
    assert_eq!(
        keys,
        [2, 3, 5, 11].map(version_key).to_vec(),
        "text order of eventKey is version order"
    );
}

#[tokio::test]
async fn bad_input_is_an_error_naming_the_event_and_writes_nothing() {
    let store = MemoryStore::default();
    let mut event = task_event("c3", 1, "RUNNING", "2026-11-20T10:00:00Z");
    event["detail"]["version"] = json!("one");
    let error = record_event(&store, &config(), &event).await.unwrap_err();
    assert!(matches!(error, Error::BadEvent { .. }));
    let message = error.to_string();
    assert!(
        message.contains("evt-c3-1") && message.contains("detail.version"),
        "{message}"
    );
    assert!(!error.is_retryable());
    assert!(store.items().is_empty());
}

#[tokio::test]
async fn a_huge_reason_is_truncated_and_the_item_stays_small() {
    let store = MemoryStore::default();
    let mut event = task_event("d4", 6, "STOPPED", "2026-11-20T10:00:00Z");
    event["detail"]["stoppedReason"] = json!("x".repeat(250_000));
    let recorded = record_event(&store, &config(), &event).await.unwrap();
    assert_eq!(recorded.outcome, "written");
    let record = &records(&store)[0];
    let reason = record.stopped_reason.as_deref().unwrap();
    assert!(reason.len() <= 2048);
    assert!(
        reason.ends_with("[truncated: 250000 bytes in all]"),
        "{}",
        &reason[reason.len() - 60..]
    );
}
