//! 1 MB in, at most 400 KB out: for every detail-type, an event of exactly 1,048,576 bytes
//! (EventBridge's limit since 2026-01-29) becomes one item within DynamoDB's 400 KB, what was
//! cut named in `truncated` and marked in its text, the event's size in `originalBytes`; and
//! (property) however 1 MB is spread over an event's modelled text fields.

use std::path::Path;

use ecs_audit_core::capacity::{MAX_ITEM_BYTES, item_size};
use ecs_audit_core::limits::MAX_EVENT_BYTES;
use ecs_audit_core::text::json_size;
use ecs_state_logger::Config;
use ecs_state_logger::handler::record_event;
use ecs_state_logger::store::{Item, MemoryStore};
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/events")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn set(input: &mut Value, pointer: &str, value: Value) {
    *input
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
}

/// Grows the strings at `pointers` (existing or not, under an existing parent) in proportion
/// to `weights` so that the whole event is exactly `size` bytes of compact JSON.
fn fill_to(mut input: Value, pointers: &[&str], weights: &[u32], size: usize) -> Value {
    let mut originals = Vec::new();
    for pointer in pointers {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let slot = match input
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("{parent}"))
        {
            Value::Object(map) => map.entry(key.to_string()).or_insert(json!("")),
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            other => panic!("{parent} is {other}"),
        };
        originals.push(slot.as_str().unwrap_or_default().to_string());
        *slot = json!(originals.last().unwrap());
    }
    let room = size - json_size(&input) as usize;
    let total: u32 = weights.iter().sum::<u32>().max(1);
    let mut left = room;
    for (n, pointer) in pointers.iter().enumerate() {
        let share = if n + 1 == pointers.len() {
            left
        } else {
            room * weights[n] as usize / total as usize
        };
        left -= share;
        set(
            &mut input,
            pointer,
            json!(format!("{}{}", originals[n], "x".repeat(share))),
        );
    }
    assert_eq!(json_size(&input) as usize, size);
    input
}

fn record(input: &Value) -> (String, Item) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryStore::default();
    let config = Config {
        table_name: "audit".into(),
        retention_days: 14,
    };
    let recorded = runtime
        .block_on(record_event(&store, &config, input))
        .unwrap_or_else(|error| {
            let message = error.to_string();
            panic!("{}", &message[message.len().saturating_sub(300)..])
        });
    let items = store.items();
    assert_eq!(items.len(), 1);
    (
        recorded.outcome.to_string(),
        items.into_iter().next().unwrap(),
    )
}

