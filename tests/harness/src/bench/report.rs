//! The report: results.md's tables (medians of every run, write cost, prices per million
//! events) and the raw runs for results.json.

use std::fmt::Write as _;
use std::path::Path;

use ecs_audit_core::schema::indexes;
use serde_json::{Value, json};

use super::Implementation;
use super::prices::*;
use super::run::Run;
use super::stats::{median, ratio};
use super::warm::Bench;
use crate::{Error, Result};

/// Binary size budget of the deployment package (issue 5: "zip ≤ 5 MB").
pub const PACKAGE_TARGET_BYTES: u64 = 5 * 1024 * 1024;
pub const RSS_TARGET_KIB: u64 = 32 * 1024;

pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": cpu,
        "memory_gib": (memory_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "kernel": kernel,
    })
}

pub fn file_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))
}

/// A number for the table: few decimals, or `–` for none.
pub fn num(value: f64, decimals: usize) -> String {
    if value.is_nan() || value.is_infinite() {
        "–".into()
    } else {
        format!("{value:.decimals$}")
    }
}

pub fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

pub struct Summary {
    pub rust: Vec<Run>,
    pub python: Vec<Run>,
}

impl Summary {
    pub fn rust(&self, f: impl Fn(&Run) -> f64) -> f64 {
        median(self.rust.iter().map(&f))
    }

    pub fn python(&self, f: impl Fn(&Run) -> f64) -> f64 {
        median(self.python.iter().map(&f))
    }

    /// The medians of one metric, (Rust, Python).
    pub fn both(&self, f: impl Fn(&Run) -> f64) -> (f64, f64) {
        (self.rust(&f), self.python(&f))
    }
}

