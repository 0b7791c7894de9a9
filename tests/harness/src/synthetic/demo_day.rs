//! The day `make demo` replays (through the `demo-events` binary): per region, a cluster's
//! sixteen hours before an anchor time, as the deliveries EventBridge makes of them —
//! duplicates (some with a new envelope id) and out-of-order arrivals included.
//!
//! - a Fargate half: a web deployment whose tasks exit, trips the circuit breaker and rolls
//!   back; a Spot interruption followed by a placement failure (`RESOURCE:FARGATE`); a
//!   scheduled job whose new revision cannot pull its image, and a manual rerun;
//! - an EC2 half: an out-of-memory kill (exit 137), a placement failure for memory until a new
//!   container instance joins, a scale-in, a task replaced for failing its load balancer's
//!   health checks, healthy tasks.
//!
//! With one region both halves run there; with more, they alternate by region. Deterministic:
//! the same anchor gives the same events byte for byte (ids are UUIDv5 of what the event is,
//! task ids a SHA-256 of the task's name), so replaying a kept day again is all duplicates.

mod story;
mod task;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The account of the demo's ARNs.
pub const DEMO_ACCOUNT: &str = "123456789012";
/// The cluster the demo's questions name, unless told otherwise.
pub const DEMO_CLUSTER: &str = "demo";
/// Event ids are UUIDv5 in this namespace: stable across runs with the same anchor.
const NAMESPACE: Uuid = uuid::uuid!("6f1d8f3e-52c4-4a8e-9d1b-3c0e7a9b5d21");

/// One region's deliveries: files named `NNN-<what>.json` in delivery order.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionDay {
    pub region: String,
    pub files: Vec<(String, Value)>,
    /// How many of the deliveries are an event delivered again.
    pub duplicates: usize,
}

/// The demo's day in every region, and the names its questions ask about.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoDay {
    pub anchor: String,
    pub cluster: String,
    pub regions: Vec<RegionDay>,
    /// `DEMO_CLUSTER`, `DEMO_ANCHOR`, and where each story happened (`OOM_REGION`,
    /// `OOM_TASK`, `DEPLOY_REGION`, `PULL_REGION`): scripts/demo.sh's `scenario.env`.
    pub scenario: BTreeMap<String, String>,
}

impl DemoDay {
    /// `manifest.json`: the anchor, the cluster, per region its deliveries and duplicates.
    pub fn manifest(&self) -> Value {
        let regions: serde_json::Map<String, Value> = self
            .regions
            .iter()
            .map(|day| {
                let counts = json!({"events": day.files.len(), "duplicates": day.duplicates});
                (day.region.clone(), counts)
            })
            .collect();
        json!({"anchor": self.anchor, "cluster": self.cluster, "regions": regions})
    }

    /// Every file of the day, by its path under the output directory: `<region>/NNN-<what>.json`
    /// (pretty JSON, keys sorted), `manifest.json` and `scenario.env` (`KEY=value` lines).
    pub fn files(&self) -> Vec<(String, String)> {
        let pretty = |value: &Value| serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
        let mut files: Vec<(String, String)> = self
            .regions
            .iter()
            .flat_map(|day| {
                day.files
                    .iter()
                    .map(move |(name, event)| (format!("{}/{name}", day.region), pretty(event)))
            })
            .collect();
        files.push(("manifest.json".to_owned(), pretty(&self.manifest())));
        let scenario = self
            .scenario
            .iter()
            .map(|(key, value)| format!("{key}={value}\n"))
            .collect();
        files.push(("scenario.env".to_owned(), scenario));
        files
    }
}

