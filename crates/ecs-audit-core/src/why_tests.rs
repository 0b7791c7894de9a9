//! `why` over the documented fixtures (tests/fixtures/events): a task of every kind, the
//! deployment join, the service's actions around the stop, the same-way count.

use std::path::PathBuf;

use chrono::Duration;
use serde_json::Value;

use super::*;
use crate::event::parse;
use crate::mapping::build;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/events")
}

fn fixtures() -> Vec<AuditRecord> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|path| {
            let input: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            build(&parse(&input).unwrap(), 14).unwrap()
        })
        .collect()
}

/// A task ARN of the fixtures (their region and account are those of the OOM fixture).
fn task(id_path: &str) -> String {
    let text = std::fs::read(fixture_dir().join("task-ec2-oom-killed.json")).unwrap();
    let oom: Value = serde_json::from_slice(&text).unwrap();
    let (region, account) = (
        oom["region"].as_str().unwrap(),
        oom["account"].as_str().unwrap(),
    );
    format!("arn:aws:ecs:{region}:{account}:task/{id_path}")
}

/// `why` as the reader runs it, the reader's queries standing in as "every fixture record
/// of the right kind" (the core keeps only what belongs to the task).
fn why(records: &[AuditRecord], arn: &str, upto: Option<&str>) -> WhyAnswer {
    let history: Vec<AuditRecord> = records
        .iter()
        .filter(|r| r.resource_arn == arn)
        .filter(|r| upto.is_none_or(|key| r.event_key.as_str() <= key))
        .cloned()
        .collect();
    let plan = plan(&history, Duration::minutes(DEFAULT_WINDOW_MINUTES)).unwrap();
    let of_service = |r: &&AuditRecord| Some(&r.resource_arn) == plan.service_arn.as_ref();
    let found = Found {
        deployment_events: records.iter().filter(of_service).cloned().collect(),
        service_actions: records.iter().filter(of_service).cloned().collect(),
        same_way_candidates: records.to_vec(),
        crash_loop_episodes: Vec::new(),
        queries: 4,
    };
    assemble(&history, &plan, &found).unwrap()
}

#[test]
fn a_task_of_every_kind_gets_its_ending_explained() {
    let records = fixtures();
    // (task, how it ended, a phrase of its explanation)
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a",
            Some("EssentialContainerExited ingest=137 xray-daemon=143"),
            "Out of memory",
        ),
        (
            "prod/5b2f6e0c8d7a4c1e9f3b2a1d0c9e8f7a",
            Some("ServiceSchedulerInitiated"),
            "service scheduler stopped the task",
        ),
        (
            "prod/7a9c1e3b5d7f4a2c8e0b6d4f2a8c6e4b",
            Some("TaskFailedToStart"),
            "image could not be pulled",
        ),
        (
            "prod/2e4d6f8a0c1b4e3d9a7c5e3b1d9f7a5c",
            Some("SpotInterruption"),
            "Spot capacity was reclaimed",
        ),
        (
            "prod/e1f3a5c7b9d24f6e8a0c1b3d5f7e9a1c",
            Some("TaskFailedElbHealthChecks"),
            "load balancer found the task unhealthy",
        ),
        (
            "prod/c3e5a7b9d1f34e6a8c0b2d4f6e8a0c2d",
            Some("UserInitiated"),
            "StopTask",
        ),
        (
            "workers/4b6d8f0a2c3e4a5b9d7f1e3c5a7b9d1f",
            Some("TerminationNotice"),
            "retired or terminated",
        ),
        (
            "batch/0d2f4a6c8e1b4d3f9a5c7e9b1d3f5a7c",
            Some("EssentialContainerExited"),
            "essential container stopped",
        ),
    ];
    for (id, kind, phrase) in cases {
        let answer = why(&records, &task(id), None);
        assert!(answer.ending.stopped, "{id}");
        assert_eq!(answer.ending.kind.as_deref(), *kind, "{id}");
        assert!(
            answer.ending.explanation.contains(phrase),
            "{id}: {}",
            answer.ending.explanation
        );
        assert!(!answer.lifecycle.is_empty(), "{id}");
    }
}

#[test]
fn a_running_task_has_no_ending_and_says_why_parts_are_missing() {
    let records = fixtures();
    let arn = task("prod/5b2f6e0c8d7a4c1e9f3b2a1d0c9e8f7a");
    let answer = why(&records, &arn, Some("v00000000000000000003"));
    assert_eq!(answer.last_status.as_deref(), Some("RUNNING"));
    assert!(!answer.ending.stopped);
    assert_eq!(answer.ending.kind, None);
    assert!(answer.ending.explanation.contains("has not stopped"));
    assert_eq!(answer.around_stop, None);
    assert_eq!(answer.same_way, None);
    assert!(answer.notes.iter().any(|n| n.contains("has not stopped")));
    let steps: Vec<_> = answer
        .lifecycle
        .iter()
        .map(|s| s.last_status.as_deref().unwrap())
        .collect();
    assert_eq!(steps, ["PROVISIONING", "PENDING", "RUNNING"]);
    // its deployment is known while it runs
    assert_eq!(
        answer.deployment.map(|d| d.outcome),
        Some(Outcome::Completed)
    );
}

