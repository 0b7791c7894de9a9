//! The side-by-side benchmark: ecs-state-logger's `bootstrap` against the Python recipe it
//! replaces, on the same events, under the same local Lambda Runtime API, writing to the same
//! moto server. `make bench` runs it through `scripts/bench.sh`.
//!
//! For each repetition and each implementation (alternating which goes first), moto is reset,
//! both tables are created, a fresh function process is started and the same deterministic
//! event stream ([`harness::synthetic`]) is fed one event at a time. Measured: init (spawn to
//! first `/next`), the first event, warm events (hand-out to answer), peak RSS (`VmHWM`),
//! items written and lost (a Scan after the run), and write units from the items' DynamoDB
//! sizes and the indexes each lands in (`ecs_audit_core::capacity`).
//!
//! Writes `<out>/results.md` (printed too) and `<out>/results.json` (every run, raw).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use clap::Parser;
use ecs_audit_core::attributes::{from_attributes, record_from_attributes};
use ecs_audit_core::capacity::{WRITE_UNIT_BYTES, WriteCost, item_size, projected_size};
use ecs_audit_core::mapping::build;
use ecs_audit_core::schema::indexes;
use harness::bench::cold;
use harness::bench::cpu::{cpu_ms, process_cpu_ms};
use harness::bench::tables::{
    create_python_table, create_rust_table, dynamodb_client, moto_error, setup_error,
};
use harness::bench::{BASELINE_TABLE, Implementation, RETENTION_DAYS};
use harness::runtime_api::new_request_id;
use harness::synthetic::{self, Mix};
use harness::{Error, FunctionCommand, MotoOptions, MotoServer, Outcome, Result, RuntimeApi};
use serde_json::{Value, json};

// ------------------------------------------------------------------------------ prices

/// The date the prices below were read, and where (US East (N. Virginia), the region most
/// price lists quote first; on-demand, no free tier, no savings plan).
const PRICES_AS_OF: &str = "2025-07-21";
const LAMBDA_PRICE_PAGE: &str = "https://aws.amazon.com/lambda/pricing/";
const DYNAMODB_PRICE_PAGE: &str = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
/// Lambda requests, both architectures: USD per million.
const LAMBDA_USD_PER_MILLION_REQUESTS: f64 = 0.20;
/// Lambda duration, first tier (first 6 billion GB-s a month on x86_64, 7.5 billion on arm64).
const LAMBDA_X86_64_USD_PER_GB_SECOND: f64 = 0.000_016_666_7;
const LAMBDA_ARM64_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// DynamoDB on-demand write request units, Standard table class (the price since the
/// 2024-11-01 cut): USD per million. Index writes are charged the same way.
const DYNAMODB_USD_PER_MILLION_WRU: f64 = 0.625;
/// Global tables, per extra region: each write is replicated as replicated write request
/// units (on demand: the same price as a write since the 2024-11-01 cut), index writes in the
/// replica as writes, and the item crosses regions as data transfer out (USD per GB).
const DYNAMODB_USD_PER_MILLION_REPLICATED_WRU: f64 = 0.625;
const INTER_REGION_TRANSFER_USD_PER_GB: f64 = 0.02;
/// The memory both functions are costed at.
const MEMORY_MB: u32 = 128;

// ------------------------------------------------------------------------------ settings