/// The day ending at `anchor` (epoch seconds) for `cluster` in `regions`.
pub fn demo_day(anchor: i64, cluster: &str, regions: &[String]) -> DemoDay {
    let anchor = Utc.timestamp_opt(anchor, 0).single().unwrap_or_default();
    let halves: Vec<(&String, Vec<Half>)> = match regions {
        [only] => vec![(only, vec![Half::Fargate, Half::Ec2])],
        _ => regions
            .iter()
            .enumerate()
            .map(|(i, region)| (region, vec![[Half::Fargate, Half::Ec2][i % 2]]))
            .collect(),
    };
    let mut scenario = BTreeMap::from([
        ("DEMO_CLUSTER".to_owned(), cluster.to_owned()),
        ("DEMO_ANCHOR".to_owned(), iso(anchor)),
    ]);
    let mut days = Vec::new();
    for (region, halves) in halves {
        let mut day = Day::new(anchor, region, cluster);
        for half in halves {
            match half {
                Half::Fargate => {
                    story::fargate_day(&mut day);
                    for key in ["DEPLOY_REGION", "PULL_REGION"] {
                        scenario.entry(key.to_owned()).or_insert(region.clone());
                    }
                }
                Half::Ec2 => {
                    story::ec2_day(&mut day);
                    scenario
                        .entry("OOM_REGION".to_owned())
                        .or_insert(region.clone());
                    let task = format!("{cluster}/{}", &day.task_id("ingest-a")[..12]);
                    scenario.entry("OOM_TASK".to_owned()).or_insert(task);
                }
            }
        }
        days.push(day.into_region_day());
    }
    DemoDay {
        anchor: iso(anchor),
        cluster: cluster.to_owned(),
        regions: days,
        scenario,
    }
}

#[derive(Debug, Clone, Copy)]
enum Half {
    Fargate,
    Ec2,
}

