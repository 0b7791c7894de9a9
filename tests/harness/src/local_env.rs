//! The `local` environment's settings, read from `environments/local/terraform.tfvars.json`
//! by the core crate's loader (the one the CLI and the scripts use): the one place tests,
//! replays and benchmarks take region names from.

use std::path::PathBuf;

use ecs_audit_core::environment::Environment;

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
    let loaded = Environment::load(&repo_root().join("environments"), env)
        .map_err(|error| Error::Setup(error.to_string()))?;
    let primary_region = loaded
        .default_region()
        .map(str::to_owned)
        .ok_or_else(|| Error::Setup(format!("environment {env} has no regions")))?;
    Ok(LocalEnvironment {
        name: loaded.name,
        regions: loaded.regions,
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