/// How long a process may take to reach its first `/next`.
const INIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Binary size budget of the deployment package (issue 5: "zip ≤ 5 MB").
const PACKAGE_TARGET_BYTES: u64 = 5 * 1024 * 1024;
const RSS_TARGET_KIB: u64 = 32 * 1024;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "ecs-state-logger against the Python recipe: same events, same Runtime API, same moto"
)]
struct Args {
    /// The function binary, or a script that execs it (e.g. under `valgrind --tool=callgrind`).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "target/lambda/ecs-state-logger/bootstrap"
    )]
    bootstrap: PathBuf,
    /// Its deployment package.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "target/lambda/ecs-state-logger/bootstrap.zip"
    )]
    package: PathBuf,
    /// The directory holding the baseline's handler.py (its task root).
    #[arg(long, value_name = "DIR", default_value = "build/bench/python-recipe")]
    baseline_dir: PathBuf,
    /// The baseline's deployment package (a zip of handler.py alone).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "build/bench/python-recipe.zip"
    )]
    baseline_package: PathBuf,
    /// Events per run.
    #[arg(long, default_value_t = 2000)]
    events: usize,
    /// Runs per implementation; the report gives medians over them.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    repetitions: u32,
    /// Seed of the event stream.
    #[arg(long, default_value_t = 20_261_120)]
    seed: u64,
    /// The environment whose terraform.tfvars.json names the region and the table.
    #[arg(long, default_value = "local")]
    environment: String,
    /// Where results.md, results.json and the function logs go.
    #[arg(long, value_name = "DIR", default_value = "build/bench")]
    out: PathBuf,
    /// Tool versions and build settings, for the report (free text).
    #[arg(long, default_value = "")]
    versions: String,
    /// Fresh processes per implementation and memory size on the cold path: TLS to the
    /// local API, a CPU quota of Lambda's share (0 skips it).
    #[arg(long, default_value_t = 5)]
    cold_runs: u32,
    /// Memory sizes (MB) of the cold path; each gets its CPU share.
    #[arg(long, value_delimiter = ',', default_value = "128,256,512")]
    cold_memory: Vec<u32>,
    /// Warm events after the first one on the cold path.
    #[arg(long, default_value_t = 20)]
    cold_warm_events: usize,
    /// The launcher of the local API over TLS.
    #[arg(long, value_name = "PATH", default_value = "scripts/moto-tls.py")]
    moto_tls: PathBuf,
    /// Only the cold path: no warm run.
    #[arg(long)]
    cold_only: bool,
    /// Write the generated events to this file (a JSON array, e.g. for `lambda-replay`)
    /// and exit.
    #[arg(long, value_name = "PATH")]
    dump_events: Option<PathBuf>,
}

// ------------------------------------------------------------------------------ expectations

/// What each implementation should store from the stream.
#[derive(Debug)]
struct Expected {
    mix: Mix,
    /// Ours: every event, by its item key (resourceArn, eventKey).
    rust_keys: BTreeSet<(String, String)>,
    /// The recipe logs only events whose detail has a taskDefinitionArn.
    python_should_store: usize,
    /// Its distinct (taskDefinitionArn, time) keys: what survives its same-second overwrites.
    python_distinct_keys: usize,
    /// Task events sharing a (task definition, second) with an earlier one: lost by design.
    python_predicted_loss: usize,
    /// The largest number of task events of one definition in one second.
    largest_burst: usize,
}

fn expectations(events: &[Value]) -> Result<Expected> {
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

// ------------------------------------------------------------------------------ tables

async fn scan(
    client: &Client,
    endpoint: &str,
    table: &str,
) -> Result<Vec<HashMap<String, AttributeValue>>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                moto_error(
                    endpoint,
                    format!("Scan {table}: {}", DisplayErrorContext(&e)),
                )
            })?;
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

// ------------------------------------------------------------------------------ one run

/// Everything measured in one run of one implementation.
#[derive(Debug, Clone, Default)]
struct Run {
    implementation: &'static str,
    repetition: u32,
    init_ms: f64,
    first_event_ms: f64,
    warm_median_ms: f64,
    warm_p99_ms: f64,
    warm_task_median_ms: f64,
    warm_task_p99_ms: f64,
    /// Mean over warm invocations of each duration rounded up to 1 ms (Lambda's billing).
    billed_ms_per_event: f64,
    /// CPU the function process used before its first `/next`.
    init_cpu_ms: f64,
    /// CPU the function process used per event, and moto per event while serving it.
    function_cpu_ms_per_event: f64,
    moto_cpu_ms_per_event: f64,
    peak_rss_kib: u64,
    errors: usize,
    first_errors: Vec<String>,
    should_store: usize,
    items_written: usize,
    items_lost: usize,
    mean_item_bytes: f64,
    max_item_bytes: usize,
    /// The largest item written, as stored (for reading where the bytes go).
    largest_item: Value,
    /// Items over 1 KiB (two or more table write units).
    items_over_one_unit: usize,
    write_units: usize,
    table_units: usize,
    index_units: usize,
    task_items: usize,
    task_write_units: usize,
    task_table_units: usize,
    task_index_units: usize,
    /// Ours only: index write units of task events, by index.
    task_units_by_index: BTreeMap<&'static str, usize>,
    /// Ours only: the sum of `writeUnits` the function reported in its answers.
    reported_write_units: u64,
    wall_seconds: f64,
    load_before: f64,
    load_after: f64,
}