fn truncated(item: &Item) -> Vec<&str> {
    item.get("truncated")
        .and_then(Value::as_array)
        .map(|cuts| cuts.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Checks the item of a 1 MB event: within 400 KB, with its cuts marked and its size recorded.
fn check_one_megabyte(case: &str, input: &Value, cut: &[&str]) {
    assert_eq!(json_size(input) as usize, MAX_EVENT_BYTES, "{case}");
    let (outcome, item) = record(input);
    assert_eq!(outcome, "written", "{case}");
    let bytes = item_size(&item);
    assert!(bytes <= MAX_ITEM_BYTES, "{case}: item of {bytes} bytes");
    assert_eq!(item["originalBytes"], json!(MAX_EVENT_BYTES), "{case}");
    let marked = truncated(&item);
    for attribute in cut {
        assert!(
            marked.contains(attribute),
            "{case}: {attribute} not in {marked:?}"
        );
    }
    for attribute in marked.iter().filter(|a| !a.contains('[')) {
        if let Some(Value::String(text)) = item.get(*attribute) {
            assert!(
                text.contains("…[truncated: "),
                "{case}: {attribute} is cut unmarked"
            );
        }
    }
}

#[test]
fn a_one_megabyte_event_of_every_detail_type_is_an_item_within_400_kb() {
    let task = fixture("task-fargate-06-stopped.json");
    check_one_megabyte(
        "task: stoppedReason",
        &fill_to(
            task.clone(),
            &["/detail/stoppedReason"],
            &[1],
            MAX_EVENT_BYTES,
        ),
        &["stoppedReason"],
    );
    // A hundred containers with long reasons and images: the list is capped, each text cut.
    let mut many = task.clone();
    let containers: Vec<Value> = (0..100)
        .map(|n| json!({"name": format!("c{n}"), "image": "", "reason": "", "exitCode": n}))
        .collect();
    set(&mut many, "/detail/containers", Value::Array(containers));
    let pointers: Vec<String> = (0..100)
        .flat_map(|n| {
            [
                format!("/detail/containers/{n}/reason"),
                format!("/detail/containers/{n}/image"),
            ]
        })
        .collect();
    let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
    check_one_megabyte(
        "task: 100 containers",
        &fill_to(many, &pointers, &vec![1; pointers.len()], MAX_EVENT_BYTES),
        &["containers", "containers[0].reason", "containers[19].image"],
    );
    check_one_megabyte(
        "task: envelope id",
        &fill_to(task, &["/id"], &[1], MAX_EVENT_BYTES),
        &["eventId"],
    );
    check_one_megabyte(
        "container instance: statusReason",
        &fill_to(
            fixture("instance-ec2-02-draining.json"),
            &["/detail/statusReason"],
            &[1],
            MAX_EVENT_BYTES,
        ),
        &["statusReason"],
    );
    check_one_megabyte(
        "service action: reason",
        &fill_to(
            fixture("service-action-02-task-placement-failure.json"),
            &["/detail/reason"],
            &[1],
            MAX_EVENT_BYTES,
        ),
        &["reason"],
    );
    check_one_megabyte(
        "deployment: reason",
        &fill_to(
            fixture("deployment-04-failed.json"),
            &["/detail/reason"],
            &[1],
            MAX_EVENT_BYTES,
        ),
        &["reason"],
    );
    let mut unknown = fixture("task-fargate-06-stopped.json");
    set(&mut unknown, "/detail-type", json!("ECS Something Large"));
    check_one_megabyte(
        "unknown detail-type: detail",
        &fill_to(unknown, &["/detail/padding"], &[1], MAX_EVENT_BYTES),
        &["detail"],
    );
}

#[test]
fn an_event_that_needs_no_cut_has_no_marks() {
    let (_, item) = record(&fixture("task-fargate-06-stopped.json"));
    assert_eq!(
        (item.get("truncated"), item.get("originalBytes")),
        (None, None)
    );
}

/// Modelled text fields of each detail-type, and the fixture they are filled in.
const SPREADS: &[(&str, &[&str])] = &[
    (
        "task-fargate-06-stopped.json",
        &[
            "/id",
            "/region",
            "/detail/stoppedReason",
            "/detail/group",
            "/detail/taskDefinitionArn",
            "/detail/startedBy",
            "/detail/containers/0/reason",
            "/detail/containers/0/image",
            "/detail/containers/0/name",
            "/detail/stopCode",
            "/detail/unmodelled",
        ],
    ),
    (
        "instance-ec2-02-draining.json",
        &[
            "/id",
            "/account",
            "/detail/statusReason",
            "/detail/ec2InstanceId",
            "/detail/status",
            "/detail/versionInfo/agentVersion",
            "/detail/unmodelled",
        ],
    ),
    (
        "service-action-02-task-placement-failure.json",
        &[
            "/id",
            "/detail/reason",
            "/detail/eventName",
            "/detail/eventType",
            "/detail/capacityProviderArns/0",
            "/detail/unmodelled",
        ],
    ),
    (
        "deployment-04-failed.json",
        &[
            "/id",
            "/detail/reason",
            "/detail/deploymentId",
            "/detail/eventName",
            "/detail/unmodelled",
        ],
    ),
];

proptest! {
    // Each case builds a 1 MB event; a few dozen keep the run short.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn one_megabyte_spread_over_any_fields_is_an_item_within_400_kb(
        spread in 0..SPREADS.len(),
        weights in proptest::collection::vec(0..100u32, 11),
    ) {
        let (name, pointers) = SPREADS[spread];
        let input = fill_to(fixture(name), pointers, &weights[..pointers.len()], MAX_EVENT_BYTES);
        let (outcome, item) = record(&input);
        prop_assert_eq!(outcome, "written");
        prop_assert!(item_size(&item) <= MAX_ITEM_BYTES, "{} bytes", item_size(&item));
        if item.contains_key("truncated") {
            prop_assert_eq!(&item["originalBytes"], &json!(MAX_EVENT_BYTES));
        }
    }
}
