//! The no-loss checks, run against any function program: the shipped `bootstrap` must pass
//! them, and each mutant of it (`mutant-function`: no conditional write, no version in the
//! key) must fail them with a [`Loss`] — so the checks are known to catch what they guard.
//!
//! Both checks deliver events through a Runtime API to the program, writing to
//! `environments/local`'s table on a moto of its own, then read the table back:
//!
//! - [`soak`]: many distinct generated events (tasks, service actions, deployments) and
//!   redeliveries of some of them, shuffled, through several processes at once;
//! - [`redeliveries`]: the documented fixtures and generated events, then every one of them
//!   again, several copies at once.
//!
//! A redelivery carries a new envelope `id`, as a real one can, and is sent only after its
//! first delivery was answered (moto's conditional write is not atomic across its threads, so
//! two first writes racing could both succeed there; in DynamoDB they cannot). The table must
//! then hold exactly one item per distinct event, and that item the first delivery's
//! `eventId`: a redelivery that overwrote it, or an item lost to another event's key, is a
//! [`Loss`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY};
use ecs_audit_core::{event, mapping as record};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::local_env::repo_root;
use crate::synthetic::{self, SplitMix64};
use crate::testkit::{LambdaUnderTest, LocalTable, RETENTION_DAYS, string_attributes};
use crate::{FunctionCommand, RuntimeApiConfig};

/// An item's key: `(resourceArn, eventKey)`.
pub type Key = (String, String);

/// The attribute holding the envelope id of the delivery that wrote an item.
const EVENT_ID: &str = "eventId";

/// How long a delivery may wait for a free process before the Runtime API gives up on it.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(120);

/// The key the handler gives `event`.
pub fn key_of(event: &Value) -> Result<Key> {
    let id = event["id"].clone();
    let parsed = event::parse(event).map_err(|e| Error::Setup(format!("event {id}: {e}")))?;
    let record = record::build(&parsed, RETENTION_DAYS)
        .map_err(|e| Error::Setup(format!("event {id}: {e}")))?;
    Ok((record.resource_arn, record.event_key))
}

/// What went missing or wrong in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// A distinct event has no item.
    Missing { key: Key },
    /// An item no event should have made (its key is not any event's).
    Unexpected { key: Key },
    /// The item does not hold its first delivery's envelope id: a later delivery overwrote it.
    Overwritten {
        key: Key,
        first_id: String,
        stored_id: String,
    },
}

/// What a check saw.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Distinct events delivered.
    pub events: usize,
    /// Each outcome the program answered for first deliveries, and how often.
    pub first: BTreeMap<String, usize>,
    /// Each outcome the program answered for redeliveries, and how often.
    pub redelivered: BTreeMap<String, usize>,
    /// Items in the table afterwards.
    pub items: usize,
    /// Every loss found; empty when the guarantee held.
    pub losses: Vec<Loss>,
    /// Wall time of the deliveries.
    pub took: Duration,
}

impl Run {
    /// How many redeliveries were answered `outcome`.
    pub fn redelivered(&self, outcome: &str) -> usize {
        self.redelivered.get(outcome).copied().unwrap_or(0)
    }

    /// How many first deliveries were answered `outcome`.
    pub fn first(&self, outcome: &str) -> usize {
        self.first.get(outcome).copied().unwrap_or(0)
    }

    /// The first few losses, for a failure message.
    pub fn describe_losses(&self, at_most: usize) -> String {
        let shown: Vec<String> = self
            .losses
            .iter()
            .take(at_most)
            .map(|loss| format!("{loss:?}"))
            .collect();
        format!(
            "{} loss(es) among {} events ({} items): {}",
            self.losses.len(),
            self.events,
            self.items,
            shown.join("; ")
        )
    }
}

/// The soak's size.
#[derive(Debug, Clone, Copy)]
pub struct Soak {
    pub distinct: usize,
    pub redeliveries: usize,
    pub processes: usize,
    pub in_flight: usize,
    pub seed: u64,
}

impl Soak {
    /// The soak the shipped function must pass: 10,000 deliveries through 4 processes.
    pub const FULL: Soak = Soak {
        distinct: 8_000,
        redeliveries: 2_000,
        processes: 4,
        in_flight: 16,
        seed: 0x50a4_2026,
    };

    /// A short soak, enough for a mutant to show itself.
    pub const SHORT: Soak = Soak {
        distinct: 400,
        redeliveries: 100,
        processes: 2,
        in_flight: 8,
        seed: 0x50a4_2026,
    };
}

/// The redelivery check's size.
#[derive(Debug, Clone, Copy)]
pub struct Redeliveries {
    /// Generated events besides the fixtures.
    pub generated: usize,
    /// Copies of each event redelivered after the first delivery, sent at once.
    pub copies: usize,
    pub in_flight: usize,
    pub seed: u64,
}

