//! The table's schema: its keys, its TTL attribute and its global secondary indexes.
//!
//! The one list lives in `modules/audit-table/schema.json`, which the Terraform module reads
//! with `jsondecode(file(...))` and this file embeds with `include_str!`: the table that is
//! deployed and the code that writes and queries it read the same text. To add an index, add
//! it there (the module creates it), then give the record its key attributes
//! ([`crate::record::AuditRecord`]); items that have both keys land in it
//! ([`crate::item::indexes_of`]).

use std::sync::LazyLock;

use serde::Deserialize;

use crate::error::Error;

/// The module's file, as built into this crate.
pub const SCHEMA_JSON: &str = include_str!("../../../modules/audit-table/schema.json");

/// The table's partition key: the resource an event is about.
pub const PARTITION_KEY: &str = "resourceArn";
/// The table's sort key: `v<version>` or `<eventTime>#<content hash>`.
pub const SORT_KEY: &str = "eventKey";
/// Epoch seconds after which DynamoDB's TTL deletes the item.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// A cluster's events by time: `cluster` + `eventTime` (a task when it starts running and
/// when it stops, [`crate::timeline`]).
pub const CLUSTER_TIME_INDEX: &str = "cluster-time";
/// One service's events (its actions, deployments, and its tasks when they start running
/// and when they stop): `serviceKey` + `eventTime`.
pub const SERVICE_TIME_INDEX: &str = "service-time";
/// One entry per finished task run: `family` + `stoppedAt` (only STOPPED task events).
pub const FAMILY_STOPPED_INDEX: &str = "family-stopped";
/// Only failures: `cluster` + `failedAt`.
pub const CLUSTER_FAILURES_INDEX: &str = "cluster-failures";

/// What an index copies besides the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// The whole item: used only where entries are rare (failures), so reasons come along.
    All,
    /// Enough to read a row in the console while the entry stays far under 1 KB, so each
    /// index write costs one write unit whatever the size of the item.
    Include(Vec<&'static str>),
}

/// A global secondary index of the table, as `schema.json` declares it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "IndexJson")]
pub struct IndexSpec {
    pub name: &'static str,
    pub hash_key: &'static str,
    pub range_key: &'static str,
    pub projection: Projection,
}

/// The schema as `schema.json` spells it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    #[serde(rename = "//", default)]
    pub comment: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    pub ttl_attribute: &'static str,
    pub indexes: Vec<IndexSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexJson {
    name: &'static str,
    partition_key: &'static str,
    sort_key: &'static str,
    projection: &'static str,
    non_key_attributes: Vec<&'static str>,
}

impl TryFrom<IndexJson> for IndexSpec {
    type Error = String;

    fn try_from(index: IndexJson) -> Result<Self, String> {
        let projection = match (index.projection, index.non_key_attributes.is_empty()) {
            ("ALL", true) => Projection::All,
            ("INCLUDE", false) => Projection::Include(index.non_key_attributes),
            (projection, _) => {
                return Err(format!(
                    "index {}: projection {projection:?} with non_key_attributes {:?}: ALL takes none, INCLUDE at least one",
                    index.name, index.non_key_attributes
                ));
            }
        };
        Ok(IndexSpec {
            name: index.name,
            hash_key: index.partition_key,
            range_key: index.sort_key,
            projection,
        })
    }
}

/// `schema.json`, parsed once. Borrowed from the embedded text, so names are `&'static str`.
static SCHEMA: LazyLock<Result<Schema, String>> = LazyLock::new(|| {
    let schema: Schema = serde_json::from_str(SCHEMA_JSON)
        .map_err(|error| format!("modules/audit-table/schema.json does not parse: {error}"))?;
    let keys = (schema.partition_key, schema.sort_key, schema.ttl_attribute);
    if keys != (PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE) {
        return Err(format!(
            "modules/audit-table/schema.json names the keys {keys:?}; the code names them {:?}",
            (PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE)
        ));
    }
    Ok(schema)
});

/// The schema, or why the embedded file is unusable. The function checks this once at start
/// (a configuration error, never a panic); the unit tests check it before anything ships.
pub fn schema() -> Result<&'static Schema, Error> {
    SCHEMA
        .as_ref()
        .map_err(|problem| Error::Embedded(problem.clone()))
}

/// The table's indexes, in `schema.json`'s order (none if the file is unusable, which
/// [`schema`] reports).
pub fn indexes() -> &'static [IndexSpec] {
    SCHEMA
        .as_ref()
        .map(|schema| schema.indexes.as_slice())
        .unwrap_or_default()
}

/// The index named `name`.
pub fn index(name: &str) -> Option<&'static IndexSpec> {
    indexes().iter().find(|index| index.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_schema_parses_and_names_every_index_the_code_queries() {
        let schema = schema().unwrap();
        assert_eq!(schema.partition_key, PARTITION_KEY);
        let names: Vec<&str> = schema.indexes.iter().map(|index| index.name).collect();
        for name in [
            CLUSTER_TIME_INDEX,
            SERVICE_TIME_INDEX,
            FAMILY_STOPPED_INDEX,
            CLUSTER_FAILURES_INDEX,
        ] {
            assert!(
                names.contains(&name),
                "{name} is not in schema.json: {names:?}"
            );
        }
        assert_eq!(
            index(CLUSTER_FAILURES_INDEX).unwrap().projection,
            Projection::All
        );
    }

    #[test]
    fn a_malformed_index_is_refused_with_its_name() {
        let bad = r#"{"partition_key": "a", "sort_key": "b", "ttl_attribute": "c", "indexes": [
            {"name": "x", "partition_key": "p", "sort_key": "s", "projection": "ALL", "non_key_attributes": ["y"]}]}"#;
        let error = serde_json::from_str::<Schema>(bad).unwrap_err().to_string();
        assert!(error.contains("index x"), "{error}");
        let unknown = r#"{"partition_key": "a", "sort_key": "b", "ttl_attribute": "c", "indexes": [], "extra": 1}"#;
        assert!(serde_json::from_str::<Schema>(unknown).is_err());
    }
}
