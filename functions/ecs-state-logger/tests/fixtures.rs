//! The shared fixtures under the repository's `tests/fixtures/`:
//! - `events/`: documented ECS events, checked field by field against the record mapping,
//!   round-tripped through the stored item and replayed through the handler;
//! - `malformed/`: bytes no one should send, each either rejected with a clear error that names
//!   the event or recorded whole, as `malformed/EXPECTED.json` says.
//!
//! The fixtures name real regions; this file never does: ARNs are rebuilt from each event's
//! own `region` field.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chrono::DateTime;
use ecs_audit_core::error::UNKNOWN_EVENT_ID;
use ecs_audit_core::keys::version_key;
use ecs_audit_core::limits::{MAX_EVENT_BYTES, MAX_TEXT_BYTES};
use ecs_audit_core::record::AuditRecord;
use ecs_audit_core::schema::{
    CLUSTER_FAILURES_INDEX, CLUSTER_TIME_INDEX, FAMILY_STOPPED_INDEX, SERVICE_TIME_INDEX,
};
use ecs_audit_core::text::canonical_json;
use ecs_audit_core::{event, mapping as record};
use ecs_state_logger::handler::record_event;
use ecs_state_logger::store::{Item, MemoryStore};
use ecs_state_logger::{Config, Error};
use serde_json::{Value, json};

const RETENTION_DAYS: u32 = 14;

/// Stop codes AWS documents for `stopCode` (ECS-EVENTS.md §1.5); `InfrastructureHealth` is
/// the newest and has no published example event, so no fixture carries it.
const DOCUMENTED_STOP_CODES: &[&str] = &[
    "TaskFailedToStart",
    "EssentialContainerExited",
    "UserInitiated",
    "ServiceSchedulerInitiated",
    "SpotInterruption",
    "TerminationNotice",
    "InfrastructureHealth",
];

fn config() -> Config {
    Config {
        table_name: "audit".into(),
        retention_days: RETENTION_DAYS,
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// `(file name, bytes)` of every `*.json` in `dir` but `EXPECTED.json`, in name order.
fn json_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .filter(|(name, _)| name != "EXPECTED.json")
        .collect();
    files.sort();
    files
}

fn events() -> Vec<(String, Value)> {
    json_files(&fixtures_dir().join("events"))
        .into_iter()
        .map(|(name, bytes)| {
            let value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("{name} is not JSON: {error}"));
            (name, value)
        })
        .collect()
}

