//! Least privilege, read from what Terraform would build and from what it did build.
//!
//! Each region's function may only put items into its own table, write its own log group's
//! streams and send to its own on-failure queue — plus X-Ray writes when tracing is Active
//! and the customer key through DynamoDB and SQS when one is set. No wildcard actions, no
//! `NotAction`/`NotResource`, no resource outside its own, no other policy on its role, and
//! the rule's permission to invoke is limited to that rule's ARN.
//!
//! - From `terraform plan` JSON of `environments/local` (against moto): the policy document's
//!   statements as planned; ARNs not known before apply are resolved through the module's
//!   configuration (which resource the statement references).
//! - From the applied policy (`-target` the role policies, then `aws iam get-role-policy`):
//!   every ARN concrete.
//!
//! Needs `make build` first (the plan hashes the package).

use std::collections::BTreeSet;

use harness::MotoServer;
use harness::local_env::{self, LocalEnvironment, repo_root};
use harness::testkit::{self, TargetedApply, aws_cli, built_lambda, local_vars, logger_module};
use serde_json::{Value, json};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[path = "iam_policy/rule.rs"]
mod rule;
use rule::*;
// The rule's own test: it refuses what it should.
#[path = "iam_policy/rule_can_fail.rs"]
mod rule_can_fail;

// ---------------------------------------------------------------------------- the plan

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn is_set(value: &Value) -> bool {
    !matches!(value, Value::Null) && value.as_array().is_none_or(|list| !list.is_empty())
}

fn references(expression: &Value) -> BTreeSet<String> {
    strings(&expression["references"]).into_iter().collect()
}

/// The logger module's configuration (shared by every region's call), found by following
/// the address's module calls (`module.a.module.b`) from the root.
fn module_config<'a>(plan: &'a Value, module: &str) -> &'a Value {
    module
        .split("module.")
        .map(|call| call.trim_end_matches('.'))
        .filter(|call| !call.is_empty())
        .fold(&plan["configuration"]["root_module"], |config, call| {
            &config["module_calls"][call]["module"]
        })
}

/// A module's planned state, found by following its address's parents (`module.a`, then
/// `module.a.module.b`) from the root.
fn state_module<'a>(root: &'a Value, module: &str) -> Option<&'a Value> {
    if root["address"] == module {
        return Some(root);
    }
    root["child_modules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|child| {
            child["address"].as_str().is_some_and(|address| {
                module == address || module.starts_with(&format!("{address}."))
            })
        })
        .find_map(|child| state_module(child, module))
}

fn config_resource<'a>(plan: &'a Value, module: &str, address: &str) -> &'a Value {
    module_config(plan, module)["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|resource| resource["address"] == address)
        .unwrap_or(&Value::Null)
}

/// The policy document's statements as planned, unknown resources resolved to the
/// references of the statement (same sid) in the configuration.
fn planned_statements(plan: &Value, module: &str) -> Result<Vec<Statement>, String> {
    let address = format!("{module}.data.aws_iam_policy_document.this");
    let (after, unknown) = match plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|change| change["address"] == address)
    {
        Some(change) => (
            change["change"]["after"].clone(),
            change["change"]["after_unknown"].clone(),
        ),
        // Read at plan time: every value known.
        None => {
            let in_state = state_module(&plan["prior_state"]["values"]["root_module"], module)
                .into_iter()
                .flat_map(|child| child["resources"].as_array().into_iter().flatten())
                .find(|resource| resource["address"] == address)
                .ok_or_else(|| format!("no {address} in the plan"))?;
            (in_state["values"].clone(), json!({}))
        }
    };
    let configured = config_resource(plan, module, "data.aws_iam_policy_document.this")
        ["expressions"]["statement"]
        .clone();
    let mut statements = Vec::new();
    for (n, planned) in after["statement"]
        .as_array()
        .ok_or_else(|| format!("{address}: no statements: {after}"))?
        .iter()
        .enumerate()
    {
        let sid = planned["sid"].as_str().unwrap_or_default().to_owned();
        let unknown = &unknown["statement"][n];
        let from_config = || -> Result<Resource, String> {
            let statement = configured
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["sid"]["constant_value"] == sid.as_str())
                .ok_or_else(|| format!("{address}: statement {sid:?} is unknown until apply and not in the configuration"))?;
            Ok(Resource::Refs(references(&statement["resources"])))
        };
        let resources = if unknown["resources"] == json!(true) {
            vec![from_config()?]
        } else {
            planned["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, resource)| match resource.as_str() {
                    Some(arn) if unknown["resources"][i] != json!(true) => {
                        Ok(Resource::Known(arn.to_owned()))
                    }
                    _ => from_config(),
                })
                .collect::<Result<_, _>>()?
        };
        statements.push(Statement {
            sid,
            effect: planned["effect"].as_str().map(str::to_owned),
            actions: strings(&planned["actions"]),
            resources,
            not_actions: is_set(&planned["not_actions"]),
            not_resources: is_set(&planned["not_resources"]),
            principals: is_set(&planned["principals"]) || is_set(&planned["not_principals"]),
            conditions: planned["condition"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        c["variable"].as_str().unwrap_or_default().to_owned(),
                        strings(&c["values"]),
                    )
                })
                .collect(),
        });
    }
    Ok(statements)
}

