//! Shared by the CLI's black-box tests: moto, the audit table applied with Terraform from
//! `modules/audit-table` in the local environment's first two regions, seeded through the
//! handler's real write path, and a runner for the built `ecs-audit` binary.
#![allow(dead_code)]

pub mod chromium;

use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ecs_state_logger::Config;
use ecs_state_logger::dynamodb::DynamoDbStore;
use ecs_state_logger::handler::record_event;
pub use harness::local_env::repo_root;
use harness::local_env::{self, LocalEnvironment};
use harness::testkit::{self, RETENTION_DAYS, dynamodb_client};
use harness::{MotoServer, Terraform};
use serde_json::{Value, json};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

pub const ACCOUNT: &str = "111122223333";
pub const CLUSTER: &str = "prod";

/// Task ids of the scenario. The first two share a 31-character prefix, so `7f3e` is
/// ambiguous and each full id is not.
pub const TASK_OOM: &str = "7f3e0c1d2b3a49588f6e5d4c3b2a1901";
pub const TASK_SPOT: &str = "7f3e0c1d2b3a49588f6e5d4c3b2a1902";
pub const TASK_PULL: &str = "c4d5e6f7a8b94c0d9e8f7a6b5c4d3e2f";
pub const TASK_REPORT_12: &str = "e1f2a3b4c5d64e7f8091a2b3c4d5e6f7";
pub const TASK_REPORT_13: &str = "e1f2a3b4c5d64e7f8091a2b3c4d5e6f8";
pub const TASK_OLD: &str = "0000aaaabbbbccccddddeeeeffff0001";
pub const TASK_SECOND_REGION: &str = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

/// Events of the first region inside the last two hours that the timelines list, and how many
/// of them are failures. 12 are stored; a task's PROVISIONING and PENDING events (three here)
/// are not listed, only in its own history (`ecs_audit_core::timeline`).
pub const FIRST_REGION_EVENTS: usize = 9;
pub const FIRST_REGION_FAILURES: usize = 4;
/// `prod/web`'s events in the first region inside the last two hours that its timeline lists
/// (10 stored).
pub const WEB_EVENTS: usize = 7;
pub const SECOND_REGION_EVENTS: usize = 3;
pub const SECOND_REGION_FAILURES: usize = 1;

/// The local environment: table name and (at least two) regions.
pub fn local() -> TestResult<LocalEnvironment> {
    let env = local_env::local()?;
    if env.regions.len() < 2 {
        return Err(format!(
            "environments/local must list two regions for the --all-regions tests, has {:?}",
            env.regions
        )
        .into());
    }
    Ok(env)
}

/// A root module with the audit table in two regions, one aliased provider each.
fn root_module(module: &Path) -> String {
    let provider = |alias: &str, region: &str| {
        format!(
            r#"
provider "aws" {{
  alias                       = "{alias}"
  region                      = var.{region}
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  endpoints {{
    dynamodb = var.endpoint
    sts      = var.endpoint
  }}
}}
"#
        )
    };
    let table = |alias: &str| {
        format!(
            r#"
module "{alias}" {{
  source                 = "{}"
  providers              = {{ aws = aws.{alias} }}
  name                   = var.name
  deletion_protection    = false
  point_in_time_recovery = false
}}
"#,
            module.display()
        )
    };
    format!(
        r#"terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }}
  }}
}}

variable "endpoint" {{ type = string }}
variable "name" {{ type = string }}
variable "first_region" {{ type = string }}
variable "second_region" {{ type = string }}
{}{}{}{}
output "tables" {{
  value = {{
    (var.first_region)  = module.first.arn
    (var.second_region) = module.second.arn
  }}
}}
"#,
        provider("first", "first_region"),
        provider("second", "second_region"),
        table("first"),
        table("second"),
    )
}

/// Moto with the audit table in two regions, seeded with the scenario.
pub struct Stack {
    pub moto: MotoServer,
    pub env: LocalEnvironment,
    /// The time the scenario counts back from.
    pub now: DateTime<Utc>,
    _terraform: Terraform,
    _root: tempfile::TempDir,
}

