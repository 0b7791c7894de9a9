//! Black-box tests of `ecs-audit why`: moto, the audit table applied with Terraform in two
//! regions, the documented fixtures (tests/fixtures/events) and the query scenario written
//! through the handler's own write path, and the built binary asked why each task ended.

mod support;

use harness::synthetic::demo_day::{DEMO_CLUSTER, demo_day};
use serde_json::Value;
use support::*;

/// The fixtures' tasks, by id (all in account 111122223333).
const OOM: &str = "workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a";
/// Another task of `workers/ingest` killed for memory ten minutes later (seeded from OOM).
const OOM_AGAIN: &str = "workers/9d8c7b6a5f4e4d3c8b2a1f0e9d8c0002";
const SCALED_IN: &str = "prod/5b2f6e0c8d7a4c1e9f3b2a1d0c9e8f7a";
const FAILED_TO_START: &str = "prod/7a9c1e3b5d7f4a2c8e0b6d4f2a8c6e4b";
const SPOT: &str = "prod/2e4d6f8a0c1b4e3d9a7c5e3b1d9f7a5c";
const ELB: &str = "prod/e1f3a5c7b9d24f6e8a0c1b3d5f7e9a1c";
const USER: &str = "prod/c3e5a7b9d1f34e6a8c0b2d4f6e8a0c2d";
const TERMINATED: &str = "workers/4b6d8f0a2c3e4a5b9d7f1e3c5a7b9d1f";
const RUN_TASK: &str = "batch/0d2f4a6c8e1b4d3f9a5c7e9b1d3f5a7c";

/// The fixture events, moved to `region` (every name of their own region in them replaced),
/// plus OOM_AGAIN.
fn fixture_events(region: &str) -> TestResult<Vec<Value>> {
    let dir = repo_root().join("tests/fixtures/events");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    let mut events = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)?;
        let own: Value = serde_json::from_str(&text)?;
        let text = text.replace(own["region"].as_str().ok_or("no region")?, region);
        if path.ends_with("task-ec2-oom-killed.json") {
            let again = text
                .replace(
                    "9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a",
                    "9d8c7b6a5f4e4d3c8b2a1f0e9d8c0002",
                )
                .replace("2026-03-03T02:41:08.775Z", "2026-03-03T02:51:08.775Z");
            let mut again: Value = serde_json::from_str(&again)?;
            again["id"] = Value::from("oom-again");
            events.push(again);
        }
        events.push(serde_json::from_str(&text)?);
    }
    Ok(events)
}

fn arn(region: &str, task: &str) -> String {
    format!("arn:aws:ecs:{region}:{ACCOUNT}:task/{task}")
}

/// `why <arn> --output json`, parsed.
fn why_json(stack: &Stack, arn: &str) -> TestResult<Value> {
    let run = stack.ecs_audit(&["--env", "local", "why", arn, "--output", "json"])?;
    if run.code != 0 {
        return Err(format!("why {arn}: exit {}: {}", run.code, run.stderr).into());
    }
    Ok(serde_json::from_str(&run.stdout)?)
}

#[tokio::test(flavor = "multi_thread")]
async fn why_answers_for_a_task_of_every_kind() -> TestResult {
    // GIVEN the table in two regions with the query scenario, and the documented fixtures
    // (a second out-of-memory kill of the same service added) in the second region
    let stack = Stack::start().await?;
    let region = stack.second_region().to_string();
    stack.record(&region, &fixture_events(&region)?).await?;

    every_kind_of_ending(&stack, &region)?;
    the_deployment_that_started_it(&stack, &region)?;
    the_same_way_count(&stack, &region)?;
    a_page_for_people(&stack, &region)?;
    ids_are_looked_up_in_every_region(&stack)?;
    bad_input_gets_a_clear_error(&stack, &region)?;
    the_report_links_each_failure_to_its_answer(&stack, &region)?;
    its_services_crash_loop(&stack, &region).await?;
    the_demo_days_memory_kill(&stack).await?;
    Ok(())
}

