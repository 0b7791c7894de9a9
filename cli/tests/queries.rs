//! Black-box tests of the built `ecs-audit`: moto, the audit table applied from
//! `modules/audit-table` with Terraform in the local environment's two regions, events written
//! by the handler's own write path, and every subcommand asked about them.
//!
//! One stack serves every question of `every_subcommand_answers_from_seeded_tables` (Terraform
//! against moto takes a while); each question is its own function below.

mod support;

use serde_json::Value;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn every_subcommand_answers_from_seeded_tables() -> TestResult {
    // GIVEN the audit table in two regions, seeded with a morning of ECS events
    let stack = Stack::start().await?;

    // THEN every question gets the rows it should
    task_lifecycle_in_version_order(&stack)?;
    short_task_ids_where_unambiguous(&stack)?;
    cluster_events_newest_first(&stack)?;
    cluster_failures(&stack)?;
    all_regions_merge_by_time(&stack)?;
    service_events(&stack)?;
    definition_runs(&stack)?;
    pagination_reads_every_page(&stack)?;
    human_table_marks_failures(&stack)?;
    table_not_found_in_a_region(&stack)?;
    crash_loop_episodes(&stack).await?;
    Ok(())
}

async fn crash_loop_episodes(stack: &Stack) -> TestResult {
    // GIVEN two episodes written as the function writes them: web's loop has ended, api's
    // goes on
    let region = stack.first_region();
    stack
        .save_episode(region, "web", (120, 110, Some(95)))
        .await?;
    stack.save_episode(region, "api", (30, 5, None)).await?;

    // WHEN the cluster's loops are asked for
    let all = stack.ecs_audit(&[
        "--env",
        "local",
        "--region",
        region,
        "loops",
        "--cluster",
        CLUSTER,
        "--output",
        "json",
    ])?;
    let loops: Vec<Value> = serde_json::from_str(&all.stdout)?;
    // THEN both, newest first, with their region; the ongoing one has no end
    let names: Vec<&str> = loops.iter().map(|l| field(&l["subject"], "name")).collect();
    assert_eq!(names, ["api", "web"], "{}", all.stdout);
    assert_eq!(field(&loops[0], "region"), region);
    assert!(loops[0]["endedAt"].is_null());
    assert_eq!(loops[1]["failures"], 4);
    // AND --service and --since narrow them: web's loop ended 95 minutes ago
    let web = stack.ecs_audit(&[
        "--env",
        "local",
        "--region",
        region,
        "loops",
        "--cluster",
        CLUSTER,
        "--service",
        "web",
        "--output",
        "json",
    ])?;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&web.stdout)?.len(), 1);
    let recent = stack.ecs_audit(&[
        "--env",
        "local",
        "--region",
        region,
        "loops",
        "--cluster",
        CLUSTER,
        "--since",
        "1h",
        "--output",
        "json",
    ])?;
    let recent: Vec<Value> = serde_json::from_str(&recent.stdout)?;
    assert_eq!(recent.len(), 1, "{recent:?}");
    // AND people get a table
    let table = stack.ecs_audit(&[
        "--env",
        "local",
        "--region",
        region,
        "loops",
        "--cluster",
        CLUSTER,
    ])?;
    assert!(table.stdout.contains("ongoing"), "{}", table.stdout);
    Ok(())
}

fn event_keys(records: &[Value]) -> Vec<&str> {
    records.iter().map(|r| field(r, "eventKey")).collect()
}

fn assert_newest_first(records: &[Value], attribute: &str) {
    let times: Vec<&str> = records.iter().map(|r| field(r, attribute)).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "not newest first by {attribute}");
}