impl Stack {
    pub async fn start() -> TestResult<Self> {
        let env = local()?;
        let moto = MotoServer::options().recording(false).start().await?;
        let root = tempfile::Builder::new().prefix("ecs-audit-tf-").tempdir()?;
        let module = repo_root().join("modules/audit-table");
        std::fs::write(root.path().join("main.tf"), root_module(&module))?;
        let terraform = testkit::terraform(root.path())?;
        terraform.init().await?;
        terraform
            .apply(&json!({
                "endpoint": moto.endpoint(),
                "name": env.name,
                "first_region": env.regions[0],
                "second_region": env.regions[1],
            }))
            .await?;
        let stack = Stack {
            moto,
            env,
            now: Utc::now(),
            _terraform: terraform,
            _root: root,
        };
        stack.seed().await?;
        Ok(stack)
    }

    pub fn first_region(&self) -> &str {
        &self.env.regions[0]
    }

    pub fn second_region(&self) -> &str {
        &self.env.regions[1]
    }

    pub fn client(&self, region: &str) -> aws_sdk_dynamodb::Client {
        dynamodb_client(&self.moto.endpoint(), region)
    }

    /// Writes `events` to `region`'s table through the handler's own write path
    /// (`record_event` with the DynamoDB store), in the order given.
    pub async fn record(&self, region: &str, events: &[Value]) -> TestResult {
        let store = DynamoDbStore::new(self.client(region), self.env.name.clone());
        let config = Config {
            table_name: self.env.name.clone(),
            retention_days: RETENTION_DAYS,
        };
        for event in events {
            record_event(&store, &config, event)
                .await
                .map_err(|error| format!("seeding {region}: {error}"))?;
        }
        Ok(())
    }

    /// `minutes` before the scenario's now, as ECS writes times.
    /// Saves a crash-loop episode of `service` in the cluster as the function's store writes
    /// it: started, last failed and (when over) ended that many minutes ago, 4 failures.
    pub async fn save_episode(
        &self,
        region: &str,
        service: &str,
        minutes: (i64, i64, Option<i64>),
    ) -> TestResult {
        self.save_episode_of(region, CLUSTER, service, minutes)
            .await
    }

    /// [`Self::save_episode`] in another cluster.
    pub async fn save_episode_of(
        &self,
        region: &str,
        cluster: &str,
        service: &str,
        (started, last, ended): (i64, i64, Option<i64>),
    ) -> TestResult {
        use ecs_audit_core::episode::{Episode, Subject};
        use ecs_state_logger::alert_store::AlertStore;
        let store = AlertStore::new(self.client(region), self.env.name.clone());
        let episode = Episode {
            subject: Subject {
                cluster: cluster.into(),
                name: service.into(),
                standalone: false,
            },
            started_at: self.ago(started),
            last_failure_at: self.ago(last),
            failures: 4,
            last_kind: "out-of-memory".into(),
            ended_at: ended.map(|minutes| self.ago(minutes)),
        };
        let expires = (self.now + Duration::days(1)).timestamp();
        store.save_episode(&episode, expires).await?;
        Ok(())
    }

