//! Replays event files through a function binary (the `bootstrap` that ships) over a local
//! Lambda Runtime API, one line per event and a summary.
//!
//! ```text
//! lambda-replay --bootstrap target/lambda/ecs-state-logger/bootstrap \
//!   --events tests/fixtures/events --environment local --endpoint http://127.0.0.1:4566
//! ```
//!
//! Exit status: 0 when every event was recorded (or `--allow-errors`), 1 when an event ended
//! in an error or a function process died, 2 when the replay could not run at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ecs_audit_core::environment::Environment;
use futures_util::StreamExt;
use harness::events::{self, EventSource};
use harness::function::describe_status;
use harness::{
    FunctionCommand, FunctionProcess, Invocation, Outcome, RuntimeApi, RuntimeApiConfig,
};
use serde_json::Value;

#[derive(Debug, Parser)]
#[command(
    name = "lambda-replay",
    about = "Replay event files through a Lambda function binary over a local Runtime API"
)]
struct Args {
    /// The function binary, e.g. target/lambda/ecs-state-logger/bootstrap.
    #[arg(long, value_name = "PATH")]
    bootstrap: PathBuf,

    /// An event file (one event or a JSON array) or a directory of *.json files, walked in
    /// sorted order. Repeatable.
    #[arg(long = "events", value_name = "PATH", required = true)]
    events: Vec<PathBuf>,

    /// An environment variable for the function, KEY=VALUE. Repeatable; wins over values
    /// derived from --environment, --endpoint and --region.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    env: Vec<(String, String)>,

    /// Take TABLE_NAME (name), AWS_REGION (primary_region) and RETENTION_DAYS
    /// (retention_days) from <environments-dir>/<ENV>/terraform.tfvars.json.
    #[arg(long, value_name = "ENV")]
    environment: Option<String>,

    /// Where --environment looks.
    #[arg(long, value_name = "DIR", default_value = "environments")]
    environments_dir: PathBuf,

    /// AWS_ENDPOINT_URL for the function (the local AWS API), e.g. http://127.0.0.1:4566.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,

    /// AWS_REGION for the function (default: the environment's primary region, else the local environment's).
    #[arg(long)]
    region: Option<String>,

    /// Function processes polling the Runtime API at once (events run concurrently).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    processes: u16,

    /// Replay the whole set this many times.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,

    /// The function timeout in seconds (and how long to wait for the processes to start).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,

    /// Exit 0 even when events end in errors (e.g. when replaying the malformed corpus).
    #[arg(long)]
    allow_errors: bool,