impl Redeliveries {
    pub const FULL: Redeliveries = Redeliveries {
        generated: 300,
        copies: 3,
        in_flight: 12,
        seed: 0x0d0b_1e00,
    };

    pub const SHORT: Redeliveries = Redeliveries {
        generated: 0,
        copies: 2,
        in_flight: 8,
        seed: 0x0d0b_1e00,
    };
}

/// One delivery: event number `index`, either its first (original envelope id) or a
/// redelivery (a new id).
struct Delivery {
    index: usize,
    event: Value,
    first: bool,
}

/// `event` as redelivered: the same content under a new envelope id.
fn redelivery(event: &Value, rng: &mut SplitMix64) -> Value {
    let mut copy = event.clone();
    copy["id"] = json!(rng.uuid());
    copy
}

/// Soak: `plan.distinct` generated events and `plan.redeliveries` redeliveries of random ones,
/// shuffled, through `plan.processes` processes of `program`, into `table` (empty).
pub async fn soak(table: &LocalTable, program: FunctionCommand, plan: &Soak) -> Result<Run> {
    let mut rng = SplitMix64::new(plan.seed);
    let events = synthetic::generate(plan.distinct, rng.next_u64(), &table.env.primary_region);
    let mix = synthetic::Mix::of(&events);
    if events.len() != plan.distinct
        || mix.task == 0
        || mix.service_action == 0
        || mix.deployment == 0
    {
        return Err(Error::Setup(format!(
            "the generator made {} events ({mix:?}), not {} of every kind",
            events.len(),
            plan.distinct
        )));
    }

    // Which events are delivered how often, shuffled (Fisher–Yates); the first occurrence of
    // an event in the order is its first delivery, the others redeliveries.
    let count = u64::try_from(events.len()).unwrap_or(u64::MAX);
    let mut order: Vec<usize> = (0..events.len()).collect();
    for _ in 0..plan.redeliveries {
        order.push(usize::try_from(rng.below(count)).unwrap_or(0));
    }
    for i in (1..order.len()).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
    let mut delivered = vec![false; events.len()];
    let deliveries = order
        .into_iter()
        .map(|index| {
            let first = !std::mem::replace(&mut delivered[index], true);
            let event = if first {
                events[index].clone()
            } else {
                redelivery(&events[index], &mut rng)
            };
            Delivery {
                index,
                event,
                first,
            }
        })
        .collect();
    check(
        table,
        program,
        plan.processes,
        plan.in_flight,
        &events,
        deliveries,
    )
    .await
}

/// Redeliveries: every fixture of `tests/fixtures/events` and `plan.generated` generated
/// events once, then `plan.copies` copies of each, the copies of one event sent at once, into
/// `table` (empty).
pub async fn redeliveries(
    table: &LocalTable,
    program: FunctionCommand,
    plan: &Redeliveries,
) -> Result<Run> {
    let mut rng = SplitMix64::new(plan.seed);
    let mut events: Vec<Value> = crate::events::load(&[repo_root().join("tests/fixtures/events")])?
        .into_iter()
        .map(|source| source.event)
        .collect();
    events.extend(synthetic::generate(
        plan.generated,
        rng.next_u64(),
        &table.env.primary_region,
    ));
    let mut deliveries: Vec<Delivery> = events
        .iter()
        .enumerate()
        .map(|(index, event)| Delivery {
            index,
            event: event.clone(),
            first: true,
        })
        .collect();
    for (index, event) in events.iter().enumerate() {
        for _ in 0..plan.copies {
            deliveries.push(Delivery {
                index,
                event: redelivery(event, &mut rng),
                first: false,
            });
        }
    }
    check(table, program, 2, plan.in_flight, &events, deliveries).await
}

/// Runs `deliveries` of `events` through `processes` processes of `program` writing to
/// `table`, `in_flight` at a time, then compares the table with the events.
async fn check(
    table: &LocalTable,
    program: FunctionCommand,
    processes: usize,
    in_flight: usize,
    events: &[Value],
    deliveries: Vec<Delivery>,
) -> Result<Run> {
    let before = crate::testkit::item_count(&table.client, &table.env.name).await?;
    if before != 0 {
        return Err(Error::Setup(format!(
            "the table {} holds {before} items before the check",
            table.env.name
        )));
    }
    let mut expected: BTreeMap<Key, String> = BTreeMap::new();
    for event in events {
        let id = event["id"].as_str().unwrap_or_default().to_owned();
        if expected.insert(key_of(event)?, id).is_some() {
            return Err(Error::Setup(format!(
                "two events share the key of {}",
                event["id"]
            )));
        }
    }

    let lambda = LambdaUnderTest::start_command(
        RuntimeApiConfig {
            region: table.env.primary_region.clone(),
            queue_timeout: Some(QUEUE_TIMEOUT),
            ..RuntimeApiConfig::default()
        },
        processes,
        program,
        &table.env.name,
        &table.moto.endpoint(),
    )
    .await?;

    let began = Instant::now();
    let (first, redelivered) = deliver(&lambda, events.len(), in_flight, deliveries).await?;
    let took = began.elapsed();
    for process in lambda.processes() {
        if let Some(exit) = process.describe_exit() {
            return Err(Error::Function {
                program: process.program().to_owned(),
                message: format!("died ({exit}):\n{}", process.log_tail(20)),
            });
        }
    }

    let stored = stored_ids(&table.client, &table.env.name).await?;
    Ok(Run {
        events: events.len(),
        first,
        redelivered,
        items: stored.len(),
        losses: losses(&expected, &stored),
        took,
    })
}

