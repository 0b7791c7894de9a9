//! Events and records for the unit tests.

use serde_json::{Value, json};

use crate::event::parse;
use crate::mapping::build;
use crate::record::AuditRecord;

pub fn envelope(detail_type: &str, resources: Value, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": "8fcb1b1c-4c2d-4a86-9d6f-0123456789ab",
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": "111122223333",
        "time": "2026-11-20T10:00:01Z",
        "region": "xx-test-1",
        "resources": resources,
        "detail": detail
    })
}

pub fn record_of(input: &Value) -> AuditRecord {
    build(&parse(input).unwrap(), 14).unwrap()
}
