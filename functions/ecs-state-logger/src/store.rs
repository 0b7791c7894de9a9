//! The one port to storage: write an item unless it is already there.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

pub use ecs_audit_core::item::{Item, item_key};

use crate::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum PutOutcome {
    Written,
    /// An item with the same key exists, returned as stored (DynamoDB's
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD`: no extra read, no extra permission).
    /// Whether it is this event again or another one is the caller's question.
    Exists(Box<Item>),
}

pub trait RecordStore {
    /// Writes `item` if no item has its key; never overwrites.
    fn put_new(&self, item: &Item) -> impl Future<Output = Result<PutOutcome, Error>> + Send;
}

/// In-memory store with the same first-write-wins rule, for handler tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<(String, String), Item>>,
}

impl MemoryStore {
    pub fn items(&self) -> Vec<Item> {
        self.items
            .lock()
            .map(|items| items.values().cloned().collect())
            .unwrap_or_default()
    }
}

impl RecordStore for MemoryStore {
    async fn put_new(&self, item: &Item) -> Result<PutOutcome, Error> {
        let key = item_key(item).ok_or_else(|| Error::Store {
            event_id: String::new(),
            message: "item has no string key".into(),
        })?;
        let mut items = self.items.lock().map_err(|_| Error::Store {
            event_id: String::new(),
            message: "memory store lock poisoned".into(),
        })?;
        if let Some(stored) = items.get(&key) {
            return Ok(PutOutcome::Exists(Box::new(stored.clone())));
        }
        items.insert(key, item.clone());
        Ok(PutOutcome::Written)
    }
}
