//! An environment's settings, from `environments/<env>/terraform.tfvars.json` (the same file
//! Terraform deploys from): the one loader the CLI, the test harness and, through the
//! `ecs-audit-env` binary, the Makefile and scripts read it with. Also which table and regions
//! a question reads, from the environment and the command line.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::error::{Error, Result};

/// An environment's `terraform.tfvars.json`: the keys the programs use, typed, and every key
/// as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Environment {
    /// The table name, the same in every region.
    pub name: String,
    pub regions: Vec<String>,
    #[serde(default)]
    pub primary_region: Option<String>,
    /// A global table holds every region's events in every replica.
    #[serde(default)]
    pub global_table: bool,
    /// Days an item is kept (the function's `RETENTION_DAYS`); the module's default if absent.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Every key of the file as written, for the settings only Terraform reads
    /// (`ecs-audit-env <env> <key>` prints them for the Makefile and scripts).
    #[serde(skip)]
    pub settings: Map<String, Value>,
}

impl Environment {
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let invalid = |error: serde_json::Error| Error::EnvironmentFile {
            path: path.to_path_buf(),
            message: error.to_string(),
        };
        let settings: Map<String, Value> = serde_json::from_str(text).map_err(invalid)?;
        let mut environment =
            Environment::deserialize(Value::Object(settings.clone())).map_err(invalid)?;
        environment.settings = settings;
        if environment.regions.is_empty() {
            return Err(Error::EnvironmentFile {
                path: path.to_path_buf(),
                message: "`regions` is empty".into(),
            });
        }
        Ok(environment)
    }

    /// The region a question reads when nothing else says: the primary region, else the
    /// first of the list.
    pub fn default_region(&self) -> Option<&str> {
        self.primary_region
            .as_deref()
            .or(self.regions.first().map(String::as_str))
    }

    /// Reads `<dir>/<name>/terraform.tfvars.json`.
    pub fn load(dir: &Path, name: &str) -> Result<Self> {
        let path = tfvars_path(dir, name);
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(unknown(dir, name, path));
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_json(&text, &path),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(unknown(dir, name, path))
            }
            Err(error) => Err(Error::EnvironmentFile {
                path,
                message: error.to_string(),
            }),
        }
    }
}

fn tfvars_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name).join("terraform.tfvars.json")
}

fn unknown(dir: &Path, name: &str, path: PathBuf) -> Error {
    let known = known_environments(dir);
    Error::UnknownEnvironment {
        name: name.to_string(),
        path,
        known: if known.is_empty() {
            format!("(none found in {})", dir.display())
        } else {
            known.join(", ")
        },
    }
}

/// The environments in `dir`: subdirectories holding a `terraform.tfvars.json`.
pub fn known_environments(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().join("terraform.tfvars.json").is_file())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// `environments/` in the working directory or the nearest ancestor that has one, so the
/// CLI works from anywhere inside the repository.
pub fn find_environments_dir(start: &Path) -> PathBuf {
    start
        .ancestors()
        .map(|dir| dir.join("environments"))
        .find(|candidate| candidate.is_dir())
        .unwrap_or_else(|| PathBuf::from("environments"))
}

/// What to read: one table name, one or more regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub table: String,
    pub regions: Vec<String>,
}

/// How the regions were asked for on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionChoice {
    pub region: Option<String>,
    pub all_regions: bool,
    /// A region implied by the question itself (a task ARN names its region).
    pub implied: Option<String>,
    /// The SDK's own default (`AWS_REGION`, the profile's region).
    pub sdk_default: Option<String>,
}

