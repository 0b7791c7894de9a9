//! The timeline's model, explanations and page, on a small scenario.

use super::svg::tick_step;
use super::*;
use crate::output::Zone;
use chrono::Duration;
use ecs_audit_core::explain::reason;
use ecs_audit_core::keys::version_key;
use ecs_audit_core::record::ContainerRecord;
use ecs_audit_core::text::format_time;

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
    record.failure = ecs_audit_core::failure::classify_failure(&record);
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
    record.failure = ecs_audit_core::failure::classify_failure(&record);
    record.failed_at = record.failure.as_ref().map(|_| record.event_time.clone());
    Found {
        region: "xx-test-1".into(),
        record,
    }
}

/// A task's stop when its essential container `app` was killed for memory (exit 137).
fn out_of_memory(r: &mut AuditRecord) {
    r.stop_code = Some("EssentialContainerExited".into());
    r.exit_codes = Some("app=137".into());
    r.containers = Some(vec![ContainerRecord {
        name: Some("app".into()),
        exit_code: Some(137),
        reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
        ..ContainerRecord::default()
    }]);
}

fn scenario() -> Vec<Found> {
    vec![
        // OOM: v3 STOPPED arrives before v2 RUNNING, and twice
        task("oom00000000", "web", 3, "STOPPED", 60, |r| {
            r.started_at = Some(ago(280));
            out_of_memory(r);
            r.stopped_reason = Some("Essential container in task exited".into());
        }),
        task("oom00000000", "web", 2, "RUNNING", 280, |r| {
            r.started_at = Some(ago(280));
        }),
        task("oom00000000", "web", 3, "STOPPED", 60, |r| {
            r.started_at = Some(ago(280));
            out_of_memory(r);
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

/// A lane's bars drawn one by one, by creation.
fn bars(lane: &Lane) -> Vec<&TaskBar> {
    let mut bars: Vec<&TaskBar> = lane.layout.bars().collect();
    bars.sort_by(|a, b| (a.created, &a.task_id).cmp(&(b.created, &b.task_id)));
    bars
}

#[test]
fn tasks_become_one_bar_each_per_service_coloured_by_how_they_ended() {
    let timeline = timeline();
    let names: Vec<&str> = timeline.lanes.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["web", "worker"]);
    let web = bars(&timeline.lanes[0]);
    let endings: Vec<(&str, Ending)> = web.iter().map(|t| (t.task_id.as_str(), t.ending)).collect();
    assert_eq!(
        endings,
        [
            ("done0000000", Ending::Ok),
            ("oom00000000", Ending::Failed),
            ("pull0000000", Ending::Failed),
        ]
    );
    let oom = web[1];
    assert_eq!(oom.started.map(format_time), Some(ago(280)));
    assert_eq!(format_time(oom.end), ago(60));
    assert_eq!(oom.exit_codes.as_deref(), Some("app=137"));
    let worker = bars(&timeline.lanes[1]);
    assert_eq!(worker[0].ending, Ending::Interrupted);
    assert_eq!(worker[1].ending, Ending::Running);
    assert_eq!(worker[1].end, now());
    let web = &timeline.lanes[0];
    assert_eq!(web.markers.len(), 2);
    assert!(web.markers[0].failed);
    assert_eq!(web.stats.runs, 3);
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
    for (_, label) in ecs_audit_core::failure::HEALTH_CHECK_REASONS {
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
    assert!(page.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quoted&quot;"));
    // bars in each colour, a row per failure
    for ending in Ending::ALL {
        assert!(page.contains(r#"class="bar" "#));
        let bar = format!(r#"fill="{}"></rect>"#, ending.colour());
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
fn untrusted_text_stays_text_wherever_the_page_puts_it() {
    // GIVEN event text that tries to open elements and leave attributes, in the places the
    // page writes it: a task id (a cell, a title attribute, a tooltip), a service and lane
    // name, a stop code (split at underscores), a reason, a service event's name and reason
    const HOSTILE: &str = "x\"><script>alert(\"1\")</script><img src=y onerror='z'>";
    let mut hostile_task = task(HOSTILE, HOSTILE, 2, "STOPPED", 90, |r| {
        r.stop_code = Some("TaskFailedToStart".into());
        r.stopped_reason = Some(HOSTILE.into());
        r.exit_codes = Some(HOSTILE.into());
    });
    hostile_task.record.failure = Some(format!("TaskFailedToStart_{HOSTILE}"));
    let mut hostile_event = service_event(HOSTILE, "ERROR", 80, HOSTILE);
    hostile_event.record.failure = Some(HOSTILE.into());
    let timeline = build(
        &[hostile_task, hostile_event],
        HOSTILE,
        &["xx-test-1".to_string(), HOSTILE.to_string()],
        now() - Duration::hours(6),
        now(),
        now(),
    );
    assert_eq!(timeline.failures.len(), 2, "{timeline:#?}");
    // WHEN the page is written
    let page = render_html(&timeline, &Zone::<Utc>::Utc);
    // THEN no element and no attribute came from the text
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("onerror='z'>"), "{page}");
    assert!(!page.contains("x\">"), "a quote left an attribute: {page}");
    // and the text is all there, escaped, in content and in attribute values
    let escaped =
        "x&quot;&gt;&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;&lt;img src=y onerror='z'&gt;";
    // (a task id is the ARN's last part: what follows the payload's last `/`)
    assert!(
        page.contains("<td class=\"task\" title=\"script&gt;&lt;img src=y onerror='z'&gt;\">"),
        "{page}"
    );
    assert!(
        page.contains(&format!("<td class=\"reason\">{escaped}</td>")),
        "{page}"
    );
    assert!(page.contains(&format!("<h1>ECS timeline: cluster {escaped}</h1>")));
    assert!(page.matches(escaped).count() >= 10, "{page}");
}

#[test]
fn ticks_stay_few() {
    assert_eq!(tick_step(Duration::hours(24)), Duration::hours(2));
    assert_eq!(tick_step(Duration::hours(2)), Duration::minutes(10));
    assert_eq!(tick_step(Duration::days(7)), Duration::days(1));
}

/// A busy day: `services` services of `per_service` runs each, some failed, some interrupted,
/// a deployment on every service; one STOPPED event per run, as the table holds it.
fn busy_day(services: usize, per_service: usize) -> Vec<Found> {
    let start = now() - Duration::hours(24);
    let mut found = Vec::new();
    let mut state: u64 = 7;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        i64::try_from((state >> 33) % n).unwrap_or_default()
    };
    for service in 0..services {
        let name = format!("service-{service:02}");
        for run in 0..per_service {
            let created = start + Duration::seconds(next(86_000));
            let stopped = created + Duration::seconds(30 + next(3_600));
            let kind = next(100);
            let mut record = AuditRecord {
                resource_arn: format!("arn:aws:ecs:xx-test-1:1:task/prod/{service:04}{run:028}"),
                event_key: version_key(5),
                detail_type: "ECS Task State Change".into(),
                event_time: format_time(stopped),
                cluster: Some("prod".into()),
                service: Some(name.clone()),
                group: Some(format!("service:{name}")),
                task_definition: Some(format!("{name}:3")),
                last_status: Some("STOPPED".into()),
                version: Some(5),
                created_at: Some(format_time(created)),
                started_at: Some(format_time(created + Duration::seconds(20))),
                stopped_at: Some(format_time(stopped)),
                stop_code: Some("ServiceSchedulerInitiated".into()),
                ..AuditRecord::default()
            };
            if kind < 3 {
                out_of_memory(&mut record);
                record.stopped_reason = Some("Essential container in task exited".into());
            } else if kind < 4 {
                record.stop_code = Some("SpotInterruption".into());
                record.stopped_reason = Some("Your Spot Task was interrupted.".into());
            }
            record.failure = ecs_audit_core::failure::classify_failure(&record);
            record.failed_at = record.failure.as_ref().map(|_| record.event_time.clone());
            found.push(Found {
                region: "xx-test-1".into(),
                record,
            });
        }
        for (minutes, name, id) in [
            (600, "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/1"),
            (630, "SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/1"),
        ] {
            found.push(Found {
                region: "xx-test-1".into(),
                record: AuditRecord {
                    resource_arn: format!("arn:aws:ecs:xx-test-1:1:service/prod/{name}"),
                    event_key: format!("{}#{minutes}", ago(minutes)),
                    detail_type: "ECS Deployment State Change".into(),
                    event_time: ago(minutes),
                    cluster: Some("prod".into()),
                    service: Some(format!("service-{service:02}")),
                    event_name: Some(name.into()),
                    deployment_id: Some(id.into()),
                    ..AuditRecord::default()
                },
            });
        }
    }
    found
}

/// The last 24 hours of a [`busy_day`].
fn busy_timeline(services: usize, per_service: usize) -> Timeline {
    build(
        &busy_day(services, per_service),
        "prod",
        &["xx-test-1".to_string()],
        now() - Duration::hours(24),
        now(),
        now(),
    )
}

#[test]
fn a_ten_thousand_task_day_stays_under_a_megabyte_with_every_failure_linked() {
    let timeline = busy_timeline(50, 200);
    assert_eq!(timeline.task_count(), 10_000);
    let failed_runs: Vec<&TaskBar> = timeline
        .lanes
        .iter()
        .flat_map(|lane| lane.layout.bars())
        .filter(|bar| pack::is_failure(bar))
        .collect();
    assert!(failed_runs.len() > 200, "{}", failed_runs.len());
    let page = render_html(&timeline, &Zone::<Utc>::Utc);
    assert!(page.len() < 1_000_000, "{} bytes", page.len());
    // every failed run is drawn, linked to its line of the failures list, which exists
    assert_eq!(page.matches("<a href=\"#f-").count(), failed_runs.len());
    assert_eq!(timeline.failures.len(), failed_runs.len());
    for index in 0..timeline.failures.len() {
        assert!(
            page.contains(&format!("<a href=\"#f-{index}\">")),
            "no link to {index}"
        );
        assert!(
            page.contains(&format!("id=\"f-{index}\"")),
            "no row {index}"
        );
    }
    for bar in &failed_runs {
        assert!(page.contains(&format!("task {}", bar.task_id)));
    }
    // each service: a summary, a deployment band, failures in rows as many as their peak
    for lane in &timeline.lanes {
        let layout = &lane.layout;
        let failures: Vec<_> = layout
            .failure_rows
            .iter()
            .flatten()
            .map(|bar| (bar.created, bar.end))
            .collect();
        assert_eq!(failures.len(), lane.stats.failures);
        assert_eq!(layout.failure_rows.len(), pack::peak_concurrency(&failures));
        let drawn: usize = layout.routine_rows.iter().map(Vec::len).sum();
        assert!(drawn <= pack::ROUTINE_CAP);
        assert_eq!(drawn + layout.folded + failures.len(), lane.stats.runs);
        assert_eq!(lane.deployments.len(), 1);
    }
    assert_eq!(page.matches("class=\"deploy\"").count(), 50);
    assert!(page.contains("200 runs · "), "a lane's summary line");
}

#[test]
fn a_quiet_service_is_as_tall_as_its_peak_concurrency() {
    let timeline = busy_timeline(1, 12);
    let lane = &timeline.lanes[0];
    let layout = &lane.layout;
    assert_eq!(layout.folded, 0);
    let routine: Vec<_> = layout
        .routine_rows
        .iter()
        .flatten()
        .map(|bar| (bar.created, bar.end))
        .collect();
    assert_eq!(layout.routine_rows.len(), pack::peak_concurrency(&routine));
    assert!(
        layout.routine_rows.len() < lane.stats.runs,
        "runs share rows"
    );
}

#[test]
fn a_stream_newest_first_with_late_copies_draws_what_the_whole_list_does() {
    // GIVEN a busy day newest first, as the index answers, where every fifth task event comes
    // twice, the copy delivered up to 9 minutes late (older events already streamed past)
    let day = busy_day(4, 60);
    let mut stream: Vec<(DateTime<Utc>, &Found)> = Vec::new();
    for (index, item) in day.iter().enumerate() {
        let time = parse_time(Some(&item.record.event_time)).unwrap();
        stream.push((time, item));
        if index % 5 == 0 {
            let late = Duration::minutes(9) - Duration::seconds(index as i64 % 60);
            stream.push((time - late, item));
        }
    }
    stream.sort_by_key(|(time, _)| std::cmp::Reverse(*time));
    // WHEN it is built one record at a time
    let since = now() - Duration::hours(24);
    let mut builder = TimelineBuilder::new("prod", &["xx-test-1".into()], since, now(), now());
    for (_, item) in &stream {
        builder.add(item);
    }
    let streamed = builder.finish();
    // THEN it is the timeline of the whole list, each run once
    let whole = build(&day, "prod", &["xx-test-1".into()], since, now(), now());
    assert_eq!(streamed.task_count(), 240);
    assert_eq!(streamed, whole);
}

#[test]
fn the_clusters_crash_loops_are_listed_and_say_whether_they_go_on() {
    use ecs_audit_core::episode::{Episode, Subject};
    let episode = |name: &str, ended: Option<String>| Episode {
        subject: Subject {
            cluster: "prod".into(),
            name: name.into(),
            standalone: false,
        },
        started_at: format_time(now() - Duration::minutes(90)),
        last_failure_at: format_time(now() - Duration::minutes(70)),
        failures: 5,
        last_kind: "out-of-memory".into(),
        ended_at: ended,
    };
    let mut timeline = timeline();
    let quiet = render_html(&timeline, &Zone::<Utc>::Utc);
    assert!(!quiet.contains("Crash loops"), "no loops, no section");
    timeline.crash_loops = vec![
        ("xx-test-1".into(), episode("web", None)),
        (
            "xx-test-1".into(),
            episode("worker", Some(format_time(now() - Duration::minutes(55)))),
        ),
    ];
    let page = render_html(&timeline, &Zone::<Utc>::Utc);
    assert!(page.contains("Crash loops (2)"), "{page}");
    let web = page.find(">web<").unwrap();
    let going_on = page.find("still going on").unwrap();
    let worker = page.rfind(">worker<").unwrap();
    assert!(
        web < going_on && going_on < worker,
        "web's loop goes on, worker's ended"
    );
    assert_eq!(page.matches("still going on").count(), 1);
    assert!(page.contains("out-of-memory"));
}
