//! A busy cluster's day, deterministically: `tasks` task runs of `services` services in one
//! cluster over 24 hours, three task events each (PENDING, RUNNING, STOPPED; a task that never
//! starts has PENDING and STOPPED), a few failures of each kind, and deployments (in progress,
//! then completed or failed) with the scheduler's steady-state actions. The scale fixture of
//! `bench-scale` and of the timeline's browser test: 7,000 tasks make about 21,000 events.
//!
//! Each service runs a fixed number of slots; a slot runs tasks back to back, so a service's
//! concurrency is its slot count whatever the number of runs.

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use serde_json::{Value, json};

use super::{ACCOUNT, SplitMix64, envelope};

/// What a day holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleDay {
    pub tasks: usize,
    pub services: usize,
    pub seed: u64,
}

/// The day's first second: fixed, so the day never depends on when it is generated.
pub fn day_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The service names of a day: `svc-00`, `svc-01`, ...
pub fn service_name(index: usize) -> String {
    format!("svc-{index:02}")
}

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

struct Day<'a> {
    rng: SplitMix64,
    region: &'a str,
    cluster: &'a str,
    events: Vec<(DateTime<Utc>, Value)>,
}

/// How a run ends.
enum Ending {
    Normal,
    Oom,
    NeverStarted,
    Spot,
}

impl Day<'_> {
    fn arn(&self, resource: &str) -> String {
        format!("arn:aws:ecs:{}:{ACCOUNT}:{resource}", self.region)
    }

    fn push(&mut self, at: DateTime<Utc>, detail_type: &str, resource: String, detail: Value) {
        let event = envelope(
            self.rng.uuid(),
            self.region,
            at,
            detail_type,
            vec![resource],
            detail,
        );
        self.events.push((at, event));
    }

    /// One run of `service` from `created` for `length`, ending as `ending`.
    fn run(
        &mut self,
        service: &str,
        deployment: &str,
        created: DateTime<Utc>,
        length: Duration,
        ending: &Ending,
    ) {
        let id = self.rng.hex(32);
        let arn = self.arn(&format!("task/{}/{id}", self.cluster));
        let started = created + Duration::seconds(self.rng.between(8, 40) as i64);
        let stopped = match ending {
            Ending::NeverStarted => started,
            _ => started + length,
        };
        let (stop_code, reason, exit) = match ending {
            Ending::Normal => (
                "ServiceSchedulerInitiated",
                "Scaling activity initiated by (deployment)".to_string(),
                Some(0),
            ),
            Ending::Oom => (
                "EssentialContainerExited",
                "Essential container in task exited".to_string(),
                Some(137),
            ),
            Ending::NeverStarted => (
                "TaskFailedToStart",
                format!(
                    "CannotPullContainerError: failed to resolve ref {ACCOUNT}.dkr.ecr.{}.amazonaws.com/{service}:broken: not found",
                    self.region
                ),
                None,
            ),
            Ending::Spot => (
                "SpotInterruption",
                "Your Spot Task was interrupted.".to_string(),
                Some(143),
            ),
        };
        let base = json!({
            "taskArn": arn,
            "clusterArn": self.arn(&format!("cluster/{}", self.cluster)),
            "taskDefinitionArn": self.arn(&format!("task-definition/{service}:7")),
            "group": format!("service:{service}"),
            "startedBy": deployment,
            "launchType": "FARGATE",
            "availabilityZone": format!("{}a", self.region),
            "cpu": "256",
            "memory": "512",
            "createdAt": time_text(created),
        });
        let mut states: Vec<(&str, DateTime<Utc>)> = vec![("PENDING", created)];
        if !matches!(ending, Ending::NeverStarted) {
            states.push(("RUNNING", started));
        }
        states.push(("STOPPED", stopped));
        for (version, (status, at)) in states.into_iter().enumerate() {
            let mut detail = base.clone();
            detail["version"] = json!(version + 1);
            detail["lastStatus"] = json!(status);
            detail["updatedAt"] = json!(time_text(at));
            let mut container = json!({"name": "app", "lastStatus": status});
            if status == "STOPPED" {
                detail["desiredStatus"] = json!("STOPPED");
                detail["stopCode"] = json!(stop_code);
                detail["stoppedReason"] = json!(reason);
                detail["stoppedAt"] = json!(time_text(at));
                if let Some(code) = exit {
                    container["exitCode"] = json!(code);
                }
                if matches!(ending, Ending::Oom) {
                    container["reason"] =
                        json!("OutOfMemoryError: Container killed due to memory usage");
                }
            } else {
                detail["desiredStatus"] = json!("RUNNING");
            }
            if status != "PENDING" && !matches!(ending, Ending::NeverStarted) {
                detail["startedAt"] = json!(time_text(started));
            }
            detail["containers"] = json!([container]);
            self.push(at, "ECS Task State Change", arn.clone(), detail);
        }
    }

    fn deployment(&mut self, service: &str, id: &str, at: DateTime<Utc>, failed: bool) {
        let resource = self.arn(&format!("service/{}/{service}", self.cluster));
        let mut detail = json!({
            "eventType": "INFO",
            "eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "deploymentId": id,
            "updatedAt": time_text(at),
            "reason": format!("ECS deployment {id} in progress."),
        });
        self.push(
            at,
            "ECS Deployment State Change",
            resource.clone(),
            detail.clone(),
        );
        let end = at + Duration::seconds(self.rng.between(120, 900) as i64);
        detail["updatedAt"] = json!(time_text(end));
        if failed {
            detail["eventType"] = json!("ERROR");
            detail["eventName"] = json!("SERVICE_DEPLOYMENT_FAILED");
            detail["reason"] = json!(format!(
                "ECS deployment circuit breaker: tasks failed to start ({id})."
            ));
        } else {
            detail["eventName"] = json!("SERVICE_DEPLOYMENT_COMPLETED");
            detail["reason"] = json!(format!("ECS deployment {id} completed."));
        }
        self.push(end, "ECS Deployment State Change", resource.clone(), detail);
        let steady = end + Duration::seconds(1);
        let action = json!({
            "eventType": "INFO",
            "eventName": "SERVICE_STEADY_STATE",
            "clusterArn": self.arn(&format!("cluster/{}", self.cluster)),
            "createdAt": time_text(steady),
        });
        self.push(steady, "ECS Service Action", resource, action);
    }
}

