//! Soak: 10,000 deliveries (8,000 distinct generated events — tasks, service actions,
//! deployments — and 2,000 redeliveries, shuffled) through 4 processes of the built
//! `bootstrap` polling one Runtime API, into `environments/local`'s table (applied by
//! Terraform to moto, `-target` the primary region's table only): exactly one item per
//! distinct event, no errors. Needs `make build` first (`make test` does it).
//!
//! `SOAK_DELIVERIES` shortens it (same 4:1 mix) where the bootstrap runs emulated.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ecs_state_logger::{event, record};
use futures_util::StreamExt;

use harness::RuntimeApiConfig;
use harness::synthetic::{self, SplitMix64};
use harness::testkit::{LambdaUnderTest, LocalTable, RETENTION_DAYS, item_keys};
use serde_json::Value;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Deliveries unless `SOAK_DELIVERIES` says otherwise; a fifth of them are redeliveries.
const DELIVERIES: usize = 10_000;
const PROCESSES: usize = 4;
const IN_FLIGHT: usize = 16;
const SEED: u64 = 0x50a4_2026;

/// The `(resourceArn, eventKey)` the handler gives an event.
fn key_of(event: &Value) -> TestResult<(String, String)> {
    let record = record::build(&event::parse(event)?, RETENTION_DAYS)?;
    Ok((record.resource_arn, record.event_key))
}

/// `(distinct events, redeliveries)`: `SOAK_DELIVERIES` (default [`DELIVERIES`]), four to one.
fn sizes() -> TestResult<(usize, usize)> {
    let deliveries = match std::env::var("SOAK_DELIVERIES") {
        Ok(n) => n
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 10)
            .ok_or_else(|| format!("SOAK_DELIVERIES={n:?}: a number of deliveries, at least 10"))?,
        Err(_) => DELIVERIES,
    };
    let redeliveries = deliveries / 5;
    Ok((deliveries - redeliveries, redeliveries))
}

/// The deliveries: every event once, `redeliveries` of them again, in a seeded shuffle.
fn deliveries(events: &[Value], redeliveries: usize, rng: &mut SplitMix64) -> Vec<Value> {
    let mut all = events.to_vec();
    let count = u64::try_from(events.len()).unwrap_or(u64::MAX);
    for _ in 0..redeliveries {
        let pick = usize::try_from(rng.below(count)).unwrap_or(0);
        all.push(events[pick].clone());
    }
    // Fisher–Yates.
    for i in (1..all.len()).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        all.swap(i, j);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_deliveries_through_four_processes_leave_one_item_per_event() -> TestResult {
    let (distinct, redeliveries) = sizes()?;
    let table = LocalTable::apply().await?;
    let (env, client, endpoint) = (&table.env, &table.client, table.moto.endpoint());
    let region = env.primary_region.clone();

    // GIVEN 8,000 distinct events and 2,000 redeliveries of some of them (or SOAK_DELIVERIES), shuffled
    let mut rng = SplitMix64::new(SEED);
    let events = synthetic::generate(distinct, rng.next_u64(), &region);
    assert_eq!(events.len(), distinct);
    let mix = synthetic::Mix::of(&events);
    assert!(
        mix.task > 0 && mix.service_action > 0 && mix.deployment > 0,
        "{mix:?}"
    );
    let expected: BTreeSet<(String, String)> =
        events.iter().map(key_of).collect::<TestResult<_>>()?;
    assert_eq!(expected.len(), distinct, "two generated events share a key");
    let deliveries = deliveries(&events, redeliveries, &mut rng);
    assert_eq!(deliveries.len(), distinct + redeliveries);

    // AND 4 processes of the shipped bootstrap polling one Runtime API
    let lambda = LambdaUnderTest::start_processes(
        RuntimeApiConfig {
            region: region.clone(),
            timeout: Duration::from_secs(30),
            queue_timeout: Some(Duration::from_secs(120)),
            ..RuntimeApiConfig::default()
        },
        PROCESSES,
        &env.name,
        &endpoint,
    )
    .await?;
    let processes = lambda.processes();
    assert_eq!(processes.len(), PROCESSES);

    // WHEN every delivery is invoked, 16 at a time
    let began = Instant::now();
    let outcomes: Vec<Result<String, String>> = futures_util::stream::iter(deliveries)
        .map(|event| async {
            lambda
                .record(event)
                .await
                .map_err(|error| error.to_string())
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let took = began.elapsed();

    // THEN no delivery failed and no process died
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}\n{}",
        errors.len(),
        errors.first(),
        processes[0].log_tail(10)
    );
    for process in processes {
        assert!(process.is_running(), "{}", process.log_tail(20));
    }
    let written = outcomes
        .iter()
        .filter(|o| o.as_deref() == Ok("written"))
        .count();
    let duplicate = outcomes
        .iter()
        .filter(|o| o.as_deref() == Ok("duplicate"))
        .count();
    assert_eq!(written + duplicate, distinct + redeliveries);
    // moto's conditional put is not atomic across its threads, so two copies of one event
    // in flight at once may both be told "written"; the table still gets one item.
    assert!(written >= distinct, "{written} written");

    // AND the table holds exactly one item per distinct event
    let stored = item_keys(client, &env.name).await?;
    let unique: BTreeSet<(String, String)> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), distinct, "items in the table");
    assert_eq!(unique, expected);
    eprintln!(
        "soak: {} deliveries ({written} written, {duplicate} duplicate) through {PROCESSES} processes in {took:.1?}, {:.0}/s",
        distinct + redeliveries,
        (distinct + redeliveries) as f64 / took.as_secs_f64()
    );
    Ok(())
}