fn task_lifecycle_in_version_order(stack: &Stack) -> TestResult {
    // WHEN a task is asked for by its ARN (its region comes from the ARN)
    let arn = stack.task_arn(stack.first_region(), TASK_OOM);
    let records = stack
        .ecs_audit(&["--env", "local", "task", &arn, "--output", "json"])?
        .records()?;
    // THEN its versions come in order although v4 arrived before v3, and twice
    let statuses: Vec<&str> = records.iter().map(|r| field(r, "lastStatus")).collect();
    assert_eq!(statuses, ["PROVISIONING", "PENDING", "RUNNING", "STOPPED"]);
    assert_eq!(records[3]["version"], 4);
    assert_eq!(field(&records[3], "exitCodes"), "app=137");
    assert_eq!(field(&records[3], "failure"), "EssentialContainerExited");
    assert_eq!(field(&records[3], "region"), stack.first_region());
    // AND the full item is there, containers and reasons included
    assert_eq!(
        records[3]["containers"][0]["reason"],
        "OutOfMemoryError: Container killed due to memory usage"
    );
    Ok(())
}

fn short_task_ids_where_unambiguous(stack: &Stack) -> TestResult {
    let arn = stack.task_arn(stack.first_region(), TASK_OOM);
    // WHEN the id is given with --cluster, or as <cluster>/<id>, or shortened
    for args in [
        vec!["task", TASK_OOM, "--cluster", CLUSTER],
        vec!["task", &format!("{CLUSTER}/{TASK_OOM}")],
        vec!["task", "c4d5", "--cluster", CLUSTER],
    ]
    .iter()
    .map(|args| args.iter().map(|a| a.to_string()).collect::<Vec<String>>())
    {
        let mut full: Vec<&str> = vec!["--env", "local", "--all-regions", "--output", "json"];
        full.extend(args.iter().map(String::as_str));
        let run = stack.ecs_audit(&full)?;
        let records = run.records()?;
        // THEN the one task it names is found
        let expected = if args[1] == "c4d5" {
            stack.task_arn(stack.first_region(), TASK_PULL)
        } else {
            arn.clone()
        };
        assert!(!records.is_empty(), "{args:?}: {}", run.stderr);
        assert!(
            records.iter().all(|r| field(r, "resourceArn") == expected),
            "{args:?}"
        );
        assert!(run.stderr.contains(&expected), "{}", run.stderr);
    }

    // WHEN the id is ambiguous THEN the candidates are named and nothing is guessed
    let run = stack.ecs_audit(&["--env", "local", "task", "7f3e", "--cluster", CLUSTER])?;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("ambiguous"), "{}", run.stderr);
    assert!(run.stderr.contains(TASK_OOM) && run.stderr.contains(TASK_SPOT));
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    // WHEN a bare id comes without a cluster THEN the ARN or --cluster is asked for
    let run = stack.ecs_audit(&["--env", "local", "task", "7f3e0c1d"])?;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("full task ARN") && run.stderr.contains("--cluster"),
        "{}",
        run.stderr
    );

    // WHEN no task matches THEN it says so and how to widen the search
    let run = stack.ecs_audit(&["--env", "local", "task", "ffff", "--cluster", CLUSTER])?;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("widen --since"), "{}", run.stderr);
    Ok(())
}

fn cluster_events_newest_first(stack: &Stack) -> TestResult {
    // WHEN a cluster's last two hours are asked for in the first region
    let region = stack.first_region();
    let records = stack
        .ecs_audit(&[
            "--env", "local", "--region", region, "cluster", CLUSTER, "--since", "2h", "--output",
            "json",
        ])?
        .records()?;
    // THEN every event of the window comes, newest first, and the three-day-old one does not
    assert_eq!(records.len(), FIRST_REGION_EVENTS, "{records:#?}");
    assert_newest_first(&records, "eventTime");
    assert!(
        records
            .iter()
            .all(|r| !field(r, "resourceArn").ends_with(TASK_OLD))
    );
    // AND the full items were read back (the index copies no reasons)
    assert!(
        records
            .iter()
            .any(|r| field(r, "stoppedReason").contains("CannotPullContainerError"))
    );

    // WHEN --until closes the window and --limit keeps the newest
    let records = stack
        .ecs_audit(&[
            "--env",
            "local",
            "--region",
            region,
            "cluster",
            CLUSTER,
            "--since",
            &stack.ago(100),
            "--until",
            &stack.ago(90),
            "--output",
            "json",
        ])?
        .records()?;
    // (the deployment, the OOM task's RUNNING, the Spot task's RUNNING; the OOM task's
    // PROVISIONING and PENDING in this window are in its history only)
    let arns: Vec<&str> = records.iter().map(|r| field(r, "resourceArn")).collect();
    assert_eq!(records.len(), 3, "{arns:?}");
    let newest = stack
        .ecs_audit(&[
            "--env", "local", "--region", region, "--limit", "2", "cluster", CLUSTER, "--since",
            "2h", "--output", "json",
        ])?
        .records()?;
    assert_eq!(newest.len(), 2);
    assert!(
        newest[0]["eventName"] == "SERVICE_TASK_PLACEMENT_FAILURE"
            || newest[0]["family"] == "report"
    );
    Ok(())
}

