//! DynamoDB item size and write units, computed the way DynamoDB documents them
//! ("Item sizes and formats"), so the cost of each record is known before it is written.

use serde_json::{Map, Value};

use crate::schema::{IndexSpec, PARTITION_KEY, Projection, SORT_KEY};

/// One write request unit covers up to this many bytes of item.
pub const WRITE_UNIT_BYTES: usize = 1024;
/// DynamoDB's item size limit.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// What one `PutItem` of an item costs in on-demand write request units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteCost {
    pub item_bytes: usize,
    pub table_units: usize,
    /// Each index the item lands in is written too, at the size of what it projects.
    pub index_units: usize,
}

impl WriteCost {
    pub fn of(item: &Map<String, Value>, indexes: &[&IndexSpec]) -> Self {
        let item_bytes = item_size(item);
        let index_units = indexes
            .iter()
            .map(|index| units(projected_size(item, index)))
            .sum();
        WriteCost {
            item_bytes,
            table_units: units(item_bytes),
            index_units,
        }
    }

    pub fn total_units(&self) -> usize {
        self.table_units + self.index_units
    }
}

fn units(bytes: usize) -> usize {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1)
}

/// The size of an item's entry in `index`: the table and index keys plus what it projects.
pub fn projected_size(item: &Map<String, Value>, index: &IndexSpec) -> usize {
    match &index.projection {
        Projection::All => item_size(item),
        Projection::Include(attributes) => item
            .iter()
            .filter(|(name, _)| {
                let name = name.as_str();
                [PARTITION_KEY, SORT_KEY, index.hash_key, index.range_key].contains(&name)
                    || attributes.contains(&name)
            })
            .map(|(name, value)| name.len() + value_size(value))
            .sum(),
    }
}

/// Attribute names count; strings count their UTF-8 bytes; numbers about one byte per two
/// significant digits plus one; lists and maps three bytes plus one per element.
pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::String(text) => text.len(),
        Value::Number(number) => number_size(&number.to_string()),
        Value::Array(items) => 3 + items.iter().map(|item| value_size(item) + 1).sum::<usize>(),
        Value::Object(map) => {
            3 + map
                .iter()
                .map(|(name, value)| name.len() + value_size(value) + 1)
                .sum::<usize>()
        }
    }
}

fn number_size(text: &str) -> usize {
    let negative = text.starts_with('-');
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len()
        .max(1);
    significant.div_ceil(2) + 1 + usize::from(negative)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        assert_eq!(item_size(&object(json!({"ab": "xyz"}))), 5);
        assert_eq!(item_size(&object(json!({"n": 1234567}))), 1 + 5);
        assert_eq!(item_size(&object(json!({"n": 1000}))), 1 + 2);
        assert_eq!(item_size(&object(json!({"b": true}))), 2);
        assert_eq!(item_size(&object(json!({"l": ["ab", "c"]}))), 1 + 3 + 3 + 2);
        assert_eq!(item_size(&object(json!({"m": {"k": "v"}}))), 1 + 3 + 3);
    }

    #[test]
    fn write_units_round_up_per_kilobyte_and_follow_each_projection() {
        let all_index = IndexSpec {
            name: "all",
            hash_key: "cluster",
            range_key: "failedAt",
            projection: Projection::All,
        };
        let small_index = IndexSpec {
            name: "small",
            hash_key: "cluster",
            range_key: "eventTime",
            projection: Projection::Include(vec!["lastStatus"]),
        };
        let small = object(json!({"a": "x".repeat(1000)}));
        assert_eq!(WriteCost::of(&small, &[&all_index]).total_units(), 2);
        let large = object(json!({
            "resourceArn": "arn", "eventKey": "v1", "cluster": "prod",
            "eventTime": "2026-11-20T10:00:00.000Z", "lastStatus": "STOPPED",
            "stoppedReason": "x".repeat(1100)
        }));
        let cost = WriteCost::of(&large, &[&all_index, &small_index]);
        // The whole item twice (table, ALL index), the small projection once.
        assert_eq!((cost.table_units, cost.index_units), (2, 2 + 1));
        assert_eq!(
            projected_size(&large, &small_index),
            "resourceArnarneventKeyv1clusterprodeventTime2026-11-20T10:00:00.000ZlastStatusSTOPPED"
                .len()
        );
    }
}
