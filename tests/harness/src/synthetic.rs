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

pub mod scale;

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use serde_json::{Value, json};

/// The account in every generated ARN.
pub const ACCOUNT: &str = "111122223333";

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed 64-bit generator; enough for
/// choosing benchmark events, and no dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0; the modulo bias is far below what a benchmark notices).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// `len` lowercase hex digits.
    pub fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(len);
        out
    }

    /// A version-4-shaped UUID.
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

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

    fn push(
        &mut self,
        at: DateTime<Utc>,
        detail_type: &str,
        resources: Vec<String>,
        detail: Value,
    ) {
        let event = envelope(
            self.rng.uuid(),
            &self.region,
            at,
            detail_type,
            resources,
            detail,
        );
        self.events.push(Pending { at, event });
    }

    fn new_task(&mut self, service: usize, at: DateTime<Utc>) -> Task {
        let id = self.rng.hex(32);
        let zone_letter = ["a", "b", "c"][self.rng.below(3) as usize];
        let s = &self.services[service];
        Task {
            arn: self.arn(&format!("task/{}/{id}", s.cluster)),
            id,
            cluster: s.cluster,
            group: format!("service:{}", s.name),
            started_by: s.deployment_id.clone(),
            family: s.family,
            revision: s.revision,
            containers: s.containers,
            cpu: s.cpu,
            memory: s.memory,
            zone: format!("{}{zone_letter}", self.region),
            eni: format!("eni-{}", self.rng.hex(17)),
            private_ip: format!("10.0.{}.{}", self.rng.below(256), self.rng.between(4, 254)),
            version: 0,
            created_at: at,
            pull_started_at: None,
            pull_stopped_at: None,
            started_at: None,
            stopping_at: None,
        }
    }

    /// One task state change. `stop` is set from the moment the task is told to stop.
    fn task_event(
        &mut self,
        task: &mut Task,
        at: DateTime<Utc>,
        last_status: &str,
        desired_status: &str,
        stop: Option<&Stop>,
    ) {
        task.version += 1;
        let stopped = last_status == "STOPPED";
        let containers: Vec<Value> = task
            .containers
            .iter()
            .map(|name| {
                let container_status = match last_status {
                    "PROVISIONING" | "PENDING" | "ACTIVATING" => "PENDING",
                    "RUNNING" => "RUNNING",
                    _ if stop.is_some_and(|s| s.exit_code.is_none()) => "STOPPED",
                    "DEACTIVATING" => "RUNNING",
                    _ => "STOPPED",
                };
                let mut container = json!({
                    "containerArn": self.arn(&format!("container/{}/{}/{}", task.cluster, task.id, name)),
                    "lastStatus": container_status,
                    "name": name,
                    "image": format!("{ACCOUNT}.dkr.ecr.{}.amazonaws.com/{}:{}.{}", self.region, task.family, task.revision / 10, task.revision % 10),
                    "taskArn": task.arn,
                    "cpu": "0",
                    "networkInterfaces": [{"attachmentId": task.eni, "privateIpv4Address": task.private_ip}],
                });
                if task.started_at.is_some() {
                    container["imageDigest"] = json!(format!("sha256:{}", "0123456789abcdef".repeat(4)));
                    container["runtimeId"] = json!(format!("{}-{name}", task.id));
                }
                if let (true, Some(stop)) = (container_status == "STOPPED", stop) {
                    if let Some(code) = stop.exit_code {
                        container["exitCode"] = json!(code);
                    }
                    if let Some(reason) = stop.container_reason {
                        container["reason"] = json!(reason);
                    }
                }
                container
            })
            .collect();
        let mut detail = json!({
            "attachments": [{
                "id": task.eni.trim_start_matches("eni-"),
                "type": "eni",
                "status": if stopped { "DELETED" } else { "ATTACHED" },
                "details": [
                    {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f67890"},
                    {"name": "networkInterfaceId", "value": task.eni},
                    {"name": "privateIPv4Address", "value": task.private_ip},
                ],
            }],
            "availabilityZone": task.zone,
            "clusterArn": self.arn(&format!("cluster/{}", task.cluster)),
            "containers": containers,
            "cpu": task.cpu,
            "createdAt": time_text(task.created_at),
            "desiredStatus": desired_status,
            "enableExecuteCommand": false,
            "group": task.group,
            "launchType": "FARGATE",
            "lastStatus": last_status,
            "memory": task.memory,
            "overrides": {
                "containerOverrides": task.containers.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
            },
            "platformVersion": "1.4.0",
            "startedBy": task.started_by,
            "taskArn": task.arn,
            "taskDefinitionArn": self.arn(&format!("task-definition/{}:{}", task.family, task.revision)),
            "updatedAt": time_text(at),
            "version": task.version,
        });
        let times = [
            ("pullStartedAt", task.pull_started_at),
            ("pullStoppedAt", task.pull_stopped_at),
            ("startedAt", task.started_at),
            ("stoppingAt", task.stopping_at),
        ];
        for (name, time) in times {
            if let Some(time) = time {
                detail[name] = json!(time_text(time));
            }
        }
        if let Some(stop) = stop {
            detail["stopCode"] = json!(stop.code);
            detail["stoppedReason"] = json!(stop.reason);
        }
        if stopped {
            detail["executionStoppedAt"] = json!(time_text(at - millis(400)));
            detail["stoppedAt"] = json!(time_text(at));
        }
        let resources = vec![task.arn.clone()];
        self.push(at, "ECS Task State Change", resources, detail);
    }

    fn service_action(
        &mut self,
        service: usize,
        at: DateTime<Utc>,
        kind: &str,
        name: &str,
        reason: Option<&str>,
    ) {
        let s = &self.services[service];
        let resource = self.arn(&format!("service/{}/{}", s.cluster, s.name));
        let mut detail = json!({
            "eventType": kind,
            "eventName": name,
            "clusterArn": self.arn(&format!("cluster/{}", s.cluster)),
            "createdAt": time_text(at),
        });
        if let Some(reason) = reason {
            detail["reason"] = json!(reason);
        }
        if name == "SERVICE_TASK_PLACEMENT_FAILURE" {
            detail["capacityProviderArns"] = json!([
                self.arn("capacity-provider/FARGATE"),
                self.arn("capacity-provider/FARGATE_SPOT")
            ]);
        }
        self.push(at, "ECS Service Action", vec![resource], detail);
    }

    fn deployment_event(
        &mut self,
        service: usize,
        at: DateTime<Utc>,
        kind: &str,
        name: &str,
        reason: String,
    ) {
        let s = &self.services[service];
        let resource = self.arn(&format!("service/{}/{}", s.cluster, s.name));
        let detail = json!({
            "eventType": kind,
            "eventName": name,
            "deploymentId": s.deployment_id,
            "updatedAt": time_text(at),
            "reason": reason,
        });
        self.push(at, "ECS Deployment State Change", vec![resource], detail);
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

    #[test]
    fn uuids_look_like_uuids() {
        let id = SplitMix64::new(3).uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}
