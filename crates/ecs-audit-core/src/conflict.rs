//! "The same event": when a stored item records what a new delivery says (a duplicate) and
//! when it does not (a conflict, kept under a key of its own).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::item::Item;
use crate::record::AuditRecord;
use crate::schema::{PARTITION_KEY, SORT_KEY};
use crate::text::{canonical_json, short_hex};

/// Attributes that say how an event reached the table, not what it says: a redelivery may
/// carry a new envelope id, a redrive another retention, a new envelope another size, and it
/// is still the same event. This is the one definition of "same content": [`same_event`]
/// and [`conflict_item`] ignore these and compare everything else.
pub const DELIVERY_ATTRIBUTES: &[&str] = &["eventId", "expiresAt", "originalBytes"];

/// Between an event's key and the content hash of a conflict item's key.
pub const CONFLICT_MARKER: &str = "#conflict#";

/// What an item says: every attribute but its key (where it is stored, which a comparison of
/// two items at one key cannot tell apart) and [`DELIVERY_ATTRIBUTES`].
fn content_attributes(item: &Item) -> impl Iterator<Item = (&String, &Value)> {
    item.iter().filter(|(name, _)| {
        let name = name.as_str();
        name != PARTITION_KEY && name != SORT_KEY && !DELIVERY_ATTRIBUTES.contains(&name)
    })
}

/// True when two items record the same event: equal in every attribute but their key and
/// [`DELIVERY_ATTRIBUTES`], once both are in the current layout (an item stored before the
/// timelines became sparse still carries `cluster`, `region`, ... that the same event's item
/// now leaves out, see [`AuditRecord::apply_layout`]). A stored item that differs is a
/// conflict, never a duplicate.
pub fn same_event(a: &Item, b: &Item) -> bool {
    same_content(a, b)
        || match (current_layout(a), current_layout(b)) {
            (Some(a), Some(b)) => same_content(&a, &b),
            _ => false,
        }
}

fn same_content(a: &Item, b: &Item) -> bool {
    content_attributes(a).count() == content_attributes(b).count()
        && content_attributes(a).all(|(name, value)| b.get(name) == Some(value))
}

/// `item` as the current writer would store it; `None` when it holds anything a record does
/// not (a newer writer's attribute), which must not be dropped from the comparison.
fn current_layout(item: &Item) -> Option<Item> {
    let mut record: AuditRecord = serde_json::from_value(Value::Object(item.clone())).ok()?;
    if record.to_item().ok()? != *item {
        return None;
    }
    record.apply_layout();
    record.to_item().ok()
}

/// The item that keeps `item` when a different event already holds its key: the same
/// attributes under `eventKey` + [`CONFLICT_MARKER`] + 16 hex of a SHA-256 of its content
/// (as [`same_event`] sees it), with `conflictOf` naming the key it lost. Deterministic, so
/// a redelivery of the conflicting event lands on this item and is its duplicate.
pub fn conflict_item(item: &Item) -> Item {
    let content: serde_json::Map<String, Value> = content_attributes(item)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let digest = Sha256::digest(canonical_json(&Value::Object(content)).as_bytes());
    let hash = short_hex(&digest);
    let key = item
        .get(SORT_KEY)
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut conflict = item.clone();
    conflict.insert(
        SORT_KEY.to_string(),
        Value::String(format!("{key}{CONFLICT_MARKER}{hash}")),
    );
    conflict.insert("conflictOf".to_string(), Value::String(key.to_string()));
    conflict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{envelope, record_of};
    use serde_json::json;

    #[test]
    fn same_content_ignores_only_the_delivery_attributes() {
        let detail = json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b",
                            "version": 2, "lastStatus": "RUNNING"});
        let input = envelope("ECS Task State Change", json!([]), detail);
        let item = record_of(&input).to_item().unwrap();
        let mut redelivered = item.clone();
        redelivered.insert("eventId".into(), json!("another-id"));
        redelivered.insert("expiresAt".into(), json!(1));
        redelivered.insert("originalBytes".into(), json!(999));
        assert!(same_event(&item, &redelivered));
        for (name, value) in [
            ("lastStatus", json!("STOPPED")),
            ("region", json!("xx-test-2")),
            ("extra", json!(1)),
        ] {
            let mut other = item.clone();
            other.insert(name.into(), value);
            assert!(!same_event(&item, &other), "{name}");
            assert!(!same_event(&other, &item), "{name}");
        }
        let conflict = conflict_item(&item);
        assert_eq!(
            conflict[SORT_KEY],
            conflict_item(&redelivered)[SORT_KEY],
            "a redelivery has the same conflict key"
        );
        let key = conflict[SORT_KEY].as_str().unwrap();
        assert!(
            key.starts_with("v00000000000000000002#conflict#") && key.len() == 21 + 10 + 16,
            "{key}"
        );
        assert_eq!(conflict["conflictOf"], json!("v00000000000000000002"));
        let mut other = item.clone();
        other.insert("lastStatus".into(), json!("STOPPED"));
        assert_ne!(conflict_item(&other)[SORT_KEY], conflict[SORT_KEY]);
    }

    #[test]
    fn an_item_stored_in_the_earlier_layout_is_the_same_event() {
        let arn = "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b";
        let image = "111122223333.dkr.ecr.xx-test-1.amazonaws.com/web:1";
        let detail = json!({"taskArn": arn, "version": 2, "lastStatus": "PENDING",
            "desiredStatus": "RUNNING", "group": "service:web",
            "containers": [{"name": "web", "image": image}, {"name": "log", "image": image}]});
        let item = record_of(&envelope("ECS Task State Change", json!([]), detail))
            .to_item()
            .unwrap();
        let mut earlier = item.clone();
        for (name, value) in [
            ("region", json!("xx-test-1")),
            ("account", json!("111122223333")),
            ("group", json!("service:web")),
            ("cluster", json!("prod")),
            ("serviceKey", json!("prod/web")),
            (
                "containers",
                json!([{"name": "web", "image": image}, {"name": "log", "image": image}]),
            ),
        ] {
            assert_ne!(item.get(name), Some(&value), "{name} is left out now");
            earlier.insert(name.into(), value);
        }
        earlier.remove("image");
        assert!(same_event(&earlier, &item));
        assert!(same_event(&item, &earlier));
        let mut other = earlier.clone();
        other.insert("lastStatus".into(), json!("RUNNING"));
        assert!(!same_event(&other, &item));
    }
}
