//! The shared fixtures under the repository's `tests/fixtures/`:
//! - `events/`: documented ECS events, each written by the handler as exactly the item in its
//!   snapshot `items/<same name>` (`UPDATE_SNAPSHOTS=1` rewrites them), round-tripped through
//!   the stored item and replayed through the handler;
//! - `malformed/`: bytes no one should send, each either rejected with a clear error that names
//!   the event or recorded whole, as `malformed/EXPECTED.json` says.
//!
//! The fixtures name real regions; this file never does: ARNs are rebuilt from each event's
//! own `region` field.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chrono::DateTime;
use ecs_audit_core::error::UNKNOWN_EVENT_ID;
use ecs_audit_core::limits::{MAX_EVENT_BYTES, MAX_TEXT_BYTES};
use ecs_audit_core::record::AuditRecord;
use ecs_audit_core::schema::CLUSTER_FAILURES_INDEX;
use ecs_audit_core::{event, mapping as record};
use ecs_state_logger::handler::record_event;
use ecs_state_logger::store::{Item, MemoryStore};
use ecs_state_logger::{Config, Error};
use serde_json::{Value, json};

const RETENTION_DAYS: u32 = 14;

/// Stop codes AWS documents for `stopCode` (ECS-EVENTS.md §1.5); each has a fixture.
const DOCUMENTED_STOP_CODES: &[&str] = &[
    "TaskFailedToStart",
    "EssentialContainerExited",
    "UserInitiated",
    "ServiceSchedulerInitiated",
    "SpotInterruption",
    "TerminationNotice",
    "InfrastructureHealth",
];

fn config() -> Config {
    Config {
        table_name: "audit".into(),
        retention_days: RETENTION_DAYS,
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// `(file name, bytes)` of every `*.json` in `dir` but `EXPECTED.json`, in name order.
fn json_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .filter(|(name, _)| name != "EXPECTED.json")
        .collect();
    files.sort();
    files
}

fn events() -> Vec<(String, Value)> {
    json_files(&fixtures_dir().join("events"))
        .into_iter()
        .map(|(name, bytes)| {
            let value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("{name} is not JSON: {error}"));
            (name, value)
        })
        .collect()
}

