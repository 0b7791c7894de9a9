//! The timeline's model, explanations and page, on a small scenario.

use super::explain::reason;
use super::render::tick_step;
use super::*;
use crate::output::Zone;
use chrono::Duration;
use ecs_state_logger::record::{ContainerRecord, format_time, version_key};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn ago(minutes: i64) -> String {
    format_time(now() - Duration::minutes(minutes))
}

fn task(
    id: &str,
    service: &str,
    version: u64,
    status: &str,
    minutes: i64,
    edit: impl FnOnce(&mut AuditRecord),
) -> Found {
    let mut record = AuditRecord {
        resource_arn: format!("arn:aws:ecs:xx-test-1:1:task/prod/{id}"),
        event_key: version_key(version),
        detail_type: "ECS Task State Change".into(),
        event_time: ago(minutes),
        cluster: Some("prod".into()),
        service: Some(service.into()),
        group: Some(format!("service:{service}")),
        task_definition: Some(format!("{service}:7")),
        last_status: Some(status.into()),
        version: Some(version),
        created_at: Some(ago(300)),
        ..AuditRecord::default()
    };
    if status == "STOPPED" {
        record.stopped_at = Some(record.event_time.clone());
    }
    edit(&mut record);
    record.failure = ecs_state_logger::record::classify_failure(&record);
    if record.failure.is_some() {
        record.failed_at = Some(record.event_time.clone());
    }
    Found {
        region: "xx-test-1".into(),
        record,
    }
}

fn service_event(name: &str, kind: &str, minutes: i64, reason: &str) -> Found {
    let mut record = AuditRecord {
        resource_arn: "arn:aws:ecs:xx-test-1:1:service/prod/web".into(),
        event_key: format!("{}#abc", ago(minutes)),
        detail_type: "ECS Service Action".into(),
        event_time: ago(minutes),
        cluster: Some("prod".into()),
        service: Some("web".into()),
        event_type: Some(kind.into()),
        event_name: Some(name.into()),
        reason: Some(reason.into()),
        ..AuditRecord::default()
    };
    record.failure = ecs_state_logger::record::classify_failure(&record);
    record.failed_at = record.failure.as_ref().map(|_| record.event_time.clone());
    Found {
        region: "xx-test-1".into(),
        record,
    }
}

fn scenario() -> Vec<Found> {
    vec![
        // OOM: v3 STOPPED arrives before v2 RUNNING, and twice
        task("oom00000000", "web", 3, "STOPPED", 60, |r| {
            r.started_at = Some(ago(280));
            r.stop_code = Some("EssentialContainerExited".into());
            r.stopped_reason = Some("Essential container in task exited".into());
            r.exit_codes = Some("app=137".into());
            r.containers = Some(vec![ContainerRecord {
                name: Some("app".into()),
                exit_code: Some(137),
                reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
                ..ContainerRecord::default()
            }]);
        }),
        task("oom00000000", "web", 2, "RUNNING", 280, |r| {
            r.started_at = Some(ago(280));
        }),
        task("oom00000000", "web", 3, "STOPPED", 60, |r| {
            r.started_at = Some(ago(280));
            r.stop_code = Some("EssentialContainerExited".into());
            r.exit_codes = Some("app=137".into());
            r.containers = Some(vec![ContainerRecord {
                name: Some("app".into()),
                exit_code: Some(137),
                reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
                ..ContainerRecord::default()
            }]);
        }),
        task("spot0000000", "worker", 4, "STOPPED", 30, |r| {
            r.started_at = Some(ago(290));
            r.stop_code = Some("SpotInterruption".into());
            r.stopped_reason = Some("Your Spot Task was interrupted.".into());
        }),
        task("pull0000000", "web", 2, "STOPPED", 100, |r| {
            r.created_at = Some(ago(110));
            r.stop_code = Some("TaskFailedToStart".into());
            r.stopped_reason =
                Some("CannotPullContainerError: <script>alert('x')</script> & \"quoted\"".into());
        }),
        task("done0000000", "web", 4, "STOPPED", 200, |r| {
            r.started_at = Some(ago(295));
            r.stop_code = Some("ServiceSchedulerInitiated".into());
        }),
        task("live0000000", "worker", 3, "RUNNING", 20, |r| {
            r.created_at = Some(ago(25));
            r.started_at = Some(ago(24));
        }),
        service_event(
            "SERVICE_TASK_PLACEMENT_FAILURE",
            "ERROR",
            90,
            "RESOURCE:MEMORY",
        ),
        service_event("SERVICE_STEADY_STATE", "INFO", 10, "steady"),
    ]
}

fn timeline() -> Timeline {
    build(
        &scenario(),
        "prod",
        &["xx-test-1".to_string()],
        now() - Duration::hours(6),
        now(),
        now(),
    )
}

#[test]
fn tasks_become_one_bar_each_per_service_coloured_by_how_they_ended() {
    let timeline = timeline();
    let names: Vec<&str> = timeline.lanes.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["web", "worker"]);
    let web = &timeline.lanes[0];
    let endings: Vec<(&str, Ending)> = web
        .tasks
        .iter()
        .map(|t| (t.task_id.as_str(), t.ending))
        .collect();
    assert_eq!(
        endings,
        [
            ("done0000000", Ending::Ok),
            ("oom00000000", Ending::Failed),
            ("pull0000000", Ending::Failed),
        ]
    );
    let oom = &web.tasks[1];
    assert_eq!(oom.started.map(format_time), Some(ago(280)));
    assert_eq!(format_time(oom.end), ago(60));
    assert_eq!(oom.exit_codes.as_deref(), Some("app=137"));
    let worker = &timeline.lanes[1];
    assert_eq!(worker.tasks[0].ending, Ending::Interrupted);
    assert_eq!(worker.tasks[1].ending, Ending::Running);
    assert_eq!(worker.tasks[1].end, now());
    assert_eq!(web.markers.len(), 2);
    assert!(web.markers[0].failed);
    assert_eq!(
        timeline.summary(),
        "5 tasks (1 stopped normally, 2 failed, 1 Spot-interrupted / terminated, 1 still running), 4 failures"
    );
}

