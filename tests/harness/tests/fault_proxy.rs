//! Faults between the function and DynamoDB: the built `bootstrap` reaches moto through the
//! harness's fault proxy, which answers scheduled `PutItem`s with throttling (HTTP 400
//! `ThrottlingException`, `ProvisionedThroughputExceededException`), HTTP 500, a connection
//! reset mid-answer, an answer held past the SDK's 2 s attempt timeout, and, for a stretch, no
//! answer at all. Events arrive as EventBridge sends them, as asynchronous invokes with
//! Lambda's retries (the module's default of 2); what still fails is redriven from its
//! on-failure record once DynamoDB answers again. Then every event is in the table exactly
//! once, holding its own id, and no invocation ran into the function's timeout (the module's
//! default): the function's own timeouts end a stalled write first.
//!
//! Needs `make build` first (`make test` does it), moto and Terraform.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use harness::fault_proxy::{Fault, FaultProxy, Limits, Schedule};
use harness::no_loss::{self, Key};
use harness::synthetic;
use harness::testkit::{LambdaUnderTest, LocalTable, function_timeout, logger_default};
use harness::{RetryPolicy, RuntimeApiConfig};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const EVENTS: usize = 100;
const PROCESSES: usize = 2;
const IN_FLIGHT: usize = 4;
/// Longer than the function's 2 s attempt timeout, shorter than its 6 s operation timeout.
const HELD: Duration = Duration::from_millis(2_500);
/// Every 5th `PutItem` gets the next of these faults.
const CYCLE: [Fault; 5] = [
    Fault::Throttling,
    Fault::ThroughputExceeded,
    Fault::ServerError,
    Fault::ResetMidResponse,
    Fault::Delay(HELD),
];
/// `PutItem`s that are never answered: with 2 processes each stalled write costing 2 s and a
/// backoff, over 30 s in which DynamoDB looks dead — longer than Lambda's three attempts of
/// one event take to fail (3 × 6 s), so some events end in their on-failure record.
const STALLED: std::ops::Range<usize> = 60..90;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_throttling_errors_resets_delays_and_a_stall_every_event_is_recorded_once()
-> TestResult {
    let began = Instant::now();
    let table = LocalTable::apply().await?;
    let region = table.env.primary_region.clone();
    let timeout = function_timeout()?;
    let retries = u32::try_from(logger_default("function_max_retry_attempts")?)?;

    // GIVEN the shipped bootstrap in 2 processes, reaching moto through the fault proxy
    let schedule = Schedule::on("PutItem").every(5, &CYCLE).stall(STALLED);
    let proxy = FaultProxy::start(
        SocketAddr::from(([127, 0, 0, 1], table.moto.port())),
        schedule.clone(),
        Limits {
            lifetime: Duration::from_secs(600),
            max_connections: 20_000,
        },
    )
    .await?;
    let lambda = LambdaUnderTest::start_processes(
        RuntimeApiConfig {
            region: region.clone(),
            timeout,
            queue_timeout: Some(Duration::from_secs(300)),
            ..RuntimeApiConfig::default()
        },
        PROCESSES,
        &table.env.name,
        &proxy.endpoint(),
    )
    .await?;
    let api = Arc::clone(lambda.api());
    let policy = RetryPolicy {
        max_retry_attempts: retries,
        ..RetryPolicy::default()
    };

    // AND distinct events of every kind
    let events = synthetic::generate(EVENTS, 0x0fa0_17ed, &region);
    let mut expected: BTreeMap<Key, String> = BTreeMap::new();
    for event in &events {
        let id = event["id"].as_str().unwrap_or_default().to_owned();
        assert!(
            expected.insert(no_loss::key_of(event)?, id).is_none(),
            "two events share a key"
        );
    }

    // WHEN they are invoked asynchronously, 4 at a time
    let results: Vec<harness::Result<harness::AsyncInvocation>> =
        futures_util::stream::iter(events.iter().cloned())
            .map(|event| {
                let (api, policy) = (Arc::clone(&api), policy.clone());
                async move { api.invoke_async(event, &policy).await }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;

    // THEN the proxy injected every kind of fault
    let injected: BTreeSet<Fault> = proxy.injected().into_iter().collect();
    let mut wanted: BTreeSet<Fault> = CYCLE.into_iter().collect();
    wanted.insert(Fault::Stall);
    assert_eq!(injected, wanted, "faults injected");

    // AND no attempt ran into the function's timeout: every failure is the function's own
    let mut failure_records = Vec::new();
    let mut attempts_by_error: BTreeMap<String, usize> = BTreeMap::new();
    for result in results {
        let invocation = result?;
        for attempt in &invocation.attempts {
            if let Some(error_type) = attempt.error_type() {
                *attempts_by_error.entry(error_type.to_owned()).or_default() += 1;
            }
        }
        if let Some(record) = invocation.failure_record {
            assert_eq!(invocation.attempts.len(), 1 + retries as usize);
            failure_records.push(record);
        }
    }
    assert!(
        attempts_by_error.keys().all(|error| error == "StoreError"),
        "attempts failed other than with StoreError: {attempts_by_error:?}"
    );
    for process in lambda.processes() {
        assert!(process.is_running(), "{}", process.log_tail(20));
    }
    // AND the stall outlasted Lambda's retries for some events: they wait in their records
    assert!(
        !failure_records.is_empty(),
        "no event failed every attempt: the redrive is not exercised ({attempts_by_error:?})"
    );

    // WHEN they are redriven from their on-failure records, with DynamoDB answering again
    let redriver = LambdaUnderTest::start(
        RuntimeApiConfig {
            region: region.clone(),
            timeout,
            ..RuntimeApiConfig::default()
        },
        &table.env.name,
        &table.moto.endpoint(),
    )
    .await?;
    let mut redriven: BTreeMap<String, usize> = BTreeMap::new();
    for record in &failure_records {
        let event: Value = record["requestPayload"].clone();
        *redriven.entry(redriver.record(event).await?).or_default() += 1;
    }

    // THEN every event is in the table exactly once, holding its own id
    let stored = no_loss::stored_ids(&table.client, &table.env.name).await?;
    let losses = no_loss::losses(&expected, &stored);
    assert!(
        losses.is_empty(),
        "{} loss(es), first: {:?}",
        losses.len(),
        losses.first()
    );
    assert_eq!(stored.len(), EVENTS);
    let put_items = proxy
        .seen()
        .iter()
        .filter(|seen| seen.operation == "PutItem")
        .count();
    eprintln!(
        "fault proxy: {EVENTS} events, {put_items} PutItems, {} faults injected; failed attempts {attempts_by_error:?}; {} redriven {redriven:?}; {:.1?} in all",
        proxy.injected().len(),
        failure_records.len(),
        began.elapsed()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_is_loopback_only_and_stops_by_itself() -> TestResult {
    let limits = Limits {
        lifetime: Duration::from_millis(300),
        max_connections: 1,
    };
    let elsewhere = SocketAddr::from(([192, 0, 2, 1], 80));
    assert!(
        FaultProxy::start(elsewhere, Schedule::on("PutItem"), limits)
            .await
            .is_err()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let proxy = FaultProxy::start(listener.local_addr()?, Schedule::on("PutItem"), limits).await?;
    let address = proxy.endpoint().trim_start_matches("http://").to_owned();
    let first = tokio::net::TcpStream::connect(&address).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !proxy.is_stopped() {
        assert!(Instant::now() < deadline, "the proxy did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(first);
    assert!(
        tokio::net::TcpStream::connect(&address).await.is_err(),
        "a stopped proxy still accepts connections"
    );
    Ok(())
}