fn build(input: &Value) -> AuditRecord {
    let parsed = event::parse(input).unwrap_or_else(|error| panic!("{error}"));
    record::build(&parsed, RETENTION_DAYS).unwrap_or_else(|error| panic!("{error}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn index_names(record: &AuditRecord) -> Vec<&'static str> {
    record.indexes().iter().map(|index| index.name).collect()
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

// ------------------------------------------------------------------ documented events

/// The item the handler writes for one event, into an empty in-memory store. The snapshot
/// test's one tie to the crate's API: a move of the mapping changes this function only.
fn item_written_for(input: &Value) -> Result<Item, String> {
    let store = MemoryStore::default();
    runtime()
        .block_on(record_event(&store, &config(), input))
        .map_err(|error| error.to_string())?;
    match store.items().as_slice() {
        [item] => Ok(item.clone()),
        items => Err(format!("{} items written, not one", items.len())),
    }
}

/// `tests/fixtures/items/<name>.json`: the reviewed item of `events/<name>.json`.
fn snapshot_path(name: &str) -> PathBuf {
    fixtures_dir().join("items").join(name)
}

fn pretty(value: &Value) -> String {
    // Keys sorted (serde_json's map), two-space indent, a final newline: stable diffs.
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// Attribute by attribute: what the mapping now writes against the snapshot.
fn item_diff(expected: &Item, actual: &Item) -> Vec<String> {
    let names: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| match (expected.get(name), actual.get(name)) {
            (Some(was), Some(now)) if was != now => Some(format!("  ~ {name}: {was} -> {now}")),
            (Some(was), None) => Some(format!("  - {name}: {was} (no longer written)")),
            (None, Some(now)) => Some(format!("  + {name}: {now} (new)")),
            _ => None,
        })
        .collect()
}

/// Every documented event becomes exactly the item in its snapshot. `UPDATE_SNAPSHOTS=1`
/// rewrites the snapshots from the current mapping (review the diff before committing).
#[test]
fn every_documented_event_becomes_its_snapshot_item() {
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let events = events();
    let mut problems = Vec::new();
    for (name, input) in &events {
        assert_eq!(input["source"], "aws.ecs", "{name}");
        assert_eq!(input["version"], "0", "{name}");
        assert_eq!(input["account"], "111122223333", "{name}");
        let time = input["time"].as_str().unwrap_or_default();
        assert!(
            time.len() == 20 && DateTime::parse_from_rfc3339(time).is_ok(),
            "{name}: envelope time {time:?} is not second-precision RFC 3339"
        );
        let item = item_written_for(input).unwrap_or_else(|error| panic!("{name}: {error}"));
        let path = snapshot_path(name);
        if update {
            std::fs::create_dir_all(fixtures_dir().join("items")).unwrap();
            std::fs::write(&path, pretty(&Value::Object(item))).unwrap();
            continue;
        }
        let expected: Item = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display())),
            Err(error) => {
                problems.push(format!("{name}: no snapshot {} ({error})", path.display()));
                continue;
            }
        };
        let diff = item_diff(&expected, &item);
        if !diff.is_empty() {
            problems.push(format!(
                "{name}: the item differs from items/{name}\n{}",
                diff.join("\n")
            ));
        }
    }
    // A snapshot without its event is a fixture removed by half.
    let names: BTreeSet<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    for (snapshot, _) in json_files(&fixtures_dir().join("items")) {
        if !names.contains(snapshot.as_str()) {
            problems.push(format!("items/{snapshot}: no events/{snapshot}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(if the change is intended: UPDATE_SNAPSHOTS=1 cargo test -p ecs-state-logger --test fixtures, then review git diff tests/fixtures/items)",
        problems.join("\n")
    );
}

/// Every documented event names the page it follows: a row of the README's Sources table
/// whose first cell lists its name, or a `prefix-*` pattern that matches it.
#[test]
fn every_documented_event_names_its_source_page() {
    let readme = std::fs::read_to_string(fixtures_dir().join("README.md")).unwrap();
    let sources = readme
        .split_once("### Sources")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let rows: Vec<(Vec<&str>, &str)> = sources
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with('|') || !line.starts_with('#'))
        .filter_map(|line| {
            let mut cells = line.trim_matches('|').split('|');
            let names = cells.next()?;
            let page = cells.next()?.trim();
            let names: Vec<&str> = names
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|name| !name.is_empty())
                .collect();
            page.starts_with("https://").then_some((names, page))
        })
        .collect();
    assert!(
        !rows.is_empty(),
        "no Sources table in tests/fixtures/README.md"
    );
    for (name, _) in events() {
        let stem = name.trim_end_matches(".json");
        let named = rows.iter().any(|(names, _)| {
            names.iter().any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => stem.starts_with(prefix),
                None => *pattern == stem,
            })
        });
        assert!(
            named,
            "events/{name} names no source page in tests/fixtures/README.md (### Sources)"
        );
    }
}

#[test]
fn records_round_trip_through_their_items() {
    for (name, input) in events() {
        let record = build(&input);
        let item = record.to_item().unwrap();
        let back: AuditRecord = serde_json::from_value(Value::Object(item.clone()))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(back, record, "{name}");
        assert_eq!(back.to_item().unwrap(), item, "{name}");
        // No attribute is stored as null: absent fields are absent.
        assert!(
            item.values().all(|value| !value.is_null()),
            "{name}: {item:?}"
        );
    }
}

#[test]
fn every_fixture_is_its_own_item() {
    let mut keys = BTreeMap::new();
    for (name, input) in events() {
        let record = build(&input);
        if let Some(other) = keys.insert((record.resource_arn, record.event_key), name.clone()) {
            panic!("{name} and {other} map to the same item");
        }
    }
}

