//! The sort key of an event's item: `v` + the zero-padded version for tasks and container
//! instances, `<eventTime>#<content hash>` for events without a usable version.

use sha2::{Digest, Sha256};

use crate::event::EcsEvent;
use crate::text::{canonical_json, short_hex};

/// The zero-padded width keeps text order equal to numeric order for any `u64`.
pub fn version_key(version: u64) -> String {
    format!("v{version:020}")
}

/// Identifies a version-less event by what it says, not by its envelope id: whether a
/// redelivered event keeps its id is not documented, its content is the same.
pub fn content_hash(event: &EcsEvent<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(event.envelope.detail_type.as_bytes());
    hasher.update([0]);
    for resource in &event.envelope.resources {
        hasher.update(resource.as_bytes());
        hasher.update([0]);
    }
    hasher.update(canonical_json(event.raw_detail).as_bytes());
    short_hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys_sort_as_numbers() {
        assert!(version_key(9) < version_key(10));
        assert!(version_key(u64::MAX - 1) < version_key(u64::MAX));
        assert_eq!(version_key(4), "v00000000000000000004");
    }
}