fn cluster_failures(stack: &Stack) -> TestResult {
    // WHEN only failures are asked for
    let records = stack
        .ecs_audit(&[
            "--env",
            "local",
            "cluster",
            CLUSTER,
            "--since",
            "2h",
            "--failures",
            "--output",
            "json",
        ])?
        .records()?;
    // THEN the primary region's four failures come, newest first, each explained
    assert_eq!(records.len(), FIRST_REGION_FAILURES, "{records:#?}");
    assert_newest_first(&records, "failedAt");
    let failures: Vec<&str> = records.iter().map(|r| field(r, "failure")).collect();
    assert_eq!(
        failures,
        [
            "SERVICE_TASK_PLACEMENT_FAILURE",
            "TaskFailedToStart",
            "SpotInterruption",
            "EssentialContainerExited"
        ]
    );
    assert_eq!(field(&records[0], "reason"), "RESOURCE:MEMORY");
    Ok(())
}

fn all_regions_merge_by_time(stack: &Stack) -> TestResult {
    // WHEN every region of the environment is asked at once
    let records = stack
        .ecs_audit(&[
            "--env",
            "local",
            "--all-regions",
            "cluster",
            CLUSTER,
            "--since",
            "2h",
            "--output",
            "json",
        ])?
        .records()?;
    // THEN both regions' events come, merged newest first
    assert_eq!(records.len(), FIRST_REGION_EVENTS + SECOND_REGION_EVENTS);
    assert_newest_first(&records, "eventTime");
    let regions: Vec<&str> = records.iter().map(|r| field(r, "region")).collect();
    assert_eq!(
        regions[0],
        stack.second_region(),
        "the newest event is the second region's"
    );
    assert_eq!(
        regions
            .iter()
            .filter(|r| **r == stack.first_region())
            .count(),
        FIRST_REGION_EVENTS
    );

    let failures = stack
        .ecs_audit(&[
            "--env",
            "local",
            "--all-regions",
            "cluster",
            CLUSTER,
            "--since",
            "2h",
            "--failures",
            "--output",
            "json",
        ])?
        .records()?;
    assert_eq!(
        failures.len(),
        FIRST_REGION_FAILURES + SECOND_REGION_FAILURES
    );
    assert_newest_first(&failures, "failedAt");
    assert_eq!(field(&failures[0], "region"), stack.second_region());
    assert_eq!(field(&failures[0], "exitCodes"), "app=1");
    Ok(())
}

fn service_events(stack: &Stack) -> TestResult {
    // WHEN a service's events are asked for
    let service = format!("{CLUSTER}/web");
    let records = stack
        .ecs_audit(&[
            "--env",
            "local",
            "--region",
            stack.first_region(),
            "service",
            &service,
            "--since",
            "1d",
            "--output",
            "json",
        ])?
        .records()?;
    // THEN its tasks, actions and deployments come, newest first, and only its own
    assert_eq!(records.len(), WEB_EVENTS, "{records:#?}");
    assert_newest_first(&records, "eventTime");
    assert!(records.iter().all(|r| field(r, "serviceKey") == service));
    let kinds: std::collections::BTreeSet<&str> =
        records.iter().map(|r| field(r, "detailType")).collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");

    // WHEN the service is named without its cluster THEN the message says how to name it
    let run = stack.ecs_audit(&["--env", "local", "service", "web"])?;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("<cluster>/<service>"), "{}", run.stderr);
    Ok(())
}