/// Is it still happening? The OOM task's service has a crash loop going on, as the function
/// records it: `why` shows it (JSON and page), and an ended loop of another service not.
async fn its_services_crash_loop(stack: &Stack, region: &str) -> TestResult {
    let stopped = chrono::DateTime::parse_from_rfc3339("2026-03-03T02:41:08.775Z")?;
    let minutes_ago = |at: chrono::DateTime<chrono::FixedOffset>| {
        (stack.now - at.with_timezone(&chrono::Utc)).num_minutes()
    };
    let start = minutes_ago(stopped) + 10;
    stack
        .save_episode_of(region, "workers", "ingest", (start, start - 12, None))
        .await?;
    stack
        .save_episode_of(
            region,
            "workers",
            "api",
            (start, start - 5, Some(start - 20)),
        )
        .await?;
    let answer = why_json(stack, &arn(region, OOM))?;
    let episodes = answer["crashLoopEpisodes"]
        .as_array()
        .ok_or("no episodes")?;
    assert_eq!(episodes.len(), 1, "{answer}");
    assert_eq!(episodes[0]["subject"]["name"], "ingest");
    assert!(episodes[0]["endedAt"].is_null(), "{answer}");
    let run = stack.ecs_audit(&["--env", "local", "why", &arn(region, OOM)])?;
    assert!(
        run.stdout.contains("Crash loop of ingest: since") && run.stdout.contains("still going on"),
        "{}",
        run.stdout
    );
    Ok(())
}

/// The HTML report's failures list gives each failed task's `why` command; run as written
/// (with the report's --env), it prints the same answer as `why <arn>`.
fn the_report_links_each_failure_to_its_answer(stack: &Stack, region: &str) -> TestResult {
    let run = stack.ecs_audit(&[
        "--env",
        "local",
        "--region",
        region,
        "report",
        "--cluster",
        "prod",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-06",
        "--html",
        "-",
    ])?;
    assert_eq!(run.code, 0, "{run:?}");
    let commands: Vec<&str> = run
        .stdout
        .split("<code class=\"why\">")
        .skip(1)
        .filter_map(|rest| rest.split("</code>").next())
        .collect();
    // one per failed task of cluster prod, among them: failed to start, Spot, ELB health checks
    for task in [FAILED_TO_START, SPOT, ELB] {
        assert!(
            commands
                .iter()
                .any(|command| command.contains(&format!(" why {task} "))),
            "no why command for {task}: {commands:?}"
        );
    }
    for command in commands {
        let mut args = vec!["--env", "local", "--output", "json"];
        args.extend(command.split(' ').skip(1));
        let run = stack.ecs_audit(&args)?;
        assert_eq!(run.code, 0, "{command}: {run:?}");
        let mut linked: Value = serde_json::from_str(&run.stdout)?;
        let task = linked["taskArn"].as_str().unwrap_or_default().to_string();
        let mut direct = why_json(stack, &task)?;
        // the linked command looks the id up first: one Query more
        for answer in [&mut linked, &mut direct] {
            answer.as_object_mut().map(|a| a.remove("queries"));
        }
        assert_eq!(linked, direct, "{command}");
    }
    Ok(())
}

/// `make demo`'s `why`: the day's out-of-memory kill, asked as the demo asks it.
async fn the_demo_days_memory_kill(stack: &Stack) -> TestResult {
    // GIVEN the demo's day (scripts/demo.sh replays the same generator) in both regions
    let day = demo_day(stack.now.timestamp(), DEMO_CLUSTER, &stack.env.regions[..2]);
    for region in &day.regions {
        let events: Vec<Value> = region
            .files
            .iter()
            .map(|(_, event)| event.clone())
            .collect();
        stack.record(&region.region, &events).await?;
    }
    // WHEN why is asked with the demo's <cluster>/<id prefix>, no region
    let task = &day.scenario["OOM_TASK"];
    let run = stack.ecs_audit(&["--env", "local", "why", task, "--output", "json"])?;
    assert_eq!(run.code, 0, "{run:?}");
    let answer: Value = serde_json::from_str(&run.stdout)?;
    // THEN the memory kill is explained, with the deployment that started it and its events
    assert_eq!(answer["region"], day.scenario["OOM_REGION"]);
    assert!(
        answer["ending"]["explanation"]
            .as_str()
            .unwrap()
            .starts_with("Out of memory"),
        "{answer}"
    );
    assert_eq!(answer["deployment"]["id"], "ecs-svc/2208765432109876543");
    assert_eq!(answer["deployment"]["outcome"], "COMPLETED", "{answer}");
    // AND the service's placement failure for memory right after the stop
    let actions = answer["aroundStop"]["actions"].to_string();
    assert!(
        actions.contains("SERVICE_TASK_PLACEMENT_FAILURE"),
        "{answer}"
    );
    assert!(actions.contains("RESOURCE:MEMORY"), "{answer}");
    Ok(())
}

