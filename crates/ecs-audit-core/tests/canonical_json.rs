//! `canonical_json` is serde_json's own output; before, it was written by hand. Content hashes
//! are computed from it and are part of stored items' keys, so the two must give the same
//! bytes for every event: otherwise a redelivered event would miss the item it duplicates.

use std::path::{Path, PathBuf};

use ecs_audit_core::event::parse;
use ecs_audit_core::keys::content_hash;
use ecs_audit_core::mapping::build;
use ecs_audit_core::text::canonical_json;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The hand-written canonical JSON the product used before, verbatim.
fn legacy_canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The content hash as the product computed it before, from the legacy text.
fn legacy_content_hash(event: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(event["detail-type"].as_str().unwrap_or_default().as_bytes());
    hasher.update([0]);
    for resource in event["resources"].as_array().into_iter().flatten() {
        hasher.update(resource.as_str().unwrap_or_default().as_bytes());
        hasher.update([0]);
    }
    hasher.update(legacy_canonical_json(&event["detail"]).as_bytes());
    hasher.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn json_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            found.push(path);
        }
    }
}

fn fixtures() -> Vec<(PathBuf, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut files = Vec::new();
    json_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let value = serde_json::from_str(&text).ok()?;
            Some((path, value))
        })
        .collect()
}

#[test]
fn serde_json_gives_the_legacy_bytes_for_every_fixture_and_awkward_values() {
    let mut values: Vec<Value> = fixtures().into_iter().map(|(_, value)| value).collect();
    assert!(values.len() >= 50, "only {} fixture files", values.len());
    values.push(
        serde_json::from_str(
            r#"{"z": "é\u0001\"\\/\u2028😀", "a": [1.50, -0, 1e400, 123456789012345678901234567890, 0.1e-7],
                "m": {"b": null, "a": true, "": {}}, "Z": [], "ä": "x", "a\u0000": 1}"#,
        )
        .unwrap(),
    );
    values.push(json!("not an object"));
    for value in &values {
        assert_eq!(
            canonical_json(value),
            legacy_canonical_json(value),
            "{value}"
        );
    }
}

#[test]
fn every_fixture_event_keeps_its_content_hash() {
    let mut checked = 0;
    for (path, event) in fixtures() {
        if event.get("detail").is_none() || event.get("detail-type").is_none() {
            continue;
        }
        let Ok(parsed) = parse(&event) else { continue };
        assert_eq!(
            content_hash(&parsed),
            legacy_content_hash(&event),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} events hashed");
}

/// Keys of items written before this change, pinned: the same events map to the same keys.
#[test]
fn keys_of_version_less_events_are_pinned() {
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/events");
    for (file, key) in [
        (
            "service-action-02-task-placement-failure.json",
            PINNED_PLACEMENT_FAILURE,
        ),
        ("deployment-04-failed.json", PINNED_DEPLOYMENT_FAILED),
        ("instance-health-01-runtime-impaired.json", PINNED_OTHER),
    ] {
        let text = std::fs::read_to_string(events.join(file)).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap();
        let record = build(&parse(&event).unwrap(), 14).unwrap();
        assert_eq!(record.event_key, key, "{file}");
    }
}

const PINNED_PLACEMENT_FAILURE: &str = "2026-03-03T14:23:09.087Z#a20a9c7c45db549a";
const PINNED_DEPLOYMENT_FAILED: &str = "2026-03-05T10:25:31.771Z#de8cd497c95dbe76";
const PINNED_OTHER: &str = "2026-03-04T17:52:18.000Z#62aa9d1317b7a106";
