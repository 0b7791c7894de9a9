//! The benchmark's stream: a few services over simulated time, in episodes (scale-outs and
//! -ins, rolling deployments that sometimes fail and roll back, crashes and replacements,
//! scheduled jobs, placement failures).

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

mod emit;

use super::{ACCOUNT, SplitMix64, whole_second};

/// `count` events in time order, from `seed`, with ARNs in `region`.
pub fn generate(count: usize, seed: u64, region: &str) -> Vec<Value> {
    let mut generator = Generator::new(seed, region);
    generator.run(count);
    let mut events = std::mem::take(&mut generator.events);
    // Stable: events of one second keep the order they were produced in.
    events.sort_by_key(|pending| pending.at);
    events
        .into_iter()
        .take(count)
        .map(|pending| pending.event)
        .collect()
}

struct Pending {
    at: DateTime<Utc>,
    event: Value,
}

#[derive(Debug, Clone)]
struct Service {
    cluster: &'static str,
    name: &'static str,
    family: &'static str,
    revision: u64,
    containers: &'static [&'static str],
    cpu: &'static str,
    memory: &'static str,
    /// Size of a scale-out or scale-in step: the web service moves in bursts of 20.
    step: usize,
    deployment_id: String,
    running: Vec<Task>,
}

#[derive(Debug, Clone)]
struct Task {
    arn: String,
    id: String,
    cluster: &'static str,
    group: String,
    started_by: String,
    family: &'static str,
    revision: u64,
    containers: &'static [&'static str],
    cpu: &'static str,
    memory: &'static str,
    zone: String,
    eni: String,
    private_ip: String,
    version: u64,
    created_at: DateTime<Utc>,
    pull_started_at: Option<DateTime<Utc>>,
    pull_stopped_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    stopping_at: Option<DateTime<Utc>>,
}

/// How a task ends.
#[derive(Debug, Clone)]
struct Stop {
    code: &'static str,
    reason: String,
    /// Exit code of every container (None: never started).
    exit_code: Option<i64>,
    container_reason: Option<&'static str>,
}

struct Generator {
    rng: SplitMix64,
    region: String,
    clock: DateTime<Utc>,
    services: Vec<Service>,
    events: Vec<Pending>,
}

const WEB: usize = 0;
const API: usize = 1;
const WORKER: usize = 2;
const STAGING: usize = 3;

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn millis(ms: u64) -> Duration {
    Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn seconds(s: u64) -> Duration {
    Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX))
}