fn every_kind_of_ending(stack: &Stack, region: &str) -> TestResult {
    // (task, ending kind, failure code or null)
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            OOM,
            "EssentialContainerExited ingest=137 xray-daemon=143",
            Some("EssentialContainerExited"),
        ),
        (SCALED_IN, "ServiceSchedulerInitiated", None),
        (
            FAILED_TO_START,
            "TaskFailedToStart",
            Some("TaskFailedToStart"),
        ),
        (SPOT, "SpotInterruption", Some("SpotInterruption")),
        (
            ELB,
            "TaskFailedElbHealthChecks",
            Some("TaskFailedElbHealthChecks"),
        ),
        (USER, "UserInitiated", None),
        (TERMINATED, "TerminationNotice", Some("TerminationNotice")),
        (RUN_TASK, "EssentialContainerExited", None),
    ];
    // every task of the fixtures gets an answer with its ending in words
    // (a daemon action names a task of which the fixtures hold no event: not asked)
    let mut tasks: Vec<String> = fixture_events(region)?
        .iter()
        .filter(|event| event["detail-type"] == "ECS Task State Change")
        .filter_map(|event| event["detail"]["taskArn"].as_str().map(str::to_string))
        .collect();
    tasks.sort();
    tasks.dedup();
    assert!(tasks.len() > cases.len(), "{tasks:?}");
    for task in &tasks {
        let answer = why_json(stack, task)?;
        assert!(
            !answer["ending"]["explanation"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    for (task, kind, failure) in cases {
        // WHEN why is asked with the task's ARN
        let answer = why_json(stack, &arn(region, task))?;
        // THEN its ending is named and explained, and its lifecycle is there
        assert_eq!(answer["ending"]["kind"], *kind, "{task}");
        assert_eq!(answer["ending"]["failure"].as_str(), *failure, "{task}");
        assert!(
            answer["ending"]["explanation"]
                .as_str()
                .unwrap_or_default()
                .len()
                > 20,
            "{task}: {answer}"
        );
        assert_eq!(answer["region"], region);
        assert!(
            !answer["lifecycle"].as_array().unwrap().is_empty(),
            "{task}"
        );
        // AND it cost one Query per part: history, deployment, service actions, same way,
        // crash loops (a standalone task has no deployment and no service)
        let queries = answer["queries"].as_u64().unwrap();
        let expected = if *task == RUN_TASK { 3 } else { 5 };
        assert_eq!(queries, expected, "{task}: {answer}");
        eprintln!("why {task}: {queries} Query page(s)");
    }
    Ok(())
}

fn the_deployment_that_started_it(stack: &Stack, region: &str) -> TestResult {
    // The rollout that failed: in progress, failed by the circuit breaker, rolled back
    let answer = why_json(stack, &arn(region, FAILED_TO_START))?;
    let deployment = &answer["deployment"];
    assert_eq!(deployment["id"], "ecs-svc/7301234567890123456");
    assert_eq!(deployment["outcome"], "ROLLED_BACK", "{deployment}");
    let names: Vec<&str> = deployment["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventName"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "SERVICE_DEPLOYMENT_FAILED",
            "SERVICE_DEPLOYMENT_IN_PROGRESS"
        ]
    );
    // AND what the service did around the stop: it could not start tasks
    let actions = answer["aroundStop"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{answer}");
    assert_eq!(actions[0]["eventName"], "SERVICE_TASK_START_IMPAIRED");

    // The scaled-in task's deployment completed
    let answer = why_json(stack, &arn(region, SCALED_IN))?;
    assert_eq!(answer["deployment"]["outcome"], "COMPLETED");
    assert_eq!(answer["deployment"]["events"].as_array().unwrap().len(), 2);
    // A standalone task was started by a rule, not a deployment, and says so
    let answer = why_json(stack, &arn(region, RUN_TASK))?;
    assert_eq!(answer.get("deployment"), None);
    assert!(
        answer["notes"][0]
            .as_str()
            .unwrap()
            .contains("events-rule/nightly-report")
    );
    Ok(())
}

fn the_same_way_count(stack: &Stack, region: &str) -> TestResult {
    // The memory kill: one other task of workers/ingest killed the same way ten minutes later
    let answer = why_json(stack, &arn(region, OOM))?;
    let same = &answer["sameWay"];
    assert_eq!(same["scope"], "service workers/ingest");
    assert_eq!(same["count"], 1, "{same}");
    assert_eq!(same["first"]["taskArn"], arn(region, OOM_AGAIN));
    assert_eq!(same["last"]["taskArn"], arn(region, OOM_AGAIN));
    // and seen from that one, the first
    let answer = why_json(stack, &arn(region, OOM_AGAIN))?;
    assert_eq!(answer["sameWay"]["first"]["taskArn"], arn(region, OOM));
    // AND its image (its only recorded event is the STOPPED one: no digest is made up)
    let ingest = &answer["containers"][0];
    assert_eq!(ingest["name"], "ingest");
    assert!(ingest["imageDigest"].is_null(), "{ingest}");
    // A different ending of another service counts nothing
    assert_eq!(why_json(stack, &arn(region, SPOT))?["sameWay"]["count"], 0);
    Ok(())
}

fn a_page_for_people(stack: &Stack, region: &str) -> TestResult {
    // a task recorded from start to stop: each container's digest, from its RUNNING event
    let run = stack.ecs_audit(&["--env", "local", "why", &arn(region, SCALED_IN)])?;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("digest sha256:3c4f9a0e"),
        "{}",
        run.stdout
    );

    let run = stack.ecs_audit(&["--env", "local", "why", &arn(region, OOM)])?;
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "How it ended: ✗ EssentialContainerExited",
        "Out of memory",
        "Deployment ecs-svc/2208765432109876543: no event of it recorded",
        "Ended the same way (EssentialContainerExited ingest=137 xray-daemon=143): 1 other task(s) of service workers/ingest",
        "(5 DynamoDB Query page(s))",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} not in\n{}",
            run.stdout
        );
    }
    Ok(())
}

