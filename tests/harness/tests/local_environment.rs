//! Black box: `environments/local` applied by Terraform to moto server in every region of its
//! list, the built `bootstrap` run over the Lambda Runtime API in each region, every access
//! pattern answered by a Query, a DynamoDB outage survived, and `terraform destroy` leaving
//! nothing behind. Needs `make build` first (`make test` does it).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use ecs_audit_core::contract::{self, Queue};
use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
use harness::local_env::{self, LocalEnvironment, repo_root};
use harness::testkit::{
    LambdaUnderTest, aws_cli, built_lambda, dynamodb_client, item_count, local_vars,
};
use harness::{MotoServer, RuntimeApiConfig, Terraform};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[path = "local_environment/checks.rs"]
mod checks;
use checks::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_environment_records_every_event_once_per_region_and_destroys_cleanly() -> TestResult
{
    let package = built_lambda("bootstrap.zip")?;
    let LocalEnvironment { name, regions, .. } = local_env::local()?;
    assert!(
        regions.len() >= 2,
        "environments/local should list two regions: {regions:?}"
    );
    let (home, away) = (regions[0].clone(), regions[1].clone());
    let mut moto = MotoServer::start_with(MotoServer::options().recording(true)).await?;
    let endpoint = moto.endpoint();

    // GIVEN environments/local applied to the local AWS API
    let terraform = Terraform::new(repo_root().join("environments/local"))?;
    let vars = local_vars(&endpoint, Some(&package));
    terraform.init().await?;
    terraform.apply(&vars).await?;
    let outputs = terraform.output_json().await?;
    let by_region = &outputs["regions"]["value"];

    // THEN every region has its own table, function, rule, log group, queues and role
    for region in &regions {
        let out = &by_region[region];
        assert_eq!(out["table_name"], json!(name), "{out}");
        assert!(
            out["table_arn"]
                .as_str()
                .is_some_and(|arn| arn.contains(&format!(":{region}:"))),
            "{out}"
        );
        assert!(
            out["console_url"]
                .as_str()
                .is_some_and(|url| url.contains(&format!("region={region}"))),
            "{out}"
        );
        let found = inventory(&endpoint, region, &name)?;
        for expected in [
            format!("table {name}"),
            format!("function {name}"),
            format!("rule {name}"),
            format!("log group /aws/lambda/{name}"),
            format!("role {name}-{region}"),
        ] {
            assert!(
                found.contains(&expected),
                "{region}: no {expected} in {found:?}"
            );
        }
        assert_eq!(
            found.iter().filter(|f| f.starts_with("queue ")).count(),
            2,
            "{found:?}"
        );
        // AND the queues have the names the CLI derives (core's contract), and both take the
        // largest event, though the provider creates them smaller
        for (queue, url) in [
            (Queue::FailedEvents, &out["failed_events_queue_url"]),
            (Queue::DeliveryDlq, &out["delivery_dlq_url"]),
        ] {
            let queue = queue.name_for(&name)?;
            assert!(
                url.as_str()
                    .is_some_and(|url| url.ends_with(&format!("/{queue}"))),
                "{region}: {queue} is not the applied queue {url}"
            );
            assert_queue_takes_the_largest_event(&endpoint, region, &queue)?;
        }
        // AND its own alarm topic, which every alarm tells when it fires and when it clears
        assert!(
            found.contains(&format!("topic {name}-alarms")),
            "{region}: no alarm topic in {found:?}"
        );
        let topic = format!("arn:aws:sns:{region}:123456789012:{name}-alarms");
        let alarms = aws_cli(
            &endpoint,
            region,
            &[
                "cloudwatch",
                "describe-alarms",
                "--alarm-name-prefix",
                &name,
            ],
        )?;
        let alarms = alarms["MetricAlarms"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(alarms.len() >= 15, "{region}: only {} alarms", alarms.len());
        for alarm in &alarms {
            for actions in ["AlarmActions", "OKActions"] {
                assert_eq!(alarm[actions], json!([topic]), "{region}: {alarm}");
            }
        }
        // (conflicts, written with warnings, failed notifications)
        assert_eq!(
            found
                .iter()
                .filter(|f| f.starts_with("metric filter "))
                .count(),
            3,
            "{found:?}"
        );
        // AND its failures topic, apart from the alarms, which the function publishes to, and
        // the schedule that ends quiet crash loops
        for expected in [
            format!("topic {name}-failures"),
            format!("rule {name}-crash-loop-sweep"),
        ] {
            assert!(
                found.contains(&expected),
                "{region}: no {expected} in {found:?}"
            );
        }
        let client = dynamodb_client(&endpoint, region);
        let ttl = client
            .describe_time_to_live()
            .table_name(&name)
            .send()
            .await?;
        let ttl = ttl.time_to_live_description().ok_or("no TTL description")?;
        assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));
        let function = aws_cli(
            &endpoint,
            region,
            &[
                "lambda",
                "get-function-configuration",
                "--function-name",
                &name,
            ],
        )?;
        assert_eq!(function["Runtime"], "provided.al2023");
        assert_eq!(function["Handler"], "bootstrap");
        assert_eq!(function["MemorySize"], 128);
        // Deployed for the architecture whose bootstrap runs below (LAMBDA_ARCH).
        assert_eq!(
            function["Architectures"],
            json!([harness::Arch::from_env()?.name()])
        );
        assert_eq!(
            function["Environment"]["Variables"]["TABLE_NAME"],
            json!(name)
        );
        assert_eq!(
            function["Environment"]["Variables"]["FAILURES_TOPIC_ARN"],
            json!(format!("arn:aws:sns:{region}:123456789012:{name}-failures"))
        );
        let rule = aws_cli(
            &endpoint,
            region,
            &["events", "describe-rule", "--name", &name],
        )?;
        let pattern: Value = serde_json::from_str(rule["EventPattern"].as_str().unwrap_or("{}"))?;
        assert_eq!(pattern["source"], json!(["aws.ecs"]));
        // the rule delivers the contract's default detail-types, every one the core models
        assert_eq!(
            pattern["detail-type"],
            json!(contract::detail_types()?),
            "{pattern}"
        );
        let targets = aws_cli(
            &endpoint,
            region,
            &["events", "list-targets-by-rule", "--rule", &name],
        )?;
        assert_eq!(targets["Targets"][0]["Arn"], function["FunctionArn"]);
    }

    // AND the retention it accepts is the one the function and the CLI check
    assert_retention_bounds_are_the_functions(&terraform, &vars).await?;

    // WHEN each region's function runs the shipped bootstrap against its own table
    let home_fn = regional_function(&endpoint, &home, &name).await?;
    let away_fn = regional_function(&endpoint, &away, &name).await?;
    let home_db = dynamodb_client(&endpoint, &home);
    let away_db = dynamodb_client(&endpoint, &away);

    // THEN every documented event becomes one item, and a redelivery is a successful no-op
    let events = fixtures()?;
    assert!(events.len() >= 20, "only {} fixtures", events.len());
    for event in &events {
        assert_eq!(
            home_fn.record(in_region(event.clone(), &home)).await?,
            "written"
        );
    }
    assert_eq!(item_count(&home_db, &name).await?, events.len());
    for event in events.iter().rev() {
        assert_eq!(
            home_fn.record(in_region(event.clone(), &home)).await?,
            "duplicate"
        );
    }
    assert_eq!(item_count(&home_db, &name).await?, events.len());
    // AND the other region's table saw none of it
    assert_eq!(item_count(&away_db, &name).await?, 0);

    // AND a same-second burst of 20 tasks of one definition keeps all 20
    for n in 0..20 {
        let event = task_event(
            &away,
            "batch",
            &format!("{n:032x}"),
            1,
            "PROVISIONING",
            "2026-11-20T10:00:00.000Z",
        );
        assert_eq!(away_fn.record(event).await?, "written");
    }
    assert_eq!(item_count(&away_db, &name).await?, 20);

    // AND out-of-order versions read back in version order
    let task_id = "feedc0de00000000000000000000beef";
    for (version, status) in [
        (5, "STOPPED"),
        (2, "PENDING"),
        (4, "DEPROVISIONING"),
        (1, "PROVISIONING"),
        (3, "RUNNING"),
    ] {
        let time = format!("2026-11-20T11:00:0{version}.250Z");
        assert_eq!(
            away_fn
                .record(task_event(&away, "batch", task_id, version, status, &time))
                .await?,
            "written"
        );
    }
    let task_arn = format!("arn:aws:ecs:{away}:123456789012:task/batch/{task_id}");
    let lifecycle = away_db
        .query()
        .table_name(&name)
        .key_condition_expression("#pk = :arn")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .expression_attribute_values(":arn", AttributeValue::S(task_arn.clone()))
        .send()
        .await?;
    let statuses: Vec<String> = lifecycle
        .items()
        .iter()
        .map(|i| string(i, "lastStatus"))
        .collect();
    assert_eq!(
        statuses,
        [
            "PROVISIONING",
            "PENDING",
            "RUNNING",
            "DEPROVISIONING",
            "STOPPED"
        ]
    );
    assert_eq!(
        item_count(&home_db, &name).await?,
        events.len(),
        "the away region wrote to the home table"
    );

    // AND each access pattern is one Query over the fixtures in the home region
    // (a) one task's lifecycle, in version order
    let fargate_task = events
        .iter()
        .filter(|e| e["detail-type"] == "ECS Task State Change" && e["detail"]["version"] == 1)
        .map(|e| {
            e["detail"]["taskArn"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .next()
        .ok_or("no task fixture at version 1")?;
    let versions: Vec<String> = query_count(
        &home_db,
        &name,
        None,
        "#pk = :arn",
        &[(":arn", &fargate_task)],
    )
    .await?
    .iter()
    .map(|i| string(i, SORT_KEY))
    .collect();
    assert!(
        versions.len() >= 4 && versions.windows(2).all(|w| w[0] > w[1]),
        "{versions:?}"
    );
    // (b) a family's finished runs in a time range
    let runs = query_count(
        &home_db,
        &name,
        Some("family-stopped"),
        "family = :family AND stoppedAt BETWEEN :from AND :to",
        &[
            (":family", "web"),
            (":from", "2026-01-01T00:00:00Z"),
            (":to", "2026-12-31T23:59:59Z"),
        ],
    )
    .await?;
    assert!(
        !runs.is_empty() && runs.iter().all(|i| string(i, "lastStatus") == "STOPPED"),
        "{runs:?}"
    );
    // (c) a cluster's events, newest first
    let timeline = query_count(
        &home_db,
        &name,
        Some("cluster-time"),
        "cluster = :cluster AND eventTime >= :from",
        &[(":cluster", "prod"), (":from", "2026-01-01T00:00:00Z")],
    )
    .await?;
    let times: Vec<String> = timeline.iter().map(|i| string(i, "eventTime")).collect();
    assert!(
        times.len() >= 10 && times.windows(2).all(|w| w[0] >= w[1]),
        "{times:?}"
    );
    // (d) a cluster's failures
    let failures = query_count(
        &home_db,
        &name,
        Some("cluster-failures"),
        "cluster = :cluster AND failedAt >= :from",
        &[(":cluster", "prod"), (":from", "2026-01-01T00:00:00Z")],
    )
    .await?;
    let codes: BTreeSet<String> = failures.iter().map(|i| string(i, "failure")).collect();
    for expected in [
        "TaskFailedToStart",
        "SpotInterruption",
        "TaskFailedElbHealthChecks",
        "SERVICE_DEPLOYMENT_FAILED",
    ] {
        assert!(
            codes.contains(expected),
            "no {expected} among failures {codes:?}"
        );
    }
    // The failures index projects whole items, reasons included.
    assert!(
        failures.iter().all(|i| i.contains_key("eventId")),
        "{failures:?}"
    );
    assert!(
        failures.iter().any(|i| i.contains_key("stoppedReason")),
        "{failures:?}"
    );
    // (e) one service's actions, deployments and tasks
    let service = query_count(
        &home_db,
        &name,
        Some("service-time"),
        "serviceKey = :service AND eventTime >= :from",
        &[(":service", "prod/web"), (":from", "2026-01-01T00:00:00Z")],
    )
    .await?;
    let kinds: BTreeSet<String> = service.iter().map(|i| string(i, "detailType")).collect();
    assert_eq!(
        kinds,
        [
            "ECS Deployment State Change",
            "ECS Service Action",
            "ECS Task State Change"
        ]
        .map(str::to_owned)
        .into(),
    );

    // AND malformed events come back as errors naming the event, and the process lives on
    for (event, expected) in [
        (json!([1, 2, 3]), "<no id>"),
        (
            json!({"id": "no-detail-1", "source": "aws.ecs", "detail-type": "ECS Task State Change"}),
            "no-detail-1",
        ),
        (
            json!({"id": "ec2-1", "source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "time": "2026-11-20T10:00:00Z", "detail": {}}),
            "aws.ec2",
        ),
    ] {
        let invocation = home_fn.invoke(event).await;
        assert_eq!(
            invocation.error_type(),
            Some("BadEvent"),
            "{:?}",
            invocation.outcome
        );
        let message = format!("{:?}", invocation.outcome);
        assert!(message.contains(expected), "{message}");
    }
    assert!(
        home_fn.process().is_running(),
        "{}",
        home_fn.process().log_tail(20)
    );

    // AND a DynamoDB outage is an error for each event meanwhile, and writes resume after it
    let late = task_event(
        &home,
        "prod",
        "0utage000000000000000000000000001",
        1,
        "PROVISIONING",
        "2026-11-20T12:00:00.000Z",
    );
    moto.kill()?;
    let during = home_fn.invoke(late.clone()).await;
    assert_eq!(
        during.error_type(),
        Some("StoreError"),
        "{:?}",
        during.outcome
    );
    assert!(
        home_fn.process().is_running(),
        "{}",
        home_fn.process().log_tail(20)
    );
    moto.restart().await?;
    assert_eq!(home_fn.record(late).await?, "written");
    assert_eq!(item_count(&home_db, &name).await?, events.len() + 1);
    let logs = home_fn.process().json_logs()?;
    let outcomes: BTreeSet<&str> = logs
        .iter()
        .filter_map(|l| l["fields"]["outcome"].as_str().or(l["outcome"].as_str()))
        .collect();
    for outcome in ["written", "duplicate", "rejected", "failed"] {
        assert!(
            outcomes.contains(outcome),
            "no {outcome} log line; outcomes {outcomes:?}"
        );
    }
    // AND the metric filters' selector (`{ $.a.b = "..." }`) addresses the outcome (or, for
    // failed notifications, the error type) in the lines the shipped binary really writes
    let filters = aws_cli(
        &endpoint,
        &home,
        &[
            "logs",
            "describe-metric-filters",
            "--log-group-name",
            &format!("/aws/lambda/{name}"),
        ],
    )?;
    for filter in filters["metricFilters"].as_array().into_iter().flatten() {
        let pattern = filter["filterPattern"].as_str().unwrap_or_default();
        let selector = pattern
            .trim_start_matches(['{', ' '])
            .strip_prefix("$.")
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or_else(|| format!("not a JSON pattern: {pattern}"))?;
        let addressed: BTreeSet<&str> = logs
            .iter()
            .filter_map(|line| {
                selector
                    .split('.')
                    .try_fold(line, |value, key| value.get(key))
                    .and_then(Value::as_str)
            })
            .collect();
        // The outcome's selector sees every recorded event; the error type's sees the
        // failures (here BadEvent and StoreError: NotifyError is logged in the same field).
        let expected = if selector == "fields.error_type" {
            "StoreError"
        } else {
            "written"
        };
        assert!(
            addressed.contains(expected),
            "{pattern} addresses none of the function's {selector} values: {addressed:?}"
        );
    }
    drop(home_fn);
    drop(away_fn);

    // WHEN the environment is destroyed
    terraform.destroy(&vars).await?;

    // THEN nothing it created is left in any region
    for region in &regions {
        let left = inventory(&endpoint, region, &name)?;
        assert!(left.is_empty(), "{region}: left behind {left:?}");
    }
    terraform.cleanup().await?;
    Ok(())
}
