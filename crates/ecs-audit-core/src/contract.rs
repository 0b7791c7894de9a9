//! What the regional logger module and the Rust code must agree on: the bounds of the
//! function's `RETENTION_DAYS`, the names of the two failure queues, and the detail-types the
//! rule delivers by default (each one modelled in [`crate::event`]).
//!
//! The one home is `modules/regional-logger/contract.json`: the module validates
//! `retention_days` and names its queues from it, the function checks `RETENTION_DAYS` and the
//! `ecs-audit` CLI finds the queues from it. The black-box test that applies
//! `environments/local` checks that the applied queues and the accepted retention are these.

use std::ops::RangeInclusive;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::error::Error;

/// The module's file, as built into this crate.
pub const CONTRACT_JSON: &str = include_str!("../../../modules/regional-logger/contract.json");

/// Stands for the environment's name (the module's `name` input) in a queue name pattern.
const NAME_PLACEHOLDER: &str = "{name}";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    #[serde(rename = "//", default)]
    pub comment: String,
    pub retention_days: Bounds,
    /// Crash-loop detection: failures (`threshold`) within `window_minutes`.
    pub crash_loop: CrashLoop,
    pub queue_names: QueueNames,
    /// What the rule delivers unless an environment names other detail-types.
    pub detail_types: Vec<String>,
}

/// Inclusive bounds of a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    pub min: u32,
    pub max: u32,
}

impl Bounds {
    pub fn range(self) -> RangeInclusive<u32> {
        self.min..=self.max
    }
}

/// Inclusive bounds of a whole-number setting and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub min: u32,
    pub max: u32,
    pub default: u32,
}

impl Setting {
    pub fn range(self) -> RangeInclusive<u32> {
        self.min..=self.max
    }
}

/// When failures of one service (or standalone family) are a crash loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashLoop {
    pub threshold: Setting,
    pub window_minutes: Setting,
}

/// Queue name patterns, `{name}` standing for the environment's name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueNames {
    pub failed_events: String,
    pub delivery_dlq: String,
}

/// The two failure queues of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// The function's on-failure destination: invocations that failed after Lambda's retries.
    FailedEvents,
    /// The rule's dead-letter queue: events EventBridge could not deliver to the function.
    DeliveryDlq,
}

static CONTRACT: LazyLock<Result<Contract, String>> = LazyLock::new(|| {
    let contract: Contract = serde_json::from_str(CONTRACT_JSON).map_err(|error| {
        format!("modules/regional-logger/contract.json does not parse: {error}")
    })?;
    let bounds = contract.retention_days;
    if bounds.min < 1 || bounds.min > bounds.max {
        return Err(format!(
            "modules/regional-logger/contract.json: retention_days {}..={} is not a range of days",
            bounds.min, bounds.max
        ));
    }
    for (name, setting) in [
        ("crash_loop.threshold", contract.crash_loop.threshold),
        (
            "crash_loop.window_minutes",
            contract.crash_loop.window_minutes,
        ),
    ] {
        if setting.min < 1 || !setting.range().contains(&setting.default) {
            return Err(format!(
                "modules/regional-logger/contract.json: {name} {}..={} (default {}) is not a range holding its default",
                setting.min, setting.max, setting.default
            ));
        }
    }
    let names = &contract.queue_names;
    for pattern in [&names.failed_events, &names.delivery_dlq] {
        if !pattern.contains(NAME_PLACEHOLDER) {
            return Err(format!(
                "modules/regional-logger/contract.json: queue name {pattern:?} has no {NAME_PLACEHOLDER}"
            ));
        }
    }
    Ok(contract)
});

/// The contract, or why the embedded file is unusable. The function checks this once at
/// start (a configuration error, never a panic); the unit tests check it before anything ships.
pub fn contract() -> Result<&'static Contract, Error> {
    CONTRACT
        .as_ref()
        .map_err(|problem| Error::Embedded(problem.clone()))
}

/// The days a record may be kept, as the module validates `retention_days`.
pub fn retention_days() -> Result<RangeInclusive<u32>, Error> {
    Ok(contract()?.retention_days.range())
}

/// The crash-loop settings' bounds and defaults, as the module validates them.
pub fn crash_loop() -> Result<CrashLoop, Error> {
    Ok(contract()?.crash_loop)
}

/// The detail-types the rule delivers by default.
pub fn detail_types() -> Result<&'static [String], Error> {
    Ok(&contract()?.detail_types)
}

impl Queue {
    /// The queue's name for an environment named `name`, as the module names it.
    pub fn name_for(self, name: &str) -> Result<String, Error> {
        let names = &contract()?.queue_names;
        let pattern = match self {
            Queue::FailedEvents => &names.failed_events,
            Queue::DeliveryDlq => &names.delivery_dlq,
        };
        Ok(pattern.replace(NAME_PLACEHOLDER, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_contract_parses() {
        let contract = contract().unwrap();
        assert!(contract.retention_days.range().contains(&14));
        assert_eq!(
            Queue::FailedEvents.name_for("audit").unwrap(),
            "audit-failed-events"
        );
        assert_eq!(
            Queue::DeliveryDlq.name_for("audit").unwrap(),
            "audit-delivery-dlq"
        );
    }

    #[test]
    fn every_detail_type_the_rule_delivers_is_modelled() {
        let detail = serde_json::json!({});
        for detail_type in detail_types().unwrap() {
            let input = serde_json::json!({
                "id": "1", "detail-type": detail_type, "source": "aws.ecs",
                "time": "2026-11-30T00:00:00Z", "resources": [], "detail": detail,
            });
            let event = crate::event::parse(&input).unwrap();
            assert_ne!(
                event.detail,
                crate::event::Detail::Other,
                "{detail_type} is delivered by the rule (contract.json) but not modelled in event.rs"
            );
        }
    }

    #[test]
    fn a_malformed_contract_is_refused() {
        let extra = r#"{"retention_days": {"min": 1, "max": 2, "step": 1},
            "crash_loop": {"threshold": {"min": 2, "max": 3, "default": 3},
                           "window_minutes": {"min": 1, "max": 2, "default": 1}},
            "queue_names": {"failed_events": "{name}-f", "delivery_dlq": "{name}-d"},
            "detail_types": []}"#;
        assert!(serde_json::from_str::<Contract>(extra).is_err());
    }
}
