//! One task of the demo's day: its state changes, versioned as ECS versions them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Day, iso, secs, uuid5};

/// How a task ends, and the times of its life (minutes before the anchor).
#[derive(Default)]
pub(super) struct Life<'a> {
    pub(super) created: f64,
    pub(super) started: Option<f64>,
    pub(super) stopped: Option<f64>,
    pub(super) stop_code: Option<&'a str>,
    pub(super) stopped_reason: Option<&'a str>,
    pub(super) exits: &'a [(&'a str, i64)],
    pub(super) reasons: &'a [(&'a str, &'a str)],
}

/// One task, versioned as ECS versions its state changes.
pub(super) struct Task<'a> {
    pub(super) name: &'a str,
    pub(super) id: String,
    pub(super) arn: String,
    pub(super) definition: &'a str,
    pub(super) group: String,
    pub(super) fargate: bool,
    pub(super) capacity: &'a str,
    pub(super) containers: Vec<(&'a str, String)>,
    pub(super) started_by: Option<&'a str>,
}

impl<'a> Task<'a> {
    pub(super) fn new(
        day: &Day,
        name: &'a str,
        definition: &'a str,
        containers: Vec<(&'a str, String)>,
    ) -> Self {
        let id = day.task_id(name);
        let family = definition.split(':').next().unwrap_or(definition);
        Task {
            name,
            arn: day.arn("task", &format!("{}/{id}", day.cluster)),
            id,
            definition,
            group: format!("family:{family}"),
            fargate: true,
            capacity: "FARGATE",
            containers,
            started_by: None,
        }
    }

    pub(super) fn service(mut self, service: &str, started_by: &'a str) -> Self {
        self.group = format!("service:{service}");
        self.started_by = Some(started_by);
        self
    }

    pub(super) fn started_by(mut self, started_by: &'a str) -> Self {
        self.started_by = Some(started_by);
        self
    }

    pub(super) fn ec2(mut self) -> Self {
        self.fargate = false;
        self.capacity = "demo-asg";
        self
    }

    pub(super) fn capacity(mut self, capacity: &'a str) -> Self {
        self.capacity = capacity;
        self
    }

    /// The task's events, oldest first, each with its label.
    pub(super) fn lifecycle(&self, day: &Day, life: &Life) -> Vec<(String, Value)> {
        let mut times: BTreeMap<&str, DateTime<Utc>> =
            BTreeMap::from([("createdAt", day.at(life.created))]);
        let mut steps = Vec::new();
        if self.fargate {
            steps.push((day.at(life.created), "PROVISIONING", "RUNNING"));
            steps.push((day.at(life.created - 0.4), "PENDING", "RUNNING"));
        } else {
            steps.push((day.at(life.created), "PENDING", "RUNNING"));
        }
        if let Some(started) = life.started {
            steps.push((day.at(started), "RUNNING", "RUNNING"));
        }
        if let Some(stopped) = life.stopped {
            if life.started.is_some() && self.fargate {
                steps.push((day.at(stopped + 0.5), "RUNNING", "STOPPED"));
                steps.push((day.at(stopped + 0.2), "DEPROVISIONING", "STOPPED"));
            } else if self.fargate {
                steps.push((day.at(stopped + 0.2), "DEPROVISIONING", "STOPPED"));
            }
            steps.push((day.at(stopped), "STOPPED", "STOPPED"));
        }
        let ran = life.started.is_some() || life.stopped.is_some();
        let mut events = Vec::new();
        for (version, (time, last, desired)) in (1_u64..).zip(steps) {
            if matches!(last, "PENDING" | "RUNNING") && !times.contains_key("pullStartedAt") && ran
            {
                times.insert("pullStartedAt", time + secs(3.0));
            }
            if last == "RUNNING" && !times.contains_key("startedAt") {
                times.insert("pullStoppedAt", time - secs(4.0));
                times.insert("startedAt", time);
            }
            if desired == "STOPPED" && !times.contains_key("stoppingAt") {
                times.insert("stoppingAt", time);
            }
            if last == "STOPPED" {
                times.insert("executionStoppedAt", time - secs(1.0));
                times.insert("stoppedAt", time);
            }
            let detail = self.detail(day, life, (time, last, desired), version, &times);
            let event = day.envelope(
                "ECS Task State Change",
                &self.arn,
                time,
                detail,
                &format!("{}/{version}", self.name),
            );
            let label = format!("{}-v{version}-{}", self.name, last.to_lowercase());
            events.push((label, event));
        }
        events
    }

    pub(super) fn detail(
        &self,
        day: &Day,
        life: &Life,
        (time, last, desired): (DateTime<Utc>, &str, &str),
        version: u64,
        times: &BTreeMap<&str, DateTime<Utc>>,
    ) -> Value {
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(|(name, image)| {
                let container_id = uuid5(&format!("{}{name}", self.id));
                let mut container = json!({
                    "containerArn": day.arn("container", &format!("{}/{}/{container_id}", day.cluster, self.id)),
                    "name": name,
                    "image": image,
                    "lastStatus": match last {
                        "PROVISIONING" => "PENDING",
                        "DEPROVISIONING" => "STOPPED",
                        other => other,
                    },
                    "taskArn": self.arn,
                });
                let exit = life.exits.iter().find(|(n, _)| n == name);
                if let (true, Some((_, code))) = (matches!(last, "STOPPED" | "DEPROVISIONING"), exit) {
                    container["exitCode"] = json!(code);
                }
                let reason = life.reasons.iter().find(|(n, _)| n == name);
                if let (true, Some((_, reason))) = (last == "STOPPED", reason) {
                    container["reason"] = json!(reason);
                }
                container
            })
            .collect();
        // The zone follows from the task id, read as a 128-bit number.
        let zone = u128::from_str_radix(&self.id, 16).map_or(0, |n| n % 3) as usize;
        let mut detail = json!({
            "taskArn": self.arn,
            "clusterArn": day.arn("cluster", &day.cluster),
            "taskDefinitionArn": day.arn("task-definition", self.definition),
            "group": self.group,
            "launchType": if self.fargate { "FARGATE" } else { "EC2" },
            "capacityProviderName": self.capacity,
            "availabilityZone": format!("{}{}", day.region, &"abc"[zone..=zone]),
            "cpu": "512",
            "memory": "1024",
            "lastStatus": last,
            "desiredStatus": desired,
            "containers": containers,
            "version": version,
            "updatedAt": iso(time),
        });
        if self.fargate {
            detail["platformVersion"] = json!("1.4.0");
        } else {
            let instance = format!("{}/{}", day.cluster, day.task_id("instance-1"));
            detail["containerInstanceArn"] = json!(day.arn("container-instance", &instance));
        }
        if let Some(started_by) = self.started_by {
            detail["startedBy"] = json!(started_by);
        }
        for (key, value) in times {
            if *value <= time {
                detail[*key] = json!(iso(*value));
            }
        }
        if let (true, Some(code)) = (desired == "STOPPED", life.stop_code) {
            detail["stopCode"] = json!(code);
            detail["stoppedReason"] = json!(life.stopped_reason);
        }
        detail
    }
}
