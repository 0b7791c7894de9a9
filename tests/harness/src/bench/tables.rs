//! The benchmark's tables: ours from the function's own description, the recipe's as its
//! README gives it.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection as IndexProjection, ProjectionType, ProvisionedThroughput, ScalarAttributeType,
    TimeToLiveSpecification,
};
use ecs_audit_core::schema::{PARTITION_KEY, Projection, SORT_KEY, TTL_ATTRIBUTE, indexes};

use super::BASELINE_TABLE;
use crate::error::{Error, Result};

pub fn moto_error(endpoint: &str, what: impl Into<String>) -> Error {
    Error::Moto {
        endpoint: endpoint.to_owned(),
        what: what.into(),
    }
}

pub fn setup_error(what: &str, error: impl std::fmt::Display) -> Error {
    Error::Setup(format!("{what}: {error}"))
}

pub fn dynamodb_client(endpoint: &str, region: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
        .build();
    Client::from_conf(config)
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| setup_error("key schema", e))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| setup_error("attribute definition", e))
}

/// Our table, built from the schema modules/audit-table creates the table from
/// (`ecs_audit_core::schema`, which reads its schema.json): the same keys and indexes.
pub async fn create_rust_table(client: &Client, endpoint: &str, table: &str) -> Result<()> {
    let mut attributes: BTreeSet<&str> = [PARTITION_KEY, SORT_KEY].into();
    for index in indexes() {
        attributes.insert(index.hash_key);
        attributes.insert(index.range_key);
    }
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?);
    for attribute in attributes {
        request = request.attribute_definitions(string_attribute(attribute)?);
    }
    for index in indexes() {
        let projection = match &index.projection {
            Projection::All => IndexProjection::builder()
                .projection_type(ProjectionType::All)
                .build(),
            Projection::Include(names) => IndexProjection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(names.iter().map(ToString::to_string).collect()))
                .build(),
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .key_schema(key(index.hash_key, KeyType::Hash)?)
            .key_schema(key(index.range_key, KeyType::Range)?)
            .projection(projection)
            .build()
            .map_err(|e| setup_error("global secondary index", e))?;
        request = request.global_secondary_indexes(gsi);
    }
    request.send().await.map_err(|e| {
        moto_error(
            endpoint,
            format!("CreateTable {table}: {}", DisplayErrorContext(&e)),
        )
    })?;
    enable_ttl(client, endpoint, table, TTL_ATTRIBUTE).await
}

/// The recipe's table: taskDefinitionArn + time, TTL `ttl`, provisioned 1 RCU / 1 WCU.
pub async fn create_python_table(client: &Client, endpoint: &str) -> Result<()> {
    let throughput = ProvisionedThroughput::builder()
        .read_capacity_units(1)
        .write_capacity_units(1)
        .build()
        .map_err(|e| setup_error("provisioned throughput", e))?;
    client
        .create_table()
        .table_name(BASELINE_TABLE)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput)
        .attribute_definitions(string_attribute("taskDefinitionArn")?)
        .attribute_definitions(string_attribute("time")?)
        .key_schema(key("taskDefinitionArn", KeyType::Hash)?)
        .key_schema(key("time", KeyType::Range)?)
        .send()
        .await
        .map_err(|e| {
            moto_error(
                endpoint,
                format!("CreateTable {BASELINE_TABLE}: {}", DisplayErrorContext(&e)),
            )
        })?;
    enable_ttl(client, endpoint, BASELINE_TABLE, "ttl").await
}

async fn enable_ttl(client: &Client, endpoint: &str, table: &str, attribute: &str) -> Result<()> {
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(|e| setup_error("time to live", e))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| {
            moto_error(
                endpoint,
                format!("UpdateTimeToLive {table}: {}", DisplayErrorContext(&e)),
            )
        })?;
    Ok(())
}