fn definition_runs(stack: &Stack) -> TestResult {
    let ask = |definition: &str| {
        stack
            .ecs_audit(&[
                "--env",
                "local",
                "definition",
                definition,
                "--since",
                "7d",
                "--output",
                "json",
            ])
            .and_then(|run| run.records())
    };
    // WHEN a family's runs are asked for THEN each finished run comes once, newest first
    let report = ask("report")?;
    let ids: Vec<&str> = report.iter().map(|r| field(r, "resourceArn")).collect();
    assert_eq!(report.len(), 2, "{ids:?}");
    assert!(ids[0].ends_with(TASK_REPORT_13) && ids[1].ends_with(TASK_REPORT_12));
    assert_newest_first(&report, "stoppedAt");
    assert!(report.iter().all(|r| r["failure"].is_null()));
    // AND :rev keeps one revision
    let revision = ask("report:12")?;
    assert_eq!(revision.len(), 1);
    assert_eq!(field(&revision[0], "taskDefinition"), "report:12");
    // AND a service's family counts its stopped tasks only (not its RUNNING versions)
    let web = ask("web:42")?;
    assert_eq!(web.len(), 3, "{:?}", event_keys(&web));
    assert!(web.iter().all(|r| field(r, "lastStatus") == "STOPPED"));
    Ok(())
}