impl Run {
    fn write_units_per_event(&self, events: usize) -> f64 {
        ratio(self.write_units as f64, events as f64)
    }

    fn write_units_per_task_event(&self) -> f64 {
        ratio(self.task_write_units as f64, self.task_items as f64)
    }

    fn to_json(&self, events: usize) -> Value {
        json!({
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
            "task_units_by_index": self.task_units_by_index,
            "write_units_per_task_event": self.write_units_per_task_event(),
            "reported_write_units": self.reported_write_units,
            "wall_seconds": self.wall_seconds,
            "load_average_before": self.load_before,
            "load_average_after": self.load_after,
        })
    }
}

struct Bench {
    args: Args,
    region: String,
    rust_table: String,
    moto: MotoServer,
    client: Client,
    bodies: Vec<Bytes>,
    is_task: Vec<bool>,
    expected: Expected,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

impl Bench {
    fn command(&self, implementation: Implementation, log: &Path) -> FunctionCommand {
        let command = implementation.command(
            &self.args.bootstrap,
            &self.args.baseline_dir,
            &self.rust_table,
        );
        command
            .env("AWS_ENDPOINT_URL", self.moto.endpoint())
            .memory_mb(MEMORY_MB)
            .log_file(log)
    }

    async fn run(&self, implementation: Implementation, repetition: u32) -> Result<Run> {
        let endpoint = self.moto.endpoint();
        self.moto.reset().await?;
        create_rust_table(&self.client, &endpoint, &self.rust_table).await?;
        create_python_table(&self.client, &endpoint).await?;

        let api = RuntimeApi::start_with(implementation.runtime_config(
            &self.rust_table,
            &self.region,
            Duration::from_secs(30),
            Duration::from_secs(60),
        ))
        .await?;
        let log = self
            .args
            .out
            .join("logs")
            .join(format!("{}-{repetition}.log", implementation.slug()));
        // A fresh log per run (the file is appended to).
        let _ = std::fs::remove_file(&log);

        let load_before = load_average();
        let began = Instant::now();
        let process = self.command(implementation, &log).spawn(&api)?;
        let Some(first_poll) = api.wait_first_poll(INIT_TIMEOUT).await else {
            let init_errors: Vec<String> = api
                .init_errors()
                .iter()
                .map(|e| format!("{}: {}", e.error_type, e.error_message))
                .collect();
            return Err(Error::Function {
                program: process.program().to_owned(),
                message: format!(
                    "no /next within {INIT_TIMEOUT:?} ({}); init errors: {init_errors:?}; last log lines:\n{}",
                    process
                        .describe_exit()
                        .unwrap_or_else(|| "still running".into()),
                    process.log_tail(20)
                ),
            });
        };
        let init = first_poll.saturating_duration_since(process.spawned_at());

        let moto_pid = self.moto.pid().unwrap_or(0);
        let function_cpu_before = cpu_ms(process.pid());
        let moto_cpu_before = process_cpu_ms(moto_pid).unwrap_or(f64::NAN);
        let mut durations = Vec::with_capacity(self.bodies.len());
        let mut run = Run {
            implementation: implementation.slug(),
            repetition,
            init_ms: ms(init),
            load_before,
            ..Run::default()
        };
        for body in &self.bodies {
            let invocation = api.invoke_raw(new_request_id(), body.clone()).await;
            durations.push(ms(invocation.duration()));
            match &invocation.outcome {
                Outcome::Response(answer) => {
                    run.reported_write_units += answer["writeUnits"].as_u64().unwrap_or(0);
                }
                Outcome::Error {
                    error_type,
                    error_message,
                } => {
                    run.errors += 1;
                    if run.first_errors.len() < 5 {
                        run.first_errors
                            .push(format!("{error_type}: {error_message}"));
                    }
                    if !process.is_running() {
                        return Err(Error::Function {
                            program: process.program().to_owned(),
                            message: format!(
                                "died during the run ({}); last log lines:\n{}",
                                process.describe_exit().unwrap_or_default(),
                                process.log_tail(20)
                            ),
                        });
                    }
                }
            }
        }
        let events = self.bodies.len() as f64;
        run.init_cpu_ms = function_cpu_before;
        run.function_cpu_ms_per_event = (cpu_ms(process.pid()) - function_cpu_before) / events;
        run.moto_cpu_ms_per_event =
            (process_cpu_ms(moto_pid).unwrap_or(f64::NAN) - moto_cpu_before) / events;
        run.peak_rss_kib = process.peak_rss_kib().unwrap_or(0);
        process.kill()?;
        run.wall_seconds = began.elapsed().as_secs_f64();
        run.load_after = load_average();

        run.first_event_ms = durations.first().copied().unwrap_or(f64::NAN);
        let mut warm: Vec<f64> = durations.iter().skip(1).copied().collect();
        let mut warm_task: Vec<f64> = durations
            .iter()
            .zip(&self.is_task)
            .skip(1)
            .filter(|(_, task)| **task)
            .map(|(d, _)| *d)
            .collect();
        run.billed_ms_per_event = ratio(
            warm.iter().map(|d| d.ceil().max(1.0)).sum::<f64>(),
            warm.len() as f64,
        );
        warm.sort_by(f64::total_cmp);
        warm_task.sort_by(f64::total_cmp);
        run.warm_median_ms = percentile(&warm, 50.0);
        run.warm_p99_ms = percentile(&warm, 99.0);
        run.warm_task_median_ms = percentile(&warm_task, 50.0);
        run.warm_task_p99_ms = percentile(&warm_task, 99.0);

        match implementation {
            Implementation::Rust => self.count_rust_items(&mut run).await?,
            Implementation::Python => self.count_python_items(&mut run).await?,
        }
        Ok(run)
    }