pub fn report(bench: &Bench, summary: &Summary, packages: (u64, u64), machine: &Value) -> String {
    let args = &bench.args;
    let expected = &bench.expected;
    let events = bench.bodies.len();
    let (rust_zip, python_zip) = packages;
    let mut out = String::new();
    let mix = expected.mix;
    let _ = writeln!(
        out,
        "### Results: {} events ({} task, {} service actions, {} deployments; seed {}), {} repetition(s), medians\n\n\
         Each run: moto reset, both tables created, a fresh function process, the same events one at a time; \
         the implementations alternate which runs first.\n",
        events, mix.task, mix.service_action, mix.deployment, args.seed, args.repetitions
    );
    let _ = writeln!(
        out,
        "Machine: {} × {}, {} GiB, kernel {}; load average {}–{} during the runs{}.\n",
        machine["cpus"],
        machine["cpu_model"].as_str().unwrap_or_default(),
        machine["memory_gib"],
        machine["kernel"].as_str().unwrap_or_default(),
        num(
            summary
                .rust
                .iter()
                .chain(&summary.python)
                .flat_map(|r| [r.load_before, r.load_after])
                .fold(f64::INFINITY, f64::min),
            1
        ),
        num(
            summary
                .rust
                .iter()
                .chain(&summary.python)
                .flat_map(|r| [r.load_before, r.load_after])
                .fold(f64::NEG_INFINITY, f64::max),
            1
        ),
        if args.versions.is_empty() {
            String::new()
        } else {
            format!("; {}", args.versions)
        }
    );
    let _ = writeln!(
        out,
        "| metric | {} | {} | Rust / Python | target (issue 5) | met |",
        Implementation::Rust.label(),
        Implementation::Python.label()
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|---|");
    let mut row =
        |name: &str, rust: f64, python: f64, decimals: usize, target: &str, ok: Option<bool>| {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {target} | {} |",
                num(rust, decimals),
                num(python, decimals),
                num(ratio(rust, python), 3),
                ok.map(met).unwrap_or("")
            );
        };
    let init = summary.both(|r| r.init_ms);
    row(
        "init: spawn → first `/next` (ms)",
        init.0,
        init.1,
        1,
        "≤ 1/10",
        Some(ratio(init.0, init.1) <= 0.1),
    );
    let first = summary.both(|r| r.first_event_ms);
    row("first event (ms)", first.0, first.1, 2, "", None);
    let warm = summary.both(|r| r.warm_median_ms);
    row(
        "warm event, median (ms)",
        warm.0,
        warm.1,
        3,
        "≤ 1/2",
        Some(ratio(warm.0, warm.1) <= 0.5),
    );
    let p99 = summary.both(|r| r.warm_p99_ms);
    row("warm event, p99 (ms)", p99.0, p99.1, 3, "", None);
    let task = summary.both(|r| r.warm_task_median_ms);
    row(
        "warm task event (both do one PutItem), median (ms)",
        task.0,
        task.1,
        3,
        "≤ 1/2",
        Some(ratio(task.0, task.1) <= 0.5),
    );
    let task_p99 = summary.both(|r| r.warm_task_p99_ms);
    row(
        "warm task event, p99 (ms)",
        task_p99.0,
        task_p99.1,
        3,
        "",
        None,
    );
    let billed = summary.both(|r| r.billed_ms_per_event);
    row(
        "billed ms per warm event (each rounded up to 1 ms), mean",
        billed.0,
        billed.1,
        2,
        "",
        None,
    );
    let cpu = summary.both(|r| r.function_cpu_ms_per_event);
    row("function CPU per event (ms) ³", cpu.0, cpu.1, 3, "", None);
    let moto_cpu = summary.both(|r| r.moto_cpu_ms_per_event);
    row(
        "local API (moto) CPU per event (ms) ³",
        moto_cpu.0,
        moto_cpu.1,
        3,
        "",
        None,
    );
    let init_cpu = summary.both(|r| r.init_cpu_ms);
    row("init CPU (ms)", init_cpu.0, init_cpu.1, 1, "", None);
    let rss = (
        summary.rust(|r| r.peak_rss_kib as f64) / 1024.0,
        summary.python(|r| r.peak_rss_kib as f64) / 1024.0,
    );
    row(
        "peak RSS, VmHWM (MiB)",
        rss.0,
        rss.1,
        1,
        "≤ 1/3 and < 32 MiB",
        Some(ratio(rss.0, rss.1) <= 1.0 / 3.0 && rss.0 * 1024.0 < RSS_TARGET_KIB as f64),
    );
    row(
        "deployment package, zip (KiB)",
        rust_zip as f64 / 1024.0,
        python_zip as f64 / 1024.0,
        1,
        "≤ 5 MiB",
        Some(rust_zip <= PACKAGE_TARGET_BYTES),
    );
    let should = summary.both(|r| r.should_store as f64);
    row("events it should store ¹", should.0, should.1, 0, "", None);
    let written = summary.both(|r| r.items_written as f64);
    row(
        "items written (Scan after the run)",
        written.0,
        written.1,
        0,
        "",
        None,
    );
    let lost = summary.both(|r| r.items_lost as f64);
    row("items lost", lost.0, lost.1, 0, "0", Some(lost.0 == 0.0));
    let errors = summary.both(|r| r.errors as f64);
    row("errors", errors.0, errors.1, 0, "", None);
    let item = summary.both(|r| r.mean_item_bytes);
    row("mean item size (bytes)", item.0, item.1, 0, "", None);
    let units = summary.both(|r| r.write_units_per_event(events));
    row(
        "write units per event, incl. indexes ²",
        units.0,
        units.1,
        3,
        "",
        None,
    );
    let task_units = (
        summary.rust(Run::write_units_per_task_event),
        summary.python(Run::write_units_per_task_event),
    );
    row(
        "write units per task event, incl. indexes ²",
        task_units.0,
        task_units.1,
        3,
        "≤ 2",
        Some(task_units.0 <= 2.0),
    );
    let task_table = summary.rust(|r| ratio(r.task_table_units as f64, r.task_items as f64));
    row(
        "write units per task event, table only",
        task_table,
        summary.python(|r| ratio(r.task_table_units as f64, r.task_items as f64)),
        3,
        "",
        None,
    );
    let within = summary.both(Run::task_items_within_one_unit);
    row(
        "task items ≤ 1 KiB (one table write unit), share",
        within.0,
        within.1,
        3,
        "≥ 0.95",
        Some(within.0 >= 0.95),
    );
    let task_index = summary.rust(|r| ratio(r.task_index_units as f64, r.task_items as f64));
    let by_index: Vec<String> = indexes()
        .iter()
        .map(|index| {
            let per_event = summary.rust(|r| {
                ratio(
                    r.task_units_by_index.get(index.name).copied().unwrap_or(0) as f64,
                    r.task_items as f64,
                )
            });
            format!("`{}` {}", index.name, num(per_event, 3))
        })
        .collect();
    let _ = writeln!(
        out,
        "\n¹ Ours stores every event ({} distinct item keys). The recipe logs only events whose detail has a \
         `taskDefinitionArn` (task events), so only those count as \"should be stored\" for it; of them, {} share \
         a (task definition, second) key with an earlier one and are overwritten (predicted from the stream; \
         the largest same-second group holds {} events).",
        expected.rust_keys.len(),
        expected.python_predicted_loss,
        expected.largest_burst
    );
    let _ = writeln!(
        out,
        "\n² From the stored items' DynamoDB sizes (`ecs_audit_core::capacity`), 1 unit per started KiB, \
         plus one write per index the item lands in at the size of that index's projection. Ours, per task \
         event: {} table + {} index units ({}); the answers' own `writeUnits` summed to {} per event. The \
         recipe: no indexes, one PutItem per task event, none for other events.",
        num(task_table, 3),
        num(task_index, 3),
        by_index.join(", "),
        num(
            summary.rust(|r| ratio(r.reported_write_units as f64, events as f64)),
            3
        ),
    );

    let _ = writeln!(
        out,
        "\n³ CPU time of the function process (all threads) from the first `/next` to the last answer, and \
         of the moto server over the same span, divided by the events: the warm time above is these two plus \
         loopback HTTP and scheduling (this machine's {} cores run the driver, moto and the function).",
        machine["cpus"]
    );

    // Cost.
    let _ = writeln!(
        out,
        "\n### Cost per million events ({MEMORY_MB} MB, on demand, prices as published on {PRICES_AS_OF})\n"
    );
    let _ = writeln!(
        out,
        "| per 1,000,000 events | Rust arm64 | Python arm64 | Rust x86_64 | Python x86_64 |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    let costs = [
        Cost::of(billed.0, units.0, LAMBDA_ARM64_USD_PER_GB_SECOND),
        Cost::of(billed.1, units.1, LAMBDA_ARM64_USD_PER_GB_SECOND),
        Cost::of(billed.0, units.0, LAMBDA_X86_64_USD_PER_GB_SECOND),
        Cost::of(billed.1, units.1, LAMBDA_X86_64_USD_PER_GB_SECOND),
    ];
    let mut cost_row = |name: &str, cells: [String; 4]| {
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    };
    cost_row(
        &format!("Lambda requests (${LAMBDA_USD_PER_MILLION_REQUESTS:.2} per million)"),
        costs.each_ref().map(|c| usd(c.requests)),
    );
    cost_row(
        "billed ms per event (measured, mean of each rounded up to 1 ms)",
        [billed.0, billed.1, billed.0, billed.1].map(|v| num(v, 2)),
    );
    cost_row(
        &format!(
            "Lambda duration: 10⁶ × ms ÷ 1000 × {} GB × $/GB-s (arm64 ${LAMBDA_ARM64_USD_PER_GB_SECOND}, x86_64 ${LAMBDA_X86_64_USD_PER_GB_SECOND})",
            f64::from(MEMORY_MB) / 1024.0
        ),
        costs.each_ref().map(|c| usd(c.duration)),
    );
    cost_row(
        "DynamoDB write units per event",
        [units.0, units.1, units.0, units.1].map(|v| num(v, 3)),
    );
    cost_row(
        &format!("DynamoDB writes: units × ${DYNAMODB_USD_PER_MILLION_WRU} per million"),
        costs.each_ref().map(|c| usd(c.writes)),
    );
    cost_row(
        "**total**",
        costs.each_ref().map(|c| format!("**{}**", usd(c.total()))),
    );
    cost_row(
        "Rust / Python",
        [
            num(ratio(costs[0].total(), costs[1].total()), 2),
            String::new(),
            num(ratio(costs[2].total(), costs[3].total()), 2),
            String::new(),
        ],
    );
    // What a stored record costs: the recipe keeps only part of what it is sent.
    let kept = (
        ratio(written.0, events as f64),
        ratio(written.1, events as f64),
    );
    cost_row(
        "total per million events *kept* (total ÷ share of events stored: Rust / Python)",
        [
            usd(costs[0].total() / kept.0),
            usd(costs[1].total() / kept.1),
            usd(costs[2].total() / kept.0),
            usd(costs[3].total() / kept.1),
        ],
    );
    // Global tables, per extra region: the item again as replicated writes, each index entry
    // again as writes in the replica's own indexes, and the item's bytes across regions
    // (puts ÷ events: ours one per event, the recipe one per task event, overwrites included).
    let table_units = summary.both(|r| ratio(r.table_units as f64, events as f64));
    let index_units = summary.both(|r| ratio(r.index_units as f64, events as f64));
    let puts = summary.both(|r| r.task_items as f64);
    let stored = (
        ratio(written.0, events as f64),
        ratio(puts.1, events as f64),
    );
    let replicated = (
        table_units.0 * DYNAMODB_USD_PER_MILLION_REPLICATED_WRU,
        table_units.1 * DYNAMODB_USD_PER_MILLION_REPLICATED_WRU,
    );
    let replica_indexes = (
        index_units.0 * DYNAMODB_USD_PER_MILLION_WRU,
        index_units.1 * DYNAMODB_USD_PER_MILLION_WRU,
    );
    let transfer = (
        1e6 * item.0 * stored.0 / 1e9 * INTER_REGION_TRANSFER_USD_PER_GB,
        1e6 * item.1 * stored.1 / 1e9 * INTER_REGION_TRANSFER_USD_PER_GB,
    );
    let both = |pair: (f64, f64)| [pair.0, pair.1, pair.0, pair.1];
    cost_row(
        "global table, per extra region: replicated write units per event (the table item)",
        both(table_units).map(|v| num(v, 3)),
    );
    cost_row(
        &format!(
            "global table, per extra region: replicated writes, units × ${DYNAMODB_USD_PER_MILLION_REPLICATED_WRU} per million rWRU"
        ),
        both(replicated).map(usd),
    );
    cost_row(
        "global table, per extra region: index write units per event in the replica",
        both(index_units).map(|v| num(v, 3)),
    );
    cost_row(
        &format!(
            "global table, per extra region: the replica's index writes, units × ${DYNAMODB_USD_PER_MILLION_WRU} per million"
        ),
        both(replica_indexes).map(usd),
    );
    cost_row(
        &format!(
            "global table, per extra region: item bytes across regions × ${INTER_REGION_TRANSFER_USD_PER_GB}/GB"
        ),
        both(transfer).map(usd),
    );
    cost_row(
        "**global table, per extra region: total**",
        both((
            replicated.0 + replica_indexes.0 + transfer.0,
            replicated.1 + replica_indexes.1 + transfer.1,
        ))
        .map(|v| format!("**{}**", usd(v))),
    );
    let gb = f64::from(MEMORY_MB) / 1024.0;
    cost_row(
        "per million cold starts: 10⁶ × init ms ÷ 1000 × GB × $/GB-s (INIT is billed for every runtime since 2025-08-01)",
        [
            usd(1e6 * init.0 / 1000.0 * gb * LAMBDA_ARM64_USD_PER_GB_SECOND),
            usd(1e6 * init.1 / 1000.0 * gb * LAMBDA_ARM64_USD_PER_GB_SECOND),
            usd(1e6 * init.0 / 1000.0 * gb * LAMBDA_X86_64_USD_PER_GB_SECOND),
            usd(1e6 * init.1 / 1000.0 * gb * LAMBDA_X86_64_USD_PER_GB_SECOND),
        ],
    );
    let _ = writeln!(
        out,
        "\nPrices: US East (N. Virginia), first tier, as published on {PRICES_AS_OF} at {LAMBDA_PRICE_PAGE} and \
         {DYNAMODB_PRICE_PAGE} (on-demand Standard table class). Durations are measured here against moto on \
         loopback with whole cores, not against DynamoDB in a 128 MB sandbox (which gives about 1/14 of a vCPU): \
         read the duration lines as relative, the request and write-unit lines as exact for this event mix. \
         The recipe is costed at on-demand prices too (it ships provisioned at 1 WCU, which throttles under bursts). \
         Global tables as {GLOBAL_TABLES_BILLING_PAGE} describes them (read on {GLOBAL_TABLES_READ_ON}): writes to \
         a replica table are replicated write request units, \"priced the same as single-Region write units\", \
         charged in every replica region; its global secondary indexes are written with ordinary write units; \
         cross-Region transfer at the inter-region rate. In a global table the home region's own table writes \
         are rWRUs too, at the same price."
    );
    announcing_cost(&mut out, summary, events);
    out
}