/// The day's events in time order, in `cluster` of `region`.
pub fn generate(day: ScaleDay, cluster: &str, region: &str) -> Vec<Value> {
    let mut generator = Day {
        rng: SplitMix64::new(day.seed),
        region,
        cluster,
        events: Vec::new(),
    };
    let services = day.services.max(1);
    let span = Duration::hours(24);
    for index in 0..services {
        let service = service_name(index);
        // this service's share of the runs, and its slots (its concurrency)
        let runs = day.tasks / services + usize::from(index < day.tasks % services);
        let slots = (generator.rng.between(1, 8) as usize).min(runs.max(1));
        // runs per slot, back to back across the day
        let per_slot = runs.div_ceil(slots).max(1);
        let length = span.num_seconds() / per_slot as i64;
        let before = format!("ecs-svc/{:019}", generator.rng.below(10_u64.pow(19)));
        let after = format!("ecs-svc/{:019}", generator.rng.below(10_u64.pow(19)));
        let deploy_at =
            day_start() + Duration::seconds(generator.rng.between(3_600, 80_000) as i64);
        let failed_deploy = generator.rng.chance(20);
        generator.deployment(&service, &after, deploy_at, failed_deploy);
        for run in 0..runs {
            let slot = run % slots;
            let position = (run / slots) as i64;
            let created = day_start()
                + Duration::seconds(position * length + (slot as i64 * 7) % length.max(1));
            // runs after a completed deployment belong to it
            let deployment = if !failed_deploy && created > deploy_at {
                &after
            } else {
                &before
            };
            let ending = match generator.rng.below(1000) {
                0..=14 => Ending::Oom,
                15..=24 => Ending::NeverStarted,
                25..=29 => Ending::Spot,
                _ => Ending::Normal,
            };
            let busy = Duration::seconds((length - 60).max(30)) * 9 / 10;
            generator.run(&service, deployment, created, busy, &ending);
        }
    }
    let mut events = generator.events;
    // stable: events of one instant keep the order they were produced in
    events.sort_by_key(|(at, _)| *at);
    events.into_iter().map(|(_, event)| event).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_day_is_the_same_for_a_seed_and_holds_what_it_says() {
        let day = ScaleDay {
            tasks: 700,
            services: 5,
            seed: 3,
        };
        let events = generate(day, "big", "xx-test-1");
        assert_eq!(events, generate(day, "big", "xx-test-1"));
        let tasks: BTreeSet<&str> = events
            .iter()
            .filter_map(|event| event["detail"]["taskArn"].as_str())
            .collect();
        assert_eq!(tasks.len(), 700);
        // about three events a run, five services' deployments
        assert!(
            events.len() > 2 * 700 && events.len() < 3 * 700 + 40,
            "{}",
            events.len()
        );
        let codes: BTreeSet<&str> = events
            .iter()
            .filter_map(|event| event["detail"]["stopCode"].as_str())
            .collect();
        assert!(codes.contains("EssentialContainerExited"), "{codes:?}");
        assert!(codes.contains("TaskFailedToStart"), "{codes:?}");
        let deployments = events
            .iter()
            .filter(|event| event["detail-type"] == "ECS Deployment State Change")
            .count();
        assert_eq!(deployments, 10);
        // in time order, inside the day
        let times: Vec<&str> = events
            .iter()
            .filter_map(|event| event["time"].as_str())
            .collect();
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
        assert!(times[0] >= "2026-11-20T00:00:00Z" && times[times.len() - 1] < "2026-11-21T01");
    }
}