#[test]
fn the_lifecycle_reads_back_in_version_order() {
    let events = events();
    let lifecycle: Vec<AuditRecord> = events
        .iter()
        .filter(|(name, _)| name.starts_with("task-fargate-0"))
        .map(|(_, input)| build(input))
        .collect();
    let statuses: Vec<&str> = lifecycle
        .iter()
        .map(|record| record.last_status.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        [
            "PROVISIONING",
            "PENDING",
            "RUNNING",
            "STOPPING",
            "DEPROVISIONING",
            "STOPPED"
        ]
    );
    let keys: Vec<&str> = lifecycle.iter().map(|r| r.event_key.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "file order, version order and key order agree"
    );
    assert!(
        lifecycle
            .windows(2)
            .all(|w| w[0].event_time < w[1].event_time)
    );
    assert!(
        lifecycle
            .iter()
            .all(|r| r.resource_arn == lifecycle[0].resource_arn)
    );
    // One run, one entry in the family-stopped index: only the STOPPED event has stoppedAt.
    let stopped: Vec<u64> = lifecycle
        .iter()
        .filter(|r| r.stopped_at.is_some())
        .filter_map(|r| r.version)
        .collect();
    assert_eq!(stopped, [6]);
}

#[test]
fn the_fixtures_replay_through_the_handler_idempotently() {
    let store = MemoryStore::default();
    let runtime = runtime();
    let events = events();
    for (name, input) in &events {
        let recorded = runtime
            .block_on(record_event(&store, &config(), input))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(recorded.outcome, "written", "{name}");
        assert!(recorded.write_units >= 1, "{name}");
    }
    // A second delivery, in the opposite order, changes nothing.
    for (name, input) in events.iter().rev() {
        let mut again = input.clone();
        again["id"] = json!(format!("redelivery-of-{name}"));
        let recorded = runtime
            .block_on(record_event(&store, &config(), &again))
            .unwrap();
        assert_eq!(recorded.outcome, "duplicate", "{name}");
    }
    let stored = store.items();
    assert_eq!(stored.len(), events.len());
    for (name, input) in &events {
        let item = build(input).to_item().unwrap();
        assert!(stored.contains(&item), "{name}: stored item differs");
    }
}

#[test]
fn every_documented_stop_code_is_handled() {
    let events = events();
    let in_fixtures: BTreeSet<String> = events
        .iter()
        .filter_map(|(_, input)| str_at(input, "/detail/stopCode").map(String::from))
        .collect();
    for code in DOCUMENTED_STOP_CODES {
        assert!(in_fixtures.contains(*code), "no fixture stops with {code}");
    }
    let (_, template) = events
        .iter()
        .find(|(name, _)| name == "task-fargate-spot-interrupted.json")
        .unwrap();
    for code in DOCUMENTED_STOP_CODES {
        for exit_code in [0, 1, 137] {
            let mut input = template.clone();
            input["detail"]["stopCode"] = json!(code);
            input["detail"]["containers"][0]["exitCode"] = json!(exit_code);
            let record = build(&input);
            assert_eq!(record.stop_code.as_deref(), Some(*code));
            let expected = match *code {
                "UserInitiated" | "ServiceSchedulerInitiated" => None,
                "EssentialContainerExited" if exit_code == 0 => None,
                other => Some(other),
            };
            assert_eq!(
                record.failure.as_deref(),
                expected,
                "{code} with exit code {exit_code}"
            );
            assert_eq!(record.failed_at.is_some(), expected.is_some());
            assert_eq!(
                index_names(&record).contains(&CLUSTER_FAILURES_INDEX),
                expected.is_some()
            );
            // The events before STOPPED repeat the stop code; only the last one counts.
            input["detail"]["lastStatus"] = json!("DEPROVISIONING");
            input["detail"].as_object_mut().unwrap().remove("stoppedAt");
            let record = build(&input);
            assert_eq!(record.stop_code.as_deref(), Some(*code));
            assert_eq!(record.failure, None, "{code} before STOPPED");
        }
    }
}

// ------------------------------------------------------------------ malformed corpus

/// What the corpus expects of one input.
#[derive(Debug)]
enum Expected {
    /// Refused: the JSON parser's or the handler's message contains this text.
    Error(String),
    /// Recorded; the item has these attributes (`null`: the attribute is absent).
    Recorded(serde_json::Map<String, Value>),
}