fn ids_are_looked_up_in_every_region(stack: &Stack) -> TestResult {
    // WHEN a running task of the first region is named by <cluster>/<id prefix>, no region given
    let run = stack.ecs_audit(&[
        "--env",
        "local",
        "why",
        "prod/0000aaaa",
        "--since",
        "4d",
        "--output",
        "json",
    ])?;
    assert_eq!(run.code, 0, "{run:?}");
    let answer: Value = serde_json::from_str(&run.stdout)?;
    // THEN it is found, and what cannot be shown for a running task is said
    assert_eq!(
        answer["taskArn"],
        stack.task_arn(stack.first_region(), TASK_OLD)
    );
    assert_eq!(answer["ending"]["stopped"], false);
    assert_eq!(answer.get("sameWay"), None);
    assert!(
        answer["notes"].to_string().contains("has not stopped"),
        "{answer}"
    );
    // AND one of the second region, the same way
    let run = stack.ecs_audit(&["--env", "local", "why", "prod/b0b1b2", "--output", "json"])?;
    assert_eq!(run.code, 0, "{run:?}");
    let answer: Value = serde_json::from_str(&run.stdout)?;
    assert_eq!(answer["region"], stack.second_region());
    Ok(())
}

fn bad_input_gets_a_clear_error(stack: &Stack, region: &str) -> TestResult {
    let unknown = arn(region, "prod/ffffffffffffffffffffffffffffffff");
    let run = stack.ecs_audit(&["--env", "local", "why", &unknown])?;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no events of task"), "{}", run.stderr);
    for (args, says) in [
        (vec!["why", "7f3e0c1d"], "--cluster"),
        (vec!["why", "prod/7f3e", "--window", "soon"], "--window"),
        (
            vec!["why", "arn:aws:ecs:xx:1:service/prod/web"],
            "not a task ARN",
        ),
    ] {
        let mut all = vec!["--env", "local"];
        all.extend(args);
        let run = stack.ecs_audit(&all)?;
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    Ok(())
}