type Outcomes = BTreeMap<String, usize>;

/// Invokes every delivery, `in_flight` at a time; a redelivery waits until its event's first
/// delivery has been answered. Any error answer fails the whole check: a program that cannot
/// answer has not shown that it keeps or loses anything.
async fn deliver(
    lambda: &LambdaUnderTest,
    events: usize,
    in_flight: usize,
    deliveries: Vec<Delivery>,
) -> Result<(Outcomes, Outcomes)> {
    let answered: Arc<Vec<watch::Sender<bool>>> =
        Arc::new((0..events).map(|_| watch::Sender::new(false)).collect());
    let results: Vec<(bool, Result<String>)> = futures_util::stream::iter(deliveries)
        .map(|delivery| {
            let answered = Arc::clone(&answered);
            async move {
                let Some(signal) = answered.get(delivery.index) else {
                    return (delivery.first, Err(Error::Setup("no such event".into())));
                };
                if delivery.first {
                    let result = lambda.record(delivery.event).await;
                    signal.send_replace(true);
                    (true, result)
                } else {
                    // The first delivery was created earlier in the stream, so it is running
                    // or done: this wait cannot block the stream.
                    let _ = signal.subscribe().wait_for(|done| *done).await;
                    (false, lambda.record(delivery.event).await)
                }
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;

    let (mut first, mut redelivered) = (Outcomes::new(), Outcomes::new());
    let mut errors = Vec::new();
    for (is_first, result) in results {
        match result {
            Ok(outcome) if is_first => *first.entry(outcome).or_default() += 1,
            Ok(outcome) => *redelivered.entry(outcome).or_default() += 1,
            Err(error) => errors.push(error),
        }
    }
    if let Some(error) = errors.into_iter().next() {
        return Err(Error::Function {
            program: lambda.process().program().to_owned(),
            message: format!("a delivery failed: {error}"),
        });
    }
    Ok((first, redelivered))
}

/// Every item's key and `eventId` in `table`.
pub async fn stored_ids(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<BTreeMap<Key, String>> {
    let items =
        string_attributes(client, table, [PARTITION_KEY, SORT_KEY, EVENT_ID], "items").await?;
    Ok(items
        .into_iter()
        .map(|[partition, sort, id]| ((partition, sort), id))
        .collect())
}

/// The differences between the items the events should have made (with their first
/// delivery's id) and the items stored.
pub fn losses(expected: &BTreeMap<Key, String>, stored: &BTreeMap<Key, String>) -> Vec<Loss> {
    let mut losses = Vec::new();
    for (key, first_id) in expected {
        match stored.get(key) {
            None => losses.push(Loss::Missing { key: key.clone() }),
            Some(stored_id) if stored_id != first_id => losses.push(Loss::Overwritten {
                key: key.clone(),
                first_id: first_id.clone(),
                stored_id: stored_id.clone(),
            }),
            Some(_) => {}
        }
    }
    for key in stored.keys().filter(|key| !expected.contains_key(*key)) {
        losses.push(Loss::Unexpected { key: key.clone() });
    }
    losses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(pk: &str, sk: &str) -> Key {
        (pk.to_owned(), sk.to_owned())
    }

    #[test]
    fn losses_name_missing_overwritten_and_unexpected_items() {
        let expected = BTreeMap::from([
            (key("a", "v1"), "id-1".to_owned()),
            (key("a", "v2"), "id-2".to_owned()),
            (key("b", "v1"), "id-3".to_owned()),
        ]);
        let stored = BTreeMap::from([
            (key("a", "v1"), "id-1".to_owned()),
            (key("b", "v1"), "other".to_owned()),
            (key("a", "x"), "id-2".to_owned()),
        ]);
        assert_eq!(
            losses(&expected, &stored),
            [
                Loss::Missing {
                    key: key("a", "v2")
                },
                Loss::Overwritten {
                    key: key("b", "v1"),
                    first_id: "id-3".into(),
                    stored_id: "other".into()
                },
                Loss::Unexpected { key: key("a", "x") },
            ]
        );
        assert!(losses(&expected, &expected).is_empty());
    }
}
