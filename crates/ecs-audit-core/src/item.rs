//! The stored form of a record: attribute name → JSON value. The DynamoDB adapter maps JSON
//! types to DynamoDB's ([`crate::attributes`]); the domain compares and sizes items in this form.

use serde_json::{Map, Value};

use crate::schema::{IndexSpec, PARTITION_KEY, SORT_KEY, indexes};

/// A record as attribute name → JSON value.
pub type Item = Map<String, Value>;

/// The key of an item as (partition, sort), if both are strings.
pub fn item_key(item: &Item) -> Option<(String, String)> {
    let partition = item.get(PARTITION_KEY)?.as_str()?;
    let sort = item.get(SORT_KEY)?.as_str()?;
    Some((partition.to_string(), sort.to_string()))
}

/// The indexes `item` is written to: those whose two key attributes it has (DynamoDB's
/// sparse indexes). Each is one more write on top of the table's.
pub fn indexes_of(item: &Item) -> Vec<&'static IndexSpec> {
    indexes()
        .iter()
        .filter(|index| item.contains_key(index.hash_key) && item.contains_key(index.range_key))
        .collect()
}