fn expected_of(name: &str, entry: &Value) -> Expected {
    match (entry.get("error"), entry.get("recorded")) {
        (Some(Value::String(text)), None) if !text.is_empty() => Expected::Error(text.clone()),
        (None, Some(Value::Bool(true))) => Expected::Recorded(
            entry
                .get("item")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        ),
        _ => panic!(
            "EXPECTED.json: {name}: {entry} is neither {{\"error\": text}} nor {{\"recorded\": true}}"
        ),
    }
}

/// Inputs too big to commit, generated here.
fn generated_cases() -> Vec<(String, Vec<u8>, Expected)> {
    let (_, template) = events()
        .into_iter()
        .find(|(name, _)| name == "task-fargate-06-stopped.json")
        .unwrap();
    // EventBridge's limit is 1 MB per event: fill the reason up to it with a 3-byte character,
    // so the cut must land on a character boundary.
    let mut huge_reason = template.clone();
    huge_reason["id"] = json!("generated-1mb-stopped-reason");
    let room = MAX_EVENT_BYTES - serde_json::to_vec(&template).unwrap().len();
    let reason = "€".repeat(room / 3);
    huge_reason["detail"]["stoppedReason"] = json!(reason);
    let mut huge_detail = template.clone();
    huge_detail["id"] = json!("generated-1mb-unknown-detail");
    huge_detail["detail-type"] = json!("ECS Something Large");
    huge_detail["detail"]["padding"] = json!("x".repeat(room));
    let mut items = serde_json::Map::new();
    items.insert("detailType".into(), json!("ECS Something Large"));
    items.insert("truncated".into(), json!(["detail"]));
    vec![
        (
            "generated: 1 MB stoppedReason".into(),
            serde_json::to_vec(&huge_reason).unwrap(),
            Expected::Recorded(
                json!({"lastStatus": "STOPPED", "failure": null, "truncated": ["stoppedReason"]})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        ),
        (
            "generated: 1 MB detail of an unknown detail-type".into(),
            serde_json::to_vec(&huge_detail).unwrap(),
            Expected::Recorded(items),
        ),
    ]
}

/// The id a rejection must name, found independently of the crate's own helper.
fn id_to_name(input: &Value) -> String {
    match input.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => UNKNOWN_EVENT_ID.to_string(),
    }
}

/// Runs one input and returns what is wrong with the outcome, if anything.
fn check_malformed(
    runtime: &tokio::runtime::Runtime,
    name: &str,
    bytes: &[u8],
    expected: &Expected,
) -> Result<(), String> {
    run_malformed(runtime, bytes, expected).map_err(|problem| format!("{name}: {problem}"))
}

fn run_malformed(
    runtime: &tokio::runtime::Runtime,
    bytes: &[u8],
    expected: &Expected,
) -> Result<(), String> {
    let input: Value = match serde_json::from_slice(bytes) {
        Err(error) => {
            let message = error.to_string();
            return match expected {
                // A parse error is the clear error when it says what and where.
                Expected::Error(text) if message.contains(text) && message.contains(" line ") => {
                    Ok(())
                }
                _ => Err(format!(
                    "JSON parse error {message:?}, expected {expected:?}"
                )),
            };
        }
        Ok(input) => input,
    };
    let store = MemoryStore::default();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(record_event(&store, &config(), &input))
    }))
    .map_err(|_| "the handler panicked".to_string())?;
    let items = store.items();
    match (outcome, expected) {
        (Err(Error::BadEvent { event_id, problem }), Expected::Error(text)) => {
            let message = Error::BadEvent {
                event_id: event_id.clone(),
                problem: problem.clone(),
            }
            .to_string();
            let id = id_to_name(&input);
            if event_id != id || !message.contains(&format!("event {id}: ")) {
                return Err(format!("{message:?} does not name the event {id:?}"));
            }
            if !problem.contains(text.as_str()) {
                return Err(format!("{message:?} does not contain {text:?}"));
            }
            if !items.is_empty() {
                return Err(format!("rejected, yet wrote {} item(s)", items.len()));
            }
            Ok(())
        }
        (Ok(recorded), Expected::Recorded(attributes)) => {
            let [item] = items.as_slice() else {
                return Err(format!("recorded, but the store has {} items", items.len()));
            };
            check_recorded_item(&input, item, attributes)?;
            let expected_outcome = if item.contains_key("driftedFields") {
                "written_with_warnings"
            } else {
                "written"
            };
            if recorded.outcome != expected_outcome
                || item["resourceArn"] != json!(recorded.resource_arn)
                || item["eventKey"] != json!(recorded.event_key)
            {
                return Err(format!("{recorded:?} does not describe the item"));
            }
            Ok(())
        }
        (outcome, expected) => Err(format!(
            "got {:?}, expected {expected:?}",
            outcome.map(|r| r.outcome)
        )),
    }
}

