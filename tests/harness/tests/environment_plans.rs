//! What an environment would build, read from `terraform plan` JSON against moto server: the
//! per-region layout, and the global table, whose replicas moto never reports active (so an
//! apply would wait forever). Plus deletion protection, applied for real to one table.

use std::collections::{BTreeMap, BTreeSet};

use harness::local_env::{self, repo_root};
use harness::terraform::{module_region, planned_creates};
use harness::testkit::{built_lambda, local_vars};
use harness::{MotoServer, Terraform};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Planned resources of `kind`, by the module they belong to.
fn planned<'a>(plan: &'a Value, kind: &'a str) -> BTreeMap<String, &'a Value> {
    planned_creates(plan, kind)
        .map(|change| {
            (
                change["module_address"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                &change["change"]["after"],
            )
        })
        .collect()
}

async fn plan(
    global_table: bool,
) -> Result<(Value, local_env::LocalEnvironment), Box<dyn std::error::Error>> {
    let env = local_env::local()?;
    let moto = MotoServer::start().await?;
    let terraform = Terraform::new(repo_root().join("environments/local"))?;
    terraform.init().await?;
    let mut vars = local_vars(&moto.endpoint(), Some(&built_lambda("bootstrap.zip")?));
    vars["global_table"] = json!(global_table);
    let plan = terraform.plan_json(&vars).await?;
    terraform.cleanup().await?;
    Ok((plan, env))
}

#[tokio::test]
async fn per_region_tables_put_one_table_and_one_logger_in_every_region() -> TestResult {
    let (plan, env) = plan(false).await?;
    let tables = planned(&plan, "aws_dynamodb_table");
    let regions: BTreeSet<String> = tables.keys().map(|m| module_region(m)).collect();
    assert_eq!(
        regions,
        env.regions.iter().cloned().collect(),
        "{:?}",
        tables.keys()
    );
    assert!(
        tables.values().all(|t| t["replica"] == json!([])),
        "no replicas without global_table"
    );
    let functions = planned(&plan, "aws_lambda_function");
    let regions: BTreeSet<String> = functions.keys().map(|m| module_region(m)).collect();
    assert_eq!(regions, env.regions.iter().cloned().collect());
    for kind in [
        "aws_cloudwatch_event_rule",
        "aws_iam_role",
        "aws_cloudwatch_log_group",
    ] {
        assert_eq!(planned(&plan, kind).len(), env.regions.len(), "{kind}");
    }
    Ok(())
}

#[tokio::test]
async fn a_global_table_is_one_table_with_a_replica_in_every_other_region() -> TestResult {
    let (plan, env) = plan(true).await?;

    // THEN exactly one table, owned by the primary region's call
    let tables = planned(&plan, "aws_dynamodb_table");
    assert_eq!(tables.len(), 1, "{:?}", tables.keys());
    let (module, table) = tables.iter().next().ok_or("no table")?;
    assert_eq!(module_region(module), env.primary_region);
    assert_eq!(table["name"], json!(env.name));
    assert_eq!(
        table["stream_enabled"],
        json!(true),
        "replicas are fed by the stream"
    );
    assert_eq!(table["stream_view_type"], "NEW_AND_OLD_IMAGES");
    assert_eq!(table["billing_mode"], "PAY_PER_REQUEST");
    assert_eq!(table["ttl"][0]["enabled"], json!(true));
    assert_eq!(table["point_in_time_recovery"][0]["enabled"], json!(true));

    // AND a replica in every other region, created there (by that region's provider) with
    // point-in-time recovery and deletion protection of its own
    let replicas: BTreeMap<String, &Value> = planned(&plan, "aws_dynamodb_table_replica")
        .into_iter()
        .map(|(module, replica)| (module_region(&module), replica))
        .collect();
    let others: BTreeSet<String> = env
        .regions
        .iter()
        .filter(|r| **r != env.primary_region)
        .cloned()
        .collect();
    assert_eq!(replicas.keys().cloned().collect::<BTreeSet<_>>(), others);
    assert!(
        replicas
            .values()
            .all(|r| r["point_in_time_recovery"] == json!(true)
                && r["deletion_protection_enabled"] == json!(false)),
        "local turns deletion protection off: {replicas:?}"
    );
    assert_eq!(
        table["replica"],
        json!([]),
        "replicas are resources of their own, not blocks of the table"
    );

    // AND every region still has its own function, writing to the table by its name, which a
    // replica shares; the regional-logger module refuses (precondition) a table ARN of
    // another region, so a plan that passes points each function at its own replica.
    let functions = planned(&plan, "aws_lambda_function");
    assert_eq!(functions.len(), env.regions.len());
    for (module, function) in &functions {
        assert_eq!(
            function["environment"][0]["variables"]["TABLE_NAME"],
            json!(env.name),
            "{module}: {}",
            function["environment"]
        );
        assert!(
            function["description"]
                .as_str()
                .is_some_and(|d| d.ends_with(&env.name)),
            "{module}: {}",
            function["description"]
        );
    }
    let table_arn_inputs: Vec<&Value> = plan["configuration"]["root_module"]["module_calls"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.starts_with("region_"))
        .map(|(_, call)| &call["module"]["module_calls"]["logger"]["expressions"]["table_arn"])
        .collect();
    assert_eq!(table_arn_inputs.len(), env.regions.len());
    let wiring: Vec<&Value> = plan["configuration"]["root_module"]["module_calls"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, call)| &call["expressions"]["tables"]["references"])
        .collect();
    assert!(
        wiring
            .iter()
            .all(|refs| refs.to_string().contains("local.region_tables_wiring")),
        "{wiring:?}"
    );
    assert!(
        table_arn_inputs.iter().all(|input| input["references"]
            .to_string()
            .contains("var.tables.table_arn")),
        "{table_arn_inputs:?}"
    );
    Ok(())
}

const PROTECTED_TABLE_ROOT: &str = r#"
variable "endpoint" { type = string }
variable "region" { type = string }
variable "deletion_protection" { type = bool }

provider "aws" {
  region                      = var.region
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  endpoints {
    dynamodb = var.endpoint
    sts      = var.endpoint
  }
}

module "table" {
  source                 = "MODULE"
  name                   = "protected-audit"
  deletion_protection    = var.deletion_protection
  point_in_time_recovery = false
}
"#;

#[tokio::test]
async fn deletion_protection_stops_a_destroy_until_it_is_applied_off() -> TestResult {
    let moto = MotoServer::start().await?;
    let root = tempfile::tempdir()?;
    let module = repo_root().join("modules/audit-table");
    std::fs::write(
        root.path().join("main.tf"),
        PROTECTED_TABLE_ROOT.replace("MODULE", &module.display().to_string()),
    )?;
    let terraform = Terraform::new(root.path())?;
    let vars = |protected: bool| {
        json!({
            "endpoint": moto.endpoint(),
            "region": local_env::default_region(),
            "deletion_protection": protected,
        })
    };

    // GIVEN a protected table
    terraform.init().await?;
    terraform.apply(&vars(true)).await?;

    // WHEN it is destroyed, THEN DynamoDB refuses, saying why
    let refused = terraform
        .destroy(&vars(true))
        .await
        .err()
        .ok_or("a protected table was destroyed")?;
    assert!(
        refused.to_string().contains("DeletionProtectionEnabled"),
        "{refused}"
    );

    // AND the documented override (apply with protection off, then destroy) works
    terraform.apply(&vars(false)).await?;
    terraform.destroy(&vars(false)).await?;
    terraform.cleanup().await?;
    Ok(())
}
