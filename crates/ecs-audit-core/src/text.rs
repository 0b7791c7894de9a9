//! Text helpers shared by the record, its keys and the readers of the table: times as
//! stored, canonical JSON, sizes, cutting, short hashes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// JSON with object keys sorted at every level, so equal content gives equal text however a
/// sender orders its keys: serde_json's own compact output, whose map is a `BTreeMap` (its
/// `preserve_order` feature is off in this workspace; a test fails if it is turned on).
/// Content hashes, and so the keys of stored items, are computed from this text.
pub fn canonical_json(value: &Value) -> String {
    // Serializing a `Value` to a string cannot fail: its keys are strings.
    serde_json::to_string(value).unwrap_or_default()
}

/// The size of `value` as compact JSON, counted without building the text.
pub fn json_size(value: &Value) -> u64 {
    struct Counter(u64);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Cuts `value` to at most `max` bytes on a character boundary and says how much was cut.
pub fn cut(value: &str, max: usize) -> String {
    if value.len() <= max {
        return value.to_string();
    }
    let marker = format!(" …[truncated: {} bytes in all]", value.len());
    let mut end = max.saturating_sub(marker.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{marker}", &value[..end])
}

/// The first 8 bytes of a digest as 16 lowercase hex digits: the hash in an item's key.
pub fn short_hex(digest: &[u8]) -> String {
    digest
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The last `/`-separated segment of an ARN (a task id, a cluster or family name).
pub fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_respects_character_boundaries_and_marks_the_cut() {
        let long = "é".repeat(5000);
        let cut_text = cut(&long, 2048);
        assert!(cut_text.len() <= 2048, "{}", cut_text.len());
        assert!(cut_text.ends_with("[truncated: 10000 bytes in all]"));
        assert_eq!(cut("short", 2048), "short");
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":null}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }
}
