//! Nothing is lost without someone being told, read from the `terraform plan` JSON of every
//! environment (`local`, `dev`, `prd`) against moto server: every alarm notifies its region's
//! topic when it fires and when it clears, every way an event can be lost has an alarm in
//! every region, `dev` and `prd` refuse to plan without a notification target, replicas are
//! protected, and the functions have reserved concurrency.
//!
//! `dev` and `prd` keep their state in S3; they are planned in a scratch copy of their folder
//! (same relative layout, so links and module sources resolve) with a local backend override.
//! Needs `make build` first (the plan hashes the package).

use std::collections::{BTreeMap, BTreeSet};

use ecs_audit_core::environment::Environment;
use ecs_audit_core::schema::indexes as table_indexes;
use harness::local_env::{self, LocalEnvironment, repo_root};
use harness::terraform::{module_region, planned_creates};
use harness::testkit::{self, built_lambda};
use harness::{MotoServer, Terraform};
use serde_json::{Value, json};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The line `dev` and `prd` refuse to plan with when nobody would be told of an alarm.
const NO_TARGET: &str = "Nobody would be told of an alarm: set \"notification_emails\"";

/// What CloudWatch evaluates at most: a silence alarm's period cannot be longer.
const ONE_DAY: u64 = 86_400;

/// `environments/<env>` copied into a scratch directory next to links to the real `shared/`
/// and `modules/`, with its S3 backend overridden by a local one.
fn scratch_environment(env: &str) -> TestResult<tempfile::TempDir> {
    let root = repo_root();
    let scratch = tempfile::Builder::new().prefix("env-plan-").tempdir()?;
    let environments = scratch.path().join("environments");
    let dir = environments.join(env);
    std::fs::create_dir_all(&dir)?;
    for entry in std::fs::read_dir(root.join("environments").join(env))? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, dir.join(&name))?;
        } else if kind.is_file() && !name.to_string_lossy().starts_with("terraform.tfstate") {
            std::fs::copy(entry.path(), dir.join(&name))?;
        }
    }
    std::os::unix::fs::symlink(
        root.join("environments/shared"),
        environments.join("shared"),
    )?;
    std::os::unix::fs::symlink(root.join("modules"), scratch.path().join("modules"))?;
    std::fs::write(
        dir.join("backend_override.tf"),
        "terraform {\n  backend \"local\" {}\n}\n",
    )?;
    Ok(scratch)
}

/// An environment ready to plan against moto: its scratch copy and its driver.
struct Planned {
    env: LocalEnvironment,
    terraform: Terraform,
    moto: MotoServer,
    _scratch: tempfile::TempDir,
}

impl Planned {
    async fn init(env: &str) -> TestResult<Self> {
        let scratch = scratch_environment(env)?;
        let terraform = testkit::terraform(scratch.path().join("environments").join(env))?;
        terraform.init().await?;
        Ok(Planned {
            env: local_env::environment(env)?,
            terraform,
            moto: MotoServer::options().recording(false).start().await?,
            _scratch: scratch,
        })
    }

    /// The plan with `extra` variables on top of the endpoint and the built package.
    async fn plan(&self, extra: Value) -> TestResult<Value> {
        let mut vars = json!({
            "aws_endpoint_url": self.moto.endpoint(),
            "package_path": built_lambda("bootstrap.zip")?.display().to_string(),
        });
        if let (Some(vars), Some(extra)) = (vars.as_object_mut(), extra.as_object()) {
            vars.extend(extra.clone());
        }
        Ok(self.terraform.plan_json(&vars).await?)
    }

    /// Every key of the environment's terraform.tfvars.json, as the loader reads it.
    fn tfvars(&self, env: &str) -> TestResult<Value> {
        let loaded = Environment::load(&repo_root().join("environments"), env)?;
        Ok(Value::Object(loaded.settings))
    }
}

/// A planned resource: where it is, and its planned values (unknown ones in `unknown`).
struct Change<'a> {
    module: String,
    address: &'a str,
    after: &'a Value,
    unknown: &'a Value,
}

