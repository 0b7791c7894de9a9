//! `ecs-audit redrive` against moto, with the table and the failure queues of
//! `environments/local`'s primary region applied by Terraform (only those: `-target`).
//!
//! - The fault test: the built `bootstrap` records a stream of events through Lambda's
//!   asynchronous retries with its on-failure destination (the harness), DynamoDB stops
//!   answering mid-run (moto killed, then restarted with its recording), every event ends
//!   written or as a failure record in `<name>-failed-events`, and `redrive --yes` brings the
//!   table to exactly one item per event and the queue to empty; a second redrive is a no-op.
//! - The rules: what a dry run and a refusal leave, which queue `--queue` reads, and that an
//!   event the handler still rejects stays in its queue with its error.
//!
//! Needs `make build` (the bootstrap) for the fault test; both need moto and Terraform.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use ecs_audit_core::{event, mapping as record};
use futures_util::StreamExt;
use harness::local_env::{self, LocalEnvironment, repo_root};
use harness::synthetic::{self, SplitMix64};
use harness::testkit::{
    self, LambdaUnderTest, RETENTION_DAYS, TargetedApply, built_lambda, dynamodb_client,
    local_vars, logger_module, table_module,
};
use harness::{MotoServer, RetryPolicy, RuntimeApiConfig, SqsDestination};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[path = "redrive/stack.rs"]
mod stack;
use stack::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_ends_in_the_failure_queue_and_redrive_records_every_event_exactly_once()
-> TestResult {
    const EVENTS: usize = 400;
    const PROCESSES: usize = 4;
    let began = Instant::now();
    built_lambda("bootstrap")?;
    let mut stack = Stack::start(true).await?;
    let queue_url = stack.queue_url("failed-events").await?;

    // GIVEN the bootstrap in 4 processes, reaching DynamoDB through a relay, and Lambda's
    // retries (2) with the on-failure destination on the failure queue, through another
    let function_relay = Relay::start(stack.moto.port(), WhileCut::Refuse).await?;
    let destination_relay = Relay::start(stack.moto.port(), WhileCut::Hold).await?;
    let lambda = LambdaUnderTest::start_processes(
        RuntimeApiConfig {
            region: stack.region.clone(),
            timeout: Duration::from_secs(30),
            queue_timeout: Some(Duration::from_secs(120)),
            ..RuntimeApiConfig::default()
        },
        PROCESSES,
        &stack.env.name,
        &function_relay.endpoint(),
    )
    .await?;
    let (api, processes) = (Arc::clone(lambda.api()), lambda.processes());
    let policy = RetryPolicy::with_destination(SqsDestination::local(
        &destination_relay.endpoint(),
        &stack.region,
        &queue_url,
    ));

    // AND a stream of distinct events (tasks, services, deployments)
    let events = synthetic::generate(EVENTS, 0x00fa_17ed, &stack.region);
    let keys: BTreeSet<(String, String)> = events.iter().map(key_of).collect::<TestResult<_>>()?;
    let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(keys.len(), events.len(), "the stream repeats an item key");
    assert_eq!(ids.len(), events.len(), "the stream repeats an event id");

    // WHEN they are invoked asynchronously, 8 at a time, and a quarter of the way in
    // DynamoDB stops answering: moto is killed, and restarted 10 s later
    let done = Arc::new(AtomicUsize::new(0));
    let dispatch = {
        let (api, done, events) = (Arc::clone(&api), Arc::clone(&done), events.clone());
        tokio::spawn(async move {
            futures_util::stream::iter(events)
                .map(|event| {
                    let (api, policy, done) = (Arc::clone(&api), policy.clone(), Arc::clone(&done));
                    async move {
                        let id = event["id"].as_str().unwrap_or_default().to_owned();
                        let result = api.invoke_async(event, &policy).await;
                        done.fetch_add(1, Ordering::Relaxed);
                        (id, result)
                    }
                })
                .buffer_unordered(8)
                .collect::<Vec<_>>()
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::Relaxed) < EVENTS / 4 {
        assert!(Instant::now() < deadline, "the first quarter took too long");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    function_relay.cut();
    destination_relay.cut();
    stack.moto.kill()?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let replayed_in = stack.moto.restart().await?;
    function_relay.restore();
    destination_relay.restore();
    let results = dispatch.await?;

    // THEN every event was either recorded or, after the retries, sent to the failure queue
    let mut failed = BTreeSet::new();
    for (id, result) in &results {
        let invocation = result
            .as_ref()
            .map_err(|error| format!("event {id}: {error}"))?;
        if !invocation.succeeded() {
            assert!(
                invocation.destination_message_id.is_some(),
                "event {id} failed and was not sent to the queue"
            );
            assert_eq!(invocation.attempts.len(), 3, "event {id}");
            failed.insert(id.clone());
        }
    }
    assert_eq!(results.len(), EVENTS);
    assert!(
        !failed.is_empty(),
        "the outage failed no event: nothing to redrive"
    );
    for process in processes {
        assert!(process.is_running(), "{}", process.log_tail(20));
    }
    let written_before = stack.item_count().await?;
    assert!(
        written_before + failed.len() >= EVENTS && written_before <= EVENTS,
        "{written_before} items, {} failed, {EVENTS} events",
        failed.len()
    );

    // AND a dry run lists each failed event with the function's error, and changes nothing
    let dry = stack.redrive(&["--dry-run"], "")?;
    assert_eq!(dry.code, 0, "{dry:?}");
    let shown = listed(&dry.stdout);
    let shown_ids: BTreeSet<String> = shown.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(shown_ids, failed, "{}", dry.stdout);
    assert!(
        shown.iter().all(|(_, error)| error == "StoreError"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("dry run: "), "{}", dry.stdout);
    assert_eq!(stack.item_count().await?, written_before);
    assert_eq!(stack.visible("failed-events").await?, shown.len());

    // WHEN redrive runs with --yes
    let redrive = stack.redrive(&["--yes"], "")?;

    // THEN every event is in the table exactly once, and the queues are empty
    assert_eq!(redrive.code, 0, "{redrive:?}");
    assert!(
        redrive.stdout.contains(&format!(
            "redrive {}: {} message(s): ",
            stack.region,
            shown.len()
        )) && redrive.stdout.contains(", 0 kept in the queue"),
        "{}",
        redrive.stdout
    );
    assert_eq!(stack.item_count().await?, EVENTS);
    assert_eq!(stack.depth("failed-events").await?, 0);
    assert_eq!(stack.depth("delivery-dlq").await?, 0);

    // AND a second redrive finds nothing and changes nothing
    let again = stack.redrive(&["--yes"], "")?;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains("nothing to redrive"),
        "{}",
        again.stdout
    );
    assert_eq!(stack.item_count().await?, EVENTS);
    eprintln!(
        "fault test: {EVENTS} events, {} failed during the outage and were redriven; moto replayed in {replayed_in:?}; {:?} in all",
        failed.len(),
        began.elapsed()
    );
    Ok(())
}

/// A Lambda on-failure record for `event`, as the function's error left it.
fn failure_record(event: &Value, error_type: &str, error_message: &str) -> Value {
    json!({
        "version": "1.0",
        "timestamp": "2026-11-20T10:00:00.000Z",
        "requestContext": {
            "requestId": "2f3e4d5c-0000-4000-8000-000000000001",
            "functionArn": "arn:aws:lambda:xx-test-1:123456789012:function:ecs-state-logger:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": error_type, "errorMessage": error_message}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_asks_first_keeps_what_the_handler_rejects_and_reads_both_queues() -> TestResult {
    let stack = Stack::start(false).await?;
    let sqs = stack.sqs();
    let failed_events = stack.queue_url("failed-events").await?;
    let delivery_dlq = stack.queue_url("delivery-dlq").await?;
    let mut rng = SplitMix64::new(7);
    let mut events = synthetic::generate(2, rng.next_u64(), &stack.region).into_iter();
    let (good, delivered_late) = (
        events.next().ok_or("no event")?,
        events.next().ok_or("no event")?,
    );
    let good_id = good["id"].as_str().unwrap_or_default().to_owned();
    let mut foreign = good.clone();
    foreign["id"] = json!("foreign-source-1");
    foreign["source"] = json!("aws.ec2");

    // GIVEN the function's failure queue with a retryable failure, an event the handler
    // rejects and a message that is no failure record; and the rule's dead-letter queue with
    // an event EventBridge could not deliver, and the first event again
    for body in [
        failure_record(
            &good,
            "StoreError",
            "event x: DynamoDB write failed: timeout",
        )
        .to_string(),
        failure_record(
            &foreign,
            "BadEvent",
            "event foreign-source-1: rejected: source is \"aws.ec2\"",
        )
        .to_string(),
        "not a failure record".to_owned(),
    ] {
        sqs.send_message()
            .queue_url(&failed_events)
            .message_body(body)
            .send()
            .await?;
    }
    for event in [&delivered_late, &good] {
        let attribute = |text: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(text)
                .build()
        };
        sqs.send_message()
            .queue_url(&delivery_dlq)
            .message_body(event.to_string())
            .message_attributes("ERROR_CODE", attribute("ThrottlingException")?)
            .message_attributes(
                "ERROR_MESSAGE",
                attribute("Rate exceeded for function ecs-state-logger")?,
            )
            .message_attributes("RETRY_ATTEMPTS", attribute("185")?)
            .send()
            .await?;
    }

    // WHEN a dry run reads them, THEN it lists all five with why they failed, and leaves them
    let dry = stack.redrive(&["--dry-run"], "")?;
    assert_eq!(dry.code, 0, "{dry:?}");
    let mut shown = listed(&dry.stdout);
    shown.sort();
    let mut expected = vec![
        (good_id.clone(), "StoreError".to_owned()),
        ("foreign-source-1".to_owned(), "BadEvent".to_owned()),
        (good_id.clone(), "ThrottlingException".to_owned()),
        ("<no id>".to_owned(), "Unreadable".to_owned()),
        (
            delivered_late["id"].as_str().unwrap_or_default().to_owned(),
            "ThrottlingException".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(shown, expected, "{}", dry.stdout);
    for text in [
        "Unreadable: the message is not a Lambda failure record",
        "Rate exceeded for function ecs-state-logger",
        "source is \"aws.ec2\"",
        "region ",
        "5 failed event(s)",
    ] {
        assert!(dry.stdout.contains(text), "no {text:?} in\n{}", dry.stdout);
    }
    assert_eq!(stack.visible("failed-events").await?, 3);
    assert_eq!(stack.visible("delivery-dlq").await?, 2);

    // WHEN asked and the answer is not yes, THEN nothing is written or deleted
    let refused = stack.redrive(&[], "n\n")?;
    assert_eq!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("[y/N]"), "{refused:?}");
    assert!(refused.stdout.contains("not redriven"), "{refused:?}");
    let no_answer = stack.redrive(&[], "")?;
    assert!(no_answer.stdout.contains("not redriven"), "{no_answer:?}");
    assert_eq!(stack.item_count().await?, 0);
    assert_eq!(stack.visible("failed-events").await?, 3);
    assert_eq!(stack.visible("delivery-dlq").await?, 2);

    // WHEN the dead-letter queue alone is redriven, with a yes
    let dlq = stack.redrive(&["--queue", "delivery-dlq"], "y\n")?;

    // THEN both of its events are written and its messages deleted; the other queue waits
    assert_eq!(dlq.code, 0, "{dlq:?}");
    assert!(
        dlq.stdout
            .contains("2 message(s): 2 written, 0 duplicate, 0 kept in the queue"),
        "{}",
        dlq.stdout
    );
    assert_eq!(stack.item_count().await?, 2);
    assert_eq!(stack.depth("delivery-dlq").await?, 0);
    assert_eq!(stack.visible("failed-events").await?, 3);

    // WHEN both queues are redriven with --yes
    let both = stack.redrive(&["--yes"], "")?;

    // THEN the event already written is a duplicate, deleted; the rejected event and the
    // unreadable message stay, listed with their errors, and the exit status says so
    assert_eq!(both.code, 1, "{both:?}");
    assert!(
        both.stdout
            .contains("3 message(s): 0 written, 1 duplicate, 2 kept in the queue"),
        "{}",
        both.stdout
    );
    assert!(
        both.stdout.contains(
            "kept failed-events  foreign-source-1  BadEvent: event foreign-source-1: rejected:"
        ),
        "{}",
        both.stdout
    );
    assert!(both.stdout.contains("Unreadable"), "{}", both.stdout);
    assert!(
        both.stderr
            .contains("2 event(s) were not recorded and stay in their queues"),
        "{}",
        both.stderr
    );
    assert_eq!(stack.item_count().await?, 2);
    assert_eq!(stack.visible("failed-events").await?, 2);

    // AND repeating it changes nothing
    let again = stack.redrive(&["--yes"], "")?;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again
            .stdout
            .contains("2 message(s): 0 written, 0 duplicate, 2 kept in the queue"),
        "{}",
        again.stdout
    );
    assert_eq!(stack.item_count().await?, 2);
    assert_eq!(stack.visible("failed-events").await?, 2);
    Ok(())
}

/// The size of `value` as the compact JSON a message body carries.
fn body_bytes(value: &Value) -> usize {
    value.to_string().len()
}

/// `value` with the string at `pointer` grown so that its compact JSON is exactly `size` bytes.
fn padded_to(mut value: Value, pointer: &str, size: usize) -> TestResult<Value> {
    *value.pointer_mut(pointer).ok_or("no such field")? = json!("");
    let room = size
        .checked_sub(body_bytes(&value))
        .ok_or("already over the size")?;
    *value.pointer_mut(pointer).ok_or("no such field")? = json!("r".repeat(room));
    assert_eq!(body_bytes(&value), size);
    Ok(value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_megabyte_messages_in_both_queues_are_redriven_into_items_within_400_kb() -> TestResult
{
    const ONE_MB: usize = 1_048_576;
    let stack = Stack::start(false).await?;
    let sqs = stack.sqs();
    let failed_events = stack.queue_url("failed-events").await?;
    let delivery_dlq = stack.queue_url("delivery-dlq").await?;
    // The queues take 1 MB messages, as the module declares them (set here too, so this test
    // checks the CLI whatever the module's setting).
    for url in [&failed_events, &delivery_dlq] {
        sqs.set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::MaximumMessageSize, ONE_MB.to_string())
            .send()
            .await?;
    }
    let task_arn = format!(
        "arn:aws:ecs:{}:111122223333:task/prod/0a1b2c3d",
        stack.region
    );
    let task = json!({
        "version": "0", "id": "one-mb-task", "detail-type": "ECS Task State Change",
        "source": "aws.ecs", "account": "111122223333", "time": "2026-11-20T10:00:01Z",
        "region": stack.region, "resources": [task_arn],
        "detail": {"taskArn": task_arn, "version": 7, "lastStatus": "STOPPED",
                   "stopCode": "TaskFailedToStart", "stoppedReason": "",
                   "clusterArn": format!("arn:aws:ecs:{}:111122223333:cluster/prod", stack.region),
                   "updatedAt": "2026-11-20T10:00:00.250Z"}
    });
    // GIVEN Lambda's failure record of a large event, 1 MB in all
    let record = padded_to(
        failure_record(
            &task,
            "StoreError",
            "event one-mb-task: DynamoDB write failed: timeout",
        ),
        "/requestPayload/detail/stoppedReason",
        ONE_MB,
    )?;
    // AND a 1 MB event of a type the function does not model in the rule's dead-letter queue
    let mut unknown = task.clone();
    unknown["id"] = json!("one-mb-unknown");
    unknown["detail-type"] = json!("ECS Something Large");
    let unknown = padded_to(unknown, "/detail/stoppedReason", ONE_MB)?;
    let too_long = sqs
        .send_message()
        .queue_url(&delivery_dlq)
        .message_body(format!("{} ", unknown))
        .send()
        .await;
    assert!(too_long.is_err(), "the queue took a message over 1 MB");
    sqs.send_message()
        .queue_url(&failed_events)
        .message_body(record.to_string())
        .send()
        .await?;
    sqs.send_message()
        .queue_url(&delivery_dlq)
        .message_body(unknown.to_string())
        .message_attributes(
            "ERROR_CODE",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("ThrottlingException")
                .build()?,
        )
        .send()
        .await?;

    // WHEN both queues are redriven
    let run = stack.redrive(&["--yes"], "")?;

    // THEN each event is one item within DynamoDB's 400 KB, its cut marked, and the queues
    // are empty
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("2 message(s): 2 written, 0 duplicate, 0 kept in the queue"),
        "{}",
        run.stdout
    );
    assert_eq!(stack.depth("failed-events").await?, 0);
    assert_eq!(stack.depth("delivery-dlq").await?, 0);
    let scan = stack
        .dynamodb()
        .scan()
        .table_name(&stack.env.name)
        .send()
        .await?;
    let items = scan
        .items()
        .iter()
        .map(ecs_audit_core::attributes::from_attributes)
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(items.len(), 2);
    for item in &items {
        let bytes = ecs_audit_core::capacity::item_size(item);
        assert!(
            bytes <= ecs_audit_core::capacity::MAX_ITEM_BYTES,
            "{bytes} bytes"
        );
        let cut = if item["eventId"] == json!("one-mb-task") {
            "stoppedReason"
        } else {
            "detail"
        };
        assert_eq!(item["truncated"], json!([cut]), "{}", item["eventId"]);
        let size = if cut == "detail" {
            ONE_MB
        } else {
            body_bytes(&record["requestPayload"])
        };
        assert_eq!(item["originalBytes"], json!(size), "{}", item["eventId"]);
    }
    Ok(())
}