/// What announcing a failure costs (ours only: the recipe announces nothing), from the
/// function's own answers (`announced`), medians over the runs.
fn announcing_cost(out: &mut String, summary: &Summary, events: usize) {
    let failures = summary.rust(|r| r.failures_announced as f64);
    if failures == 0.0 {
        return;
    }
    let writes = summary.rust(|r| ratio(r.announce_writes as f64, r.failures_announced as f64));
    let queries = summary.rust(|r| ratio(r.announce_queries as f64, r.failures_announced as f64));
    let publishes =
        summary.rust(|r| ratio(r.announce_publishes as f64, r.failures_announced as f64));
    let largest = summary.rust(|r| r.max_alert_item_bytes as f64);
    let _ = writeln!(
        out,
        "\n### Cost per failure announced (the failures topic and crash loops)\n\n\
         {failures:.0} of the {events} deliveries were of failures (first deliveries and redeliveries: a \
         redelivery finds its message sent, which costs one conditional write). Per such delivery, as the \
         function reported it in its answers (`announced`):\n\n| per failure delivery | ecs-state-logger |\n|---|---:|"
    );
    let _ = writeln!(
        out,
        "| DynamoDB UpdateItem requests (message claim and mark, crash-loop state, episode; the largest such item {largest:.0} bytes, so 1 write unit each) | {writes:.3} |"
    );
    let _ = writeln!(
        out,
        "| DynamoDB Query pages (the sweep's only) | {queries:.3} |"
    );
    let _ = writeln!(
        out,
        "| SNS publishes (one per failure, plus one per crash-loop start and end) | {publishes:.3} |"
    );
    let per_million =
        writes * DYNAMODB_USD_PER_MILLION_WRU + publishes * SNS_USD_PER_MILLION_PUBLISHES;
    let _ = writeln!(
        out,
        "| **per million failure deliveries**: writes × ${DYNAMODB_USD_PER_MILLION_WRU} + publishes × ${SNS_USD_PER_MILLION_PUBLISHES} ({SNS_PRICE_PAGE}; deliveries extra) | **{}** |",
        usd(per_million)
    );
}

pub fn runs_json(summary: &Summary, events: usize) -> Value {
    Value::Array(
        summary
            .rust
            .iter()
            .chain(&summary.python)
            .map(|run| run.to_json(events))
            .collect(),
    )
}
