//! The warm run: a fresh function process under the local Runtime API fed the same events one
//! at a time, timed, then the table scanned for what it wrote and what that cost.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use ecs_audit_core::attributes::{from_attributes, record_from_attributes};
use ecs_audit_core::capacity::{WRITE_UNIT_BYTES, WriteCost, item_size, projected_size};
use ecs_audit_core::episode::is_alert_partition;
use ecs_audit_core::schema::PARTITION_KEY;
use serde_json::Value;

use super::args::Args;
use super::cpu::{cpu_ms, process_cpu_ms};
use super::expected::Expected;
use super::prices::MEMORY_MB;
use super::run::Run;
use super::stats::{load_average, ms, percentile, ratio};
use super::tables::{create_python_table, create_rust_table, moto_error, setup_error};
use super::{BASELINE_TABLE, Implementation};
use crate::runtime_api::new_request_id;
use crate::testkit::aws_cli;
use crate::{Error, FunctionCommand, MotoServer, Outcome, Result, RuntimeApi};

/// How long a process may take to reach its first `/next`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(60);

// ------------------------------------------------------------------------------ tables

pub async fn scan(
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

pub struct Bench {
    pub args: Args,
    pub region: String,
    pub rust_table: String,
    pub moto: MotoServer,
    pub client: Client,
    pub bodies: Vec<Bytes>,
    pub is_task: Vec<bool>,
    pub expected: Expected,
}

impl Bench {
    pub fn command(&self, implementation: Implementation, log: &Path) -> FunctionCommand {
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

    pub async fn run(&self, implementation: Implementation, repetition: u32) -> Result<Run> {
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
        let mut command = self.command(implementation, &log);
        if implementation == Implementation::Rust {
            // Failures are announced as deployed: a failures topic, so their cost is measured.
            let topic = aws_cli(
                &endpoint,
                &self.region,
                &["sns", "create-topic", "--name", "bench-failures"],
            )?;
            if let Some(arn) = topic["TopicArn"].as_str() {
                command = command.env("FAILURES_TOPIC_ARN", arn);
            }
        }
        let process = command.spawn(&api)?;
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
                    let announced = &answer["announced"];
                    let writes = announced["dynamodbWrites"].as_u64().unwrap_or(0);
                    if writes > 0 {
                        run.failures_announced += 1;
                    }
                    run.announce_writes += writes;
                    run.announce_queries += announced["dynamodbQueries"].as_u64().unwrap_or(0);
                    run.announce_publishes += announced["published"].as_u64().unwrap_or(0);
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
    pub async fn count_rust_items(&self, run: &mut Run) -> Result<()> {
        let endpoint = self.moto.endpoint();
        let items = scan(&self.client, &endpoint, &self.rust_table).await?;
        let mut found = BTreeSet::new();
        let mut bytes = 0;
        let mut records = 0;
        for attributes in &items {
            let item = from_attributes(attributes).map_err(|e| setup_error("a stored item", e))?;
            if item
                .get(PARTITION_KEY)
                .and_then(Value::as_str)
                .is_some_and(is_alert_partition)
            {
                run.alert_items += 1;
                run.max_alert_item_bytes = run.max_alert_item_bytes.max(item_size(&item));
                continue;
            }
            records += 1;
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
                if cost.table_units > 1 {
                    run.task_items_over_one_unit += 1;
                }
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
        run.items_written = records;
        run.items_lost = self.expected.rust_keys.difference(&found).count();
        run.mean_item_bytes = ratio(bytes as f64, records as f64);
        Ok(())
    }

    /// The recipe: its items' sizes, no indexes. Every task event is one PutItem of such an
    /// item (an overwrite costs the same as a first write), so the mean item's units are the
    /// units per task event.
    pub async fn count_python_items(&self, run: &mut Run) -> Result<()> {
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
        run.task_items_over_one_unit = run.items_over_one_unit;
        Ok(())
    }
}