fn changes<'a>(plan: &'a Value, kind: &'a str) -> Vec<Change<'a>> {
    planned_creates(plan, kind)
        .map(|change| Change {
            module: change["module_address"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            address: change["address"].as_str().unwrap_or_default(),
            after: &change["change"]["after"],
            unknown: &change["change"]["after_unknown"],
        })
        .collect()
}

/// An alarm's region: its module's (a replication latency alarm lives with the table, in the
/// primary region, and names the replica's region as a dimension).
fn alarm_region(alarm: &Change) -> String {
    module_region(&alarm.module)
}

fn dimensions(alarm: &Value) -> BTreeMap<String, String> {
    alarm["dimensions"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// One way an event can be lost or go unrecorded in a region, as the metric that shows it.
struct LossPath {
    what: String,
    namespace: String,
    metric: String,
    dimensions: BTreeMap<String, String>,
    /// The silence alarm fires on the absence of a metric, the others on its presence.
    absence: bool,
}

fn path(what: &str, namespace: &str, metric: &str, dims: &[(&str, &str)]) -> LossPath {
    LossPath {
        what: what.to_owned(),
        namespace: namespace.to_owned(),
        metric: metric.to_owned(),
        dimensions: dims
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        absence: false,
    }
}

/// The single list: every loss path of one region (`silence` unless opted out; replication
/// latency to each replica when the region holds the global table).
fn loss_paths(
    plan: &Value,
    name: &str,
    region: &str,
    silence: bool,
    replicas: &[String],
) -> Vec<LossPath> {
    let function = [("FunctionName", name)];
    let rule = [("RuleName", name)];
    let failed_events = format!("{name}-failed-events");
    let delivery_dlq = format!("{name}-delivery-dlq");
    let mut paths = vec![
        path("function errors", "AWS/Lambda", "Errors", &function),
        path("function throttles", "AWS/Lambda", "Throttles", &function),
        path(
            "failed events not delivered to their queue",
            "AWS/Lambda",
            "DestinationDeliveryFailures",
            &function,
        ),
        path(
            "rule failed invocations",
            "AWS/Events",
            "FailedInvocations",
            &rule,
        ),
        path(
            "rule sent events to its dead-letter queue",
            "AWS/Events",
            "DeadLetterInvocations",
            &rule,
        ),
        path(
            "rule failed to send to its dead-letter queue",
            "AWS/Events",
            "InvocationsFailedToBeSentToDlq",
            &rule,
        ),
        path(
            "failed events waiting",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            &[("QueueName", &failed_events)],
        ),
        path(
            "undelivered events waiting",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            &[("QueueName", &delivery_dlq)],
        ),
        path(
            "failed events growing old",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            &[("QueueName", &failed_events)],
        ),
        path(
            "undelivered events growing old",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            &[("QueueName", &delivery_dlq)],
        ),
        path(
            "table write throttles",
            "AWS/DynamoDB",
            "WriteThrottleEvents",
            &[("TableName", name)],
        ),
    ];
    for index in table_indexes() {
        paths.push(path(
            &format!("index {} write throttles", index.name),
            "AWS/DynamoDB",
            "WriteThrottleEvents",
            &[
                ("TableName", name),
                ("GlobalSecondaryIndexName", index.name),
            ],
        ));
    }
    // The function's own outcomes, counted from its log lines by the region's metric filters.
    for outcome in ["conflict", "written_with_warnings"] {
        let filter = changes(plan, "aws_cloudwatch_log_metric_filter")
            .into_iter()
            .filter(|f| module_region(&f.module) == region)
            .find(|f| {
                f.after["pattern"].as_str()
                    == Some(&format!("{{ $.fields.outcome = \"{outcome}\" }}"))
            });
        let (namespace, metric) = filter
            .map(|f| {
                let metric = &f.after["metric_transformation"][0];
                (
                    metric["namespace"].as_str().unwrap_or_default().to_owned(),
                    metric["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .unwrap_or_else(|| ("no metric filter".into(), format!("for {outcome}")));
        paths.push(path(
            &format!("{outcome} outcomes"),
            &namespace,
            &metric,
            &[],
        ));
    }
    if silence {
        let mut silent = path(
            "a region that stops delivering",
            "AWS/Lambda",
            "Invocations",
            &function,
        );
        silent.absence = true;
        paths.push(silent);
    }
    for replica in replicas {
        paths.push(path(
            &format!("replication to {replica} lagging"),
            "AWS/DynamoDB",
            "ReplicationLatency",
            &[("TableName", name), ("ReceivingRegion", replica)],
        ));
    }
    paths
}

/// Problems with the alarms of `plan`: a loss path of a region without an alarm there, and
/// an alarm that does not notify `topic(region)` when it fires and when it clears.
fn alarm_problems(
    plan: &Value,
    env: &LocalEnvironment,
    global: bool,
    silent_regions: &BTreeSet<String>,
    topic: impl Fn(&str, &Change) -> Result<(), String>,
) -> Vec<String> {
    let alarms = changes(plan, "aws_cloudwatch_metric_alarm");
    let mut problems = Vec::new();
    for region in &env.regions {
        let holds_table = !global || *region == env.primary_region;
        let replicas: Vec<String> = if global && holds_table {
            env.regions
                .iter()
                .filter(|r| **r != env.primary_region)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let here: Vec<&Change> = alarms
            .iter()
            .filter(|a| alarm_region(a) == *region)
            .collect();
        let silence = !silent_regions.contains(region);
        for path in loss_paths(plan, &env.name, region, silence, &replicas) {
            let found = here.iter().find(|alarm| {
                alarm.after["namespace"] == json!(path.namespace)
                    && alarm.after["metric_name"] == json!(path.metric)
                    && dimensions(alarm.after) == path.dimensions
            });
            match found {
                None => problems.push(format!("{region}: no alarm on {}", path.what)),
                Some(alarm) if path.absence => {
                    let after = alarm.after;
                    if after["comparison_operator"] != "LessThanThreshold"
                        || after["treat_missing_data"] != "breaching"
                        || after["period"].as_u64().is_none_or(|p| p > ONE_DAY)
                    {
                        problems.push(format!(
                            "{}: a silence alarm must fire below its threshold, on missing data, within a day: {after}",
                            alarm.address
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        if !silence && here.iter().any(|a| a.after["metric_name"] == "Invocations") {
            problems.push(format!("{region}: silence alarm despite the opt-out"));
        }
    }
    for alarm in &alarms {
        if let Err(problem) = topic(&alarm_region(alarm), alarm) {
            problems.push(format!("{}: {problem}", alarm.address));
        }
    }
    problems
}

/// Every alarm's alarm and OK actions are exactly `[arn]`.
fn notifies(alarm: &Change, arn: &str) -> Result<(), String> {
    for actions in ["alarm_actions", "ok_actions"] {
        if alarm.after[actions] != json!([arn]) {
            return Err(format!(
                "{actions} {} instead of [{arn}]",
                alarm.after[actions]
            ));
        }
    }
    Ok(())
}

/// Every alarm's alarm and OK actions are not known before apply (the ARN of a topic the
/// module creates; a set with an unknown element is unknown as a whole), in a module that
/// creates one topic. The local environment's apply checks the ARNs themselves.
fn notifies_a_created_topic(plan: &Value, alarm: &Change) -> Result<(), String> {
    for actions in ["alarm_actions", "ok_actions"] {
        if alarm.unknown[actions] != json!(true) && alarm.unknown[actions] != json!([true]) {
            return Err(format!(
                "{actions} {} / unknown {}: not one topic",
                alarm.after[actions], alarm.unknown[actions]
            ));
        }
    }
    // The alarm topic (each region also has its failures topic, which no alarm tells).
    let topics = changes(plan, "aws_sns_topic")
        .into_iter()
        .filter(|t| module_region(&t.module) == alarm_region(alarm) && is_alarm_topic(t))
        .count();
    if topics != 1 {
        return Err(format!("{topics} topics in its region"));
    }
    Ok(())
}

fn is_alarm_topic(topic: &Change) -> bool {
    topic.after["name"]
        .as_str()
        .is_some_and(|name| name.ends_with("-alarms"))
}

fn topic_arn(region: &str) -> String {
    format!("arn:aws:sns:{region}:123456789012:audit-alarms")
}

fn silent_regions(tfvars: &Value) -> BTreeSet<String> {
    tfvars["silence_alarm_off_regions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn prd_alarms_cover_every_loss_path_and_notify_the_regions_topic() -> TestResult {
    // GIVEN prd planned with an existing topic for every region
    let prd = Planned::init("prd").await?;
    let tfvars = prd.tfvars("prd")?;
    let topics: BTreeMap<&str, String> = prd
        .env
        .regions
        .iter()
        .map(|r| (r.as_str(), topic_arn(r)))
        .collect();
    let ceiling = 4000;
    let plan = prd
        .plan(json!({"alarm_sns_topic_arns": topics, "max_write_request_units": ceiling}))
        .await?;

    // THEN every loss path of every region has an alarm, and every alarm tells that region's
    // topic when it fires and when it clears (replication alarms: the table's region)
    let global = tfvars["global_table"] == json!(true);
    assert!(global, "prd is a global table");
    let problems = alarm_problems(
        &plan,
        &prd.env,
        global,
        &silent_regions(&tfvars),
        |region, alarm| notifies(alarm, &topic_arn(region)),
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    // AND no topic of its own is created when one is given
    assert!(!changes(&plan, "aws_sns_topic").iter().any(is_alarm_topic));

    // AND every replica is protected from deletion and recoverable to a point in time
    let replicas: BTreeMap<String, &Value> = changes(&plan, "aws_dynamodb_table_replica")
        .into_iter()
        .map(|r| (module_region(&r.module), r.after))
        .collect();
    let others: BTreeSet<String> = prd
        .env
        .regions
        .iter()
        .filter(|r| **r != prd.env.primary_region)
        .cloned()
        .collect();
    assert_eq!(replicas.keys().cloned().collect::<BTreeSet<_>>(), others);
    for (region, replica) in &replicas {
        assert_eq!(
            replica["deletion_protection_enabled"],
            json!(true),
            "{region}"
        );
        assert_eq!(replica["point_in_time_recovery"], json!(true), "{region}");
    }

    // AND every function has reserved concurrency
    assert_reserved_concurrency(&plan, &prd.env)?;

    // AND the optional cost ceiling reaches the table and every index
    for table in changes(&plan, "aws_dynamodb_table") {
        let ceiling = json!([{"max_write_request_units": ceiling}]);
        assert_eq!(
            table.after["on_demand_throughput"], ceiling,
            "{}",
            table.address
        );
        let indexes = table.after["global_secondary_index"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(indexes.len(), table_indexes().len());
        for index in indexes {
            assert_eq!(index["on_demand_throughput"], ceiling, "{}", index["name"]);
        }
    }
    prd.terraform.cleanup().await?;
    Ok(())
}

fn assert_reserved_concurrency(plan: &Value, env: &LocalEnvironment) -> TestResult {
    let functions = changes(plan, "aws_lambda_function");
    assert_eq!(functions.len(), env.regions.len());
    for function in functions {
        let reserved = function.after["reserved_concurrent_executions"]
            .as_i64()
            .ok_or("no reserved_concurrent_executions")?;
        assert!(reserved >= 1, "{}: {reserved}", function.address);
    }
    Ok(())
}

#[tokio::test]
async fn dev_alarms_notify_a_topic_of_each_region_with_the_addresses_subscribed() -> TestResult {
    // GIVEN dev planned with an address to notify (no existing topic)
    let dev = Planned::init("dev").await?;
    let tfvars = dev.tfvars("dev")?;
    let address = "oncall@example.com";
    let plan = dev.plan(json!({"notification_emails": [address]})).await?;

    // THEN each region gets a topic with the address subscribed, and every alarm tells it
    let subscriptions = changes(&plan, "aws_sns_topic_subscription");
    assert_eq!(subscriptions.len(), dev.env.regions.len());
    assert!(
        subscriptions
            .iter()
            .all(|s| s.after["protocol"] == "email" && s.after["endpoint"] == address)
    );
    let global = tfvars["global_table"] == json!(true);
    let problems = alarm_problems(
        &plan,
        &dev.env,
        global,
        &silent_regions(&tfvars),
        |_, alarm| notifies_a_created_topic(&plan, alarm),
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert_reserved_concurrency(&plan, &dev.env)?;
    dev.terraform.cleanup().await?;
    Ok(())
}

#[tokio::test]
async fn local_alarms_cover_every_loss_path_and_notify_its_own_topics() -> TestResult {
    // GIVEN local planned as the tests deploy it: no address, a topic per region all the same
    let local = Planned::init("local").await?;
    let tfvars = local.tfvars("local")?;
    let plan = local.plan(json!({})).await?;
    let problems = alarm_problems(
        &plan,
        &local.env,
        false,
        &silent_regions(&tfvars),
        |_, alarm| notifies_a_created_topic(&plan, alarm),
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    // AND a region opted out of the silence alarm has none, the others keep theirs
    let quiet = &local.env.regions[1];
    let plan = local
        .plan(json!({"silence_alarm_off_regions": [quiet]}))
        .await?;
    let problems = alarm_problems(
        &plan,
        &local.env,
        false,
        &BTreeSet::from([quiet.clone()]),
        |_, alarm| notifies_a_created_topic(&plan, alarm),
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    local.terraform.cleanup().await?;
    Ok(())
}

#[tokio::test]
async fn dev_and_prd_refuse_to_plan_without_a_notification_target() -> TestResult {
    for env in ["dev", "prd"] {
        let planned = Planned::init(env).await?;
        let refused = planned
            .plan(json!({}))
            .await
            .err()
            .ok_or_else(|| format!("{env} planned without a notification target"))?;
        let message = refused.to_string();
        assert!(message.contains(NO_TARGET), "{env}: {message}");
        // A topic for only some regions is still not enough.
        let first = &planned.env.regions[0];
        let partial = json!({"alarm_sns_topic_arns": {first.as_str(): topic_arn(first)}});
        let refused = planned.plan(partial).await.err();
        assert!(
            refused.is_some_and(|e| e.to_string().contains(NO_TARGET)),
            "{env} planned with a topic for {first} only"
        );
        planned.terraform.cleanup().await?;
    }
    Ok(())
}

#[test]
fn the_loss_path_check_fails_without_an_alarm_or_an_action() {
    // A plan with one region's logger and no alarms at all.
    let env = LocalEnvironment {
        name: "audit".into(),
        regions: vec!["xx-test-1".into()],
        primary_region: "xx-test-1".into(),
    };
    let alarm = |metric: &str, dims: Value, actions: Value| {
        json!({
            "type": "aws_cloudwatch_metric_alarm",
            "address": format!("module.logger_xx_test_1.aws_cloudwatch_metric_alarm.this[\"{metric}\"]"),
            "module_address": "module.logger_xx_test_1",
            "change": {"actions": ["create"], "after": {
                "namespace": "AWS/Lambda", "metric_name": metric, "dimensions": dims,
                "alarm_actions": actions, "ok_actions": actions,
            }, "after_unknown": {}},
        })
    };
    let plan = json!({"resource_changes": [
        alarm("Errors", json!({"FunctionName": "audit"}), json!([])),
    ]});
    let problems = alarm_problems(&plan, &env, false, &BTreeSet::new(), |region, alarm| {
        notifies(alarm, &topic_arn(region))
    });
    assert!(
        problems
            .iter()
            .any(|p| p.contains("no alarm on function throttles")),
        "{problems:?}"
    );
    assert!(
        !problems
            .iter()
            .any(|p| p.contains("no alarm on function errors")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("alarm_actions [] instead of")),
        "{problems:?}"
    );
}
