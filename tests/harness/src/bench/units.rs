//! The write cost of a stream of events as the function stores them, from the mapping alone
//! (no table): the budget `make bench` measures from its Scan, held by a unit test so that an
//! attribute or an index entry that breaks it fails `make test`, not only a benchmark run.

use ecs_audit_core::capacity::WriteCost;
use ecs_audit_core::event::parse;
use ecs_audit_core::item::indexes_of;
use ecs_audit_core::mapping::build;
use serde_json::Value;

use super::RETENTION_DAYS;
use super::stats::ratio;

/// Task events (those about a task ARN) and what their items cost.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct TaskUnits {
    pub task_events: usize,
    pub table_units: usize,
    pub index_units: usize,
    /// Items over 1 KiB: two or more table write units.
    pub over_one_unit: usize,
}

impl TaskUnits {
    /// Every event of `events` mapped as the function maps it; an event the function would
    /// refuse is an error naming it.
    pub fn of(events: &[Value]) -> Result<Self, String> {
        let mut units = TaskUnits::default();
        for event in events {
            let parsed = parse(event).map_err(|e| format!("{e}: {event}"))?;
            let record = build(&parsed, RETENTION_DAYS).map_err(|e| e.to_string())?;
            if record.task_id().is_none() {
                continue;
            }
            let item = record.to_item().map_err(|e| e.to_string())?;
            let cost = WriteCost::of(&item, &indexes_of(&item));
            units.task_events += 1;
            units.table_units += cost.table_units;
            units.index_units += cost.index_units;
            units.over_one_unit += usize::from(cost.table_units > 1);
        }
        Ok(units)
    }

    pub fn per_task_event(&self) -> f64 {
        ratio(
            (self.table_units + self.index_units) as f64,
            self.task_events as f64,
        )
    }

    pub fn within_one_unit(&self) -> f64 {
        1.0 - ratio(self.over_one_unit as f64, self.task_events as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::generate;

    /// `make bench`'s stream (its default count and seed): at most 2 write units per task
    /// event with every index, and 95 % of task items within one unit (BENCHMARKS.md
    /// "Write units").
    #[test]
    fn the_bench_stream_stays_within_the_write_budget() {
        let units = TaskUnits::of(&generate(2000, 20_261_120, "xx-test-1")).unwrap();
        assert_eq!(units.task_events, 1900);
        assert!(units.per_task_event() <= 2.0, "{units:?}");
        assert!(units.within_one_unit() >= 0.95, "{units:?}");
    }
}