/// ECS's own time format: UTC, milliseconds, `Z`.
fn iso(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// EventBridge's envelope time: whole seconds.
fn whole_seconds(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn secs(seconds: f64) -> Duration {
    Duration::microseconds((seconds * 1e6).round_ties_even() as i64)
}

/// A time of the day is given as minutes before the anchor; a number's text (`360`,
/// `347.49`) is part of a few event ids, so it is written the shortest way that reads back.
fn minutes_text(minutes: f64) -> String {
    format!("{minutes}")
}

fn uuid5(name: &str) -> String {
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

struct Delivery {
    at: DateTime<Utc>,
    sequence: usize,
    label: String,
    event: Value,
}

/// One region's events with their delivery times.
struct Day {
    anchor: DateTime<Utc>,
    /// The anchor as the ids and task names spell it (`2026-11-30T04:36:22+00:00`).
    anchor_text: String,
    region: String,
    cluster: String,
    deliveries: Vec<Delivery>,
    duplicates: usize,
}

impl Day {
    fn new(anchor: DateTime<Utc>, region: &str, cluster: &str) -> Self {
        Day {
            anchor,
            anchor_text: anchor.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
            region: region.to_owned(),
            cluster: cluster.to_owned(),
            deliveries: Vec::new(),
            duplicates: 0,
        }
    }

    /// `minutes` (fractions allowed) before the anchor, to the nearest microsecond (ties to
    /// even), as the day has always been computed.
    fn at(&self, minutes: f64) -> DateTime<Utc> {
        self.anchor - Duration::microseconds((minutes * 60_000_000.0).round_ties_even() as i64)
    }

    fn arn(&self, kind: &str, name: &str) -> String {
        format!("arn:aws:ecs:{}:{DEMO_ACCOUNT}:{kind}/{name}", self.region)
    }

    fn task_id(&self, name: &str) -> String {
        let digest = Sha256::digest(format!("{}/{}/{name}", self.anchor_text, self.region));
        digest
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    fn image(&self, repository: &str, tag: &str) -> String {
        format!(
            "{DEMO_ACCOUNT}.dkr.ecr.{}.amazonaws.com/{repository}:{tag}",
            self.region
        )
    }

    fn deliver(&mut self, label: String, event: Value, delay_seconds: f64) {
        let sent = event["time"]
            .as_str()
            .and_then(|time| DateTime::parse_from_rfc3339(time).ok())
            .map(|time| time.with_timezone(&Utc))
            .unwrap_or(self.anchor);
        let sequence = self.deliveries.len() + 1;
        self.deliveries.push(Delivery {
            at: sent + secs(delay_seconds),
            sequence,
            label,
            event,
        });
    }

    /// EventBridge's at-least-once delivery: the same event again (possibly with a new id).
    fn duplicate(&mut self, label: &str, event: &Value, delay_seconds: f64, new_id: bool) {
        let mut copy = event.clone();
        if new_id {
            let id = copy["id"].as_str().unwrap_or_default();
            copy["id"] = json!(uuid5(&format!("{id}/redelivery")));
        }
        self.duplicates += 1;
        self.deliver(format!("{label}-duplicate"), copy, delay_seconds);
    }

    fn envelope(
        &self,
        detail_type: &str,
        resource: &str,
        time: DateTime<Utc>,
        detail: Value,
        key: &str,
    ) -> Value {
        json!({
            "version": "0",
            "id": uuid5(&format!("{}/{}/{key}", self.anchor_text, self.region)),
            "detail-type": detail_type,
            "source": "aws.ecs",
            "account": DEMO_ACCOUNT,
            "time": whole_seconds(time),
            "region": self.region,
            "resources": [resource],
            "detail": detail,
        })
    }

    fn service_action(
        &self,
        service: &str,
        name: &str,
        kind: &str,
        minutes: f64,
        failure: Option<(&str, &[&str])>,
    ) -> Value {
        let mut detail = json!({
            "clusterArn": self.arn("cluster", &self.cluster),
            "eventType": kind,
            "eventName": name,
            "createdAt": iso(self.at(minutes)),
        });
        if let Some((reason, providers)) = failure {
            detail["reason"] = json!(reason);
            let arns: Vec<String> = providers
                .iter()
                .map(|p| self.arn("capacity-provider", p))
                .collect();
            detail["capacityProviderArns"] = json!(arns);
        }
        let resource = self.arn("service", &format!("{}/{service}", self.cluster));
        let key = format!("{service}/{name}/{}", minutes_text(minutes));
        self.envelope(
            "ECS Service Action",
            &resource,
            self.at(minutes),
            detail,
            &key,
        )
    }

    fn deployment(
        &self,
        service: &str,
        (name, kind): (&str, &str),
        minutes: f64,
        deployment_id: &str,
        reason: &str,
    ) -> Value {
        let detail = json!({
            "eventType": kind,
            "eventName": name,
            "deploymentId": deployment_id,
            "updatedAt": iso(self.at(minutes)),
            "reason": reason,
        });
        let resource = self.arn("service", &format!("{}/{service}", self.cluster));
        let key = format!("{service}/{name}/{}", minutes_text(minutes));
        self.envelope(
            "ECS Deployment State Change",
            &resource,
            self.at(minutes),
            detail,
            &key,
        )
    }

    fn container_instance(&self, name: &str, ec2_id: &str, minutes: f64) -> Value {
        let arn = self.arn(
            "container-instance",
            &format!("{}/{}", self.cluster, self.task_id(name)),
        );
        let detail = json!({
            "clusterArn": self.arn("cluster", &self.cluster),
            "containerInstanceArn": arn,
            "ec2InstanceId": ec2_id,
            "status": "ACTIVE",
            "agentConnected": true,
            "runningTasksCount": 0,
            "pendingTasksCount": 0,
            "versionInfo": {"agentVersion": "1.89.2", "dockerVersion": "DockerVersion: 25.0.8"},
            "version": 1,
            "updatedAt": iso(self.at(minutes)),
        });
        self.envelope(
            "ECS Container Instance State Change",
            &arn,
            self.at(minutes),
            detail,
            &format!("{name}/1"),
        )
    }

    /// Delivers events at their time; `late` gives a label a delay in seconds (out of order),
    /// `twice` / `twice_new_id` name events delivered again.
    fn deliver_all(&mut self, events: Vec<(String, Value)>, extra: Extra) {
        for (label, event) in events {
            let delay = extra
                .late
                .iter()
                .find(|(late, _)| *late == label)
                .map_or(2.0, |(_, delay)| *delay);
            let twice = extra.twice.contains(&label.as_str());
            let twice_new_id = extra.twice_new_id.contains(&label.as_str());
            self.deliver(label.clone(), event.clone(), delay);
            if twice {
                self.duplicate(&label, &event, 45.0, false);
            }
            if twice_new_id {
                self.duplicate(&label, &event, 90.0, true);
            }
        }
    }

    fn into_region_day(mut self) -> RegionDay {
        self.deliveries.sort_by_key(|d| (d.at, d.sequence));
        let files = self
            .deliveries
            .into_iter()
            .enumerate()
            .map(|(i, d)| (format!("{:03}-{}.json", i + 1, d.label), d.event))
            .collect();
        RegionDay {
            region: self.region,
            files,
            duplicates: self.duplicates,
        }
    }
}

/// How a day's events are delivered beyond once each, two seconds after they happen.
#[derive(Default)]
struct Extra<'a> {
    late: &'a [(&'a str, f64)],
    twice: &'a [&'a str],
    twice_new_id: &'a [&'a str],
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SHA-256 over every file of a day (its path, a newline, its bytes, in order).
    fn digest(day: &DemoDay) -> String {
        let mut hash = Sha256::new();
        for (path, text) in day.files() {
            hash.update(format!("{path}\n"));
            hash.update(text);
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The day `make demo` replays, pinned: the demo's earlier generator's files for the same
    /// anchor and regions, plus the ingest rollout's two deployment events (so `why` on the
    /// memory kill shows the deployment that started it). A deliberate change of the day
    /// changes these digests (then the demo's answers change too: check them).
    #[test]
    fn the_day_is_byte_for_byte_the_demo_day() {
        let anchor = 1_796_013_382;
        let two = regions(&["xx-test-1", "xx-test-2"]);
        assert_eq!(
            digest(&demo_day(anchor, DEMO_CLUSTER, &two)),
            "c22076c06784ae9c7cb531987976e0b93c5cd167275cc17645a1efe67c77f1fa"
        );
        let one = regions(&["xx-test-1"]);
        assert_eq!(
            digest(&demo_day(anchor, DEMO_CLUSTER, &one)),
            "9728130b0c6164ec4fb451d591cc3f525b428530ed33d1a1b83ade25ae54a5fe"
        );
    }

    fn regions(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn the_same_anchor_gives_the_same_day() {
        let two = regions(&["xx-test-1", "xx-test-2"]);
        let day = demo_day(1_796_013_382, DEMO_CLUSTER, &two);
        assert_eq!(day, demo_day(1_796_013_382, DEMO_CLUSTER, &two));
        assert_ne!(day, demo_day(1_796_013_383, DEMO_CLUSTER, &two));
        assert_eq!(day.regions.len(), 2);
        assert_eq!(day.scenario["DEPLOY_REGION"], "xx-test-1");
        assert_eq!(day.scenario["OOM_REGION"], "xx-test-2");
    }

    #[test]
    fn one_region_holds_both_halves() {
        let day = demo_day(1_796_013_382, DEMO_CLUSTER, &regions(&["xx-test-1"]));
        let [only] = day.regions.as_slice() else {
            panic!("{} regions", day.regions.len())
        };
        assert_eq!(day.scenario["OOM_REGION"], day.scenario["DEPLOY_REGION"]);
        let names: Vec<&str> = only.files.iter().map(|(name, _)| name.as_str()).collect();
        assert!(
            names
                .iter()
                .any(|n| n.contains("ingest-a-v3-stopped-duplicate"))
        );
        assert!(
            names
                .iter()
                .any(|n| n.contains("web-deploy-failed-duplicate"))
        );
        assert_eq!(only.duplicates, 4);
    }
}
