//! The hostile-input corpus (`tests/fixtures/malformed`, with `EXPECTED.json`) through the
//! built `bootstrap` over the Runtime API, byte for byte, into `environments/local`'s table on
//! moto (`-target` the primary region's table): each input gets the answer the corpus
//! expects — rejected naming the event, or recorded whole — the process never dies, and the
//! table holds the recorded items and nothing else. Needs `make build` first.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use ecs_audit_core::attributes::from_attributes;
use ecs_audit_core::error::UNKNOWN_EVENT_ID;
use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY};
use ecs_audit_core::{event, mapping as record};
use harness::local_env::repo_root;
use harness::runtime_api::new_request_id;
use harness::testkit::{LambdaUnderTest, LocalTable, RETENTION_DAYS, item_keys};
use harness::{Invocation, RuntimeApiConfig};
use serde_json::{Map, Value, json};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The error type the Rust runtime reports for a payload that is not JSON (the handler never
/// sees those bytes): `type_name_of_val` of a reference to its `DeserializeError`.
const NOT_JSON_ERROR_TYPE: &str = "&lambda_runtime::deserializer::DeserializeError";
/// Inputs whose leading JSON value the runtime takes, ignoring what follows it:
/// `lambda_runtime` deserializes the payload without checking for the end of input, so where
/// the handler's own corpus test (which parses the whole file) sees "trailing characters",
/// the process records the event before them. Lambda refuses an invocation whose payload is
/// not JSON, so no such payload reaches a deployed function.
const RUNTIME_READS_LEADING_VALUE: &[&str] = &["json-trailing-garbage.json"];

/// What the corpus expects of one input.
#[derive(Debug)]
enum Expected {
    /// Refused; the error message contains this text.
    Error(String),
    /// Recorded; the item has these attributes (`null`: the attribute is absent).
    Recorded(Map<String, Value>),
}

fn expected_of(name: &str, entry: &Value) -> TestResult<Expected> {
    match (entry.get("error"), entry.get("recorded")) {
        (Some(Value::String(text)), None) if !text.is_empty() => Ok(Expected::Error(text.clone())),
        (None, Some(Value::Bool(true))) => Ok(Expected::Recorded(
            entry
                .get("item")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        )),
        _ => Err(format!("EXPECTED.json: {name}: {entry} is neither an error nor recorded").into()),
    }
}

/// The corpus: every file but `EXPECTED.json`, in name order, with what it expects; and the
/// two inputs at EventBridge's 256 KB limit, too big to commit (as the handler's own
/// corpus test builds them).
fn corpus() -> TestResult<Vec<(String, Vec<u8>, Expected)>> {
    let dir = repo_root().join("tests/fixtures/malformed");
    let expected: Value = serde_json::from_slice(&std::fs::read(dir.join("EXPECTED.json"))?)?;
    let expected = expected
        .as_object()
        .ok_or("EXPECTED.json is not an object")?;
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json") && name != "EXPECTED.json")
        .collect();
    names.sort();
    assert_eq!(
        names,
        expected.keys().cloned().collect::<Vec<_>>(),
        "EXPECTED.json lists exactly the files of the corpus"
    );
    let mut cases = Vec::new();
    for name in names {
        let bytes = std::fs::read(dir.join(&name))?;
        let mut expect = expected_of(&name, &expected[&name])?;
        if RUNTIME_READS_LEADING_VALUE.contains(&name.as_str()) {
            expect = Expected::Recorded(Map::new());
        }
        cases.push((name, bytes, expect));
    }

    let template: Value = serde_json::from_slice(&std::fs::read(
        repo_root().join("tests/fixtures/events/task-fargate-06-stopped.json"),
    )?)?;
    let room = 256 * 1024 - serde_json::to_vec(&template)?.len();
    let mut huge_reason = template.clone();
    huge_reason["id"] = json!("generated-256kb-stopped-reason");
    huge_reason["detail"]["stoppedReason"] = json!("€".repeat(room / 3));
    let mut huge_detail = template;
    huge_detail["id"] = json!("generated-256kb-unknown-detail");
    huge_detail["detail-type"] = json!("ECS Something Large");
    huge_detail["detail"]["padding"] = json!("x".repeat(room));
    cases.push((
        "generated: 256 KB stoppedReason".into(),
        serde_json::to_vec(&huge_reason)?,
        Expected::Recorded(Map::from_iter([
            ("lastStatus".to_owned(), json!("STOPPED")),
            ("failure".to_owned(), Value::Null),
        ])),
    ));
    cases.push((
        "generated: 256 KB detail of an unknown detail-type".into(),
        serde_json::to_vec(&huge_detail)?,
        Expected::Recorded(Map::from_iter([(
            "detailType".to_owned(),
            json!("ECS Something Large"),
        )])),
    ));
    Ok(cases)
}

/// The id a rejection must name.
fn id_to_name(input: &Value) -> String {
    match input.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => UNKNOWN_EVENT_ID.to_owned(),
    }
}