fn build(input: &Value) -> AuditRecord {
    let parsed = event::parse(input).unwrap_or_else(|error| panic!("{error}"));
    record::build(&parsed, RETENTION_DAYS).unwrap_or_else(|error| panic!("{error}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn index_names(record: &AuditRecord) -> Vec<&'static str> {
    record.indexes().iter().map(|index| index.name).collect()
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

// ------------------------------------------------------------------ documented events

const TIMELINE: &[&str] = &[CLUSTER_TIME_INDEX, SERVICE_TIME_INDEX];
const STOPPED_RUN: &[&str] = &[CLUSTER_TIME_INDEX, SERVICE_TIME_INDEX, FAMILY_STOPPED_INDEX];
const FAILED_RUN: &[&str] = &[
    CLUSTER_TIME_INDEX,
    SERVICE_TIME_INDEX,
    FAMILY_STOPPED_INDEX,
    CLUSTER_FAILURES_INDEX,
];
const SERVICE_FAILURE: &[&str] = &[
    CLUSTER_TIME_INDEX,
    SERVICE_TIME_INDEX,
    CLUSTER_FAILURES_INDEX,
];

/// What the mapping must make of one fixture.
#[derive(Debug, Default)]
struct Expect {
    /// The resource ARN after `arn:aws:ecs:<the event's region>:`.
    resource: &'static str,
    /// `Some` for tasks and container instances (`eventKey` = `v` + version), `None` for
    /// version-less events (`eventKey` = `<eventTime>#<hash>`).
    version: Option<u64>,
    event_time: &'static str,
    cluster: Option<&'static str>,
    service: Option<&'static str>,
    family: Option<&'static str>,
    revision: Option<u64>,
    last_status: Option<&'static str>,
    desired_status: Option<&'static str>,
    stop_code: Option<&'static str>,
    failure: Option<&'static str>,
    exit_codes: Option<&'static str>,
    capacity_provider: Option<&'static str>,
    launch_type: Option<&'static str>,
    status: Option<&'static str>,
    event_type: Option<&'static str>,
    event_name: Option<&'static str>,
    deployment_id: Option<&'static str>,
    indexes: &'static [&'static str],
}

const LIFECYCLE_TASK: &str = "111122223333:task/prod/5b2f6e0c8d7a4c1e9f3b2a1d0c9e8f7a";
const WORKERS_INSTANCE: &str =
    "111122223333:container-instance/workers/3f9c2b7d1e8a4c6f9b0d2e4f6a8c1b3d";
const WEB_SERVICE: &str = "111122223333:service/prod/web";

fn lifecycle(version: u64, event_time: &'static str, last_status: &'static str) -> Expect {
    let stopping = version >= 4;
    Expect {
        resource: LIFECYCLE_TASK,
        version: Some(version),
        event_time,
        cluster: Some("prod"),
        service: Some("web"),
        family: Some("web"),
        revision: Some(42),
        last_status: Some(last_status),
        desired_status: Some(if stopping { "STOPPED" } else { "RUNNING" }),
        stop_code: stopping.then_some("ServiceSchedulerInitiated"),
        exit_codes: (version >= 5).then_some("web=0 log-router=0"),
        capacity_provider: Some("FARGATE"),
        launch_type: Some("FARGATE"),
        indexes: if last_status == "STOPPED" {
            STOPPED_RUN
        } else {
            TIMELINE
        },
        ..Expect::default()
    }
}

fn stopped_task(
    resource: &'static str,
    version: u64,
    event_time: &'static str,
    (cluster, service): (&'static str, Option<&'static str>),
    (family, revision): (&'static str, u64),
    (stop_code, failure): (&'static str, Option<&'static str>),
    exit_codes: Option<&'static str>,
) -> Expect {
    let indexes = match (service.is_some(), failure.is_some()) {
        (true, true) => FAILED_RUN,
        (true, false) => STOPPED_RUN,
        (false, true) => &[
            CLUSTER_TIME_INDEX,
            FAMILY_STOPPED_INDEX,
            CLUSTER_FAILURES_INDEX,
        ],
        (false, false) => &[CLUSTER_TIME_INDEX, FAMILY_STOPPED_INDEX],
    };
    Expect {
        resource,
        version: Some(version),
        event_time,
        cluster: Some(cluster),
        service,
        family: Some(family),
        revision: Some(revision),
        last_status: Some("STOPPED"),
        desired_status: Some("STOPPED"),
        stop_code: Some(stop_code),
        failure,
        exit_codes,
        indexes,
        ..Expect::default()
    }
}

fn instance(version: u64, event_time: &'static str, status: &'static str) -> Expect {
    Expect {
        resource: WORKERS_INSTANCE,
        version: Some(version),
        event_time,
        cluster: Some("workers"),
        status: Some(status),
        indexes: &[CLUSTER_TIME_INDEX],
        ..Expect::default()
    }
}

fn service_action(
    service: &'static str,
    event_time: &'static str,
    event_type: &'static str,
    event_name: &'static str,
    failed: bool,
) -> Expect {
    let resource = match service {
        "web" => WEB_SERVICE,
        "worker" => "111122223333:service/prod/worker",
        "api" => "111122223333:service/prod/api",
        other => panic!("no fixture service {other}"),
    };
    Expect {
        resource,
        event_time,
        cluster: Some("prod"),
        service: Some(service),
        event_type: Some(event_type),
        event_name: Some(event_name),
        failure: failed.then_some(event_name),
        indexes: if failed { SERVICE_FAILURE } else { TIMELINE },
        ..Expect::default()
    }
}

fn deployment(
    event_time: &'static str,
    event_type: &'static str,
    event_name: &'static str,
    deployment_id: &'static str,
) -> Expect {
    let failed = event_name == "SERVICE_DEPLOYMENT_FAILED";
    Expect {
        deployment_id: Some(deployment_id),
        ..service_action("web", event_time, event_type, event_name, failed)
    }
}

fn expectations() -> BTreeMap<&'static str, Expect> {
    let ingest = ("workers", Some("ingest"));
    let web = ("prod", Some("web"));
    BTreeMap::from([
        (
            "deployment-01-in-progress.json",
            deployment(
                "2026-03-02T09:13:58.118Z",
                "INFO",
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "ecs-svc/4912345678901234567",
            ),
        ),
        (
            "deployment-02-completed.json",
            deployment(
                "2026-03-02T09:16:41.502Z",
                "INFO",
                "SERVICE_DEPLOYMENT_COMPLETED",
                "ecs-svc/4912345678901234567",
            ),
        ),
        (
            "deployment-03-in-progress.json",
            deployment(
                "2026-03-05T10:04:11.640Z",
                "INFO",
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "ecs-svc/7301234567890123456",
            ),
        ),
        (
            "deployment-04-failed.json",
            deployment(
                "2026-03-05T10:25:31.771Z",
                "ERROR",
                "SERVICE_DEPLOYMENT_FAILED",
                "ecs-svc/7301234567890123456",
            ),
        ),
        (
            "deployment-05-rollback-in-progress.json",
            deployment(
                "2026-03-05T10:25:32.090Z",
                "INFO",
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "ecs-svc/8123456789012345678",
            ),
        ),
        (
            "instance-ec2-01-active.json",
            instance(14801, "2026-03-04T17:41:06.991Z", "ACTIVE"),
        ),
        (
            "instance-ec2-02-draining.json",
            instance(14802, "2026-03-04T17:58:29.745Z", "DRAINING"),
        ),
        (
            "other-container-instance-health-change.json",
            Expect {
                resource: WORKERS_INSTANCE,
                // No time field in this detail: the envelope's second-precision time.
                event_time: "2026-03-04T17:52:18.000Z",
                cluster: Some("workers"),
                indexes: &[CLUSTER_TIME_INDEX],
                ..Expect::default()
            },
        ),
        (
            "service-action-01-steady-state.json",
            service_action(
                "web",
                "2026-03-02T09:16:40.695Z",
                "INFO",
                "SERVICE_STEADY_STATE",
                false,
            ),
        ),
        (
            "service-action-02-task-placement-failure.json",
            service_action(
                "worker",
                "2026-03-03T14:23:09.087Z",
                "ERROR",
                "SERVICE_TASK_PLACEMENT_FAILURE",
                true,
            ),
        ),
        (
            "service-action-03-task-configuration-failure.json",
            service_action(
                "api",
                "2026-03-03T15:40:01.512Z",
                "ERROR",
                "SERVICE_TASK_CONFIGURATION_FAILURE",
                true,
            ),
        ),
        (
            "service-action-04-task-start-impaired.json",
            service_action(
                "web",
                "2026-03-05T10:20:13.930Z",
                "WARN",
                "SERVICE_TASK_START_IMPAIRED",
                true,
            ),
        ),
        (
            "task-ec2-oom-killed.json",
            Expect {
                capacity_provider: Some("workers-asg"),
                launch_type: Some("EC2"),
                ..stopped_task(
                    "111122223333:task/workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a",
                    7,
                    "2026-03-03T02:41:08.775Z",
                    ingest,
                    ("ingest", 17),
                    ("EssentialContainerExited", Some("EssentialContainerExited")),
                    Some("ingest=137 xray-daemon=143"),
                )
            },
        ),
        (
            "task-ec2-termination-notice.json",
            Expect {
                capacity_provider: Some("workers-asg"),
                launch_type: Some("EC2"),
                ..stopped_task(
                    "111122223333:task/workers/4b6d8f0a2c3e4a5b9d7f1e3c5a7b9d1f",
                    5,
                    "2026-03-04T17:59:03.884Z",
                    ingest,
                    ("ingest", 17),
                    ("TerminationNotice", Some("TerminationNotice")),
                    Some("ingest=0 xray-daemon=0"),
                )
            },
        ),
        (
            // ECS codes a health-check replacement as routine ServiceSchedulerInitiated;
            // the documented reason wording makes it a failure.
            "task-elb-health-check-replaced.json",
            stopped_task(
                "111122223333:task/prod/e1f3a5c7b9d24f6e8a0c1b3d5f7e9a1c",
                6,
                "2026-03-03T16:05:28.804Z",
                ("prod", Some("api")),
                ("api", 8),
                (
                    "ServiceSchedulerInitiated",
                    Some("TaskFailedElbHealthChecks"),
                ),
                Some("api=143"),
            ),
        ),
        (
            "task-fargate-01-provisioning.json",
            lifecycle(1, "2026-03-02T09:14:04.812Z", "PROVISIONING"),
        ),
        (
            "task-fargate-02-pending.json",
            lifecycle(2, "2026-03-02T09:14:09.337Z", "PENDING"),
        ),
        (
            "task-fargate-03-running.json",
            lifecycle(3, "2026-03-02T09:14:21.902Z", "RUNNING"),
        ),
        (
            "task-fargate-04-stopping.json",
            lifecycle(4, "2026-03-04T18:02:40.310Z", "STOPPING"),
        ),
        (
            "task-fargate-05-deprovisioning.json",
            lifecycle(5, "2026-03-04T18:03:19.220Z", "DEPROVISIONING"),
        ),
        (
            "task-fargate-06-stopped.json",
            lifecycle(6, "2026-03-04T18:03:51.916Z", "STOPPED"),
        ),
        (
            "task-fargate-failed-to-start.json",
            stopped_task(
                "111122223333:task/prod/7a9c1e3b5d7f4a2c8e0b6d4f2a8c6e4b",
                4,
                "2026-03-05T10:04:50.631Z",
                web,
                ("web", 43),
                ("TaskFailedToStart", Some("TaskFailedToStart")),
                None,
            ),
        ),
        (
            "task-fargate-spot-interrupted.json",
            Expect {
                capacity_provider: Some("FARGATE_SPOT"),
                launch_type: Some("FARGATE"),
                ..stopped_task(
                    "111122223333:task/prod/2e4d6f8a0c1b4e3d9a7c5e3b1d9f7a5c",
                    6,
                    "2026-03-03T14:22:36.992Z",
                    ("prod", Some("worker")),
                    ("worker", 9),
                    ("SpotInterruption", Some("SpotInterruption")),
                    Some("worker=0"),
                )
            },
        ),
        (
            "task-runtask-completed.json",
            stopped_task(
                "111122223333:task/batch/0d2f4a6c8e1b4d3f9a5c7e9b1d3f5a7c",
                6,
                "2026-03-04T02:17:44.958Z",
                ("batch", None),
                ("nightly-report", 12),
                ("EssentialContainerExited", None),
                Some("report=0"),
            ),
        ),
        (
            // SIGKILL after the stop timeout: exit 137, but the user asked for the stop.
            "task-user-initiated.json",
            stopped_task(
                "111122223333:task/prod/c3e5a7b9d1f34e6a8c0b2d4f6e8a0c2d",
                6,
                "2026-03-03T11:30:47.660Z",
                web,
                ("web", 42),
                ("UserInitiated", None),
                Some("web=137 log-router=0"),
            ),
        ),
    ])
}

/// Field-by-field comparison of one record with its expectation and its input. Returns the
/// mismatches rather than stopping at the first, so one run shows everything wrong.
fn check_record(name: &str, input: &Value, record: &AuditRecord, expect: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |field: &str, actual: String, expected: String| {
        if actual != expected {
            problems.push(format!("{name}: {field} is {actual}, expected {expected}"));
        }
    };
    let region = str_at(input, "/region").unwrap_or_default();
    let detail = &input["detail"];
    let opt = |value: Option<&str>| format!("{value:?}");

    check(
        "resourceArn",
        record.resource_arn.clone(),
        format!("arn:aws:ecs:{region}:{}", expect.resource),
    );
    check(
        "resources[0]",
        record.resource_arn.clone(),
        str_at(input, "/resources/0").unwrap_or_default().into(),
    );
    check(
        "eventId",
        record.event_id.clone(),
        input["id"].as_str().unwrap_or_default().into(),
    );
    check(
        "detailType",
        record.detail_type.clone(),
        input["detail-type"].as_str().unwrap_or_default().into(),
    );
    check("region", opt(record.region.as_deref()), opt(Some(region)));
    check(
        "account",
        opt(record.account.as_deref()),
        opt(str_at(input, "/account")),
    );
    check(
        "eventTime",
        record.event_time.clone(),
        expect.event_time.into(),
    );
    let event_seconds = DateTime::parse_from_rfc3339(expect.event_time)
        .unwrap()
        .timestamp();
    check(
        "expiresAt",
        record.expires_at.to_string(),
        (event_seconds + i64::from(RETENTION_DAYS) * 86_400).to_string(),
    );
    match expect.version {
        Some(version) => {
            check(
                "eventKey",
                record.event_key.clone(),
                format!("v{version:020}"),
            );
            check("eventKey", record.event_key.clone(), version_key(version));
            check(
                "version",
                format!("{:?}", record.version),
                format!("{:?}", Some(version)),
            );
            check(
                "detail.version",
                format!("{:?}", detail["version"].as_u64()),
                format!("{:?}", Some(version)),
            );
        }
        None => {
            let hash = record
                .event_key
                .strip_prefix(&format!("{}#", expect.event_time))
                .unwrap_or_default();
            let is_hash = hash.len() == 16
                && hash
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            check(
                "eventKey",
                record.event_key.clone(),
                if is_hash {
                    record.event_key.clone()
                } else {
                    format!("{}#<16 hex digits>", expect.event_time)
                },
            );
            check("version", format!("{:?}", record.version), "None".into());
        }
    }
    check(
        "cluster",
        opt(record.cluster.as_deref()),
        opt(expect.cluster),
    );
    check(
        "service",
        opt(record.service.as_deref()),
        opt(expect.service),
    );
    let service_key = match (expect.cluster, expect.service) {
        (Some(cluster), Some(service)) => Some(format!("{cluster}/{service}")),
        _ => None,
    };
    check(
        "serviceKey",
        opt(record.service_key.as_deref()),
        opt(service_key.as_deref()),
    );
    check("family", opt(record.family.as_deref()), opt(expect.family));
    check(
        "revision",
        format!("{:?}", record.revision),
        format!("{:?}", expect.revision),
    );
    let task_definition = expect
        .family
        .zip(expect.revision)
        .map(|(family, revision)| format!("{family}:{revision}"));
    check(
        "taskDefinition",
        opt(record.task_definition.as_deref()),
        opt(task_definition.as_deref()),
    );
    check(
        "lastStatus",
        opt(record.last_status.as_deref()),
        opt(expect.last_status),
    );
    check(
        "desiredStatus",
        opt(record.desired_status.as_deref()),
        opt(expect.desired_status),
    );
    check(
        "stopCode",
        opt(record.stop_code.as_deref()),
        opt(expect.stop_code),
    );
    check(
        "failure",
        opt(record.failure.as_deref()),
        opt(expect.failure),
    );
    check(
        "failedAt",
        opt(record.failed_at.as_deref()),
        opt(expect.failure.map(|_| expect.event_time)),
    );
    check(
        "exitCodes",
        opt(record.exit_codes.as_deref()),
        opt(expect.exit_codes),
    );
    check(
        "capacityProvider",
        opt(record.capacity_provider.as_deref()),
        opt(expect
            .capacity_provider
            .or(str_at(detail, "/capacityProviderName"))),
    );
    check(
        "launchType",
        opt(record.launch_type.as_deref()),
        opt(expect.launch_type.or(str_at(detail, "/launchType"))),
    );
    check("status", opt(record.status.as_deref()), opt(expect.status));
    check(
        "eventType",
        opt(record.event_type.as_deref()),
        opt(expect.event_type),
    );
    check(
        "eventName",
        opt(record.event_name.as_deref()),
        opt(expect.event_name),
    );
    check(
        "deploymentId",
        opt(record.deployment_id.as_deref()),
        opt(expect.deployment_id),
    );
    check(
        "indexes",
        format!("{:?}", index_names(record)),
        format!("{:?}", expect.indexes),
    );

    // Copied verbatim from the detail (all fixture texts are far below the caps).
    let is_task = input["detail-type"] == "ECS Task State Change";
    let is_modelled = is_task
        || [
            "ECS Container Instance State Change",
            "ECS Service Action",
            "ECS Deployment State Change",
        ]
        .contains(&input["detail-type"].as_str().unwrap_or_default());
    let copies: &[(&str, Option<&str>)] = &[
        ("group", record.group.as_deref()),
        ("startedBy", record.started_by.as_deref()),
        ("stoppedReason", record.stopped_reason.as_deref()),
        ("availabilityZone", record.availability_zone.as_deref()),
        ("cpu", record.cpu.as_deref()),
        ("memory", record.memory.as_deref()),
        ("pullStartedAt", record.pull_started_at.as_deref()),
        ("pullStoppedAt", record.pull_stopped_at.as_deref()),
        ("startedAt", record.started_at.as_deref()),
        ("stoppingAt", record.stopping_at.as_deref()),
        ("stoppedAt", record.stopped_at.as_deref()),
        ("ec2InstanceId", record.ec2_instance_id.as_deref()),
        ("reason", record.reason.as_deref()),
    ];
    if is_modelled {
        for (field, actual) in copies {
            check(
                field,
                opt(*actual),
                opt(str_at(detail, &format!("/{field}"))),
            );
        }
        let created_at = match input["detail-type"].as_str() {
            Some("ECS Task State Change" | "ECS Service Action") => str_at(detail, "/createdAt"),
            _ => None,
        };
        check(
            "createdAt",
            opt(record.created_at.as_deref()),
            opt(created_at),
        );
        check(
            "agentVersion",
            opt(record.agent_version.as_deref()),
            opt(str_at(detail, "/versionInfo/agentVersion")),
        );
        check(
            "agentConnected",
            format!("{:?}", record.agent_connected),
            format!("{:?}", detail["agentConnected"].as_bool()),
        );
        check(
            "runningTasksCount",
            format!("{:?}", record.running_tasks_count),
            format!("{:?}", detail["runningTasksCount"].as_i64()),
        );
        check("detail", format!("{:?}", record.detail), "None".into());
    } else {
        check(
            "detail",
            format!("{:?}", record.detail),
            format!("{:?}", Some(canonical_json(detail))),
        );
    }
    if is_task {
        check(
            "containerInstanceArn",
            opt(record.container_instance_arn.as_deref()),
            opt(str_at(detail, "/containerInstanceArn")),
        );
        let expected: Vec<Value> = detail["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                json!([
                    c.get("name"),
                    c.get("image"),
                    c.get("lastStatus"),
                    c.get("exitCode"),
                    c.get("reason")
                ])
            })
            .collect();
        let actual: Vec<Value> = record
            .containers
            .iter()
            .flatten()
            .map(|c| json!([c.name, c.image, c.last_status, c.exit_code, c.reason]))
            .collect();
        check("containers", format!("{actual:?}"), format!("{expected:?}"));
        check(
            "containersOmitted",
            format!("{:?}", record.containers_omitted),
            "None".into(),
        );
    }
    let providers: Option<Vec<&str>> = detail["capacityProviderArns"].as_array().map(|arns| {
        arns.iter()
            .filter_map(Value::as_str)
            .map(|arn| arn.rsplit('/').next().unwrap_or(arn))
            .collect()
    });
    check(
        "capacityProviders",
        format!("{:?}", record.capacity_providers),
        format!(
            "{:?}",
            providers.map(|names| names.into_iter().map(String::from).collect::<Vec<_>>())
        ),
    );
    problems
}