/// What is wrong with the wiring around the policy: which role it is on, which role the
/// function runs with, what else could grant that role something, and who may invoke.
fn check_wiring(plan: &Value, module: &str, own: &Own) -> Vec<String> {
    let mut problems = Vec::new();
    let expect_refs =
        |address: &str, attribute: &str, expected: &[&str], problems: &mut Vec<String>| {
            let found =
                references(&config_resource(plan, module, address)["expressions"][attribute]);
            if found != refs(expected) {
                problems.push(format!(
                    "{module}.{address}.{attribute} refers to {found:?}, expected {expected:?}"
                ));
            }
        };
    expect_refs(
        "aws_iam_role_policy.this",
        "policy",
        &[
            "data.aws_iam_policy_document.this.json",
            "data.aws_iam_policy_document.this",
        ],
        &mut problems,
    );
    expect_refs(
        "aws_iam_role_policy.this",
        "role",
        &["aws_iam_role.this.id", "aws_iam_role.this"],
        &mut problems,
    );
    expect_refs(
        "aws_lambda_function.this",
        "role",
        &["aws_iam_role.this.arn", "aws_iam_role.this"],
        &mut problems,
    );
    // The permission to invoke: EventBridge, for this rule only.
    expect_refs(
        "aws_lambda_permission.this",
        "source_arn",
        &[
            "aws_cloudwatch_event_rule.this.arn",
            "aws_cloudwatch_event_rule.this",
        ],
        &mut problems,
    );
    expect_refs(
        "aws_lambda_permission.this",
        "function_name",
        &[
            "aws_lambda_function.this.function_name",
            "aws_lambda_function.this",
        ],
        &mut problems,
    );
    // And EventBridge, for the crash-loop sweep's schedule only.
    expect_refs(
        "aws_lambda_permission.sweep",
        "source_arn",
        &[
            "aws_cloudwatch_event_rule.sweep.arn",
            "aws_cloudwatch_event_rule.sweep",
        ],
        &mut problems,
    );
    let permission = &config_resource(plan, module, "aws_lambda_permission.this")["expressions"];
    if permission["principal"]["constant_value"] != "events.amazonaws.com"
        || permission["action"]["constant_value"] != "lambda:InvokeFunction"
    {
        problems.push(format!("{module}: lambda permission {permission}"));
    }
    // The on-failure destination is the queue the policy lets the function send to.
    let invoke_config = &config_resource(
        plan,
        module,
        "aws_lambda_function_event_invoke_config.this",
    )["expressions"];
    let destination =
        references(&invoke_config["destination_config"][0]["on_failure"][0]["destination"]);
    if destination
        != refs(&[
            "aws_sqs_queue.failed_events.arn",
            "aws_sqs_queue.failed_events",
        ])
    {
        problems.push(format!("{module}: on-failure destination {destination:?}"));
    }
    // The role gets nothing besides the one inline policy.
    let role = &config_resource(plan, module, "aws_iam_role.this")["expressions"];
    for attribute in ["managed_policy_arns", "inline_policy"] {
        if !role[attribute].is_null() {
            problems.push(format!("{module}: the role sets {attribute}"));
        }
    }
    let planned = |kind: &str| -> Vec<&Value> {
        plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|change| change["module_address"] == module && change["type"] == kind)
            .collect()
    };
    for (kind, count) in [
        ("aws_iam_role", 1),
        ("aws_iam_role_policy", 1),
        // The rule's and the crash-loop sweep's.
        ("aws_lambda_permission", 2),
    ] {
        if planned(kind).len() != count {
            problems.push(format!(
                "{module}: {} {kind}, expected {count}",
                planned(kind).len()
            ));
        }
    }
    // Its own log group and queue are the ones named after the function.
    let named = |kind: &str, expected: String, problems: &mut Vec<String>| {
        let names: Vec<&Value> = planned(kind)
            .into_iter()
            .filter(|change| change["name"] == "this" || change["name"] == "failed_events")
            .map(|change| &change["change"]["after"]["name"])
            .collect();
        if names != [&json!(expected)] {
            problems.push(format!(
                "{module}: {kind} named {names:?}, expected {expected}"
            ));
        }
    };
    named(
        "aws_cloudwatch_log_group",
        format!("/aws/lambda/{}", own.name),
        &mut problems,
    );
    named(
        "aws_sqs_queue",
        format!("{}-failed-events", own.name),
        &mut problems,
    );
    problems
}