/// Checks one answer; returns the key of the item it recorded, if it recorded one.
async fn check(
    client: &Client,
    table: &str,
    bytes: &[u8],
    expected: &Expected,
    invocation: &Invocation,
) -> Result<Option<(String, String)>, String> {
    // What the runtime hands the handler: the payload's leading JSON value, if it has one.
    let input: Option<Value> = serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok);
    match (expected, &input, &invocation.outcome) {
        (
            Expected::Error(text),
            None,
            harness::Outcome::Error {
                error_type,
                error_message,
            },
        ) => {
            if error_type != NOT_JSON_ERROR_TYPE || !error_message.contains(text.as_str()) {
                return Err(format!(
                    "not JSON: answered {error_type}: {error_message:?}, expected {NOT_JSON_ERROR_TYPE} with {text:?}"
                ));
            }
            Ok(None)
        }
        (
            Expected::Error(text),
            Some(input),
            harness::Outcome::Error {
                error_type,
                error_message,
            },
        ) => {
            let id = id_to_name(input);
            if error_type != "BadEvent"
                || !error_message.contains(text.as_str())
                || !error_message.contains(&format!("event {id}: rejected: "))
            {
                return Err(format!(
                    "answered {error_type}: {error_message:?}, expected BadEvent naming {id:?} with {text:?}"
                ));
            }
            Ok(None)
        }
        (Expected::Recorded(attributes), Some(input), harness::Outcome::Response(response)) => {
            let outcome = response["outcome"].as_str().unwrap_or_default();
            if !["written", "written_with_warnings"].contains(&outcome) {
                return Err(format!("answered {response}, expected written"));
            }
            let key = (
                response["resourceArn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                response["eventKey"].as_str().unwrap_or_default().to_owned(),
            );
            let stored = client
                .get_item()
                .table_name(table)
                .key(PARTITION_KEY, AttributeValue::S(key.0.clone()))
                .key(SORT_KEY, AttributeValue::S(key.1.clone()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|error| format!("reading the item back: {error}"))?;
            let item = from_attributes(stored.item().ok_or("answered written, but no item")?)
                .map_err(|error| error.to_string())?;
            // A field of another type is kept raw in `driftedFields` and the event recorded
            // all the same; the answer says so exactly when the item holds such fields.
            let expected_outcome = if item.contains_key("driftedFields") {
                "written_with_warnings"
            } else {
                "written"
            };
            if outcome != expected_outcome {
                return Err(format!("answered {outcome}, expected {expected_outcome}"));
            }
            for (attribute, expected) in attributes {
                match (item.get(attribute), expected) {
                    (None, Value::Null) => {}
                    (Some(actual), expected) if actual == expected => {}
                    (actual, expected) => {
                        return Err(format!("{attribute} is {actual:?}, expected {expected}"));
                    }
                }
            }
            // Whole: the item is the record of this input, every attribute of it.
            let record = event::parse(input)
                .and_then(|event| record::build(&event, RETENTION_DAYS))
                .and_then(|record| record.to_item())
                .map_err(|error| error.to_string())?;
            if record != item {
                let differ: Vec<&String> = record
                    .keys()
                    .chain(item.keys())
                    .filter(|name| record.get(*name) != item.get(*name))
                    .collect();
                return Err(format!(
                    "the stored item differs from the record in {differ:?}"
                ));
            }
            Ok(Some(key))
        }
        (expected, _, outcome) => Err(format!("answered {outcome:?}, expected {expected:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_input_is_refused_clearly_or_recorded_whole_by_the_built_bootstrap()
-> TestResult {
    let table = LocalTable::apply().await?;
    let (env, client, endpoint) = (&table.env, &table.client, table.moto.endpoint());
    let region = env.primary_region.clone();
    let cases = corpus()?;
    let rejected = cases
        .iter()
        .filter(|(_, _, e)| matches!(e, Expected::Error(_)))
        .count();
    assert!(
        rejected >= 30 && cases.len() - rejected >= 10,
        "{rejected} of {}",
        cases.len()
    );

    // GIVEN the shipped bootstrap over the Runtime API
    let lambda = LambdaUnderTest::start(
        RuntimeApiConfig {
            region: region.clone(),
            timeout: Duration::from_secs(20),
            ..RuntimeApiConfig::default()
        },
        &env.name,
        &endpoint,
    )
    .await?;
    let (api, process) = (lambda.api(), lambda.process());

    // WHEN every input is delivered as it is, byte for byte, twice
    let mut recorded = BTreeMap::new();
    let mut problems = Vec::new();
    for round in 1..=2 {
        for (name, bytes, expected) in &cases {
            let invocation = api
                .invoke_raw(new_request_id(), Bytes::from(bytes.clone()))
                .await;
            // THEN each answer is the expected one (a repeat of a recorded input: a duplicate)
            let result = match (round, &invocation.outcome, expected) {
                (2, harness::Outcome::Response(response), Expected::Recorded(_)) => {
                    if response["outcome"] == "duplicate" {
                        Ok(None)
                    } else {
                        Err(format!("again: answered {response}, expected duplicate"))
                    }
                }
                _ => check(client, &env.name, bytes, expected, &invocation).await,
            };
            match result {
                Ok(Some(key)) => {
                    recorded.insert(key, name.clone());
                }
                Ok(None) => {}
                Err(problem) => problems.push(format!("round {round}: {name}: {problem}")),
            }
            // AND the process lives on
            if !process.is_running() {
                return Err(format!(
                    "the bootstrap died on {name}: {}\n{}",
                    process.describe_exit().unwrap_or_default(),
                    process.log_tail(20)
                )
                .into());
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(api.init_errors().is_empty(), "{:?}", api.init_errors());

    // AND the table holds the recorded inputs' items and nothing else: no half-items
    let stored: BTreeSet<(String, String)> =
        item_keys(client, &env.name).await?.into_iter().collect();
    let recorded_keys: BTreeSet<(String, String)> = recorded.keys().cloned().collect();
    assert_eq!(stored, recorded_keys);
    assert_eq!(recorded.len(), cases.len() - rejected);
    Ok(())
}