#[test]
fn every_documented_event_maps_field_by_field() {
    let events = events();
    let mut expectations = expectations();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let expected_names: Vec<&str> = expectations.keys().copied().collect();
    assert_eq!(
        names, expected_names,
        "every fixture has an expectation here, and every expectation a fixture"
    );
    let mut problems = Vec::new();
    for (name, input) in &events {
        assert_eq!(input["source"], "aws.ecs", "{name}");
        assert_eq!(input["version"], "0", "{name}");
        assert_eq!(input["account"], "111122223333", "{name}");
        let time = input["time"].as_str().unwrap_or_default();
        assert!(
            time.len() == 20 && DateTime::parse_from_rfc3339(time).is_ok(),
            "{name}: envelope time {time:?} is not second-precision RFC 3339"
        );
        let record = build(input);
        let expect = expectations.remove(name.as_str()).unwrap();
        problems.extend(check_record(name, input, &record, &expect));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn records_round_trip_through_their_items() {
    for (name, input) in events() {
        let record = build(&input);
        let item = record.to_item().unwrap();
        let back: AuditRecord = serde_json::from_value(Value::Object(item.clone()))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(back, record, "{name}");
        assert_eq!(back.to_item().unwrap(), item, "{name}");
        // No attribute is stored as null: absent fields are absent.
        assert!(
            item.values().all(|value| !value.is_null()),
            "{name}: {item:?}"
        );
    }
}

#[test]
fn every_fixture_is_its_own_item() {
    let mut keys = BTreeMap::new();
    for (name, input) in events() {
        let record = build(&input);
        if let Some(other) = keys.insert((record.resource_arn, record.event_key), name.clone()) {
            panic!("{name} and {other} map to the same item");
        }
    }
}

#[test]
fn the_lifecycle_reads_back_in_version_order() {
    let events = events();
    let lifecycle: Vec<AuditRecord> = events
        .iter()
        .filter(|(name, _)| name.starts_with("task-fargate-0"))
        .map(|(_, input)| build(input))
        .collect();
    let statuses: Vec<&str> = lifecycle
        .iter()
        .map(|record| record.last_status.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        [
            "PROVISIONING",
            "PENDING",
            "RUNNING",
            "STOPPING",
            "DEPROVISIONING",
            "STOPPED"
        ]
    );
    let keys: Vec<&str> = lifecycle.iter().map(|r| r.event_key.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "file order, version order and key order agree"
    );
    assert!(
        lifecycle
            .windows(2)
            .all(|w| w[0].event_time < w[1].event_time)
    );
    assert!(
        lifecycle
            .iter()
            .all(|r| r.resource_arn == lifecycle[0].resource_arn)
    );
    // One run, one entry in the family-stopped index: only the STOPPED event has stoppedAt.
    let stopped: Vec<u64> = lifecycle
        .iter()
        .filter(|r| r.stopped_at.is_some())
        .filter_map(|r| r.version)
        .collect();
    assert_eq!(stopped, [6]);
}

#[test]
fn the_fixtures_replay_through_the_handler_idempotently() {
    let store = MemoryStore::default();
    let runtime = runtime();
    let events = events();
    for (name, input) in &events {
        let recorded = runtime
            .block_on(record_event(&store, &config(), input))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(recorded.outcome, "written", "{name}");
        assert!(recorded.write_units >= 1, "{name}");
    }
    // A second delivery, in the opposite order, changes nothing.
    for (name, input) in events.iter().rev() {
        let mut again = input.clone();
        again["id"] = json!(format!("redelivery-of-{name}"));
        let recorded = runtime
            .block_on(record_event(&store, &config(), &again))
            .unwrap();
        assert_eq!(recorded.outcome, "duplicate", "{name}");
    }
    let stored = store.items();
    assert_eq!(stored.len(), events.len());
    for (name, input) in &events {
        let item = build(input).to_item().unwrap();
        assert!(stored.contains(&item), "{name}: stored item differs");
    }
}

#[test]
fn every_documented_stop_code_is_handled() {
    let events = events();
    let in_fixtures: BTreeSet<String> = events
        .iter()
        .filter_map(|(_, input)| str_at(input, "/detail/stopCode").map(String::from))
        .collect();
    for code in DOCUMENTED_STOP_CODES {
        assert!(
            in_fixtures.contains(*code) || *code == "InfrastructureHealth",
            "no fixture stops with {code}"
        );
    }
    let (_, template) = events
        .iter()
        .find(|(name, _)| name == "task-fargate-spot-interrupted.json")
        .unwrap();
    for code in DOCUMENTED_STOP_CODES {
        for exit_code in [0, 1, 137] {
            let mut input = template.clone();
            input["detail"]["stopCode"] = json!(code);
            input["detail"]["containers"][0]["exitCode"] = json!(exit_code);
            let record = build(&input);
            assert_eq!(record.stop_code.as_deref(), Some(*code));
            let expected = match *code {
                "UserInitiated" | "ServiceSchedulerInitiated" => None,
                "EssentialContainerExited" if exit_code == 0 => None,
                other => Some(other),
            };
            assert_eq!(
                record.failure.as_deref(),
                expected,
                "{code} with exit code {exit_code}"
            );
            assert_eq!(record.failed_at.is_some(), expected.is_some());
            assert_eq!(
                index_names(&record).contains(&CLUSTER_FAILURES_INDEX),
                expected.is_some()
            );
            // The events before STOPPED repeat the stop code; only the last one counts.
            input["detail"]["lastStatus"] = json!("DEPROVISIONING");
            input["detail"].as_object_mut().unwrap().remove("stoppedAt");
            let record = build(&input);
            assert_eq!(record.stop_code.as_deref(), Some(*code));
            assert_eq!(record.failure, None, "{code} before STOPPED");
        }
    }
}

// ------------------------------------------------------------------ malformed corpus

/// What the corpus expects of one input.
#[derive(Debug)]
enum Expected {
    /// Refused: the JSON parser's or the handler's message contains this text.
    Error(String),
    /// Recorded; the item has these attributes (`null`: the attribute is absent).
    Recorded(serde_json::Map<String, Value>),
}

fn expected_of(name: &str, entry: &Value) -> Expected {
    match (entry.get("error"), entry.get("recorded")) {
        (Some(Value::String(text)), None) if !text.is_empty() => Expected::Error(text.clone()),
        (None, Some(Value::Bool(true))) => Expected::Recorded(
            entry
                .get("item")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        ),
        _ => panic!(
            "EXPECTED.json: {name}: {entry} is neither {{\"error\": text}} nor {{\"recorded\": true}}"
        ),
    }
}

/// Inputs too big to commit, generated here.
fn generated_cases() -> Vec<(String, Vec<u8>, Expected)> {
    let (_, template) = events()
        .into_iter()
        .find(|(name, _)| name == "task-fargate-06-stopped.json")
        .unwrap();
    // EventBridge's limit is 1 MB per event: fill the reason up to it with a 3-byte character,
    // so the cut must land on a character boundary.
    let mut huge_reason = template.clone();
    huge_reason["id"] = json!("generated-1mb-stopped-reason");
    let room = MAX_EVENT_BYTES - serde_json::to_vec(&template).unwrap().len();
    let reason = "€".repeat(room / 3);
    huge_reason["detail"]["stoppedReason"] = json!(reason);
    let mut huge_detail = template.clone();
    huge_detail["id"] = json!("generated-1mb-unknown-detail");
    huge_detail["detail-type"] = json!("ECS Something Large");
    huge_detail["detail"]["padding"] = json!("x".repeat(room));
    let mut items = serde_json::Map::new();
    items.insert("detailType".into(), json!("ECS Something Large"));
    items.insert("truncated".into(), json!(["detail"]));
    vec![
        (
            "generated: 1 MB stoppedReason".into(),
            serde_json::to_vec(&huge_reason).unwrap(),
            Expected::Recorded(
                json!({"lastStatus": "STOPPED", "failure": null, "truncated": ["stoppedReason"]})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        ),
        (
            "generated: 1 MB detail of an unknown detail-type".into(),
            serde_json::to_vec(&huge_detail).unwrap(),
            Expected::Recorded(items),
        ),
    ]
}

/// The id a rejection must name, found independently of the crate's own helper.
fn id_to_name(input: &Value) -> String {
    match input.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => UNKNOWN_EVENT_ID.to_string(),
    }
}

/// Runs one input and returns what is wrong with the outcome, if anything.
fn check_malformed(
    runtime: &tokio::runtime::Runtime,
    name: &str,
    bytes: &[u8],
    expected: &Expected,
) -> Result<(), String> {
    run_malformed(runtime, bytes, expected).map_err(|problem| format!("{name}: {problem}"))
}

fn run_malformed(
    runtime: &tokio::runtime::Runtime,
    bytes: &[u8],
    expected: &Expected,
) -> Result<(), String> {
    let input: Value = match serde_json::from_slice(bytes) {
        Err(error) => {
            let message = error.to_string();
            return match expected {
                // A parse error is the clear error when it says what and where.
                Expected::Error(text) if message.contains(text) && message.contains(" line ") => {
                    Ok(())
                }
                _ => Err(format!(
                    "JSON parse error {message:?}, expected {expected:?}"
                )),
            };
        }
        Ok(input) => input,
    };
    let store = MemoryStore::default();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(record_event(&store, &config(), &input))
    }))
    .map_err(|_| "the handler panicked".to_string())?;
    let items = store.items();
    match (outcome, expected) {
        (Err(Error::BadEvent { event_id, problem }), Expected::Error(text)) => {
            let message = Error::BadEvent {
                event_id: event_id.clone(),
                problem: problem.clone(),
            }
            .to_string();
            let id = id_to_name(&input);
            if event_id != id || !message.contains(&format!("event {id}: ")) {
                return Err(format!("{message:?} does not name the event {id:?}"));
            }
            if !problem.contains(text.as_str()) {
                return Err(format!("{message:?} does not contain {text:?}"));
            }
            if !items.is_empty() {
                return Err(format!("rejected, yet wrote {} item(s)", items.len()));
            }
            Ok(())
        }
        (Ok(recorded), Expected::Recorded(attributes)) => {
            let [item] = items.as_slice() else {
                return Err(format!("recorded, but the store has {} items", items.len()));
            };
            check_recorded_item(&input, item, attributes)?;
            let expected_outcome = if item.contains_key("driftedFields") {
                "written_with_warnings"
            } else {
                "written"
            };
            if recorded.outcome != expected_outcome
                || item["resourceArn"] != json!(recorded.resource_arn)
                || item["eventKey"] != json!(recorded.event_key)
            {
                return Err(format!("{recorded:?} does not describe the item"));
            }
            Ok(())
        }
        (outcome, expected) => Err(format!(
            "got {:?}, expected {expected:?}",
            outcome.map(|r| r.outcome)
        )),
    }
}