/// Resource kinds that would attach more permissions to some role.
const OTHER_GRANTS: &[&str] = &[
    "aws_iam_policy",
    "aws_iam_policy_attachment",
    "aws_iam_role_policy_attachment",
    "aws_iam_role_policies_exclusive",
    "aws_iam_role_policy_attachments_exclusive",
];

async fn plan(vars: Value) -> TestResult<(Value, LocalEnvironment)> {
    let env = local_env::local()?;
    let moto = MotoServer::options().recording(false).start().await?;
    let terraform = testkit::terraform(repo_root().join("environments/local"))?;
    terraform.init().await?;
    let mut all = local_vars(&moto.endpoint(), Some(&built_lambda("bootstrap.zip")?));
    if let (Some(all), Some(extra)) = (all.as_object_mut(), vars.as_object()) {
        all.extend(extra.clone());
    }
    let plan = terraform.plan_json(&all).await;
    terraform.cleanup().await?;
    Ok((plan?, env))
}

/// Checks every function of the plan; `kms_key` gives a region's customer key, if any.
fn check_plan(
    plan: &Value,
    env: &LocalEnvironment,
    tracing: bool,
    kms_key: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let functions: BTreeSet<String> = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|change| change["type"] == "aws_lambda_function")
        .map(|change| {
            change["module_address"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let loggers: BTreeSet<String> = env.regions.iter().map(|r| logger_module(r)).collect();
    if functions != loggers {
        problems.push(format!(
            "functions in {functions:?}, expected one per region {loggers:?}"
        ));
    }
    for change in plan["resource_changes"].as_array().into_iter().flatten() {
        if OTHER_GRANTS.contains(&change["type"].as_str().unwrap_or_default()) {
            problems.push(format!("{} grants more", change["address"]));
        }
    }
    for region in &env.regions {
        let module = logger_module(region);
        let own = Own {
            region: region.clone(),
            name: env.name.clone(),
            tracing,
            kms_key: kms_key(region),
            log_streams: None,
            queue_arn: None,
        };
        match planned_statements(plan, &module) {
            Ok(statements) => problems.extend(check_statements(&statements, &own)),
            Err(problem) => problems.push(problem),
        }
        problems.extend(check_wiring(plan, &module, &own));
    }
    problems
}

#[tokio::test]
async fn each_function_may_only_write_its_own_table_logs_and_failure_queue() -> TestResult {
    // GIVEN the plan of environments/local with the defaults (no tracing, AWS-owned keys)
    let (plan, env) = plan(json!({})).await?;

    // THEN every function's policy is the three statements on its own resources, its role has
    // nothing else, and only its own rule may invoke it
    let problems = check_plan(&plan, &env, false, |_| None);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    Ok(())
}

#[tokio::test]
async fn tracing_and_a_customer_key_add_only_their_own_statements() -> TestResult {
    // GIVEN tracing Active and a customer key per region
    let env = local_env::local()?;
    let key = |region: &str| {
        format!("arn:aws:kms:{region}:123456789012:key/5e1f0c2d-0000-4000-8000-00000000c0de")
    };
    let keys: serde_json::Map<String, Value> = env
        .regions
        .iter()
        .map(|r| (r.clone(), json!(key(r))))
        .collect();
    let (plan, env) = plan(json!({"tracing_mode": "Active", "kms_key_arns": keys})).await?;

    // THEN the X-Ray statement ("*", the only resource X-Ray accepts) and the key statement
    // (its own region's key, through DynamoDB and SQS only) are added, and nothing else
    let problems = check_plan(&plan, &env, true, |region| Some(key(region)));
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    Ok(())
}

// ---------------------------------------------------------------------------- the applied policy

/// An IAM policy document's statements.
fn document_statements(document: &Value) -> Vec<Statement> {
    let list = match &document["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    list.iter()
        .map(|s| Statement {
            sid: s["Sid"].as_str().unwrap_or_default().to_owned(),
            effect: s["Effect"].as_str().map(str::to_owned),
            actions: strings(&s["Action"]),
            resources: strings(&s["Resource"])
                .into_iter()
                .map(Resource::Known)
                .collect(),
            not_actions: !s["NotAction"].is_null(),
            not_resources: !s["NotResource"].is_null(),
            principals: !s["Principal"].is_null() || !s["NotPrincipal"].is_null(),
            conditions: s["Condition"]
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(_, tests)| tests.as_object().into_iter().flatten())
                .map(|(variable, values)| (variable.clone(), strings(values)))
                .collect(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applied_role_policy_names_only_the_functions_own_resources() -> TestResult {
    let env = local_env::local()?;
    let moto = MotoServer::options().recording(false).start().await?;
    let endpoint = moto.endpoint();

    // GIVEN every region's role and policy applied (with what they refer to)
    let policies: Vec<String> = env
        .regions
        .iter()
        .map(|region| format!("{}.aws_iam_role_policy.this", logger_module(region)))
        .collect();
    let _applied = TargetedApply::local(
        &local_vars(&endpoint, Some(&built_lambda("bootstrap.zip")?)),
        &policies,
    )
    .await?;

    // THEN each role has exactly the one inline policy, and it names only its own resources
    let mut problems = Vec::new();
    for region in &env.regions {
        let role = format!("{}-{region}", env.name);
        let attached = aws_cli(
            &endpoint,
            region,
            &["iam", "list-attached-role-policies", "--role-name", &role],
        )?;
        if attached["AttachedPolicies"]
            .as_array()
            .is_none_or(|list| !list.is_empty())
        {
            problems.push(format!("{role}: attached policies {attached}"));
        }
        let inline = aws_cli(
            &endpoint,
            region,
            &["iam", "list-role-policies", "--role-name", &role],
        )?;
        if inline["PolicyNames"] != json!(["ecs-state-logger"]) {
            problems.push(format!("{role}: inline policies {inline}"));
        }
        let policy = aws_cli(
            &endpoint,
            region,
            &[
                "iam",
                "get-role-policy",
                "--role-name",
                &role,
                "--policy-name",
                "ecs-state-logger",
            ],
        )?;
        let document = match &policy["PolicyDocument"] {
            Value::String(text) => serde_json::from_str(text)?,
            other => other.clone(),
        };
        let table = aws_cli(
            &endpoint,
            region,
            &["dynamodb", "describe-table", "--table-name", &env.name],
        )?;
        let table_arn = table["Table"]["TableArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let account = table_arn.split(':').nth(4).unwrap_or_default().to_owned();
        let queue_url = aws_cli(
            &endpoint,
            region,
            &[
                "sqs",
                "get-queue-url",
                "--queue-name",
                &format!("{}-failed-events", env.name),
            ],
        )?;
        let queue = aws_cli(
            &endpoint,
            region,
            &[
                "sqs",
                "get-queue-attributes",
                "--queue-url",
                queue_url["QueueUrl"].as_str().unwrap_or_default(),
                "--attribute-names",
                "QueueArn",
            ],
        )?;
        let own = Own {
            region: region.clone(),
            name: env.name.clone(),
            tracing: false,
            kms_key: None,
            log_streams: Some(format!(
                "arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{}:log-stream:*",
                env.name
            )),
            queue_arn: queue["Attributes"]["QueueArn"].as_str().map(str::to_owned),
        };
        let statements = document_statements(&document);
        if statements.iter().any(|s| {
            s.resources
                .iter()
                .any(|r| matches!(r, Resource::Known(arn) if arn.starts_with("arn:aws:dynamodb:") && *arn != table_arn))
        }) {
            problems.push(format!("{role}: a table other than {table_arn}"));
        }
        problems.extend(check_statements(&statements, &own));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    Ok(())
}