#[test]
fn the_deployment_that_started_a_task_is_joined_with_its_events() {
    let records = fixtures();
    // The failed rollout: in progress, failed by the circuit breaker, rolled back.
    let answer = why(
        &records,
        &task("prod/7a9c1e3b5d7f4a2c8e0b6d4f2a8c6e4b"),
        None,
    );
    let deployment = answer.deployment.unwrap();
    assert_eq!(deployment.id, "ecs-svc/7301234567890123456");
    assert_eq!(deployment.outcome, Outcome::RolledBack);
    let names: Vec<_> = deployment
        .events
        .iter()
        .map(|e| {
            (
                e.event_name.as_deref().unwrap(),
                e.deployment_id.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "ecs-svc/7301234567890123456"
            ),
            ("SERVICE_DEPLOYMENT_FAILED", "ecs-svc/7301234567890123456"),
            (
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "ecs-svc/8123456789012345678"
            ),
        ]
    );
    assert!(deployment.events[1].explanation.is_some());

    // The completed one: its two events, not the other deployment's.
    let answer = why(
        &records,
        &task("prod/5b2f6e0c8d7a4c1e9f3b2a1d0c9e8f7a"),
        None,
    );
    let deployment = answer.deployment.unwrap();
    assert_eq!(deployment.outcome, Outcome::Completed);
    assert_eq!(deployment.events.len(), 2);

    // A deployment with no recorded events says so; a standalone task has none.
    let answer = why(
        &records,
        &task("workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a"),
        None,
    );
    assert_eq!(answer.deployment.unwrap().outcome, Outcome::NoEvents);
    let answer = why(
        &records,
        &task("batch/0d2f4a6c8e1b4d3f9a5c7e9b1d3f5a7c"),
        None,
    );
    assert_eq!(answer.deployment, None);
    assert!(
        answer
            .notes
            .iter()
            .any(|n| n.contains("events-rule/nightly-report"))
    );
}

#[test]
fn what_the_service_did_around_the_stop() {
    let records = fixtures();
    // The Spot interruption, then the placement failure 32 s later.
    let answer = why(
        &records,
        &task("prod/2e4d6f8a0c1b4e3d9a7c5e3b1d9f7a5c"),
        None,
    );
    let around = answer.around_stop.unwrap();
    let names: Vec<_> = around
        .actions
        .iter()
        .map(|a| a.event_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["SERVICE_TASK_PLACEMENT_FAILURE"]);
    assert!(
        around.actions[0]
            .explanation
            .as_deref()
            .unwrap()
            .contains("Fargate capacity")
    );
    // The failed start, then the service's start impaired 16 min later.
    let answer = why(
        &records,
        &task("prod/7a9c1e3b5d7f4a2c8e0b6d4f2a8c6e4b"),
        None,
    );
    let names: Vec<_> = answer
        .around_stop
        .unwrap()
        .actions
        .iter()
        .map(|a| a.event_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["SERVICE_TASK_START_IMPAIRED"]);
    // A standalone task has no service to look at.
    let answer = why(
        &records,
        &task("batch/0d2f4a6c8e1b4d3f9a5c7e9b1d3f5a7c"),
        None,
    );
    assert_eq!(answer.around_stop, None);
}

#[test]
fn each_containers_image_and_digest() {
    let records = fixtures();
    // A Fargate task recorded from PROVISIONING to STOPPED: the digests are stored on its
    // RUNNING event, the exit codes on its STOPPED one, and the answer has both.
    let answer = why(
        &records,
        &task("prod/5b2f6e0c8d7a4c1e9f3b2a1d0c9e8f7a"),
        None,
    );
    let web = &answer.containers[0];
    assert_eq!(web.name.as_deref(), Some("web"));
    assert!(
        web.image_digest
            .as_deref()
            .unwrap()
            .starts_with("sha256:3c4f9a0e")
    );
    assert!(web.exit_code.is_some(), "{web:?}");
    // A task whose only recorded event is its STOPPED one: its image, no digest made up
    let answer = why(
        &records,
        &task("workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a"),
        None,
    );
    let ingest = &answer.containers[0];
    assert!(ingest.image.as_deref().unwrap().ends_with("ingest:5.3.0"));
    assert_eq!(ingest.exit_code, Some(137));
    assert_eq!(ingest.image_digest, None);
}