    /// Ours: every item's size and the indexes it lands in, as the function computes them.
    async fn count_rust_items(&self, run: &mut Run) -> Result<()> {
        let endpoint = self.moto.endpoint();
        let items = scan(&self.client, &endpoint, &self.rust_table).await?;
        let mut found = BTreeSet::new();
        let mut bytes = 0;
        for attributes in &items {
            let item = from_attributes(attributes).map_err(|e| setup_error("a stored item", e))?;
            let record =
                record_from_attributes(attributes).map_err(|e| setup_error("a stored item", e))?;
            let cost = WriteCost::of(&item, &record.indexes());
            bytes += cost.item_bytes;
            if cost.item_bytes > run.max_item_bytes {
                run.max_item_bytes = cost.item_bytes;
                run.largest_item = Value::Object(item.clone());
            }
            if cost.table_units > 1 {
                run.items_over_one_unit += 1;
            }
            run.write_units += cost.total_units();
            run.table_units += cost.table_units;
            run.index_units += cost.index_units;
            if record.task_id().is_some() {
                run.task_items += 1;
                run.task_write_units += cost.total_units();
                run.task_table_units += cost.table_units;
                run.task_index_units += cost.index_units;
                for index in record.indexes() {
                    let units = projected_size(&item, index)
                        .div_ceil(WRITE_UNIT_BYTES)
                        .max(1);
                    *run.task_units_by_index.entry(index.name).or_default() += units;
                }
            }
            found.insert((record.resource_arn, record.event_key));
        }
        run.should_store = self.expected.rust_keys.len();
        run.items_written = items.len();
        run.items_lost = self.expected.rust_keys.difference(&found).count();
        run.mean_item_bytes = ratio(bytes as f64, items.len() as f64);
        Ok(())
    }