    pub fn ago(&self, minutes: i64) -> String {
        (self.now - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn task_arn(&self, region: &str, id: &str) -> String {
        format!("arn:aws:ecs:{region}:{ACCOUNT}:task/{CLUSTER}/{id}")
    }

    /// Writes every event through the handler's own write path, deliveries out of order and
    /// duplicated as EventBridge may send them.
    async fn seed(&self) -> TestResult {
        self.record(self.first_region(), &self.first_region_events())
            .await?;
        self.record(self.second_region(), &self.second_region_events())
            .await
    }

    fn first_region_events(&self) -> Vec<Value> {
        let r = self.first_region();
        let web = |id: &str, version: u64, status: &str, minutes: i64, extra: Value| {
            self.task_event(
                r,
                id,
                "web:42",
                "service:web",
                version,
                status,
                minutes,
                extra,
            )
        };
        let oom_stop = web(
            TASK_OOM,
            4,
            "STOPPED",
            60,
            json!({"stopCode": "EssentialContainerExited",
                   "stoppedReason": "Essential container in task exited",
                   "containers": [{"name": "app", "image": "web:1.4.2", "lastStatus": "STOPPED", "exitCode": 137,
                                   "reason": "OutOfMemoryError: Container killed due to memory usage"}]}),
        );
        vec![
            self.deployment_event(r, "SERVICE_DEPLOYMENT_IN_PROGRESS", "INFO", 95),
            web(TASK_OOM, 1, "PROVISIONING", 100, json!({})),
            web(TASK_OOM, 2, "PENDING", 99, json!({})),
            // v4 arrives before v3, and twice
            oom_stop.clone(),
            web(TASK_OOM, 3, "RUNNING", 98, json!({})),
            oom_stop,
            web(TASK_SPOT, 1, "RUNNING", 90, json!({"capacityProviderName": "FARGATE_SPOT"})),
            web(
                TASK_SPOT,
                2,
                "STOPPED",
                50,
                json!({"capacityProviderName": "FARGATE_SPOT", "stopCode": "SpotInterruption",
                       "stoppedReason": "Your Spot Task was interrupted."}),
            ),
            web(TASK_PULL, 1, "PROVISIONING", 45, json!({})),
            web(
                TASK_PULL,
                2,
                "STOPPED",
                40,
                json!({"stopCode": "TaskFailedToStart",
                       "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): manifest unknown",
                       "containers": [{"name": "app", "image": "web:9.9.9", "lastStatus": "STOPPED"}]}),
            ),
            self.service_action_event(
                r,
                "SERVICE_TASK_PLACEMENT_FAILURE",
                "ERROR",
                30,
                Some("RESOURCE:MEMORY"),
            ),
            self.task_event(
                r,
                TASK_REPORT_12,
                "report:12",
                "family:report",
                3,
                "STOPPED",
                70,
                json!({"stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                       "containers": [{"name": "report", "exitCode": 0, "lastStatus": "STOPPED"}]}),
            ),
            self.task_event(
                r,
                TASK_REPORT_13,
                "report:13",
                "family:report",
                3,
                "STOPPED",
                20,
                json!({"stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                       "containers": [{"name": "report", "exitCode": 0, "lastStatus": "STOPPED"}]}),
            ),
            // outside every window the tests ask about
            web(TASK_OLD, 1, "RUNNING", 3 * 24 * 60, json!({})),
        ]
    }

    fn second_region_events(&self) -> Vec<Value> {
        let r = self.second_region();
        let web = |version: u64, status: &str, minutes: i64, extra: Value| {
            self.task_event(
                r,
                TASK_SECOND_REGION,
                "web:42",
                "service:web",
                version,
                status,
                minutes,
                extra,
            )
        };
        vec![
            web(1, "RUNNING", 80, json!({})),
            web(
                2,
                "STOPPED",
                10,
                json!({"stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                       "containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"}]}),
            ),
            self.service_action_event(r, "SERVICE_STEADY_STATE", "INFO", 5, None),
        ]
    }

    #[allow(clippy::too_many_arguments)]
    fn task_event(
        &self,
        region: &str,
        id: &str,
        definition: &str,
        group: &str,
        version: u64,
        status: &str,
        minutes: i64,
        extra: Value,
    ) -> Value {
        let arn = self.task_arn(region, id);
        let mut detail = json!({
            "taskArn": arn,
            "clusterArn": format!("arn:aws:ecs:{region}:{ACCOUNT}:cluster/{CLUSTER}"),
            "taskDefinitionArn": format!("arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{definition}"),
            "group": group,
            "launchType": "FARGATE",
            "lastStatus": status,
            "desiredStatus": if status == "STOPPED" { "STOPPED" } else { "RUNNING" },
            "version": version,
            "updatedAt": self.ago(minutes),
            "createdAt": self.ago(minutes + 5),
        });
        if status == "STOPPED" {
            detail["stoppedAt"] = json!(self.ago(minutes));
        }
        if let (Value::Object(detail), Value::Object(extra)) = (&mut detail, extra) {
            detail.extend(extra);
        }
        self.envelope(region, "ECS Task State Change", &arn, minutes, detail)
    }

    fn service_action_event(
        &self,
        region: &str,
        name: &str,
        kind: &str,
        minutes: i64,
        reason: Option<&str>,
    ) -> Value {
        let service = format!("arn:aws:ecs:{region}:{ACCOUNT}:service/{CLUSTER}/web");
        let mut detail = json!({
            "eventType": kind,
            "eventName": name,
            "clusterArn": format!("arn:aws:ecs:{region}:{ACCOUNT}:cluster/{CLUSTER}"),
            "createdAt": self.ago(minutes),
        });
        if let Some(reason) = reason {
            detail["reason"] = json!(reason);
        }
        self.envelope(region, "ECS Service Action", &service, minutes, detail)
    }

    fn deployment_event(&self, region: &str, name: &str, kind: &str, minutes: i64) -> Value {
        let service = format!("arn:aws:ecs:{region}:{ACCOUNT}:service/{CLUSTER}/web");
        let detail = json!({
            "eventType": kind,
            "eventName": name,
            "deploymentId": "ecs-svc/1234567890123456789",
            "updatedAt": self.ago(minutes),
            "reason": "ECS deployment ecs-svc/1234567890123456789 in progress.",
        });
        self.envelope(
            region,
            "ECS Deployment State Change",
            &service,
            minutes,
            detail,
        )
    }

    fn envelope(
        &self,
        region: &str,
        detail_type: &str,
        resource: &str,
        minutes: i64,
        detail: Value,
    ) -> Value {
        let time =
            (self.now - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true);
        json!({
            "version": "0",
            "id": format!(
                "{}-{minutes}-{}",
                resource.rsplit('/').next().unwrap_or(resource),
                detail["version"]
            ),
            "detail-type": detail_type,
            "source": "aws.ecs",
            "account": ACCOUNT,
            "time": time,
            "region": region,
            "resources": [resource],
            "detail": detail,
        })
    }

    /// The built `ecs-audit` against this stack's moto, reading `environments/local`.
    pub fn ecs_audit(&self, args: &[&str]) -> TestResult<Run> {
        ecs_audit(Some(&self.moto.endpoint()), true, args)
    }

    /// The same with more environment variables (e.g. `TZ`).
    pub fn ecs_audit_with_env(&self, env: &[(&str, &str)], args: &[&str]) -> TestResult<Run> {
        ecs_audit_with_env(Some(&self.moto.endpoint()), true, env, args)
    }
}

/// What a run of the binary printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The JSON array printed with `--output json`.
    pub fn records(&self) -> TestResult<Vec<Value>> {
        Ok(self.json()?.as_array().cloned().ok_or("not an array")?)
    }

    /// The JSON value printed with `--output json` (an array of records, or `why`'s answer).
    pub fn json(&self) -> TestResult<Value> {
        if self.code != 0 {
            return Err(format!("exit {}: {}", self.code, self.stderr).into());
        }
        Ok(serde_json::from_str(&self.stdout)
            .map_err(|error| format!("{error}: {}", self.stdout))?)
    }
}

/// Runs the built binary with a clean AWS environment: test credentials when `credentials`,
/// none at all otherwise (no profile files, no instance metadata).
pub fn ecs_audit(endpoint: Option<&str>, credentials: bool, args: &[&str]) -> TestResult<Run> {
    ecs_audit_with_env(endpoint, credentials, &[], args)
}

pub fn ecs_audit_with_env(
    endpoint: Option<&str>,
    credentials: bool,
    env: &[(&str, &str)],
    args: &[&str],
) -> TestResult<Run> {
    let environments = repo_root().join("environments");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-audit"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    let nowhere = std::env::temp_dir().join("ecs-audit-tests-no-such-aws-config");
    command
        .arg("--environments-dir")
        .arg(&environments)
        .args(args)
        .env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if credentials {
        command
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
    }
    if let Some(endpoint) = endpoint {
        command.env("AWS_ENDPOINT_URL", endpoint);
    }
    command.envs(env.iter().copied());
    Ok(Run::from(command.output()?))
}

/// A string field of a JSON record.
pub fn field<'a>(record: &'a Value, name: &str) -> &'a str {
    record[name].as_str().unwrap_or_default()
}
