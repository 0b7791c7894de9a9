//! Failure notifications and crash loops, end to end: the shipped `bootstrap` in four
//! processes records failures concurrently into `environments/local`'s table on a local AWS
//! API, publishing to a failures topic that an SQS queue subscribes to, as a person's e-mail
//! or chat channel would. The queue must receive exactly one message per failure, however
//! often each is delivered, and exactly one crash-loop message when the loop starts and one
//! when a scheduled event finds it quiet.
//!
//! The local API here is `scripts/moto-serial.py`, which answers one request at a time:
//! moto_server's own threads make its conditional writes non-atomic (two racing
//! `attribute_not_exists` writes can both win there, never in DynamoDB), and this test is
//! about exactly what conditional writes guarantee when function instances race.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_audit_core::attributes::from_attributes;
use ecs_audit_core::episode::episode_of_item;
use ecs_audit_core::notification::{KIND_CRASH_LOOP_ENDED, KIND_CRASH_LOOP_STARTED, KIND_FAILURE};
use futures_util::future::join_all;
use harness::async_invoke::local_sqs_client;
use harness::local_env::{self, repo_root};
use harness::testkit::{
    LambdaUnderTest, TargetedApply, aws_cli, built_lambda, dynamodb_client, local_vars,
    table_module,
};
use harness::{Arch, MotoServer, Result, RuntimeApiConfig};
use serde_json::{Value, json};

const CLUSTER: &str = "shop";
const ACCOUNT: &str = "123456789012";
/// Four function instances, as Lambda scales out under a burst of failures.
const PROCESSES: usize = 4;

fn stopped_task(region: &str, id: &str, group: &str, family: &str, at: &str, exit: i64) -> Value {
    let mut event = json!({
        "version": "0", "id": format!("first-{id}"), "detail-type": "ECS Task State Change",
        "source": "aws.ecs", "account": ACCOUNT, "time": at, "region": region,
        "resources": [format!("arn:aws:ecs:{region}:{ACCOUNT}:task/{CLUSTER}/{id}")],
        "detail": {
            "taskArn": format!("arn:aws:ecs:{region}:{ACCOUNT}:task/{CLUSTER}/{id}"),
            "clusterArn": format!("arn:aws:ecs:{region}:{ACCOUNT}:cluster/{CLUSTER}"),
            "taskDefinitionArn": format!("arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{family}:7"),
            "group": group, "startedBy": "ecs-svc/1234567890123456789",
            "lastStatus": "STOPPED", "desiredStatus": "STOPPED", "version": 5,
            "stopCode": "EssentialContainerExited",
            "stoppedReason": "Essential container in task exited",
            "updatedAt": at, "stoppedAt": at,
            "containers": [{"name": family, "exitCode": exit, "lastStatus": "STOPPED",
                            "image": format!("{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{family}:v2")}]
        }
    });
    if exit == 137 {
        // the agent's word for a memory kill, as ECS documents it
        event["detail"]["containers"][0]["reason"] =
            json!("OutOfMemoryError: Container killed due to memory usage");
    }
    event
}

fn schedule(region: &str, at: &str, id: &str) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": at, "region": region,
        "resources": [format!("arn:aws:events:{region}:{ACCOUNT}:rule/crash-loop-sweep")],
        "detail": {}
    })
}

/// The same event as ECS or EventBridge may deliver it again: a new envelope id.
fn redelivered(event: &Value) -> Value {
    let mut again = event.clone();
    again["id"] = json!(format!(
        "again-{}",
        event["id"].as_str().unwrap_or_default()
    ));
    again
}