    /// The recipe: its items' sizes, no indexes. Every task event is one PutItem of such an
    /// item (an overwrite costs the same as a first write), so the mean item's units are the
    /// units per task event.
    async fn count_python_items(&self, run: &mut Run) -> Result<()> {
        let endpoint = self.moto.endpoint();
        let items = scan(&self.client, &endpoint, BASELINE_TABLE).await?;
        let mut bytes = 0;
        let mut units = 0;
        for attributes in &items {
            let item = from_attributes(attributes).map_err(|e| setup_error("a stored item", e))?;
            let size = item_size(&item);
            bytes += size;
            if size > run.max_item_bytes {
                run.max_item_bytes = size;
                run.largest_item = Value::Object(item);
            }
            if size > WRITE_UNIT_BYTES {
                run.items_over_one_unit += 1;
            }
            units += size.div_ceil(WRITE_UNIT_BYTES).max(1);
        }
        let should_store = self.expected.python_should_store;
        let mean_units = ratio(units as f64, items.len() as f64);
        run.should_store = should_store;
        run.items_written = items.len();
        run.items_lost = should_store.saturating_sub(items.len());
        run.mean_item_bytes = ratio(bytes as f64, items.len() as f64);
        // Units consumed by the run: one put per task event.
        let consumed = (mean_units * should_store as f64).round() as usize;
        run.write_units = consumed;
        run.table_units = consumed;
        run.task_items = should_store;
        run.task_write_units = consumed;
        run.task_table_units = consumed;
        Ok(())
    }
}

// ------------------------------------------------------------------------------ report

fn machine() -> Value {
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

fn file_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))
}

