//! The handler with the in-memory store: outcomes, idempotency, ordering and rejections.

use ecs_audit_core::keys::version_key;
use ecs_audit_core::record::AuditRecord;
use ecs_state_logger::handler::record_event;
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
async fn an_event_that_cannot_be_keyed_is_an_error_naming_the_event_and_writes_nothing() {
    let store = MemoryStore::default();
    let mut event = task_event("c3", 1, "RUNNING", "2026-11-20T10:00:00Z");
    event["detail"]["taskArn"] = json!(["not", "an", "arn"]);
    event["resources"] = json!([]);
    let error = record_event(&store, &config(), &event).await.unwrap_err();
    assert!(matches!(error, Error::BadEvent { .. }));
    let message = error.to_string();
    assert!(
        message.contains("evt-c3-1") && message.contains("detail.taskArn"),
        "{message}"
    );
    assert!(!error.is_retryable());
    assert!(store.items().is_empty());
}

#[tokio::test]
async fn a_different_event_under_a_taken_key_is_kept_as_a_conflict_next_to_the_first() {
    // GIVEN a task event recorded
    let store = MemoryStore::default();
    let first = task_event("e5", 4, "RUNNING", "2026-11-20T10:00:00Z");
    let written = record_event(&store, &config(), &first).await.unwrap();
    // WHEN another event with the same task and version but other content arrives
    let mut second = task_event("e5", 4, "STOPPED", "2026-11-20T10:00:09Z");
    second["id"] = json!("evt-e5-4-other");
    let conflict = record_event(&store, &config(), &second).await.unwrap();
    // THEN it is kept under a key of its own, next to the first, which is untouched
    assert_eq!((written.outcome, conflict.outcome), ("written", "conflict"));
    let own_key = format!("{}#conflict#", version_key(4));
    assert!(
        conflict.event_key.starts_with(&own_key),
        "{}",
        conflict.event_key
    );
    let stored = records(&store);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].event_key, version_key(4));
    assert_eq!(stored[0].last_status.as_deref(), Some("RUNNING"));
    assert_eq!(stored[1].event_key, conflict.event_key);
    assert_eq!(stored[1].last_status.as_deref(), Some("STOPPED"));
    assert_eq!(stored[1].event_id, "evt-e5-4-other");
    assert_eq!(
        stored[1].conflict_of.as_deref(),
        Some(version_key(4).as_str())
    );
    // AND its redelivery, even with a new envelope id, is a duplicate of the conflict item
    let mut again = second.clone();
    again["id"] = json!("evt-e5-4-third-id");
    let duplicate = record_event(&store, &config(), &again).await.unwrap();
    assert_eq!(duplicate.outcome, "duplicate");
    assert_eq!(duplicate.event_key, conflict.event_key);
    // AND so is the first event's
    let original = record_event(&store, &config(), &first).await.unwrap();
    assert_eq!(
        (original.outcome, original.event_key.as_str()),
        ("duplicate", version_key(4).as_str())
    );
    assert_eq!(store.items().len(), 2);
}

#[tokio::test]
async fn a_redrive_with_another_envelope_id_and_retention_is_a_duplicate() {
    let store = MemoryStore::default();
    let event = json!({
        "version": "0", "id": "svc-1", "detail-type": "ECS Service Action", "source": "aws.ecs",
        "account": "111122223333", "time": "2026-11-20T10:00:01Z", "region": "xx-test-1",
        "resources": ["arn:aws:ecs:xx-test-1:111122223333:service/prod/web"],
        "detail": {"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE",
                   "createdAt": "2026-11-20T10:00:00.123Z"}
    });
    let first = record_event(&store, &config(), &event).await.unwrap();
    let longer = Config {
        retention_days: 90,
        ..config()
    };
    let mut redriven = event.clone();
    redriven["id"] = json!("svc-1-redriven");
    let again = record_event(&store, &longer, &redriven).await.unwrap();
    assert_eq!((first.outcome, again.outcome), ("written", "duplicate"));
    assert_eq!(store.items().len(), 1);
}

#[tokio::test]
async fn a_drifted_field_is_kept_raw_and_the_rest_recorded_with_a_warning() {
    let store = MemoryStore::default();
    let mut event = task_event("f6", 2, "RUNNING", "2026-11-20T10:00:00Z");
    event["detail"]["desiredStatus"] = json!({"now": "an object"});
    let recorded = record_event(&store, &config(), &event).await.unwrap();
    assert_eq!(recorded.outcome, "written_with_warnings");
    let record = &records(&store)[0];
    assert_eq!(record.last_status.as_deref(), Some("RUNNING"));
    assert_eq!(record.desired_status, None);
    assert_eq!(
        record.drifted_fields.as_ref().unwrap()["detail.desiredStatus"],
        r#"{"now":"an object"}"#
    );
    // A redelivery is a duplicate, as for any event.
    let again = record_event(&store, &config(), &event).await.unwrap();
    assert_eq!(again.outcome, "duplicate");
}

#[tokio::test]
async fn unknown_events_differing_only_in_a_number_beyond_64_bits_are_two_items_digit_for_digit() {
    let store = MemoryStore::default();
    let numbers = [
        "123456789012345678901234567890",
        "123456789012345678901234567891",
    ];
    for (n, number) in numbers.iter().enumerate() {
        // As the runtime hands the handler its payload: parsed from the bytes sent.
        let text = format!(
            r#"{{"version": "0", "id": "big-{n}", "detail-type": "ECS Something New",
                "source": "aws.ecs", "account": "111122223333", "time": "2026-11-20T10:00:01Z",
                "region": "xx-test-1", "resources": ["arn:aws:ecs:xx-test-1:111122223333:cluster/prod"],
                "detail": {{"counter": {number}, "ratio": 0.1000000000000000055511151231257827}}}}"#
        );
        let event: Value = serde_json::from_str(&text).unwrap();
        let recorded = record_event(&store, &config(), &event).await.unwrap();
        assert_eq!(recorded.outcome, "written", "{number}");
    }
    let mut details: Vec<String> = records(&store)
        .into_iter()
        .map(|record| record.detail.unwrap())
        .collect();
    details.sort();
    assert_eq!(
        details,
        numbers
            .map(|number| format!(
                r#"{{"counter":{number},"ratio":0.1000000000000000055511151231257827}}"#
            ))
            .to_vec()
    );
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
