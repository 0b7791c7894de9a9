//! The DynamoDB adapter against moto with the real SDK: a taken key comes back with the item in
//! the way (`ReturnValuesOnConditionCheckFailure=ALL_OLD`, PutItem only), so a redelivery is a
//! duplicate and a different event a conflict kept next to the first; numbers cross the
//! adapter digit for digit. Needs `moto_server` (tests/requirements.txt).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use ecs_audit_core::attributes::{from_attributes, to_attributes};
use ecs_audit_core::keys::version_key;
use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY};
use ecs_state_logger::Config;
use ecs_state_logger::dynamodb::DynamoDbStore;
use ecs_state_logger::handler::record_event;
use ecs_state_logger::store::{Item, PutOutcome, RecordStore};
use harness::MotoServer;
use harness::testkit::dynamodb_client;
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const TABLE: &str = "audit";

async fn table(moto: &MotoServer) -> Result<aws_sdk_dynamodb::Client, Box<dyn std::error::Error>> {
    let client = dynamodb_client(&moto.endpoint(), &harness::local_env::default_region());
    let mut create = client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest);
    for (name, key_type) in [(PARTITION_KEY, KeyType::Hash), (SORT_KEY, KeyType::Range)] {
        create = create
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(key_type)
                    .build()?,
            );
    }
    create.send().await?;
    Ok(client)
}

async fn items(client: &aws_sdk_dynamodb::Client) -> Result<Vec<Item>, Box<dyn std::error::Error>> {
    let scan = client.scan().table_name(TABLE).send().await?;
    let mut items = scan
        .items()
        .iter()
        .map(from_attributes)
        .collect::<Result<Vec<Item>, _>>()?;
    items.sort_by(|a, b| a[SORT_KEY].as_str().cmp(&b[SORT_KEY].as_str()));
    Ok(items)
}

fn task_event(id: &str, last_status: &str) -> Value {
    let arn = "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b2c";
    json!({
        "version": "0", "id": id, "detail-type": "ECS Task State Change", "source": "aws.ecs",
        "account": "111122223333", "time": "2026-11-20T10:00:01Z", "region": "xx-test-1",
        "resources": [arn],
        "detail": {"taskArn": arn, "version": 3, "lastStatus": last_status,
                   "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod",
                   "updatedAt": "2026-11-20T10:00:00.250Z"}
    })
}

#[tokio::test]
async fn a_taken_key_is_a_duplicate_for_the_same_content_and_a_conflict_for_another() -> TestResult
{
    let moto = MotoServer::options().recording(false).start().await?;
    let client = table(&moto).await?;
    let store = DynamoDbStore::new(client.clone(), TABLE);
    let config = Config {
        table_name: TABLE.into(),
        retention_days: 14,
    };

    let first = record_event(&store, &config, &task_event("id-1", "RUNNING")).await?;
    // The same event with a new envelope id, redriven with another retention.
    let longer = Config {
        retention_days: 30,
        ..config.clone()
    };
    let redelivered = record_event(&store, &longer, &task_event("id-2", "RUNNING")).await?;
    let conflict = record_event(&store, &config, &task_event("id-3", "STOPPED")).await?;
    let conflict_again = record_event(&store, &config, &task_event("id-4", "STOPPED")).await?;
    assert_eq!(
        [
            first.outcome,
            redelivered.outcome,
            conflict.outcome,
            conflict_again.outcome
        ],
        ["written", "duplicate", "conflict", "duplicate"]
    );
    assert_eq!(conflict.event_key, conflict_again.event_key);

    let stored = items(&client).await?;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0][SORT_KEY], json!(version_key(3)));
    assert_eq!(
        (&stored[0]["lastStatus"], &stored[0]["eventId"]),
        (&json!("RUNNING"), &json!("id-1"))
    );
    assert_eq!(stored[1][SORT_KEY], json!(conflict.event_key));
    assert_eq!(
        (&stored[1]["lastStatus"], &stored[1]["eventId"]),
        (&json!("STOPPED"), &json!("id-3"))
    );
    assert_eq!(stored[1]["conflictOf"], json!(version_key(3)));
    Ok(())
}

#[tokio::test]
async fn the_adapter_returns_the_stored_item_and_numbers_cross_it_exactly() -> TestResult {
    let moto = MotoServer::options().recording(false).start().await?;
    let client = table(&moto).await?;
    let store = DynamoDbStore::new(client.clone(), TABLE);
    // 38 significant digits: DynamoDB's precision, far beyond 64 bits.
    let item: Item = serde_json::from_str(
        r#"{"resourceArn": "arn:x", "eventKey": "k", "big": 12345678901234567890123456789012345678,
            "negative": -98765432109876543210, "fraction": 0.12345678901234567890123456789,
            "nested": {"list": [18446744073709551616, "text", true, null]}}"#,
    )?;
    assert_eq!(store.put_new(&item).await?, PutOutcome::Written);
    let attributes = to_attributes(&item);
    assert_eq!(
        attributes["big"],
        AttributeValue::N("12345678901234567890123456789012345678".into())
    );
    let mut other = item.clone();
    other.insert("big".into(), json!(1));
    // The item in the way comes back whole, as stored.
    assert_eq!(
        store.put_new(&other).await?,
        PutOutcome::Exists(Box::new(item.clone()))
    );
    assert_eq!(items(&client).await?, vec![item]);
    Ok(())
}
