//! The Terraform driver on a root with no providers (fast; no AWS provider, no registry).

use std::path::Path;

use harness::{Error, Terraform, terraform};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ROOT: &str = r#"
variable "greeting" {
  type = string
}

resource "terraform_data" "this" {
  input = var.greeting
}

output "greeting" {
  value = terraform_data.this.output
}
"#;

#[tokio::test]
async fn terraform_is_installed() -> TestResult {
    let version = terraform::version().await?;
    let v = version["terraform_version"].as_str().ok_or("no version")?;
    println!("terraform {v}");
    assert!(v.starts_with("1."), "{v}");
    Ok(())
}

#[tokio::test]
async fn runs_in_a_private_workspace_and_cleans_up() -> TestResult {
    // GIVEN a root module with a default-workspace state of the user's own
    let root = tempfile::tempdir()?;
    std::fs::write(root.path().join("main.tf"), ROOT)?;
    let tf = Terraform::new(root.path())?;
    let config = std::fs::read_to_string(tf.cli_config_path())?;
    if std::env::var_os("TF_PLUGIN_DIR").is_some_and(|d| !d.is_empty()) {
        assert!(config.contains("filesystem_mirror"), "{config}");
    }

    // WHEN it is initialised, planned, applied and read
    tf.init().await?;
    let plan = tf.plan_json(&json!({"greeting": "hello"})).await?;
    let changes = plan["resource_changes"].as_array().ok_or("no changes")?;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["change"]["actions"], json!(["create"]));
    tf.apply(&json!({"greeting": "hello"})).await?;
    let outputs = tf.output_json().await?;
    assert_eq!(outputs["greeting"]["value"], "hello");

    // THEN its state lives in its own workspace, not in the default one or the root's .terraform
    let ws_state = root
        .path()
        .join("terraform.tfstate.d")
        .join(tf.workspace())
        .join("terraform.tfstate");
    assert!(ws_state.is_file(), "no state at {}", ws_state.display());
    assert!(!root.path().join("terraform.tfstate").exists());
    assert!(!root.path().join(".terraform").exists());

    // AND failures carry terraform's own message
    let err = tf
        .apply(&json!({}))
        .await
        .err()
        .ok_or("applied without a required variable")?;
    assert!(matches!(err, Error::Terraform { .. }), "{err:?}");
    assert!(err.to_string().contains("greeting"), "{err}");

    // AND cleanup destroys and removes the workspace
    tf.cleanup().await?;
    assert!(!workspace_dir(root.path(), tf.workspace()).exists());
    Ok(())
}

fn workspace_dir(root: &Path, workspace: &str) -> std::path::PathBuf {
    root.join("terraform.tfstate.d").join(workspace)
}
