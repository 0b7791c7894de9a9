//! The moto server guard: start, fault injection, restart with state kept, reset; and the
//! asynchronous-invoke emulation sending its on-failure record to an SQS queue on moto.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use harness::async_invoke::local_sqs_client;
use harness::{
    Error, FunctionCommand, MotoOptions, MotoServer, RetryPolicy, RuntimeApi, SqsDestination, http,
};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ECHO: &str = env!("CARGO_BIN_EXE_echo-function");

fn dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(harness::local_env::default_region()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> TestResult {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("resourceArn")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("resourceArn")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

async fn put_new(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
) -> Result<
    (),
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError>,
> {
    client
        .put_item()
        .table_name(table)
        .item("resourceArn", AttributeValue::S(key.to_owned()))
        .condition_expression("attribute_not_exists(resourceArn)")
        .send()
        .await
        .map(drop)
}

#[tokio::test]
async fn state_survives_a_kill_and_restart() -> TestResult {
    // GIVEN a moto server with a table and 25 items
    let started = Instant::now();
    let mut moto = MotoServer::start().await?;
    println!("moto start: {:?}", started.elapsed());
    let client = dynamodb(&moto.endpoint());
    create_table(&client, "audit").await?;
    for i in 0..25 {
        put_new(&client, "audit", &format!("arn:task/{i}")).await?;
    }

    // WHEN it is killed
    moto.kill()?;
    assert!(!moto.is_running());
    let down = http::get(&format!("{}/", moto.endpoint()), Duration::from_secs(2)).await;
    assert!(down.is_err(), "a killed server answered: {down:?}");

    // AND restarted on the same port
    let port = moto.port();
    let took = moto.restart().await?;
    println!(
        "moto restart + replay of {} recorded requests: {took:?} (start alone {:?})",
        std::fs::read_to_string(moto.recording_path())?
            .lines()
            .count(),
        moto.started_in()
    );
    assert_eq!(moto.port(), port);

    // THEN every item written before the kill is back
    let scan = client.scan().table_name("audit").send().await?;
    assert_eq!(scan.count(), 25);
    // AND conditional writes see them (a re-delivered event is a duplicate)
    let again = put_new(&client, "audit", "arn:task/7").await;
    let is_conditional_failure = again
        .as_ref()
        .err()
        .and_then(|e| e.as_service_error())
        .is_some_and(|e| e.is_conditional_check_failed_exception());
    assert!(is_conditional_failure, "{again:?}");

    // AND writes after the restart survive a second restart too
    put_new(&client, "audit", "arn:task/after").await?;
    moto.restart().await?;
    let scan = client.scan().table_name("audit").send().await?;
    assert_eq!(scan.count(), 26);
    Ok(())
}

#[tokio::test]
async fn state_written_concurrently_in_large_requests_survives_a_restart() -> TestResult {
    // GIVEN requests over 8 KiB (Terraform's function zip, long policies) arriving at once
    // with small ones: moto's recorder then glues entries onto one line
    let mut moto = MotoServer::start().await?;
    let client = dynamodb(&moto.endpoint());
    create_table(&client, "audit").await?;
    let mut writers = tokio::task::JoinSet::new();
    for i in 0..200 {
        let client = client.clone();
        writers.spawn(async move {
            let mut put = client
                .put_item()
                .table_name("audit")
                .item("resourceArn", AttributeValue::S(format!("arn:task/{i}")));
            if i % 2 == 0 {
                put = put.item("raw", AttributeValue::S("x".repeat(64 * 1024)));
            }
            put.send().await.map(drop)
        });
    }
    while let Some(written) = writers.join_next().await {
        written??;
    }

    // WHEN it is killed and restarted
    moto.restart().await?;

    // THEN every item is back
    let mut items = 0;
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name("audit")
            .set_exclusive_start_key(start)
            .send()
            .await?;
        items += page.count();
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    assert_eq!(items, 200);
    Ok(())
}

#[tokio::test]
async fn a_paused_server_hangs_until_resumed() -> TestResult {
    let moto = MotoServer::options().recording(false).start().await?;
    let client = dynamodb(&moto.endpoint());
    create_table(&client, "audit").await?;

    moto.pause()?;
    let probe = format!("{}/moto-api/recorder/probe", moto.endpoint());
    let hung = http::get(&probe, Duration::from_millis(500)).await;
    assert!(
        matches!(hung, Err(Error::HttpTimeout { .. })),
        "a paused server answered: {hung:?}"
    );

    moto.resume()?;
    let answered = http::get(&probe, Duration::from_secs(5)).await?;
    assert_eq!(answered.status, 404);
    put_new(&client, "audit", "arn:task/1").await?;
    Ok(())
}

#[tokio::test]
async fn reset_drops_state_for_good() -> TestResult {
    let mut moto = MotoServer::start().await?;
    let client = dynamodb(&moto.endpoint());
    create_table(&client, "audit").await?;
    moto.reset().await?;
    assert!(client.list_tables().send().await?.table_names().is_empty());
    // The recording was emptied too: a restart does not bring the table back.
    moto.restart().await?;
    assert!(client.list_tables().send().await?.table_names().is_empty());
    Ok(())
}

#[tokio::test]
async fn dropping_the_guard_ends_the_server() -> TestResult {
    let moto = MotoServer::options().recording(false).start().await?;
    let pid = moto.pid().ok_or("no pid")?;
    let endpoint = moto.endpoint();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(moto);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    let gone = http::get(&format!("{endpoint}/"), Duration::from_secs(2)).await;
    assert!(gone.is_err(), "{gone:?}");
    Ok(())
}

#[tokio::test]
async fn a_missing_moto_names_the_requirements_file() -> TestResult {
    let options = MotoOptions::default().program("moto-server-that-is-not-installed");
    let err = options
        .start()
        .await
        .err()
        .ok_or("started a missing program")?;
    assert!(matches!(err, Error::MotoNotInstalled), "{err:?}");
    assert!(
        err.to_string()
            .contains("pip install -r tests/requirements.txt"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_server_that_never_answers_fails_with_its_log() -> TestResult {
    // `sh` is no moto: given moto's arguments it exits at once, complaining.
    let options = MotoOptions {
        program: "sh".into(),
        startup_timeout: Duration::from_secs(5),
        ..MotoOptions::default()
    };
    let err = options.start().await.err().ok_or("sh answered HTTP?")?;
    let text = err.to_string();
    assert!(matches!(err, Error::MotoNotReady { .. }), "{err:?}");
    assert!(text.contains("exited while starting"), "{text}");
    Ok(())
}

#[tokio::test]
async fn async_invokes_retry_then_send_the_failure_record_to_sqs() -> TestResult {
    // GIVEN moto with an on-failure queue, and a function
    let moto = MotoServer::options().recording(false).start().await?;
    let sqs = local_sqs_client(&moto.endpoint(), &harness::local_env::default_region());
    let queue_url = sqs
        .create_queue()
        .queue_name("ecs-state-logger-failed-events")
        .send()
        .await?
        .queue_url()
        .ok_or("no queue url")?
        .to_owned();
    let api = RuntimeApi::start().await?;
    let _function = FunctionCommand::new(ECHO).spawn(&api)?;
    let policy = RetryPolicy::with_destination(SqsDestination::local(
        &moto.endpoint(),
        &harness::local_env::default_region(),
        &queue_url,
    ));

    // WHEN an event succeeds, nothing is retried or sent
    let ok = api.invoke_async(json!({"id": "ok-1"}), &policy).await?;
    assert!(ok.succeeded());
    assert_eq!(ok.attempts.len(), 1);
    assert!(ok.failure_record.is_none());

    // WHEN an event keeps failing
    let event =
        json!({"id": "bad-1", "fail": "InvalidEvent", "detail-type": "ECS Task State Change"});
    let failed = api.invoke_async(event.clone(), &policy).await?;

    // THEN it was tried three times under one request id
    assert!(!failed.succeeded());
    assert_eq!(failed.attempts.len(), 3);
    let request_id = &failed.attempts[0].request_id;
    assert!(failed.attempts.iter().all(|a| &a.request_id == request_id));

    // AND the queue holds Lambda's on-failure record
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await?;
    let messages = received.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].message_id(),
        failed.destination_message_id.as_deref()
    );
    let record: Value = serde_json::from_str(messages[0].body().unwrap_or_default())?;
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["requestContext"]["requestId"], json!(request_id));
    assert_eq!(
        record["requestContext"]["functionArn"],
        format!(
            "arn:aws:lambda:{}:123456789012:function:ecs-state-logger:$LATEST",
            harness::local_env::default_region()
        )
    );
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(record["requestPayload"], event);
    assert_eq!(record["responseContext"]["statusCode"], 200);
    assert_eq!(record["responseContext"]["executedVersion"], "$LATEST");
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    assert_eq!(record["responsePayload"]["errorType"], "InvalidEvent");
    assert_eq!(
        record["responsePayload"]["errorMessage"],
        "event bad-1: failing as asked"
    );
    assert!(
        record["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // AND with no retries configured there is one attempt
    let once = RetryPolicy {
        max_retry_attempts: 0,
        ..RetryPolicy::default()
    };
    let single = api.invoke_async(event, &once).await?;
    assert_eq!(single.attempts.len(), 1);
    assert!(single.failure_record.is_some());
    assert!(single.destination_message_id.is_none());
    Ok(())
}
