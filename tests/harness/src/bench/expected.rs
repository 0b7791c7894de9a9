//! What each implementation should store from the event stream: ours every event under its own
//! key, the recipe one item per (task definition, second).

use std::collections::{BTreeMap, BTreeSet};

use ecs_audit_core::mapping::build;
use serde_json::Value;

use super::RETENTION_DAYS;
use crate::synthetic::Mix;
use crate::{Error, Result};

#[derive(Debug)]
pub struct Expected {
    pub mix: Mix,
    /// Ours: every event, by its item key (resourceArn, eventKey).
    pub rust_keys: BTreeSet<(String, String)>,
    /// The recipe logs only events whose detail has a taskDefinitionArn.
    pub python_should_store: usize,
    /// Its distinct (taskDefinitionArn, time) keys: what survives its same-second overwrites.
    pub python_distinct_keys: usize,
    /// Task events sharing a (task definition, second) with an earlier one: lost by design.
    pub python_predicted_loss: usize,
    /// The largest number of task events of one definition in one second.
    pub largest_burst: usize,
}

pub fn expectations(events: &[Value]) -> Result<Expected> {
    let mut rust_keys = BTreeSet::new();
    let mut python_keys: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut python_should_store = 0;
    for event in events {
        let parsed = ecs_audit_core::event::parse(event)
            .map_err(|e| Error::Setup(format!("a generated event does not parse: {e}")))?;
        let record = build(&parsed, RETENTION_DAYS)
            .map_err(|e| Error::Setup(format!("a generated event does not map: {e}")))?;
        rust_keys.insert((record.resource_arn, record.event_key));
        if let Some(definition) = event["detail"]["taskDefinitionArn"].as_str() {
            python_should_store += 1;
            let second = event["time"].as_str().unwrap_or_default().to_owned();
            *python_keys
                .entry((definition.to_owned(), second))
                .or_default() += 1;
        }
    }
    Ok(Expected {
        mix: Mix::of(events),
        rust_keys,
        python_should_store,
        python_distinct_keys: python_keys.len(),
        python_predicted_loss: python_should_store - python_keys.len(),
        largest_burst: python_keys.values().copied().max().unwrap_or(0),
    })
}
