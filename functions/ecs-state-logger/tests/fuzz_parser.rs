//! Bounded property tests over the parse → map → size path: arbitrary JSON and mutated real
//! events never panic, and every event is either rejected with a message naming it or turned
//! into a complete, storable item. `PROPTEST_CASES` raises the bound for longer runs.

use ecs_audit_core::capacity::{MAX_ITEM_BYTES, WriteCost};
use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY};
use ecs_audit_core::{event, mapping as record};
use ecs_state_logger::handler::record_event;
use ecs_state_logger::store::MemoryStore;
use ecs_state_logger::{Config, Error};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn config() -> Config {
    Config {
        table_name: "audit".into(),
        retention_days: 14,
    }
}

fn seeds() -> Vec<Value> {
    let envelope = |detail_type: &str, resources: Value, detail: Value| {
        json!({"version": "0", "id": "f00dfeed-0000-4000-8000-000000000001",
               "detail-type": detail_type, "source": "aws.ecs", "account": "111122223333",
               "time": "2026-11-20T10:00:00Z", "region": "xx-test-1",
               "resources": resources, "detail": detail})
    };
    vec![
        envelope(
            "ECS Task State Change",
            json!([
                "arn:aws:ecs:xx-test-1:111122223333:task/prod/0123456789abcdef0123456789abcdef"
            ]),
            json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0123456789abcdef0123456789abcdef",
                   "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod",
                   "taskDefinitionArn": "arn:aws:ecs:xx-test-1:111122223333:task-definition/web:3",
                   "group": "service:web", "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
                   "stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                   "version": 6, "updatedAt": "2026-11-20T10:00:00.120Z", "stoppedAt": "2026-11-20T10:00:00.120Z",
                   "containers": [{"name": "app", "image": "nginx:1", "lastStatus": "STOPPED", "exitCode": 137,
                                   "reason": "OutOfMemoryError: Container killed due to memory usage"}]}),
        ),
        envelope(
            "ECS Service Action",
            json!(["arn:aws:ecs:xx-test-1:111122223333:service/prod/web"]),
            json!({"eventType": "ERROR", "eventName": "SERVICE_TASK_PLACEMENT_FAILURE",
                   "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod",
                   "createdAt": "2026-11-20T10:00:00.120Z", "reason": "RESOURCE:FARGATE",
                   "capacityProviderArns": ["arn:aws:ecs:xx-test-1:111122223333:capacity-provider/FARGATE_SPOT"]}),
        ),
        envelope(
            "ECS Deployment State Change",
            json!(["arn:aws:ecs:xx-test-1:111122223333:service/prod/web"]),
            json!({"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED",
                   "deploymentId": "ecs-svc/1234567890123456789", "updatedAt": "2026-11-20T10:00:00.120Z",
                   "reason": "ECS deployment circuit breaker: task failed to start."}),
        ),
        envelope(
            "ECS Container Instance State Change",
            json!(["arn:aws:ecs:xx-test-1:111122223333:container-instance/prod/abc"]),
            json!({"containerInstanceArn": "arn:aws:ecs:xx-test-1:111122223333:container-instance/prod/abc",
                   "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod", "ec2InstanceId": "i-0abc",
                   "status": "ACTIVE", "agentConnected": true, "version": 14801,
                   "updatedAt": "2026-11-20T10:00:00.120Z", "versionInfo": {"agentVersion": "1.90.0"}}),
        ),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "[0-9T:.Z-]{0,30}".prop_map(Value::String),
        Just(json!("2026-11-20T10:00:00.120Z")),
        Just(json!("arn:aws:ecs:xx-test-1:111122223333:service/prod/web")),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z-]{0,12}", inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Field paths worth breaking: identifiers, typed fields, nested containers, the envelope.
const MUTATION_PATHS: &[&[&str]] = &[
    &["id"],
    &["source"],
    &["detail-type"],
    &["time"],
    &["resources"],
    &["detail"],
    &["detail", "taskArn"],
    &["detail", "version"],
    &["detail", "clusterArn"],
    &["detail", "containers"],
    &["detail", "stoppedAt"],
    &["detail", "updatedAt"],
    &["detail", "createdAt"],
    &["detail", "eventName"],
    &["detail", "reason"],
    &["detail", "capacityProviderArns"],
    &["detail", "containerInstanceArn"],
    &["detail", "agentConnected"],
    &["detail", "versionInfo"],
    &["detail", "taskDefinitionArn"],
];

fn set_path(target: &mut Value, path: &[&str], value: Value) {
    let mut cursor = target;
    for (depth, key) in path.iter().enumerate() {
        let Some(object) = cursor.as_object_mut() else {
            return;
        };
        if depth + 1 == path.len() {
            object.insert((*key).to_string(), value);
            return;
        }
        cursor = object
            .entry((*key).to_string())
            .or_insert_with(|| json!({}));
    }
}

fn check_outcome(input: &Value) {
    let store = MemoryStore::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    match runtime.block_on(record_event(&store, &config(), input)) {
        Ok(recorded) => {
            let items = store.items();
            assert_eq!(items.len(), 1, "one event, one item");
            let item = &items[0];
            assert_eq!(
                item[PARTITION_KEY],
                Value::String(recorded.resource_arn.clone())
            );
            assert_eq!(item[SORT_KEY], Value::String(recorded.event_key.clone()));
            assert!(!recorded.resource_arn.is_empty() && recorded.resource_arn.len() <= 1024);
            assert!(
                WriteCost::of(item, &[]).item_bytes < MAX_ITEM_BYTES / 2,
                "item stays well under 400 KB"
            );
            // The same input maps to the same item every time: replays are idempotent.
            let parsed = event::parse(input).unwrap();
            let again = record::build(&parsed, 14).unwrap().to_item().unwrap();
            assert_eq!(&again, item);
        }
        Err(Error::BadEvent { event_id, problem }) => {
            assert!(store.items().is_empty(), "a rejected event writes nothing");
            assert!(!event_id.is_empty() && !problem.is_empty());
        }
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(input in arbitrary_json()) {
        check_outcome(&input);
    }

    #[test]
    fn mutated_events_are_recorded_whole_or_rejected(
        seed in 0..4usize,
        path in 0..MUTATION_PATHS.len(),
        replacement in arbitrary_json(),
    ) {
        let mut input = seeds()[seed].clone();
        set_path(&mut input, MUTATION_PATHS[path], replacement);
        check_outcome(&input);
    }
}

proptest! {
    // Each case builds strings of up to 300 KB; fewer cases keep the run short.
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn long_free_text_is_cut_not_fatal(seed in 0..4usize, length in 0..300_000usize, filler in "[a-zé\\u{0}-\\u{1f}]") {
        let mut input = seeds()[seed].clone();
        let text = filler.repeat(length / filler.len().max(1));
        set_path(&mut input, &["detail", "stoppedReason"], Value::String(text.clone()));
        set_path(&mut input, &["detail", "reason"], Value::String(text));
        check_outcome(&input);
    }
}
