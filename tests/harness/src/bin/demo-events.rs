//! `make demo`'s day of ECS events ([`harness::synthetic::demo_day`]), and the clean-up of an
//! earlier demo's items. scripts/demo.sh runs it; regions are arguments (from
//! `environments/<env>/terraform.tfvars.json`), none is named here.
//!
//! ```text
//! demo-events generate --anchor EPOCH --out DIR [--cluster demo] REGION...
//!     DIR/<region>/NNN-<what>.json (one EventBridge event each, NNN = delivery order),
//!     DIR/manifest.json and DIR/scenario.env (the names the demo's questions use).
//! demo-events purge --endpoint URL --table NAME [--cluster demo] REGION...
//!     Deletes the cluster's items from each region's table at the local endpoint.
//! demo-events fingerprint
//!     A hash of the scenario: a kept day is replayed again only if this generator made it.
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use clap::{Parser, Subcommand};
use ecs_audit_core::schema::{CLUSTER_TIME_INDEX, PARTITION_KEY, SORT_KEY};
use harness::bench::tables::dynamodb_client;
use harness::synthetic::demo_day::{DEMO_CLUSTER, demo_day};
use sha2::{Digest, Sha256};

/// The scenario's source: its fingerprint changes when the day it makes may change.
const SCENARIO_SOURCE: [&str; 3] = [
    include_str!("../synthetic/demo_day.rs"),
    include_str!("../synthetic/demo_day/story.rs"),
    include_str!("../synthetic/demo_day/task.rs"),
];

#[derive(Debug, Parser)]
#[command(
    name = "demo-events",
    about = "make demo's day of ECS events, and the clean-up of an earlier one"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the day ending at --anchor as event files, a manifest and scenario.env.
    Generate {
        /// Epoch seconds the day ends at.
        #[arg(long)]
        anchor: i64,
        /// The directory to write (replaced if it exists).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, default_value = DEMO_CLUSTER)]
        cluster: String,
        #[arg(required = true)]
        regions: Vec<String>,
    },
    /// Deletes the cluster's items from each region's table, so a new day does not mix with
    /// an earlier one.
    Purge {
        #[arg(long, value_name = "URL")]
        endpoint: String,
        #[arg(long)]
        table: String,
        #[arg(long, default_value = DEMO_CLUSTER)]
        cluster: String,
        #[arg(required = true)]
        regions: Vec<String>,
    },
    /// Prints a hash of the scenario.
    Fingerprint,
}

fn write(path: &Path, text: String) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn generate(anchor: i64, out: &Path, cluster: &str, regions: &[String]) -> Result<(), String> {
    let day = demo_day(anchor, cluster, regions);
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("removing {}: {e}", out.display()))?;
    }
    for (name, text) in day.files() {
        let path = out.join(name);
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory)
                .map_err(|e| format!("creating {}: {e}", directory.display()))?;
        }
        write(&path, text)?;
    }
    for region in &day.regions {
        println!(
            "      {}: {} deliveries ({} duplicates) in {}",
            region.region,
            region.files.len(),
            region.duplicates,
            out.join(&region.region).display()
        );
    }
    Ok(())
}

type Key = HashMap<String, AttributeValue>;

/// The keys of the cluster's items: every resource the `cluster-time` index lists, and every
/// item of each (a task's steps between RUNNING and STOPPED are not in the index, its
/// partition holds them).
async fn cluster_keys(client: &Client, table: &str, cluster: &str) -> Result<Vec<Key>, String> {
    let listed = query_keys(client, table, Some(CLUSTER_TIME_INDEX), "cluster", cluster).await?;
    let resources: BTreeSet<String> = listed.into_keys().map(|(arn, _)| arn).collect();
    let mut keys = BTreeMap::new();
    for arn in &resources {
        keys.extend(query_keys(client, table, None, PARTITION_KEY, arn).await?);
    }
    Ok(keys.into_values().collect())
}

/// The table keys of the items whose `attribute` is `value`, in `index` or the table.
async fn query_keys(
    client: &Client,
    table: &str,
    index: Option<&str>,
    attribute: &str,
    value: &str,
) -> Result<BTreeMap<(String, String), Key>, String> {
    let mut keys = BTreeMap::new();
    let mut start = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression("#c = :c")
            .expression_attribute_names("#c", attribute)
            .expression_attribute_values(":c", AttributeValue::S(value.to_owned()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("Query {table}: {}", DisplayErrorContext(&e)))?;
        for item in page.items.unwrap_or_default() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            if let (Some(arn), Some(event_key)) = (text(PARTITION_KEY), text(SORT_KEY)) {
                let key = Key::from([
                    (PARTITION_KEY.to_owned(), AttributeValue::S(arn.clone())),
                    (SORT_KEY.to_owned(), AttributeValue::S(event_key.clone())),
                ]);
                keys.insert((arn, event_key), key);
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(keys);
        }
    }
}

async fn purge(
    endpoint: &str,
    table: &str,
    cluster: &str,
    regions: &[String],
) -> Result<(), String> {
    for region in regions {
        let client = dynamodb_client(endpoint, region);
        if let Err(error) = client.describe_table().table_name(table).send().await {
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception())
            {
                continue;
            }
            return Err(format!(
                "DescribeTable {table} in {region}: {}",
                DisplayErrorContext(&error)
            ));
        }
        let keys = cluster_keys(&client, table, cluster).await?;
        for batch in keys.chunks(25) {
            let mut pending: Vec<WriteRequest> = batch
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder().set_key(Some(key.clone())).build();
                    delete.map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<_, _>>()
                .map_err(|e| format!("a delete request: {e}"))?;
            while !pending.is_empty() {
                let answer = client
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "BatchWriteItem {table} in {region}: {}",
                            DisplayErrorContext(&e)
                        )
                    })?;
                pending = answer
                    .unprocessed_items
                    .and_then(|mut items| items.remove(table))
                    .unwrap_or_default();
            }
        }
        if !keys.is_empty() {
            println!(
                "      {region}: removed {} items of cluster {cluster} left by an earlier demo",
                keys.len()
            );
        }
    }
    Ok(())
}

fn fingerprint() -> String {
    Sha256::digest(SCENARIO_SOURCE.concat())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn main() -> ExitCode {
    let result = match Args::parse().command {
        Command::Generate {
            anchor,
            out,
            cluster,
            regions,
        } => generate(anchor, &out, &cluster, &regions),
        Command::Purge {
            endpoint,
            table,
            cluster,
            regions,
        } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the async runtime: {e}"))
            .and_then(|runtime| runtime.block_on(purge(&endpoint, &table, &cluster, &regions))),
        Command::Fingerprint => {
            println!("{}", fingerprint());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("demo-events: {message}");
            ExitCode::FAILURE
        }
    }
}
