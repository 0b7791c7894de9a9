//! Soak: 10,000 deliveries (8,000 distinct generated events — tasks, service actions,
//! deployments — and 2,000 redeliveries, shuffled) through 4 processes of the built
//! `bootstrap` polling one Runtime API, into `environments/local`'s table (applied by
//! Terraform to moto, `-target` the primary region's table only): exactly one item per
//! distinct event, no errors. Needs `make build` first (`make test` does it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use ecs_state_logger::record::{PARTITION_KEY, SORT_KEY};
use ecs_state_logger::{event, record};
use futures_util::StreamExt;
use harness::local_env::{self, repo_root};
use harness::synthetic::{self, SplitMix64};
use harness::{
    FunctionCommand, FunctionProcess, MotoServer, RuntimeApi, RuntimeApiConfig, Terraform,
};
use serde_json::{Value, json};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const DISTINCT: usize = 8_000;
const REDELIVERIES: usize = 2_000;
const PROCESSES: usize = 4;
const IN_FLIGHT: usize = 16;
const SEED: u64 = 0x50a4_2026;
const RETENTION_DAYS: u32 = 14;

fn built(file: &str) -> Result<PathBuf, String> {
    let path = repo_root()
        .join("target/lambda/ecs-state-logger")
        .join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run `make build` first",
            path.display()
        ))
    }
}

/// Removes the Terraform workspace's state when the test ends: its resources lived in the
/// test's own moto, gone by then, so there is nothing to destroy.
struct ForgetWorkspace(PathBuf);

impl Drop for ForgetWorkspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Applies only `environments/local`'s table of `region` to the moto at `endpoint`: the
/// table's schema comes from the one module that defines it.
async fn apply_table(endpoint: &str, region: &str) -> TestResult<(Terraform, ForgetWorkspace)> {
    let mut terraform = Terraform::new(repo_root().join("environments/local"))?;
    let mirror = Path::new("/opt/tf-plugins");
    if std::env::var_os("TF_PLUGIN_DIR").is_none_or(|dir| dir.is_empty()) && mirror.is_dir() {
        // The machine's provider mirror, as the Makefile picks it when TF_PLUGIN_DIR is unset.
        let config = terraform.data_dir().join("terraformrc-mirror");
        std::fs::write(&config, harness::terraform::cli_config(Some(mirror)))?;
        terraform = terraform.env("TF_CLI_CONFIG_FILE", config);
    }
    terraform.init().await?;
    let forget = ForgetWorkspace(
        terraform
            .env_dir()
            .join("terraform.tfstate.d")
            .join(terraform.workspace()),
    );
    let var_file = terraform.data_dir().join("soak.tfvars.json");
    std::fs::write(
        &var_file,
        json!({
            "aws_endpoint_url": endpoint,
            "architecture": "x86_64",
            "package_path": built("bootstrap.zip")?.display().to_string(),
        })
        .to_string(),
    )?;
    terraform
        .run([
            "apply".to_owned(),
            "-input=false".to_owned(),
            "-no-color".to_owned(),
            "-auto-approve".to_owned(),
            format!("-var-file={}", var_file.display()),
            format!("-target=module.table_{}", region.replace('-', "_")),
        ])
        .await?;
    Ok((terraform, forget))
}

