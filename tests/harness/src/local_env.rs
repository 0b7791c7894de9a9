//! The `local` environment's settings, read from `environments/local/terraform.tfvars.json`:
//! the one place tests, replays and benchmarks take region names from.

use std::path::PathBuf;

use serde_json::Value;

use crate::error::{Error, Result};

/// The repository root (this crate lives in `tests/harness`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEnvironment {
    /// The tables', functions' and rules' name in every region.
    pub name: String,
    pub regions: Vec<String>,
    pub primary_region: String,
}

/// Reads `environments/<env>/terraform.tfvars.json`.
pub fn environment(env: &str) -> Result<LocalEnvironment> {
    let path = repo_root()
        .join("environments")
        .join(env)
        .join("terraform.tfvars.json");
    let invalid = |problem: &str| Error::Setup(format!("{}: {problem}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| invalid(&e.to_string()))?;
    let vars: Value = serde_json::from_str(&text).map_err(|e| invalid(&e.to_string()))?;
    let name = vars["name"]
        .as_str()
        .ok_or_else(|| invalid("no \"name\""))?
        .to_owned();
    let regions: Vec<String> = vars["regions"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let primary_region = vars["primary_region"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| regions.first().cloned())
        .ok_or_else(|| invalid("no \"regions\""))?;
    Ok(LocalEnvironment {
        name,
        regions,
        primary_region,
    })
}

/// The `local` environment.
pub fn local() -> Result<LocalEnvironment> {
    environment("local")
}

/// The local environment's primary region, for places that need some region and cannot fail.
pub fn default_region() -> String {
    local()
        .map(|env| env.primary_region)
        .unwrap_or_else(|_| "local".to_owned())
}
