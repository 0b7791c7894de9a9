//! A deterministic stream of Amazon ECS events for benchmarks: the same seed gives the same
//! events, byte for byte, so two implementations (or two runs) see identical input.
//!
//! The stream simulates a few services over simulated time, in episodes: scale-outs (the web
//! service adds 20 tasks of one task definition in the same second), scale-ins, rolling
//! deployments (some of which fail and roll back), crashed tasks and their replacements,
//! scheduled batch jobs, and placement failures. Events carry what ECS sends (envelope,
//! attachments, containers, overrides), so parsing costs what it costs in production.
//!
//! Only [`SplitMix64`] drives the choices: no clock, no hash-map order, no other randomness.
//!
//! - [`generate`] (`stream`): the benchmark's stream of episodes;
//! - [`scale`]: a busy cluster's day, for the questions at scale;
//! - [`demo_day`]: the day `make demo` replays (the `demo-events` binary), its deliveries
//!   with duplicates and out-of-order arrivals.

pub mod demo_day;
mod rng;
pub mod scale;
mod stream;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{Value, json};

pub use rng::SplitMix64;
pub use stream::generate;

/// The account in every generated ARN.
pub const ACCOUNT: &str = "111122223333";

/// What a generated stream holds, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mix {
    pub task: usize,
    pub service_action: usize,
    pub deployment: usize,
}

impl Mix {
    pub fn of(events: &[Value]) -> Self {
        let mut mix = Mix::default();
        for event in events {
            match event["detail-type"].as_str() {
                Some("ECS Task State Change") => mix.task += 1,
                Some("ECS Service Action") => mix.service_action += 1,
                Some("ECS Deployment State Change") => mix.deployment += 1,
                _ => {}
            }
        }
        mix
    }
}

/// The start of the second `at` falls in.
fn whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(at.timestamp(), 0).single().unwrap_or(at)
}

/// The EventBridge envelope of an ECS event: `detail` of `detail_type` about `resources`,
/// sent at `at` from `region` with envelope id `id`.
fn envelope(
    id: String,
    region: &str,
    at: DateTime<Utc>,
    detail_type: &str,
    resources: Vec<String>,
    detail: Value,
) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": ACCOUNT,
        // EventBridge's time has whole seconds: the recipe keys items on it.
        "time": whole_second(at).to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": region,
        "resources": resources,
        "detail": detail,
    })
}