#[test]
fn other_tasks_that_ended_the_same_way_are_counted_with_first_and_last() {
    let records = fixtures();
    let oom = task("workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a");
    let stop = records
        .iter()
        .find(|r| r.resource_arn == oom && r.last_status.as_deref() == Some("STOPPED"))
        .unwrap()
        .clone();
    let copy = |id: &str, minutes: i64, edit: &dyn Fn(&mut AuditRecord)| {
        let mut r = stop.clone();
        r.resource_arn = task(&format!("workers/{id}"));
        let at = parse_time(stop_time(&stop)).unwrap() + Duration::minutes(minutes);
        r.stopped_at = Some(format_time(at));
        edit(&mut r);
        r
    };
    let mut all = records.clone();
    all.extend([
        copy("a1", -50, &|_| {}),
        copy("a2", 20, &|_| {}),
        copy("a2", 20, &|_| {}), // the same run read twice
        copy("a3", 59, &|_| {}),
        copy("late", 61, &|_| {}), // outside the hour
        copy("exit1", 5, &|r| r.exit_codes = Some("ingest=1".into())), // another ending
        copy("other", 5, &|r| r.service_key = Some("workers/x".into())), // another service
    ]);
    let answer = why(&all, &oom, None);
    let same = answer.same_way.unwrap();
    assert_eq!(same.scope, "service workers/ingest");
    assert_eq!(same.count, 3, "{same:?}");
    assert_eq!(same.first.unwrap().task_arn, task("workers/a1"));
    assert_eq!(same.last.unwrap().task_arn, task("workers/a3"));
    // the task itself is not counted
    assert_eq!(why(&records, &oom, None).same_way.unwrap().count, 0);
}

#[test]
fn the_answer_serializes_to_the_documented_json() {
    let records = fixtures();
    let answer = why(
        &records,
        &task("prod/7a9c1e3b5d7f4a2c8e0b6d4f2a8c6e4b"),
        None,
    );
    let json = serde_json::to_value(&answer).unwrap();
    for key in [
        "taskArn",
        "lifecycle",
        "ending",
        "containers",
        "deployment",
        "aroundStop",
        "sameWay",
        "crashLoopEpisodes",
        "notes",
        "queries",
    ] {
        assert!(json.get(key).is_some(), "{key} missing: {json}");
    }
    assert_eq!(json["deployment"]["outcome"], "ROLLED_BACK");
    assert_eq!(json["ending"]["failure"], "TaskFailedToStart");
    assert_eq!(json["sameWay"]["count"], 0);
    assert_eq!(json["crashLoopEpisodes"], serde_json::json!([]));
    let back: WhyAnswer = serde_json::from_value(json).unwrap();
    assert_eq!(back, answer);
}

#[test]
fn no_task_event_no_answer() {
    let records = fixtures();
    assert_eq!(plan(&[], Duration::hours(1)), None);
    let service_only: Vec<AuditRecord> = records
        .iter()
        .filter(|r| r.task_id().is_none())
        .cloned()
        .collect();
    assert_eq!(plan(&service_only, Duration::hours(1)), None);
}

#[test]
fn the_services_crash_loops_around_the_stop_say_whether_it_is_still_happening() {
    let records = fixtures();
    let arn = task("workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a");
    let history: Vec<AuditRecord> = records
        .iter()
        .filter(|r| r.resource_arn == arn)
        .cloned()
        .collect();
    let plan = plan(&history, Duration::minutes(DEFAULT_WINDOW_MINUTES)).unwrap();
    let episode = |name: &str, started: &str, ended: Option<&str>| Episode {
        subject: Subject {
            cluster: "workers".into(),
            name: name.into(),
            standalone: false,
        },
        started_at: started.into(),
        last_failure_at: started.into(),
        failures: 3,
        last_kind: "out-of-memory".into(),
        ended_at: ended.map(str::to_string),
    };
    // The task stopped at 02:41:08; the window is an hour either side.
    let going_on = episode("ingest", "2026-03-03T02:30:00.000Z", None);
    let found = Found {
        deployment_events: Vec::new(),
        service_actions: Vec::new(),
        same_way_candidates: Vec::new(),
        crash_loop_episodes: vec![
            going_on.clone(),
            // another service's loop, and one of this service that was over long before
            episode("api", "2026-03-03T02:35:00.000Z", None),
            episode(
                "ingest",
                "2026-03-02T20:00:00.000Z",
                Some("2026-03-02T20:30:00.000Z"),
            ),
        ],
        queries: 5,
    };
    let answer = assemble(&history, &plan, &found).unwrap();
    assert_eq!(answer.crash_loop_episodes, Some(vec![going_on]));
    let json = serde_json::to_value(&answer).unwrap();
    assert!(json["crashLoopEpisodes"][0]["endedAt"].is_null(), "{json}");
    assert_eq!(json["crashLoopEpisodes"][0]["subject"]["name"], "ingest");
}
