//! What the stream's episodes emit: tasks and their state changes, service actions and
//! deployment events, each wrapped in its EventBridge envelope.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Generator, Pending, Stop, Task, millis, time_text};
use crate::synthetic::{ACCOUNT, envelope};

impl Generator {
    pub(super) fn push(
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

    pub(super) fn new_task(&mut self, service: usize, at: DateTime<Utc>) -> Task {
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
    pub(super) fn task_event(
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

    pub(super) fn service_action(
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

    pub(super) fn deployment_event(
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
}