/// Every message in the queue: (the `notification` attribute, the subject, the SNS body).
async fn drain(client: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<(String, String, Value)> {
    let mut messages = Vec::new();
    loop {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receiving from the subscriber queue");
        let batch = output.messages();
        if batch.is_empty() {
            return messages;
        }
        for message in batch {
            let envelope: Value =
                serde_json::from_str(message.body().unwrap_or_default()).expect("an SNS envelope");
            let kind = envelope["MessageAttributes"]["notification"]["Value"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let subject = envelope["Subject"].as_str().unwrap_or_default().to_string();
            messages.push((kind, subject, envelope));
            client
                .delete_message()
                .queue_url(queue_url)
                .set_receipt_handle(message.receipt_handle().map(str::to_string))
                .send()
                .await
                .expect("deleting a received message");
        }
    }
}

fn kinds(messages: &[(String, String, Value)]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (kind, _, _) in messages {
        *counts.entry(kind.clone()).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_per_failure_and_one_per_crash_loop_start_and_end() -> Result<()> {
    let package = built_lambda("bootstrap.zip")?;
    let env = local_env::local()?;
    let region = env.primary_region.clone();
    let moto = MotoServer::options()
        .recording(false)
        .program(repo_root().join("scripts/moto-serial.py"))
        .start()
        .await?;
    let endpoint = moto.endpoint();
    let _table = TargetedApply::local(
        &local_vars(&endpoint, Some(&package)),
        &[table_module(&region)],
    )
    .await?;

    let topic = aws_cli(
        &endpoint,
        &region,
        &["sns", "create-topic", "--name", "shop-failures"],
    )?;
    let topic_arn = topic["TopicArn"].as_str().expect("TopicArn").to_string();
    let queue = aws_cli(
        &endpoint,
        &region,
        &["sqs", "create-queue", "--queue-name", "subscriber"],
    )?;
    let queue_url = queue["QueueUrl"].as_str().expect("QueueUrl").to_string();
    let queue_arn = format!("arn:aws:sqs:{region}:{ACCOUNT}:subscriber");
    aws_cli(
        &endpoint,
        &region,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic_arn,
            "--protocol",
            "sqs",
            "--notification-endpoint",
            &queue_arn,
        ],
    )?;

    let bootstrap = built_lambda("bootstrap")?;
    let command = Arch::from_env()?
        .launcher()?
        .command(&bootstrap)
        .env("FAILURES_TOPIC_ARN", &topic_arn)
        .env("CRASH_LOOP_THRESHOLD", "3")
        .env("CRASH_LOOP_WINDOW_MINUTES", "15");
    let lambda = LambdaUnderTest::start_command(
        RuntimeApiConfig::default(),
        PROCESSES,
        command,
        &env.name,
        &endpoint,
    )
    .await?;

    // `web` fails five times in eight minutes (a crash loop); a standalone `report` task
    // fails once (no loop); a task of `web` stops cleanly (no failure).
    let mut failures: Vec<Value> = ["10:00", "10:02", "10:04", "10:06", "10:08"]
        .iter()
        .enumerate()
        .map(|(i, at)| {
            stopped_task(
                &region,
                &format!("web{i}"),
                "service:web",
                "web",
                &format!("2026-11-20T{at}:00.000Z"),
                137,
            )
        })
        .collect();
    failures.push(stopped_task(
        &region,
        "report0",
        "family:report",
        "report",
        "2026-11-20T10:03:00.000Z",
        1,
    ));
    let clean = stopped_task(
        &region,
        "web-clean",
        "service:web",
        "web",
        "2026-11-20T10:05:00.000Z",
        0,
    );

    // First deliveries and a duplicate of each, all at once over four processes; then every
    // one again, as EventBridge's and Lambda's retries may.
    let mut first_round: Vec<Value> = failures.clone();
    first_round.extend(failures.iter().map(redelivered));
    first_round.push(clean.clone());
    let second_round: Vec<Value> = failures.iter().map(redelivered).collect();
    for round in [first_round, second_round] {
        for invocation in join_all(round.into_iter().map(|event| lambda.invoke(event))).await {
            assert!(
                !invocation.is_error(),
                "an invocation failed: {:?}\n{}",
                invocation.outcome,
                lambda.process().log_tail(20)
            );
        }
    }
    let sqs = local_sqs_client(&endpoint, &region);
    let messages = drain(&sqs, &queue_url).await;
    let counts = kinds(&messages);
    assert_eq!(
        counts.get(KIND_FAILURE),
        Some(&failures.len()),
        "{counts:?}"
    );
    assert_eq!(counts.get(KIND_CRASH_LOOP_STARTED), Some(&1), "{counts:?}");
    assert_eq!(counts.get(KIND_CRASH_LOOP_ENDED), None, "{counts:?}");
    // One message per task, never two for one.
    let mut tasks: Vec<&str> = messages
        .iter()
        .filter(|(kind, _, _)| kind == KIND_FAILURE)
        .map(|(_, subject, _)| subject.as_str())
        .collect();
    tasks.sort_unstable();
    tasks.dedup();
    assert_eq!(tasks.len(), failures.len(), "{tasks:?}");
    // The SQS subscriber gets the `default` body: Chatbot's custom-notification JSON, with
    // the filter attributes alongside.
    let (_, _, oom) = messages
        .iter()
        .find(|(kind, subject, _)| kind == KIND_FAILURE && subject.contains("web0"))
        .expect("web0's message");
    let chat: Value =
        serde_json::from_str(oom["Message"].as_str().unwrap_or_default()).expect("Chatbot JSON");
    assert_eq!(chat["source"], "custom");
    let description = chat["content"]["description"].as_str().unwrap_or_default();
    assert!(description.contains("Out of memory"), "{description}");
    assert!(
        description.contains("ecs-svc/1234567890123456789"),
        "{description}"
    );
    assert_eq!(oom["MessageAttributes"]["service"]["Value"], "web");
    assert_eq!(oom["MessageAttributes"]["cluster"]["Value"], CLUSTER);
    assert_eq!(
        oom["MessageAttributes"]["failureKind"]["Value"],
        "out-of-memory"
    );

    // Quiet since 10:08: a sweep at 10:22 is too early; at 10:23 it closes the loop, once,
    // however many sweeps run at once.
    let early = lambda
        .invoke(schedule(&region, "2026-11-20T10:22:00Z", "sweep-1"))
        .await;
    assert!(!early.is_error(), "{:?}", early.outcome);
    assert!(drain(&sqs, &queue_url).await.is_empty());
    let sweeps = (0..PROCESSES).map(|i| {
        lambda.invoke(schedule(
            &region,
            "2026-11-20T10:23:00Z",
            &format!("sweep-2-{i}"),
        ))
    });
    for sweep in join_all(sweeps).await {
        assert!(!sweep.is_error(), "{:?}", sweep.outcome);
    }
    let ended = drain(&sqs, &queue_url).await;
    assert_eq!(
        kinds(&ended).get(KIND_CRASH_LOOP_ENDED),
        Some(&1),
        "{ended:?}"
    );
    assert_eq!(ended.len(), 1, "{ended:?}");

    // The episode is in the table, for `ecs-audit loops`, `why` and the report.
    let dynamodb = dynamodb_client(&endpoint, &region);
    let episodes = dynamodb
        .query()
        .table_name(&env.name)
        .key_condition_expression("resourceArn = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("crash-loops#{CLUSTER}")))
        .send()
        .await
        .expect("querying the episodes");
    let items = episodes.items();
    assert_eq!(items.len(), 1, "{items:?}");
    let text = |name: &str| items[0].get(name).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(
        text("startedAt").as_deref(),
        Some("2026-11-20T10:00:00.000Z")
    );
    assert_eq!(text("endedAt").as_deref(), Some("2026-11-20T10:23:00.000Z"));
    assert_eq!(text("service").as_deref(), Some("web"));
    assert_eq!(
        items[0]
            .get("failures")
            .and_then(|v| v.as_n().ok())
            .map(String::as_str),
        Some("5")
    );
    // AND it reads back as the readers (`ecs-audit loops`) take it.
    let item = from_attributes(&items[0]).expect("an episode item");
    let episode = episode_of_item(&item).expect("an episode");
    assert_eq!(
        (
            episode.subject.name(),
            episode.failures,
            episode.ended_at.as_deref()
        ),
        ("web".to_string(), 5, Some("2026-11-20T10:23:00.000Z"))
    );

    // AND a function deployed without a failures topic records no schedule as an ECS event.
    let before = harness::testkit::item_count(&dynamodb, &env.name).await?;
    let plain = LambdaUnderTest::start(RuntimeApiConfig::default(), &env.name, &endpoint).await?;
    let ignored = plain
        .invoke(schedule(&region, "2026-11-20T11:00:00Z", "sweep-3"))
        .await;
    assert_eq!(
        ignored.response().map(|answer| answer["outcome"].clone()),
        Some(json!("ignored"))
    );
    assert_eq!(
        harness::testkit::item_count(&dynamodb, &env.name).await?,
        before
    );
    Ok(())
}