fn check_recorded_item(
    input: &Value,
    item: &Item,
    attributes: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    for (attribute, expected) in attributes {
        match (item.get(attribute), expected) {
            (None, Value::Null) => {}
            (Some(actual), expected) if actual == expected => {}
            (actual, expected) => {
                return Err(format!("{attribute} is {actual:?}, expected {expected}"));
            }
        }
    }
    // The item is the record of this input, whole, and reads back as one.
    let parsed = event::parse(input).map_err(|error| error.to_string())?;
    let record = record::build(&parsed, RETENTION_DAYS).map_err(|error| error.to_string())?;
    if record.to_item().map_err(|error| error.to_string())? != *item {
        return Err("the stored item is not the record of the input".into());
    }
    let back: AuditRecord =
        serde_json::from_value(Value::Object(item.clone())).map_err(|error| error.to_string())?;
    if back != record {
        return Err("the item does not read back as its record".into());
    }
    if record.event_id != id_to_name(input) || record.event_key.is_empty() {
        return Err(format!(
            "bad identity: {} {}",
            record.event_id, record.event_key
        ));
    }
    for text in [&record.stopped_reason, &record.reason]
        .into_iter()
        .flatten()
    {
        if text.len() > MAX_TEXT_BYTES {
            return Err(format!("a text of {} bytes was not cut", text.len()));
        }
    }
    Ok(())
}

#[test]
fn the_malformed_corpus_is_rejected_clearly_or_recorded_whole() {
    let dir = fixtures_dir().join("malformed");
    let expected_json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("EXPECTED.json")).unwrap()).unwrap();
    let expected_map = expected_json.as_object().unwrap();
    let files = json_files(&dir);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let listed: Vec<&str> = expected_map.keys().map(String::as_str).collect();
    assert_eq!(
        names, listed,
        "EXPECTED.json lists exactly the files of the corpus"
    );
    assert!(files.len() >= 30, "only {} malformed inputs", files.len());

    let mut cases: Vec<(String, Vec<u8>, Expected)> = files
        .into_iter()
        .map(|(name, bytes)| {
            let expected = expected_of(&name, &expected_map[&name]);
            (name, bytes, expected)
        })
        .collect();
    cases.extend(generated_cases());

    let runtime = runtime();
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|(name, bytes, expected)| {
            check_malformed(&runtime, name, bytes, expected).err()
        })
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    let rejected = cases
        .iter()
        .filter(|(_, _, e)| matches!(e, Expected::Error(_)))
        .count();
    assert!(rejected >= 30 && cases.len() - rejected >= 25);
}

#[test]
fn the_generated_huge_reason_is_cut_on_a_character_boundary() {
    let (_, bytes, _) = generated_cases().remove(0);
    let input: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(bytes.len() <= MAX_EVENT_BYTES && bytes.len() > MAX_EVENT_BYTES - 1024);
    let record = build(&input);
    let reason = record.stopped_reason.unwrap();
    assert!(reason.len() <= MAX_TEXT_BYTES);
    assert!(reason.starts_with('€'));
    let full = input["detail"]["stoppedReason"].as_str().unwrap().len();
    assert!(
        reason.ends_with(&format!("[truncated: {full} bytes in all]")),
        "{}",
        &reason[reason.len() - 60..]
    );
}