    /// Directory for the function processes' logs (default: a new temporary directory, kept).
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

/// Settings read from an environment's terraform.tfvars.json (by the core crate's loader).
#[derive(Debug, Default)]
struct EnvironmentVars {
    name: Option<String>,
    region: Option<String>,
    retention_days: Option<String>,
}

fn read_environment(dir: &Path, env: &str) -> Result<EnvironmentVars, String> {
    let environment = Environment::load(dir, env).map_err(|error| error.to_string())?;
    Ok(EnvironmentVars {
        region: environment.default_region().map(str::to_owned),
        retention_days: environment.retention_days.map(|days| days.to_string()),
        name: Some(environment.name),
    })
}

/// One replayed event's line.
struct Line {
    label: String,
    outcome: String,
    detail: String,
    millis: f64,
    error: bool,
}

fn describe(invocation: &Invocation) -> (String, String, bool) {
    match &invocation.outcome {
        Outcome::Response(value) => {
            let outcome = value
                .get("outcome")
                .and_then(Value::as_str)
                .unwrap_or("ok")
                .to_owned();
            let detail = match (value.get("resourceArn"), value.get("eventKey")) {
                (Some(Value::String(arn)), Some(Value::String(key))) => format!("{arn} {key}"),
                _ => String::new(),
            };
            (outcome, detail, false)
        }
        Outcome::Error {
            error_type,
            error_message,
        } => (
            "error".to_owned(),
            format!("{error_type}: {error_message}"),
            true,
        ),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report_processes(processes: &[FunctionProcess]) -> bool {
    let mut any_dead = false;
    for (i, process) in processes.iter().enumerate() {
        if let Some(status) = process.exit_status() {
            any_dead = true;
            eprintln!(
                "function process {i} (pid {}) exited: {}; last log lines of {}:\n{}",
                process.pid(),
                describe_status(&status),
                process.log_path().display(),
                process.log_tail(20)
            );
        }
    }
    any_dead
}

async fn replay(args: Args) -> Result<ExitCode, String> {
    let sources = events::load(&args.events).map_err(|e| e.to_string())?;
    if sources.is_empty() {
        return Err(format!(
            "no *.json events under {}",
            args.events
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !args.bootstrap.is_file() {
        return Err(format!(
            "{} does not exist: build it first (`make build`)",
            args.bootstrap.display()
        ));
    }

    let environment = match &args.environment {
        Some(env) => read_environment(&args.environments_dir, env)?,
        None => EnvironmentVars::default(),
    };
    let region = args
        .region
        .clone()
        .or(environment.region.clone())
        .unwrap_or_else(harness::local_env::default_region);
    let mut function_env: BTreeMap<String, String> = BTreeMap::new();
    if let Some(name) = &environment.name {
        function_env.insert("TABLE_NAME".into(), name.clone());
    }
    if let Some(days) = &environment.retention_days {
        function_env.insert("RETENTION_DAYS".into(), days.clone());
    }
    if let Some(endpoint) = &args.endpoint {
        function_env.insert("AWS_ENDPOINT_URL".into(), endpoint.clone());
    }
    function_env.insert("AWS_REGION".into(), region.clone());
    function_env.insert("AWS_DEFAULT_REGION".into(), region.clone());
    function_env.extend(args.env.iter().cloned());

    let timeout = Duration::from_secs(args.timeout.max(1));
    let api = RuntimeApi::start_with(RuntimeApiConfig {
        function_name: environment
            .name
            .clone()
            .unwrap_or_else(|| "ecs-state-logger".to_owned()),
        region,
        timeout,
        queue_timeout: Some(timeout),
        ..RuntimeApiConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;

    let log_dir = match &args.log_dir {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("lambda-replay-")
            .tempdir()
            .map_err(|e| format!("creating a log directory: {e}"))?
            .keep(),
    };
    let mut processes = Vec::new();
    for i in 0..args.processes {
        let process = FunctionCommand::new(&args.bootstrap)
            .envs(&function_env)
            .log_file(log_dir.join(format!("function-{i}.log")))
            .spawn(&api)
            .map_err(|e| e.to_string())?;
        processes.push(process);
    }
    let spawned = processes
        .first()
        .map(FunctionProcess::spawned_at)
        .unwrap_or_else(Instant::now);

    let Some(first_poll) = api.wait_first_poll(timeout).await else {
        report_processes(&processes);
        for init in api.init_errors() {
            eprintln!("init error {}: {}", init.error_type, init.error_message);
        }
        return Err(format!(
            "no function process polled the Runtime API within {timeout:?}; logs in {}",
            log_dir.display()
        ));
    };
    let init_ms = first_poll.saturating_duration_since(spawned).as_secs_f64() * 1000.0;

    let total = sources.len() * args.repeat as usize;
    let work: Vec<(u32, &EventSource)> = (1..=args.repeat)
        .flat_map(|run| sources.iter().map(move |s| (run, s)))
        .collect();
    let label_width = sources
        .iter()
        .map(|s| s.label().len())
        .max()
        .unwrap_or(0)
        .min(70)
        + if args.repeat > 1 { 8 } else { 0 };

    let started = Instant::now();
    let (api, processes) = (&api, &processes);
    let repeat = args.repeat;
    let mut results = futures_util::stream::iter(work)
        .map(|(run, source)| async move {
            let label = if repeat > 1 {
                format!("{} (run {run})", source.label())
            } else {
                source.label()
            };
            if !processes.iter().any(FunctionProcess::is_running) {
                return Line {
                    label,
                    outcome: "error".into(),
                    detail: "Runtime.ExitError: no function process is running".into(),
                    millis: 0.0,
                    error: true,
                };
            }
            let invocation = api.invoke(source.event.clone()).await;
            let (outcome, detail, error) = describe(&invocation);
            Line {
                label,
                outcome,
                detail,
                millis: invocation.duration().as_secs_f64() * 1000.0,
                error,
            }
        })
        .buffered(usize::from(args.processes));

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut millis = Vec::with_capacity(total);
    let mut errors = 0usize;
    while let Some(line) = results.next().await {
        println!(
            "{:<label_width$}  {:<9} {:>9.2} ms  {}",
            line.label, line.outcome, line.millis, line.detail
        );
        *counts.entry(line.outcome).or_default() += 1;
        if line.error {
            errors += 1;
        } else {
            millis.push(line.millis);
        }
    }
    let wall = started.elapsed();

    millis.sort_by(f64::total_cmp);
    let breakdown = counts
        .iter()
        .map(|(outcome, n)| format!("{n} {outcome}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "replayed {total} events ({} per run x {repeat}) with {} process(es) in {:.3} s: {breakdown}",
        sources.len(),
        args.processes,
        wall.as_secs_f64()
    );
    println!(
        "handler ms (answered events): p50 {:.2}, p99 {:.2}, max {:.2}; init {:.1} ms (spawn to first poll)",
        percentile(&millis, 50.0),
        percentile(&millis, 99.0),
        millis.last().copied().unwrap_or(0.0),
        init_ms
    );
    let peaks: Vec<String> = processes
        .iter()
        .filter_map(FunctionProcess::peak_rss_kib)
        .map(|kib| format!("{kib} KiB"))
        .collect();
    if !peaks.is_empty() {
        println!("peak RSS per process: {}", peaks.join(", "));
    }
    println!("function logs: {}", log_dir.display());

    let crashed = report_processes(processes);
    if crashed {
        eprintln!("a function process died during the replay");
        return Ok(ExitCode::from(1));
    }
    if errors > 0 && !args.allow_errors {
        eprintln!("{errors} of {total} events ended in an error (use --allow-errors to accept)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lambda-replay: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(replay(args)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("lambda-replay: {message}");
            ExitCode::from(2)
        }
    }
}