fn check_recorded_item(
    input: &Value,
    item: &Item,
    attributes: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    for (attribute, expected) in attributes {
        match (item.get(attribute), expected) {
            (None, Value::Null) => {}
            (Some(actual), expected) if actual == expected => {}
            (actual, expected) => {
                return Err(format!("{attribute} is {actual:?}, expected {expected}"));
            }
        }
    }
    // The item is the record of this input, whole, and reads back as one.
    let parsed = event::parse(input).map_err(|error| error.to_string())?;
    let record = record::build(&parsed, RETENTION_DAYS).map_err(|error| error.to_string())?;
    if record.to_item().map_err(|error| error.to_string())? != *item {
        return Err("the stored item is not the record of the input".into());
    }
    let back: AuditRecord =
        serde_json::from_value(Value::Object(item.clone())).map_err(|error| error.to_string())?;
    if back != record {
        return Err("the item does not read back as its record".into());
    }
    if record.event_id != id_to_name(input) || record.event_key.is_empty() {
        return Err(format!(
            "bad identity: {} {}",
            record.event_id, record.event_key
        ));
    }
    for text in [&record.stopped_reason, &record.reason]
        .into_iter()
        .flatten()
    {
        if text.len() > MAX_TEXT_BYTES {
            return Err(format!("a text of {} bytes was not cut", text.len()));
        }
    }
    Ok(())
}