#[test]
fn failures_are_listed_once_in_time_order_and_explained() {
    let timeline = timeline();
    let codes: Vec<&str> = timeline.failures.iter().map(|f| f.code.as_str()).collect();
    // the duplicate OOM delivery counts once
    assert_eq!(
        codes,
        [
            "TaskFailedToStart",
            "SERVICE_TASK_PLACEMENT_FAILURE",
            "EssentialContainerExited",
            "SpotInterruption"
        ]
    );
    assert!(
        timeline.failures[0]
            .explanation
            .contains("image could not be pulled")
    );
    assert!(timeline.failures[1].explanation.contains("memory"));
    assert!(
        timeline.failures[2]
            .explanation
            .starts_with("Out of memory"),
        "{}",
        timeline.failures[2].explanation
    );
    assert!(timeline.failures[2].explanation.contains("exit 137"));
    assert!(timeline.failures[3].explanation.contains("Spot capacity"));
    assert_eq!(timeline.failures[2].task, "oom00000000");
    assert_eq!(timeline.failures[1].task, "-");
}

#[test]
fn every_stop_code_has_its_own_explanation() {
    let explain_code = |failure: &str, event_type: Option<&str>, reason: &str| {
        explain(&AuditRecord {
            failure: Some(failure.into()),
            event_type: event_type.map(str::to_string),
            reason: Some(reason.into()),
            ..AuditRecord::default()
        })
    };
    let fargate = explain_code("SERVICE_TASK_PLACEMENT_FAILURE", None, "RESOURCE:FARGATE");
    assert!(fargate.contains("No Fargate capacity"), "{fargate}");
    assert!(
        explain_code("SERVICE_DEPLOYMENT_FAILED", None, "circuit breaker").contains("rollback")
    );
    assert!(explain_code("TerminationNotice", None, "").contains("retired"));
    let fallback = explain_code("SOMETHING_NEW", None, "");
    for (_, label) in ecs_state_logger::record::HEALTH_CHECK_REASONS {
        let explanation = explain_code(label, None, "");
        assert!(
            explanation.contains("health check"),
            "{label}: {explanation}"
        );
        assert_ne!(explanation, fallback);
    }
    assert!(
        explain_code("SERVICE_SOMETHING_NEW", Some("ERROR"), "")
            .contains("scheduler reported an error")
    );
    let exit_one = explain(&AuditRecord {
        failure: Some("EssentialContainerExited".into()),
        containers: Some(vec![ContainerRecord {
            name: Some("api".into()),
            exit_code: Some(1),
            ..ContainerRecord::default()
        }]),
        ..AuditRecord::default()
    });
    assert!(exit_one.contains("api exited with code 1"), "{exit_one}");
}

#[test]
fn the_page_is_self_contained_and_escapes_what_the_table_says() {
    let page = render_html(&timeline(), &Zone::<Utc>::Utc);
    assert!(page.starts_with("<!DOCTYPE html>"));
    // no external assets, no script
    assert!(!page.contains("src="), "{page}");
    assert!(!page.contains("<link"));
    assert!(!page.contains("<script"));
    assert!(!page.contains("url("));
    // untrusted text is escaped, in text and in attributes
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;")
    );
    // bars in each colour, a row per failure
    for ending in Ending::ALL {
        let bar = format!(r#"fill="{}"/></g>"#, ending.colour());
        assert!(page.contains(&bar), "no {ending:?} bar");
    }
    assert_eq!(page.matches("<tr class=\"failure\">").count(), 4);
    assert!(page.contains("Out of memory"));
    assert!(page.contains("<h2>Failures (4)</h2>"));
    assert!(page.contains("11-20 06:00"), "the first tick names the day");
}

#[test]
fn an_empty_window_says_so() {
    let timeline = build(&[], "prod", &["xx-test-1".into()], now(), now(), now());
    let page = render_html(&timeline, &Zone::<Utc>::Utc);
    assert!(page.contains("No events of this cluster in the window."));
    assert!(page.contains("No failures in the window."));
    assert_eq!(timeline.summary(), "0 tasks, 0 failures");
}

#[test]
fn a_container_reason_that_repeats_the_stop_reason_is_shown_once() {
    let record = AuditRecord {
        stopped_reason: Some("CannotPullContainerError: not found".into()),
        containers: Some(vec![
            ContainerRecord {
                name: Some("app".into()),
                reason: Some("CannotPullContainerError: not found".into()),
                ..ContainerRecord::default()
            },
            ContainerRecord {
                name: Some("sidecar".into()),
                reason: Some("OutOfMemoryError:\nkilled".into()),
                ..ContainerRecord::default()
            },
        ]),
        ..AuditRecord::default()
    };
    assert_eq!(
        reason(&record),
        "CannotPullContainerError: not found; sidecar: OutOfMemoryError: killed"
    );
    assert_eq!(reason(&AuditRecord::default()), "");
}

#[test]
fn escape_handles_every_special_character() {
    assert_eq!(
        escape("<a href=\"x\">'&'</a>\u{7}"),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; "
    );
}

#[test]
fn ticks_stay_few() {
    assert_eq!(tick_step(Duration::hours(24)), Duration::hours(2));
    assert_eq!(tick_step(Duration::hours(2)), Duration::minutes(10));
    assert_eq!(tick_step(Duration::days(7)), Duration::days(1));
}