/// A number for the table: few decimals, or `–` for none.
fn num(value: f64, decimals: usize) -> String {
    if value.is_nan() || value.is_infinite() {
        "–".into()
    } else {
        format!("{value:.decimals$}")
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

struct Summary {
    rust: Vec<Run>,
    python: Vec<Run>,
}

impl Summary {
    fn rust(&self, f: impl Fn(&Run) -> f64) -> f64 {
        median(self.rust.iter().map(&f))
    }

    fn python(&self, f: impl Fn(&Run) -> f64) -> f64 {
        median(self.python.iter().map(&f))
    }

    /// The medians of one metric, (Rust, Python).
    fn both(&self, f: impl Fn(&Run) -> f64) -> (f64, f64) {
        (self.rust(&f), self.python(&f))
    }
}

/// USD for one million events of one implementation on one architecture.
struct Cost {
    requests: f64,
    duration: f64,
    writes: f64,
}

impl Cost {
    fn of(billed_ms: f64, units_per_event: f64, usd_per_gb_second: f64) -> Self {
        let gb = f64::from(MEMORY_MB) / 1024.0;
        Cost {
            requests: LAMBDA_USD_PER_MILLION_REQUESTS,
            duration: 1e6 * billed_ms / 1000.0 * gb * usd_per_gb_second,
            writes: units_per_event * DYNAMODB_USD_PER_MILLION_WRU,
        }
    }

    fn total(&self) -> f64 {
        self.requests + self.duration + self.writes
    }
}

fn usd(value: f64) -> String {
    format!("${value:.4}")
}

fn report(bench: &Bench, summary: &Summary, packages: (u64, u64), machine: &Value) -> String {
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
    // Global tables: per extra region, each event's units again (replicated writes for the
    // table, writes for the replica's indexes) plus the item's bytes across regions
    // (puts ÷ events: ours one per event, the recipe one per task event, overwrites included).
    let replica = |units: f64, bytes: f64, stored: f64| {
        units * DYNAMODB_USD_PER_MILLION_REPLICATED_WRU
            + 1e6 * bytes * stored / 1e9 * INTER_REGION_TRANSFER_USD_PER_GB
    };
    let puts = summary.both(|r| r.task_items as f64);
    let stored = (
        ratio(written.0, events as f64),
        ratio(puts.1, events as f64),
    );
    let replica_cost = (
        replica(units.0, item.0, stored.0),
        replica(units.1, item.1, stored.1),
    );
    cost_row(
        &format!(
            "global table, per extra region: units × ${DYNAMODB_USD_PER_MILLION_REPLICATED_WRU} per million replicated writes + item bytes × ${INTER_REGION_TRANSFER_USD_PER_GB}/GB across regions"
        ),
        [
            usd(replica_cost.0),
            usd(replica_cost.1),
            usd(replica_cost.0),
            usd(replica_cost.1),
        ],
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
         The recipe is costed at on-demand prices too (it ships provisioned at 1 WCU, which throttles under bursts)."
    );
    out
}

fn runs_json(summary: &Summary, events: usize) -> Value {
    Value::Array(
        summary
            .rust
            .iter()
            .chain(&summary.python)
            .map(|run| run.to_json(events))
            .collect(),
    )
}

// ------------------------------------------------------------------------------ main

async fn bench(args: Args) -> Result<String> {
    if let Some(path) = &args.dump_events {
        let region = harness::local_env::environment(&args.environment)?.primary_region;
        let events = Value::Array(synthetic::generate(args.events, args.seed, &region));
        let text = serde_json::to_string_pretty(&events)
            .map_err(|e| Error::Setup(format!("serialising the events: {e}")))?;
        std::fs::write(path, text)
            .map_err(|e| Error::Setup(format!("writing {}: {e}", path.display())))?;
        return Ok(format!(
            "wrote {} events to {}",
            args.events,
            path.display()
        ));
    }
    if !args.bootstrap.is_file() {
        return Err(Error::Setup(format!(
            "{} does not exist: build it first (`make build`)",
            args.bootstrap.display()
        )));
    }
    let handler = args.baseline_dir.join("handler.py");
    if !handler.is_file() {
        return Err(Error::Setup(format!(
            "{} does not exist: the Python baseline is expected in shared/baseline/python-recipe",
            handler.display()
        )));
    }
    std::fs::create_dir_all(args.out.join("logs"))
        .map_err(|e| Error::Setup(format!("creating {}: {e}", args.out.display())))?;

    let environment = harness::local_env::environment(&args.environment)?;
    let region = environment.primary_region.clone();
    let events = synthetic::generate(args.events, args.seed, &region);
    let expected = expectations(&events)?;
    let bodies: Vec<Bytes> = events
        .iter()
        .map(|event| Bytes::from(event.to_string()))
        .collect();
    let is_task = events
        .iter()
        .map(|event| event["detail"]["taskDefinitionArn"].is_string())
        .collect();
    eprintln!(
        "bench: {} events ({:?}); the recipe should lose {} of its {} task events to same-second overwrites",
        events.len(),
        expected.mix,
        expected.python_predicted_loss,
        expected.python_should_store
    );

    let out = args.out.clone();
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Error::Setup(format!("writing {}: {e}", path.display())))
    };
    let cold = match args.cold_runs {
        0 => None,
        runs => Some(cold_path(&args, &environment.name, &region, &bodies, runs).await?),
    };
    let cold_markdown = cold.as_ref().map(cold::report).unwrap_or_default();
    let cold_json = cold.as_ref().map(cold::to_json).unwrap_or(Value::Null);
    if args.cold_only {
        write("results.md", cold_markdown.clone())?;
        let pretty = serde_json::to_string_pretty(&json!({ "cold": cold_json }))
            .map_err(|e| Error::Setup(format!("serialising the results: {e}")))?;
        write("results.json", pretty + "\n")?;
        return Ok(cold_markdown);
    }

    let packages = (
        file_size(&args.package)?,
        file_size(&args.baseline_package)?,
    );
    let moto = MotoOptions::default().recording(false).start().await?;
    let client = dynamodb_client(&moto.endpoint(), &region);
    let bench = Bench {
        rust_table: environment.name.clone(),
        region,
        moto,
        client,
        bodies,
        is_task,
        expected,
        args,
    };

    let mut summary = Summary {
        rust: Vec::new(),
        python: Vec::new(),
    };
    for repetition in 1..=bench.args.repetitions {
        // Alternate which goes first, so that drift (a warming cache, a neighbour's build)
        // does not always favour the same one.
        let order = if repetition % 2 == 1 {
            [Implementation::Rust, Implementation::Python]
        } else {
            [Implementation::Python, Implementation::Rust]
        };
        for implementation in order {
            let run = bench.run(implementation, repetition).await?;
            eprintln!(
                "bench: {:<24} run {repetition}: init {:.1} ms, first {:.2} ms, warm p50 {:.3} ms p99 {:.3} ms, \
                 {} KiB peak, {} items ({} lost), {} errors, {:.1} s",
                implementation.label(),
                run.init_ms,
                run.first_event_ms,
                run.warm_median_ms,
                run.warm_p99_ms,
                run.peak_rss_kib,
                run.items_written,
                run.items_lost,
                run.errors,
                run.wall_seconds
            );
            match implementation {
                Implementation::Rust => summary.rust.push(run),
                Implementation::Python => summary.python.push(run),
            }
        }
    }

    let machine = machine();
    let markdown = report(&bench, &summary, packages, &machine) + "\n" + &cold_markdown;
    let expected = &bench.expected;
    let raw = json!({
        "events": bench.bodies.len(),
        "mix": {
            "task": expected.mix.task,
            "service_action": expected.mix.service_action,
            "deployment": expected.mix.deployment,
        },
        "seed": bench.args.seed,
        "repetitions": bench.args.repetitions,
        "machine": machine,
        "versions": bench.args.versions,
        "packages": {"rust_zip_bytes": packages.0, "python_zip_bytes": packages.1},
        "expected": {
            "rust_distinct_keys": expected.rust_keys.len(),
            "python_should_store": expected.python_should_store,
            "python_distinct_keys": expected.python_distinct_keys,
            "python_predicted_loss": expected.python_predicted_loss,
            "largest_same_second_group": expected.largest_burst,
        },
        "prices": {
            "as_of": PRICES_AS_OF,
            "lambda_page": LAMBDA_PRICE_PAGE,
            "dynamodb_page": DYNAMODB_PRICE_PAGE,
            "lambda_usd_per_million_requests": LAMBDA_USD_PER_MILLION_REQUESTS,
            "lambda_arm64_usd_per_gb_second": LAMBDA_ARM64_USD_PER_GB_SECOND,
            "lambda_x86_64_usd_per_gb_second": LAMBDA_X86_64_USD_PER_GB_SECOND,
            "dynamodb_usd_per_million_wru": DYNAMODB_USD_PER_MILLION_WRU,
            "memory_mb": MEMORY_MB,
        },
        "runs": runs_json(&summary, bench.bodies.len()),
        "cold": cold_json,
    });
    write("results.md", markdown.clone())?;
    let pretty = serde_json::to_string_pretty(&raw)
        .map_err(|e| Error::Setup(format!("serialising the results: {e}")))?;
    write("results.json", pretty + "\n")?;
    Ok(markdown)
}

/// The cold path ([`cold::measure`]) on the stream's first events.
async fn cold_path(
    args: &Args,
    table: &str,
    region: &str,
    bodies: &[Bytes],
    runs: u32,
) -> Result<cold::ColdResults> {
    let options = cold::ColdOptions {
        bootstrap: args.bootstrap.clone(),
        baseline_dir: args.baseline_dir.clone(),
        rust_table: table.to_owned(),
        region: region.to_owned(),
        python: std::env::var_os("PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("python3")),
        moto_tls: args.moto_tls.clone(),
        runs,
        memory_mb: args.cold_memory.clone(),
        events: bodies
            .iter()
            .take(args.cold_warm_events + 1)
            .cloned()
            .collect(),
        logs: args.out.join("logs"),
    };
    let results = cold::measure(&options).await?;
    if let cold::ColdResults::Skipped(reason) = &results {
        eprintln!("bench: cold path not measured: {reason}");
    }
    Ok(results)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let out = args.out.clone();
    match runtime.block_on(bench(args)) {
        Ok(markdown) => {
            println!("{markdown}");
            eprintln!(
                "bench: wrote {} and {}",
                out.join("results.md").display(),
                out.join("results.json").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
