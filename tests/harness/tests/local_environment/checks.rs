//! What the black-box test of environments/local reads and asserts: each region's inventory, queue sizes, events, the retention bounds the module accepts.

use super::*;

/// What the environment created in one region, by the names it gave them.
pub(crate) fn inventory(
    endpoint: &str,
    region: &str,
    name: &str,
) -> harness::Result<BTreeSet<String>> {
    // The `field` of each element of the list `list` in the `aws` CLI's answer to `args`
    // (the element itself where `field` is empty: queue URLs and table names are bare).
    let names = |args: &[&str], list: &str, field: &str| -> harness::Result<Vec<String>> {
        let answer = aws_cli(endpoint, region, args)?;
        Ok(answer[list]
            .as_array()
            .into_iter()
            .flatten()
            .map(|element| {
                let value = if field.is_empty() {
                    element
                } else {
                    &element[field]
                };
                value.as_str().unwrap_or_default().to_owned()
            })
            .collect())
    };
    let log_group = format!("/aws/lambda/{name}");
    let listings: [(&str, &[&str], &str, &str); 7] = [
        ("table", &["dynamodb", "list-tables"], "TableNames", ""),
        (
            "function",
            &["lambda", "list-functions"],
            "Functions",
            "FunctionName",
        ),
        (
            "rule",
            &["events", "list-rules", "--name-prefix", name],
            "Rules",
            "Name",
        ),
        (
            "log group",
            &[
                "logs",
                "describe-log-groups",
                "--log-group-name-prefix",
                "/aws/lambda/",
            ],
            "logGroups",
            "logGroupName",
        ),
        (
            "queue",
            &["sqs", "list-queues", "--queue-name-prefix", name],
            "QueueUrls",
            "",
        ),
        (
            "alarm",
            &["cloudwatch", "describe-alarms", "--alarm-name-prefix", name],
            "MetricAlarms",
            "AlarmName",
        ),
        (
            "metric filter",
            &[
                "logs",
                "describe-metric-filters",
                "--log-group-name",
                &log_group,
            ],
            "metricFilters",
            "filterName",
        ),
    ];
    let mut found = BTreeSet::new();
    for (kind, args, list, field) in listings {
        for found_name in names(args, list, field)? {
            found.insert(format!("{kind} {found_name}"));
        }
    }
    for arn in names(&["sns", "list-topics"], "Topics", "TopicArn")? {
        if let Some(topic_name) = arn.rsplit(':').next().filter(|t| t.starts_with(name)) {
            found.insert(format!("topic {topic_name}"));
        }
    }
    // IAM is global: the region in each role's name tells the environment's roles apart.
    for role_name in names(&["iam", "list-roles"], "Roles", "RoleName")? {
        if role_name == format!("{name}-{region}") {
            found.insert(format!("role {role_name}"));
        }
    }
    Ok(found)
}

/// What SQS, EventBridge and asynchronous Lambda allow a message or event to be (1 MiB).
pub(crate) const LARGEST_MESSAGE: u64 = 1_048_576;

/// A message of 1,000,000 bytes: above the provider's 262,144 cap, below SQS's 1 MiB.
pub(crate) const LARGE_MESSAGE_BYTES: usize = 1_000_000;

/// One attribute of the queue at `url`, as SQS reports it (a string).
pub(crate) fn queue_attribute(
    endpoint: &str,
    region: &str,
    url: &str,
    name: &str,
) -> harness::Result<Value> {
    let attributes = aws_cli(
        endpoint,
        region,
        &[
            "sqs",
            "get-queue-attributes",
            "--queue-url",
            url,
            "--attribute-names",
            name,
        ],
    )?;
    Ok(attributes["Attributes"][name].clone())
}

/// `queue` reports a `MaximumMessageSize` of 1 MiB and takes a 1,000,000-byte message, which is
/// then purged so the queue is empty again.
pub(crate) fn assert_queue_takes_the_largest_event(
    endpoint: &str,
    region: &str,
    queue: &str,
) -> TestResult {
    let url = aws_cli(
        endpoint,
        region,
        &["sqs", "get-queue-url", "--queue-name", queue],
    )?;
    let url = url["QueueUrl"]
        .as_str()
        .ok_or_else(|| format!("{region}: no URL for {queue}: {url}"))?
        .to_owned();
    assert_eq!(
        queue_attribute(endpoint, region, &url, "MaximumMessageSize")?,
        json!(LARGEST_MESSAGE.to_string()),
        "{region}: {queue}"
    );
    // The body goes through a file: 1 MB is more than one command-line argument may be.
    let body = tempfile::NamedTempFile::new()?;
    std::fs::write(body.path(), "x".repeat(LARGE_MESSAGE_BYTES))?;
    let sent = aws_cli(
        endpoint,
        region,
        &[
            "sqs",
            "send-message",
            "--queue-url",
            &url,
            "--message-body",
            &format!("file://{}", body.path().display()),
        ],
    )?;
    assert!(
        sent["MessageId"].is_string(),
        "{region}: {queue} refused a {LARGE_MESSAGE_BYTES}-byte message: {sent}"
    );
    aws_cli(
        endpoint,
        region,
        &["sqs", "purge-queue", "--queue-url", &url],
    )?;
    assert_eq!(
        queue_attribute(endpoint, region, &url, "ApproximateNumberOfMessages")?,
        json!("0"),
        "{region}: {queue} kept the test message"
    );
    Ok(())
}