/// Resolves the table and regions. Precedence: `--table` over the environment's name;
/// `--region`, then `--all-regions`, then the region a task ARN names, then the environment's
/// primary region, then the SDK's default region.
pub fn resolve_target(
    environment: Option<(&str, &Environment)>,
    table: Option<&str>,
    choice: &RegionChoice,
) -> Result<Target> {
    let table = match (table, environment) {
        (Some(table), _) => table.to_string(),
        (None, Some((_, environment))) => environment.name.clone(),
        (None, None) => return Err(Error::NoTable),
    };
    let regions = match (&choice.region, choice.all_regions, environment) {
        (Some(region), _, Some((name, environment))) => {
            if !environment.regions.contains(region) {
                return Err(Error::RegionNotInEnvironment {
                    region: region.clone(),
                    env: name.to_string(),
                    regions: environment.regions.join(", "),
                });
            }
            vec![region.clone()]
        }
        (Some(region), _, None) => vec![region.clone()],
        (None, true, Some((_, environment))) => environment.regions.clone(),
        (None, true, None) => {
            return Err(Error::NoRegion(
                "--all-regions needs --env <name> to know the regions; or pass --region".into(),
            ));
        }
        (None, false, environment) => {
            let from_environment = environment.and_then(|(_, environment)| {
                let implied = choice
                    .implied
                    .as_ref()
                    .filter(|region| environment.regions.contains(region));
                implied
                    .or(environment.primary_region.as_ref())
                    .or(environment.regions.first())
                    .cloned()
            });
            let region = from_environment
                .or_else(|| choice.implied.clone())
                .or_else(|| choice.sdk_default.clone())
                .ok_or_else(|| {
                    Error::NoRegion(
                        "pass --region <name>, --env <name> (its primary region) or set AWS_REGION"
                            .into(),
                    )
                })?;
            vec![region]
        }
    };
    Ok(Target { table, regions })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment() -> Environment {
        Environment::from_json(
            r#"{"name": "audit-local", "regions": ["xx-test-1", "xx-test-2"],
                "primary_region": "xx-test-2", "retention_days": 14}"#,
            Path::new("local/terraform.tfvars.json"),
        )
        .unwrap()
    }

    #[test]
    fn the_environment_names_the_table_and_regions() {
        let env = environment();
        let target = resolve_target(
            Some(("local", &env)),
            None,
            &RegionChoice {
                all_regions: true,
                ..RegionChoice::default()
            },
        )
        .unwrap();
        assert_eq!(target.table, "audit-local");
        assert_eq!(target.regions, vec!["xx-test-1", "xx-test-2"]);
        // redrive writes items with the environment's retention
        assert_eq!(env.retention_days, Some(14));
    }

    #[test]
    fn region_precedence() {
        let env = environment();
        let env = Some(("local", &env));
        let pick = |choice: RegionChoice| resolve_target(env, None, &choice).unwrap().regions;
        assert_eq!(pick(RegionChoice::default()), vec!["xx-test-2"]);
        assert_eq!(
            pick(RegionChoice {
                implied: Some("xx-test-1".into()),
                sdk_default: Some("xx-test-9".into()),
                ..RegionChoice::default()
            }),
            vec!["xx-test-1"]
        );
        assert_eq!(
            pick(RegionChoice {
                region: Some("xx-test-1".into()),
                ..RegionChoice::default()
            }),
            vec!["xx-test-1"]
        );
        let error = resolve_target(
            env,
            None,
            &RegionChoice {
                region: Some("xx-test-9".into()),
                ..RegionChoice::default()
            },
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("xx-test-1, xx-test-2"),
            "{error}"
        );
    }

    #[test]
    fn without_an_environment_table_and_region_come_from_flags_or_the_sdk() {
        assert!(matches!(
            resolve_target(None, None, &RegionChoice::default()),
            Err(Error::NoTable)
        ));
        let target = resolve_target(
            None,
            Some("t"),
            &RegionChoice {
                sdk_default: Some("xx-test-3".into()),
                ..RegionChoice::default()
            },
        )
        .unwrap();
        assert_eq!(target.regions, vec!["xx-test-3"]);
        let error = resolve_target(
            None,
            Some("t"),
            &RegionChoice {
                all_regions: true,
                ..RegionChoice::default()
            },
        )
        .unwrap_err();
        assert!(error.to_string().contains("--all-regions needs --env"));
        assert!(matches!(
            resolve_target(None, Some("t"), &RegionChoice::default()),
            Err(Error::NoRegion(_))
        ));
    }

    #[test]
    fn an_unknown_environment_lists_the_known_ones() {
        let dir = std::env::temp_dir().join(format!("ecs-audit-env-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("dev")).unwrap();
        std::fs::write(
            dir.join("dev/terraform.tfvars.json"),
            r#"{"name": "t", "regions": ["xx-test-1"]}"#,
        )
        .unwrap();
        let error = Environment::load(&dir, "stagin").unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let text = error.to_string();
        assert!(text.contains("unknown environment \"stagin\""), "{text}");
        assert!(text.contains("one of: dev"), "{text}");
    }

    #[test]
    fn a_broken_file_is_named() {
        let error = Environment::from_json(r#"{"name": "t"}"#, Path::new("x.json")).unwrap_err();
        assert!(error.to_string().contains("x.json"), "{error}");
        assert!(error.to_string().contains("regions"), "{error}");
    }
}
