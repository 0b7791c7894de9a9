//! Everything measured in one run of one implementation, as the raw results record it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Implementation;
use super::stats::ratio;

/// Everything measured in one run of one implementation.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub implementation: &'static str,
    pub repetition: u32,
    pub init_ms: f64,
    pub first_event_ms: f64,
    pub warm_median_ms: f64,
    pub warm_p99_ms: f64,
    pub warm_task_median_ms: f64,
    pub warm_task_p99_ms: f64,
    /// Mean over warm invocations of each duration rounded up to 1 ms (Lambda's billing).
    pub billed_ms_per_event: f64,
    /// CPU the function process used before its first `/next`.
    pub init_cpu_ms: f64,
    /// CPU the function process used per event, and moto per event while serving it.
    pub function_cpu_ms_per_event: f64,
    pub moto_cpu_ms_per_event: f64,
    pub peak_rss_kib: u64,
    pub errors: usize,
    pub first_errors: Vec<String>,
    pub should_store: usize,
    pub items_written: usize,
    pub items_lost: usize,
    pub mean_item_bytes: f64,
    pub max_item_bytes: usize,
    /// The largest item written, as stored (for reading where the bytes go).
    pub largest_item: Value,
    /// Items over 1 KiB (two or more table write units).
    pub items_over_one_unit: usize,
    pub write_units: usize,
    pub table_units: usize,
    pub index_units: usize,
    pub task_items: usize,
    pub task_write_units: usize,
    pub task_table_units: usize,
    pub task_index_units: usize,
    /// Task items over 1 KiB (two or more table write units).
    pub task_items_over_one_unit: usize,
    /// Ours only: index write units of task events, by index.
    pub task_units_by_index: BTreeMap<&'static str, usize>,
    /// Ours only: the sum of `writeUnits` the function reported in its answers.
    pub reported_write_units: u64,
    /// Ours only, from the answers' `announced`: failures announced (events whose recording
    /// made the function claim a message), and what announcing them cost in all.
    pub failures_announced: u64,
    pub announce_writes: u64,
    pub announce_queries: u64,
    pub announce_publishes: u64,
    /// Ours only: the crash-loop and notification items left in the table, and the largest.
    pub alert_items: usize,
    pub max_alert_item_bytes: usize,
    pub wall_seconds: f64,
    pub load_before: f64,
    pub load_after: f64,
}

impl Run {
    pub fn write_units_per_event(&self, events: usize) -> f64 {
        ratio(self.write_units as f64, events as f64)
    }

    /// The share of task items within one write unit (the recipe: of the items it kept).
    pub fn task_items_within_one_unit(&self) -> f64 {
        // The recipe keeps one item per (task definition, second): its kept items are the
        // sample; ours keeps every task event.
        let items = if self.implementation == Implementation::Rust.slug() {
            self.task_items
        } else {
            self.items_written
        };
        1.0 - ratio(self.task_items_over_one_unit as f64, items as f64)
    }

    pub fn write_units_per_task_event(&self) -> f64 {
        ratio(self.task_write_units as f64, self.task_items as f64)
    }

    pub fn to_json(&self, events: usize) -> Value {
        let mut value = json!({
            "implementation": self.implementation,
            "repetition": self.repetition,
            "init_ms": self.init_ms,
            "first_event_ms": self.first_event_ms,
            "warm_median_ms": self.warm_median_ms,
            "warm_p99_ms": self.warm_p99_ms,
            "warm_task_median_ms": self.warm_task_median_ms,
            "warm_task_p99_ms": self.warm_task_p99_ms,
            "billed_ms_per_event": self.billed_ms_per_event,
            "init_cpu_ms": self.init_cpu_ms,
            "function_cpu_ms_per_event": self.function_cpu_ms_per_event,
            "moto_cpu_ms_per_event": self.moto_cpu_ms_per_event,
            "peak_rss_kib": self.peak_rss_kib,
            "errors": self.errors,
            "first_errors": self.first_errors,
            "should_store": self.should_store,
            "items_written": self.items_written,
            "items_lost": self.items_lost,
            "mean_item_bytes": self.mean_item_bytes,
            "max_item_bytes": self.max_item_bytes,
            "items_over_one_unit": self.items_over_one_unit,
            "largest_item": self.largest_item,
            "write_units": self.write_units,
            "table_units": self.table_units,
            "index_units": self.index_units,
            "write_units_per_event": self.write_units_per_event(events),
            "task_items": self.task_items,
            "task_write_units": self.task_write_units,
            "task_table_units": self.task_table_units,
            "task_index_units": self.task_index_units,
            "task_items_over_one_unit": self.task_items_over_one_unit,
            "task_units_by_index": self.task_units_by_index,
            "write_units_per_task_event": self.write_units_per_task_event(),
            "reported_write_units": self.reported_write_units,
            "wall_seconds": self.wall_seconds,
            "load_average_before": self.load_before,
            "load_average_after": self.load_after,
        });
        // Apart: one json! of every field goes past the macro's recursion limit.
        value["announced"] = json!({
            "failures": self.failures_announced,
            "dynamodb_writes": self.announce_writes,
            "dynamodb_queries": self.announce_queries,
            "publishes": self.announce_publishes,
            "alert_items": self.alert_items,
            "max_alert_item_bytes": self.max_alert_item_bytes,
        });
        value
    }
}