/// One region's logger: a Runtime API and the shipped `bootstrap` polling it.
pub(crate) async fn regional_function(
    endpoint: &str,
    region: &str,
    table: &str,
) -> harness::Result<LambdaUnderTest> {
    LambdaUnderTest::start(
        RuntimeApiConfig {
            region: region.to_owned(),
            timeout: Duration::from_secs(20),
            ..RuntimeApiConfig::default()
        },
        table,
        endpoint,
    )
    .await
}

pub(crate) fn fixtures() -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    Ok(
        harness::events::load(&[repo_root().join("tests/fixtures/events")])?
            .into_iter()
            .map(|source| source.event)
            .collect(),
    )
}

/// `event` as if ECS in `region` had sent it.
pub(crate) fn in_region(mut event: Value, region: &str) -> Value {
    event["region"] = json!(region);
    event
}

pub(crate) fn task_event(
    region: &str,
    cluster: &str,
    task_id: &str,
    version: u64,
    status: &str,
    time: &str,
) -> Value {
    let arn = |kind: &str, rest: &str| format!("arn:aws:ecs:{region}:123456789012:{kind}/{rest}");
    json!({
        "version": "0",
        "id": format!("{task_id}-v{version}"),
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": "123456789012",
        "time": format!("{}Z", &time[..19]),
        "region": region,
        "resources": [arn("task", &format!("{cluster}/{task_id}"))],
        "detail": {
            "taskArn": arn("task", &format!("{cluster}/{task_id}")),
            "clusterArn": arn("cluster", cluster),
            "taskDefinitionArn": arn("task-definition", "burst:3"),
            "group": "family:burst",
            "lastStatus": status,
            "desiredStatus": if status == "STOPPED" { "STOPPED" } else { "RUNNING" },
            "version": version,
            "updatedAt": time,
        }
    })
}

pub(crate) async fn query_count(
    client: &Client,
    table: &str,
    index: Option<&str>,
    key_condition: &str,
    values: &[(&str, &str)],
) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>, Box<dyn std::error::Error>> {
    let mut request = client
        .query()
        .table_name(table)
        .set_index_name(index.map(str::to_owned))
        .key_condition_expression(key_condition)
        .scan_index_forward(false);
    for (name, value) in values {
        request =
            request.expression_attribute_values(*name, AttributeValue::S((*value).to_owned()));
    }
    if key_condition.contains("#pk") {
        request = request.expression_attribute_names("#pk", PARTITION_KEY);
    }
    Ok(request.send().await?.items().to_vec())
}

pub(crate) fn string(
    item: &std::collections::HashMap<String, AttributeValue>,
    name: &str,
) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

/// The retention the environment accepts is the function's: Terraform refuses one day outside
/// each of core's bounds and plans each bound itself into the function's `RETENTION_DAYS`.
pub(crate) async fn assert_retention_bounds_are_the_functions(
    terraform: &Terraform,
    vars: &Value,
) -> TestResult {
    let bounds = contract::retention_days()?;
    let with_retention = |days: u32| {
        let mut vars = vars.clone();
        vars["retention_days"] = json!(days);
        vars
    };
    for days in [bounds.start() - 1, bounds.end() + 1] {
        match terraform.plan_json(&with_retention(days)).await {
            Ok(_) => return Err(format!("retention_days = {days} was accepted").into()),
            Err(error) => assert!(
                error.to_string().contains("retention_days"),
                "retention_days = {days}: {error}"
            ),
        }
    }
    for days in [*bounds.start(), *bounds.end()] {
        let plan = terraform.plan_json(&with_retention(days)).await?;
        let planned: Vec<&Value> = plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|change| change["type"] == "aws_lambda_function")
            .map(|change| &change["change"]["after"]["environment"][0]["variables"]["RETENTION_DAYS"])
            .collect();
        assert!(
            !planned.is_empty(),
            "retention_days = {days}: no function in the plan"
        );
        for value in planned {
            assert_eq!(value, &json!(days.to_string()), "retention_days = {days}");
        }
    }
    Ok(())
}