fn dynamodb(endpoint: &str, region: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// Every item's `(resourceArn, eventKey)`.
async fn stored_keys(client: &Client, table: &str) -> TestResult<Vec<(String, String)>> {
    let mut keys = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .projection_expression("#pk, #sk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .set_exclusive_start_key(start.take())
            .send()
            .await?;
        for item in page.items() {
            let text = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            keys.push((text(PARTITION_KEY), text(SORT_KEY)));
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(keys),
        }
    }
}

/// The `(resourceArn, eventKey)` the handler gives an event.
fn key_of(event: &Value) -> TestResult<(String, String)> {
    let record = record::build(&event::parse(event)?, RETENTION_DAYS)?;
    Ok((record.resource_arn, record.event_key))
}

/// The deliveries: every event once, `REDELIVERIES` of them again, in a seeded shuffle.
fn deliveries(events: &[Value], rng: &mut SplitMix64) -> Vec<Value> {
    let mut all = events.to_vec();
    let count = u64::try_from(events.len()).unwrap_or(u64::MAX);
    for _ in 0..REDELIVERIES {
        let pick = usize::try_from(rng.below(count)).unwrap_or(0);
        all.push(events[pick].clone());
    }
    // Fisher–Yates.
    for i in (1..all.len()).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        all.swap(i, j);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_deliveries_through_four_processes_leave_one_item_per_event() -> TestResult {
    let bootstrap = built("bootstrap")?;
    let env = local_env::local()?;
    let region = env.primary_region.clone();
    let moto = MotoServer::options().recording(false).start().await?;
    let endpoint = moto.endpoint();
    let (_terraform, _forget) = apply_table(&endpoint, &region).await?;
    let client = dynamodb(&endpoint, &region);

    // GIVEN 8,000 distinct events and 2,000 redeliveries of some of them, shuffled
    let mut rng = SplitMix64::new(SEED);
    let events = synthetic::generate(DISTINCT, rng.next_u64(), &region);
    assert_eq!(events.len(), DISTINCT);
    let mix = synthetic::Mix::of(&events);
    assert!(
        mix.task > 0 && mix.service_action > 0 && mix.deployment > 0,
        "{mix:?}"
    );
    let expected: BTreeSet<(String, String)> =
        events.iter().map(key_of).collect::<TestResult<_>>()?;
    assert_eq!(expected.len(), DISTINCT, "two generated events share a key");
    let deliveries = deliveries(&events, &mut rng);
    assert_eq!(deliveries.len(), DISTINCT + REDELIVERIES);

    // AND 4 processes of the shipped bootstrap polling one Runtime API
    let api = Arc::new(
        RuntimeApi::start_with(RuntimeApiConfig {
            region: region.clone(),
            timeout: Duration::from_secs(30),
            queue_timeout: Some(Duration::from_secs(120)),
            ..RuntimeApiConfig::default()
        })
        .await?,
    );
    let processes: Vec<FunctionProcess> = (0..PROCESSES)
        .map(|_| {
            FunctionCommand::new(&bootstrap)
                .env("TABLE_NAME", &env.name)
                .env("RETENTION_DAYS", RETENTION_DAYS.to_string())
                .env("AWS_ENDPOINT_URL", &endpoint)
                .spawn(&api)
        })
        .collect::<Result<_, _>>()?;
    api.wait_first_poll(Duration::from_secs(10))
        .await
        .ok_or("the bootstrap never polled")?;

    // WHEN every delivery is invoked, 16 at a time
    let began = Instant::now();
    let outcomes: Vec<Result<String, String>> = futures_util::stream::iter(deliveries)
        .map(|event| {
            let api = Arc::clone(&api);
            async move {
                let id = event["id"].clone();
                let invocation = api.invoke(event).await;
                invocation
                    .response()
                    .and_then(|r| r["outcome"].as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| format!("event {id}: {:?}", invocation.outcome))
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let took = began.elapsed();

    // THEN no delivery failed and no process died
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}\n{}",
        errors.len(),
        errors.first(),
        processes[0].log_tail(10)
    );
    for process in &processes {
        assert!(process.is_running(), "{}", process.log_tail(20));
    }
    let written = outcomes
        .iter()
        .filter(|o| o.as_deref() == Ok("written"))
        .count();
    let duplicate = outcomes
        .iter()
        .filter(|o| o.as_deref() == Ok("duplicate"))
        .count();
    assert_eq!(written + duplicate, DISTINCT + REDELIVERIES);
    // moto's conditional put is not atomic across its threads, so two copies of one event
    // in flight at once may both be told "written"; the table still gets one item.
    assert!(written >= DISTINCT, "{written} written");

    // AND the table holds exactly one item per distinct event
    let stored = stored_keys(&client, &env.name).await?;
    let unique: BTreeSet<(String, String)> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), DISTINCT, "items in the table");
    assert_eq!(unique, expected);
    eprintln!(
        "soak: {} deliveries ({written} written, {duplicate} duplicate) through {PROCESSES} processes in {took:.1?}, {:.0}/s",
        DISTINCT + REDELIVERIES,
        (DISTINCT + REDELIVERIES) as f64 / took.as_secs_f64()
    );
    Ok(())
}