fn pagination_reads_every_page(stack: &Stack) -> TestResult {
    // WHEN pages hold two items each (more than one page per region)
    let base = [
        "--env",
        "local",
        "--all-regions",
        "cluster",
        CLUSTER,
        "--since",
        "2h",
        "--output",
        "json",
    ];
    let whole = stack.ecs_audit(&base)?.records()?;
    let mut paged_args = vec!["--page-size", "2", "-v"];
    paged_args.extend(base);
    let paged = stack.ecs_audit(&paged_args)?;
    println!("{}", paged.stderr);
    // THEN every page is read and the answer is the same
    assert_eq!(paged.records()?, whole);
    let first = format!("region {}: ", stack.first_region());
    let line = paged
        .stderr
        .lines()
        .find(|line| line.starts_with(&first))
        .ok_or_else(|| format!("no progress line for the first region: {}", paged.stderr))?;
    let pages: usize = line
        .split(", ")
        .find_map(|part| part.strip_suffix(" page(s)"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no page count in {line:?}"))?;
    assert!(pages >= FIRST_REGION_EVENTS / 2, "{line}");

    // AND a filtered query whose pages are mostly empty still finds its one run
    let revision = stack.ecs_audit(&[
        "--env",
        "local",
        "--page-size",
        "1",
        "-v",
        "definition",
        "report:13",
        "--since",
        "7d",
        "--output",
        "json",
    ])?;
    assert_eq!(revision.records()?.len(), 1, "{}", revision.stderr);

    // AND a task's history and the failures index page too
    let arn = stack.task_arn(stack.first_region(), TASK_OOM);
    let history = stack
        .ecs_audit(&[
            "--env",
            "local",
            "--page-size",
            "1",
            "task",
            &arn,
            "--output",
            "json",
        ])?
        .records()?;
    assert_eq!(history.len(), 4);
    let failures = stack
        .ecs_audit(&[
            "--env",
            "local",
            "--page-size",
            "1",
            "--all-regions",
            "cluster",
            CLUSTER,
            "--failures",
            "--since",
            "2h",
            "--output",
            "json",
        ])?
        .records()?;
    assert_eq!(
        failures.len(),
        FIRST_REGION_FAILURES + SECOND_REGION_FAILURES
    );
    Ok(())
}

fn human_table_marks_failures(stack: &Stack) -> TestResult {
    // WHEN the answer is for people
    let run = stack.ecs_audit(&[
        "--env",
        "local",
        "--all-regions",
        "cluster",
        CLUSTER,
        "--since",
        "2h",
    ])?;
    assert_eq!(run.code, 0, "{}", run.stderr);
    println!("{}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // THEN a header, one row per event, and a summary
    let header = lines.first().ok_or("no output")?;
    for column in [
        "TIME",
        "REGION",
        "CLUSTER",
        "SERVICE",
        "TASK",
        "STATUS",
        "STOP CODE",
        "EXIT CODES",
        "REASON",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let rows: Vec<&&str> = lines
        .iter()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .collect();
    assert_eq!(
        rows.len(),
        FIRST_REGION_EVENTS + SECOND_REGION_EVENTS,
        "{}",
        run.stdout
    );
    let failed: Vec<&&&str> = rows.iter().filter(|row| row.starts_with('✗')).collect();
    assert_eq!(
        failed.len(),
        FIRST_REGION_FAILURES + SECOND_REGION_FAILURES,
        "{}",
        run.stdout
    );
    let oom = rows
        .iter()
        .find(|row| row.contains(TASK_OOM) && row.contains("STOPPED"))
        .ok_or("no OOM row")?;
    assert!(oom.starts_with('✗'), "{oom}");
    for text in [
        "app=137",
        "EssentialContainerExited",
        "OutOfMemoryError",
        stack.first_region(),
        "web",
    ] {
        assert!(oom.contains(text), "{text} missing from {oom}");
    }
    let summary = lines.last().ok_or("no summary")?;
    assert!(
        summary.starts_with(&format!(
            "{} events, {} failures",
            FIRST_REGION_EVENTS + SECOND_REGION_EVENTS,
            FIRST_REGION_FAILURES + SECOND_REGION_FAILURES
        )),
        "{summary}"
    );

    // WHEN times are asked for in a local zone THEN they carry its offset
    let local = stack.ecs_audit_with_env(
        &[("TZ", "XYZ-3")],
        &[
            "--env",
            "local",
            "--region",
            stack.first_region(),
            "--tz",
            "local",
            "cluster",
            CLUSTER,
            "--since",
            "2h",
        ],
    )?;
    assert_eq!(local.code, 0, "{}", local.stderr);
    println!("{}", local.stdout);
    let first_row = local.stdout.lines().nth(1).unwrap_or_default();
    assert!(first_row.contains("+03:00"), "{}", local.stdout);
    Ok(())
}

fn table_not_found_in_a_region(stack: &Stack) -> TestResult {
    // WHEN the table does not exist in the region asked
    let run = stack.ecs_audit(&[
        "--table",
        "no-such-table",
        "--region",
        stack.first_region(),
        "cluster",
        CLUSTER,
    ])?;
    // THEN one line says which table, where, and what to check
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("\"no-such-table\" not found in region"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(stack.first_region()));
    Ok(())
}

/// The run failed with `code` and one line of stderr holding every one of `needles`.
fn assert_one_line_error(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(run.code, code, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?} in {}",
            run.stderr
        );
    }
}

#[test]
fn errors_without_aws_are_one_line_with_what_to_do() -> TestResult {
    // An unknown environment names the known ones
    let run = ecs_audit(None, true, &["--env", "stagin", "cluster", CLUSTER])?;
    assert_one_line_error(&run, 2, &["unknown environment \"stagin\"", "local"]);

    // A bad duration says what a good one looks like
    let run = ecs_audit(
        None,
        true,
        &["--env", "local", "cluster", CLUSTER, "--since", "2 hours"],
    )?;
    assert_one_line_error(&run, 2, &["bad --since value", "2h"]);

    // No credentials anywhere: says how to provide them, before any request is sent
    let env = local()?;
    let run = ecs_audit(
        Some("http://127.0.0.1:9"),
        false,
        &[
            "--env",
            "local",
            "--region",
            &env.regions[0],
            "cluster",
            CLUSTER,
        ],
    )?;
    assert_one_line_error(&run, 1, &["no AWS credentials found", "AWS_PROFILE"]);

    // --all-regions without an environment cannot know the regions
    let run = ecs_audit(
        None,
        true,
        &["--table", "t", "--all-regions", "cluster", CLUSTER],
    )?;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--all-regions needs --env"),
        "{}",
        run.stderr
    );
    Ok(())
}