impl Generator {
    fn new(seed: u64, region: &str) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut service = |cluster, name, family, revision, containers, cpu, memory, step| {
            let deployment_id = format!("ecs-svc/{:019}", rng.below(10_u64.pow(19)));
            Service {
                cluster,
                name,
                family,
                revision,
                containers,
                cpu,
                memory,
                step,
                deployment_id,
                running: Vec::new(),
            }
        };
        let services = vec![
            service(
                "prod",
                "web",
                "web",
                41,
                &["web", "log-router"],
                "512",
                "1024",
                20,
            ),
            service("prod", "api", "api", 17, &["api"], "256", "512", 2),
            service(
                "prod",
                "worker",
                "worker",
                8,
                &["worker"],
                "1024",
                "2048",
                1,
            ),
            service(
                "staging",
                "web",
                "web-staging",
                93,
                &["web"],
                "256",
                "512",
                1,
            ),
        ];
        Self {
            rng,
            region: region.to_owned(),
            // A fixed start, so the stream never depends on when it is generated.
            clock: Utc
                .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
                .single()
                .unwrap_or_default(),
            services,
            events: Vec::new(),
        }
    }

    fn arn(&self, resource: &str) -> String {
        format!("arn:aws:ecs:{}:{ACCOUNT}:{resource}", self.region)
    }

    fn run(&mut self, count: usize) {
        // Every stream, however short, opens with a same-second burst of 20 web tasks and
        // has each kind of episode early.
        self.scale_out(WEB, 20);
        self.scale_out(API, 4);
        self.scale_out(WORKER, 2);
        self.scale_out(STAGING, 1);
        self.deployment(API, false);
        self.crash(WORKER);
        self.batch_job();
        self.placement_failure();
        self.scale_in(WEB, 20);
        while self.events.len() < count {
            let service = self.rng.below(self.services.len() as u64) as usize;
            match self.rng.below(100) {
                0..=24 => {
                    let step = self.services[service].step;
                    if self.services[service].running.len() > 3 * step.max(2) {
                        self.scale_in(service, step);
                    } else {
                        self.scale_out(service, step);
                    }
                }
                25..=39 => {
                    let step = self.services[service].step;
                    self.scale_in(service, step);
                }
                40..=59 => {
                    let fails = self.rng.chance(15);
                    self.deployment(service, fails);
                }
                60..=74 => self.batch_job(),
                75..=89 => self.crash(service),
                _ => self.placement_failure(),
            }
        }
    }

    /// Moves the clock past everything produced so far, plus a pause.
    fn pause(&mut self, until: DateTime<Utc>) {
        let gap = seconds(self.rng.between(20, 300)) + millis(self.rng.below(1000));
        self.clock = until.max(self.clock) + gap;
    }

    /// `when` for task `index` of a burst of `n` that all happen in the second `second`.
    fn in_second(&mut self, second: DateTime<Utc>, index: usize, n: usize) -> DateTime<Utc> {
        let slot = 950 / n.max(1) as u64;
        second + millis(20 + index as u64 * slot + self.rng.below(slot.max(1)))
    }

    /// Starts `n` tasks of `service`. With n > 1 they are placed together: their PROVISIONING
    /// and PENDING events share a second, as ECS sends them for one scaling step.
    fn start_tasks(
        &mut self,
        service: usize,
        n: usize,
        begin: DateTime<Utc>,
    ) -> (Vec<Task>, DateTime<Utc>) {
        let second = whole_second(begin);
        let mut tasks: Vec<Task> = (0..n).map(|_| self.new_task(service, second)).collect();
        let mut end = begin;
        for (i, task) in tasks.iter_mut().enumerate() {
            let at = self.in_second(second, i, n);
            task.created_at = at;
            self.task_event(task, at, "PROVISIONING", "RUNNING", None);
        }
        let pending_second = second + seconds(self.rng.between(1, 2));
        for (i, task) in tasks.iter_mut().enumerate() {
            let at = self.in_second(pending_second, i, n);
            task.pull_started_at = Some(at + millis(300));
            self.task_event(task, at, "PENDING", "RUNNING", None);
        }
        for task in &mut tasks {
            // Image pulls and health checks finish at their own pace: spread over seconds.
            let at =
                pending_second + seconds(self.rng.between(12, 40)) + millis(self.rng.below(1000));
            task.pull_stopped_at = Some(at - seconds(4));
            task.started_at = Some(at);
            self.task_event(task, at, "RUNNING", "RUNNING", None);
            end = end.max(at);
        }
        (tasks, end)
    }

    /// Stops `tasks` (told to stop together, in one second), returns when the last stopped.
    fn stop_tasks(
        &mut self,
        tasks: &mut [Task],
        begin: DateTime<Utc>,
        stop: &Stop,
    ) -> DateTime<Utc> {
        let n = tasks.len();
        let second = whole_second(begin);
        let mut end = begin;
        for (i, task) in tasks.iter_mut().enumerate() {
            let at = self.in_second(second, i, n);
            task.stopping_at = Some(at);
            self.task_event(task, at, "DEACTIVATING", "STOPPED", Some(stop));
        }
        let stopping_second = second + seconds(1);
        for (i, task) in tasks.iter_mut().enumerate() {
            let at = self.in_second(stopping_second, i, n);
            self.task_event(task, at, "STOPPING", "STOPPED", Some(stop));
        }
        for task in tasks.iter_mut() {
            // Connection draining and container shutdown take their own time.
            let at =
                stopping_second + seconds(self.rng.between(5, 35)) + millis(self.rng.below(1000));
            self.task_event(task, at, "DEPROVISIONING", "STOPPED", Some(stop));
            let at = at + seconds(self.rng.between(1, 3)) + millis(self.rng.below(1000));
            self.task_event(task, at, "STOPPED", "STOPPED", Some(stop));
            end = end.max(at);
        }
        end
    }

    fn scale_out(&mut self, service: usize, n: usize) {
        let begin = self.clock;
        let (tasks, end) = self.start_tasks(service, n, begin);
        self.services[service].running.extend(tasks);
        let at = end + seconds(self.rng.between(30, 90));
        self.service_action(service, at, "INFO", "SERVICE_STEADY_STATE", None);
        self.pause(at);
    }

    fn scale_in(&mut self, service: usize, n: usize) {
        let running = self.services[service].running.len();
        if running == 0 {
            return self.scale_out(service, n);
        }
        let n = n.min(running);
        let mut stopping: Vec<Task> = self.services[service].running.drain(..n).collect();
        let stop = Stop {
            code: "ServiceSchedulerInitiated",
            reason: "Scaling activity initiated by (deployment ".to_owned()
                + &self.services[service].deployment_id
                + ")",
            exit_code: Some(0),
            container_reason: None,
        };
        let begin = self.clock;
        let end = self.stop_tasks(&mut stopping, begin, &stop);
        let at = end + seconds(self.rng.between(30, 90));
        self.service_action(service, at, "INFO", "SERVICE_STEADY_STATE", None);
        self.pause(at);
    }

    /// A rolling deployment of a new revision: new tasks up, old tasks down. A failing one
    /// cannot pull its image, trips the circuit breaker and rolls back.
    fn deployment(&mut self, service: usize, fails: bool) {
        let begin = self.clock;
        let old_deployment = self.services[service].deployment_id.clone();
        let new_deployment = format!("ecs-svc/{:019}", self.rng.below(10_u64.pow(19)));
        self.services[service].deployment_id = new_deployment.clone();
        self.services[service].revision += 1;
        let reason = format!("ECS deployment {new_deployment} in progress.");
        self.deployment_event(
            service,
            begin,
            "INFO",
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            reason,
        );
        let replace = self.services[service].running.len().max(1);
        let start = begin + seconds(1);
        if fails {
            let (mut failed, end) = self.start_failing(service, replace.min(4), start);
            let at = end + seconds(2);
            self.service_action(service, at, "WARN", "SERVICE_TASK_START_IMPAIRED", None);
            failed.clear();
            let at = at + seconds(self.rng.between(60, 180));
            let reason = format!(
                "ECS deployment circuit breaker: tasks failed to start. Rolling back to {old_deployment}."
            );
            self.deployment_event(service, at, "ERROR", "SERVICE_DEPLOYMENT_FAILED", reason);
            self.services[service].revision -= 1;
            self.services[service].deployment_id = old_deployment;
            self.pause(at);
            return;
        }
        let (new_tasks, started) = self.start_tasks(service, replace, start);
        let mut old: Vec<Task> = std::mem::take(&mut self.services[service].running);
        let stop = Stop {
            code: "ServiceSchedulerInitiated",
            reason: format!("Deployment {new_deployment} replaced the task"),
            exit_code: Some(0),
            container_reason: None,
        };
        let stopped = if old.is_empty() {
            started
        } else {
            self.stop_tasks(&mut old, started + seconds(5), &stop)
        };
        self.services[service].running = new_tasks;
        let at = stopped + seconds(self.rng.between(10, 60));
        let reason = format!("ECS deployment {new_deployment} completed.");
        self.deployment_event(service, at, "INFO", "SERVICE_DEPLOYMENT_COMPLETED", reason);
        let at = at + seconds(1);
        self.service_action(service, at, "INFO", "SERVICE_STEADY_STATE", None);
        self.pause(at);
    }

    /// Tasks that never start: the image cannot be pulled.
    fn start_failing(
        &mut self,
        service: usize,
        n: usize,
        begin: DateTime<Utc>,
    ) -> (Vec<Task>, DateTime<Utc>) {
        let second = whole_second(begin);
        let mut tasks: Vec<Task> = (0..n).map(|_| self.new_task(service, second)).collect();
        let mut end = begin;
        let image = format!(
            "{ACCOUNT}.dkr.ecr.{}.amazonaws.com/{}:broken",
            self.region, self.services[service].family
        );
        let stop = Stop {
            code: "TaskFailedToStart",
            reason: format!(
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {image}: not found"
            ),
            exit_code: None,
            container_reason: Some("CannotPullContainerError: failed to resolve ref: not found"),
        };
        for (i, task) in tasks.iter_mut().enumerate() {
            let at = self.in_second(second, i, n);
            task.created_at = at;
            self.task_event(task, at, "PROVISIONING", "RUNNING", None);
            let at = at + seconds(2) + millis(self.rng.below(800));
            task.pull_started_at = Some(at);
            self.task_event(task, at, "PENDING", "RUNNING", None);
            let at = at + seconds(self.rng.between(20, 60));
            task.stopping_at = Some(at);
            self.task_event(task, at, "STOPPED", "STOPPED", Some(&stop));
            end = end.max(at);
        }
        (tasks, end)
    }

    /// An essential container dies (out of memory); the scheduler starts a replacement.
    fn crash(&mut self, service: usize) {
        if self.services[service].running.is_empty() {
            return self.scale_out(service, 1);
        }
        let pick = self.rng.below(self.services[service].running.len() as u64) as usize;
        let mut task = self.services[service].running.remove(pick);
        let container = task.containers[0];
        let stop = Stop {
            code: "EssentialContainerExited",
            reason: format!("Essential container in task exited: {container} OutOfMemoryError"),
            exit_code: Some(137),
            container_reason: Some("OutOfMemoryError: Container killed due to memory usage"),
        };
        let at = self.clock;
        task.stopping_at = Some(at);
        self.task_event(&mut task, at, "STOPPING", "STOPPED", Some(&stop));
        let at = at + seconds(self.rng.between(3, 15)) + millis(self.rng.below(1000));
        self.task_event(&mut task, at, "DEPROVISIONING", "STOPPED", Some(&stop));
        let at = at + seconds(self.rng.between(1, 3)) + millis(self.rng.below(1000));
        self.task_event(&mut task, at, "STOPPED", "STOPPED", Some(&stop));
        let (replacement, end) = self.start_tasks(service, 1, at + seconds(2));
        self.services[service].running.extend(replacement);
        self.pause(end);
    }

    /// A scheduled job: 1–3 tasks of one definition, run to completion; some fail.
    fn batch_job(&mut self) {
        let n = self.rng.between(1, 3) as usize;
        let begin = self.clock;
        let second = whole_second(begin);
        let mut end = begin;
        let tasks: Vec<Task> = (0..n)
            .map(|_| {
                let mut task = self.new_task(WORKER, second);
                task.arn = self.arn(&format!("task/batch/{}", task.id));
                task.cluster = "batch";
                task.group = "family:nightly-report".to_owned();
                task.started_by = "events-rule/nightly-report".to_owned();
                task.family = "nightly-report";
                task.revision = 7;
                task.containers = &["report"];
                task
            })
            .collect();
        for (i, mut task) in tasks.into_iter().enumerate() {
            let at = self.in_second(second, i, n);
            task.created_at = at;
            self.task_event(&mut task, at, "PROVISIONING", "RUNNING", None);
            let at = at + seconds(1) + millis(self.rng.below(900));
            task.pull_started_at = Some(at);
            self.task_event(&mut task, at, "PENDING", "RUNNING", None);
            let at = at + seconds(self.rng.between(10, 30)) + millis(self.rng.below(1000));
            task.pull_stopped_at = Some(at - seconds(2));
            task.started_at = Some(at);
            self.task_event(&mut task, at, "RUNNING", "RUNNING", None);
            let failed = self.rng.chance(20);
            let stop = Stop {
                code: "EssentialContainerExited",
                reason: "Essential container in task exited".to_owned(),
                exit_code: Some(if failed { 1 } else { 0 }),
                container_reason: None,
            };
            let at = at + seconds(self.rng.between(60, 900)) + millis(self.rng.below(1000));
            task.stopping_at = Some(at);
            self.task_event(&mut task, at, "DEACTIVATING", "STOPPED", Some(&stop));
            let at = at + seconds(1) + millis(self.rng.below(1000));
            self.task_event(&mut task, at, "STOPPING", "STOPPED", Some(&stop));
            let at = at + seconds(self.rng.between(2, 8)) + millis(self.rng.below(1000));
            self.task_event(&mut task, at, "DEPROVISIONING", "STOPPED", Some(&stop));
            let at = at + seconds(self.rng.between(1, 3)) + millis(self.rng.below(1000));
            self.task_event(&mut task, at, "STOPPED", "STOPPED", Some(&stop));
            end = end.max(at);
        }
        self.pause(end);
    }

    fn placement_failure(&mut self) {
        let at = self.clock;
        self.service_action(
            API,
            at,
            "ERROR",
            "SERVICE_TASK_PLACEMENT_FAILURE",
            Some("RESOURCE:FARGATE"),
        );
        let at = at + seconds(self.rng.between(60, 300));
        self.service_action(API, at, "INFO", "SERVICE_STEADY_STATE", None);
        self.pause(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::Mix;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn the_same_seed_gives_the_same_events() {
        let a = generate(500, 7, "xx-test-1");
        let b = generate(500, 7, "xx-test-1");
        assert_eq!(a, b);
        assert_ne!(a, generate(500, 8, "xx-test-1"));
        assert_eq!(a.len(), 500);
    }

    #[test]
    fn the_stream_mixes_kinds_and_has_same_second_bursts() {
        let events = generate(2000, 1, "xx-test-1");
        let mix = Mix::of(&events);
        assert_eq!(mix.task + mix.service_action + mix.deployment, 2000);
        assert!(mix.service_action >= 20 && mix.deployment >= 5, "{mix:?}");

        // Task events per (task definition, second): the recipe's key.
        let mut per_key: BTreeMap<(String, String), usize> = BTreeMap::new();
        for event in &events {
            if let Some(definition) = event["detail"]["taskDefinitionArn"].as_str() {
                let second = event["time"].as_str().unwrap_or_default().to_owned();
                *per_key.entry((definition.to_owned(), second)).or_default() += 1;
            }
        }
        assert!(per_key.values().any(|&n| n >= 20), "no burst of 20");

        // Task versions rise by one per event of a task, and events are in time order.
        let mut versions: BTreeMap<String, u64> = BTreeMap::new();
        let mut last_time = String::new();
        let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
        assert_eq!(ids.len(), events.len(), "event ids are unique");
        for event in &events {
            let time = event["time"].as_str().unwrap_or_default();
            assert!(time >= last_time.as_str(), "{time} after {last_time}");
            last_time = time.to_owned();
            if let Some(arn) = event["detail"]["taskArn"].as_str() {
                let version = event["detail"]["version"].as_u64().unwrap_or_default();
                let previous = versions.insert(arn.to_owned(), version).unwrap_or(0);
                assert_eq!(version, previous + 1, "{arn}");
            }
        }
    }
}