#[test]
fn the_malformed_corpus_is_rejected_clearly_or_recorded_whole() {
    let dir = fixtures_dir().join("malformed");
    let expected_json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("EXPECTED.json")).unwrap()).unwrap();
    let expected_map = expected_json.as_object().unwrap();
    let files = json_files(&dir);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let listed: Vec<&str> = expected_map.keys().map(String::as_str).collect();
    assert_eq!(
        names, listed,
        "EXPECTED.json lists exactly the files of the corpus"
    );
    assert!(files.len() >= 30, "only {} malformed inputs", files.len());

    let mut cases: Vec<(String, Vec<u8>, Expected)> = files
        .into_iter()
        .map(|(name, bytes)| {
            let expected = expected_of(&name, &expected_map[&name]);
            (name, bytes, expected)
        })
        .collect();
    cases.extend(generated_cases());

    let runtime = runtime();
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|(name, bytes, expected)| {
            check_malformed(&runtime, name, bytes, expected).err()
        })
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    let rejected = cases
        .iter()
        .filter(|(_, _, e)| matches!(e, Expected::Error(_)))
        .count();
    assert!(rejected >= 30 && cases.len() - rejected >= 25);
}

#[test]
fn the_generated_huge_reason_is_cut_on_a_character_boundary() {
    let (_, bytes, _) = generated_cases().remove(0);
    let input: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(bytes.len() <= MAX_EVENT_BYTES && bytes.len() > MAX_EVENT_BYTES - 1024);
    let record = build(&input);
    let reason = record.stopped_reason.unwrap();
    assert!(reason.len() <= MAX_TEXT_BYTES);
    assert!(reason.starts_with('€'));
    let full = input["detail"]["stoppedReason"].as_str().unwrap().len();
    assert!(
        reason.ends_with(&format!("[truncated: {full} bytes in all]")),
        "{}",
        &reason[reason.len() - 60..]
    );
}
