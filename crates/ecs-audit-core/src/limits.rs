//! How big each part of an item may be, and how an oversized value is cut to fit: every
//! event up to [`MAX_EVENT_BYTES`] becomes an item within DynamoDB's 400 KB.

use crate::text::cut;

/// DynamoDB limits a sort key to 1024 bytes and a partition key to 2048; identifiers longer
/// than the smaller bound are not real ECS names and would make the write fail.
pub const MAX_KEY_BYTES: usize = 1024;
/// Free text (stop reasons, service reasons) is cut here. ECS's agent already cuts container
/// reasons at 1024 characters; a longer text is an anomaly worth marking, not storing whole.
pub const MAX_TEXT_BYTES: usize = 2048;
/// Other strings (images, names, statuses) are cut here.
pub const MAX_NAME_BYTES: usize = 1024;
/// ECS allows 10 containers per task definition; more is junk, kept as a count.
pub const MAX_CONTAINERS: usize = 20;
pub const MAX_CAPACITY_PROVIDERS: usize = 20;
/// The `detail` of an unmodelled event is stored as JSON up to this size. Events go up to
/// 1 MB (EventBridge's limit since 2026-01-29), an item up to 400 KB: this leaves room for
/// every other attribute, each capped too, so any event fits. A longer detail is cut, marked
/// in `truncated`, with `originalBytes` recorded.
pub const MAX_DETAIL_JSON_BYTES: usize = 320 * 1024;
/// Each raw value in `driftedFields` is kept up to this size (the parser bounds how many).
pub const MAX_DRIFT_VALUE_BYTES: usize = 512;
/// The largest event a delivery can carry: EventBridge events, SQS messages and asynchronous
/// Lambda payloads, since 2026-01-29. Every event up to this size becomes an item.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The attributes cut to fit, in the order they were cut: the record's `truncated`.
#[derive(Debug, Default)]
pub(crate) struct Cuts(pub(crate) Vec<String>);

impl Cuts {
    /// [`cut`], noting `name` when it cuts.
    pub(crate) fn cut(&mut self, name: &str, value: &str, max: usize) -> String {
        if value.len() > max {
            self.mark(name);
        }
        cut(value, max)
    }

    pub(crate) fn text(
        &mut self,
        name: &str,
        value: &Option<String>,
        max: usize,
    ) -> Option<String> {
        value.as_deref().map(|value| self.cut(name, value, max))
    }

    pub(crate) fn mark(&mut self, name: &str) {
        if !self.0.iter().any(|cut| cut == name) {
            self.0.push(name.to_string());
        }
    }
}

/// A key attribute must be non-empty and within DynamoDB's key size.
pub(crate) fn key_value(field: &str, value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("`{field}` is empty"));
    }
    if value.len() > MAX_KEY_BYTES {
        return Err(format!(
            "`{field}` is {} bytes long; identifiers longer than {MAX_KEY_BYTES} bytes cannot be keys",
            value.len()
        ));
    }
    Ok(value.to_string())
}
