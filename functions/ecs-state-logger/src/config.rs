//! Function configuration, read once per cold start from the Lambda environment.

use ecs_audit_core::{contract, schema};

use crate::error::Error;

/// The module's default `retention_days`, for a function started without `RETENTION_DAYS`.
pub const DEFAULT_RETENTION_DAYS: u32 = 14;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table (or the local replica of a global table) the function writes to.
    pub table_name: String,
    /// How long a record is kept, counted from the event's own time.
    pub retention_days: u32,
}

impl Config {
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        // The files built into the domain: unusable ones stop the function here, with a
        // configuration error in its log, rather than on an event.
        schema::schema()?;
        let table_name = lookup("TABLE_NAME")
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| {
                Error::Config(
                    "TABLE_NAME is not set: it must name the DynamoDB table to write to".into(),
                )
            })?;
        let retention_days = match lookup("RETENTION_DAYS") {
            None => DEFAULT_RETENTION_DAYS,
            Some(raw) => parse_retention_days(&raw)?,
        };
        Ok(Config {
            table_name,
            retention_days,
        })
    }
}

/// Within the bounds the module validates `retention_days` against (its contract.json).
fn parse_retention_days(raw: &str) -> Result<u32, Error> {
    let bounds = contract::retention_days()?;
    match raw.trim().parse::<u32>() {
        Ok(days) if bounds.contains(&days) => Ok(days),
        _ => Err(Error::Config(format!(
            "RETENTION_DAYS is {raw:?}: it must be a whole number of days from {} to {}",
            bounds.start(),
            bounds.end()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn table_name_is_required() {
        let error = Config::from_lookup(lookup(&[])).unwrap_err();
        assert!(
            error.to_string().contains("TABLE_NAME is not set"),
            "{error}"
        );
        let error = Config::from_lookup(lookup(&[("TABLE_NAME", "  ")])).unwrap_err();
        assert!(
            error.to_string().contains("TABLE_NAME is not set"),
            "{error}"
        );
    }

    #[test]
    fn retention_defaults_to_fourteen_days() {
        let config = Config::from_lookup(lookup(&[("TABLE_NAME", "audit")])).unwrap();
        assert_eq!(
            config,
            Config {
                table_name: "audit".into(),
                retention_days: 14
            }
        );
    }

    #[test]
    fn retention_must_be_in_range() {
        for bad in ["0", "3651", "-1", "two weeks", ""] {
            let error =
                Config::from_lookup(lookup(&[("TABLE_NAME", "audit"), ("RETENTION_DAYS", bad)]))
                    .unwrap_err();
            assert!(error.to_string().contains("RETENTION_DAYS"), "{error}");
        }
        let config = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "audit"),
            ("RETENTION_DAYS", "3650"),
        ]))
        .unwrap();
        assert_eq!(config.retention_days, 3650);
    }
}
