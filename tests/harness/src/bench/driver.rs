//! One benchmark from its arguments: the events, the cold path, the warm runs of both
//! implementations in alternating order, and the files results.md and results.json.

use std::path::PathBuf;

use bytes::Bytes;
use serde_json::{Value, json};

use super::Implementation;
use super::args::Args;
use super::cold;
use super::expected::expectations;
use super::prices::*;
use super::report::{Summary, file_size, machine, report, runs_json};
use super::tables::dynamodb_client;
use super::warm::Bench;
use crate::synthetic;
use crate::{Error, MotoOptions, Result};

pub async fn bench(args: Args) -> Result<String> {
    if let Some(path) = &args.dump_events {
        let region = crate::local_env::environment(&args.environment)?.primary_region;
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

    let environment = crate::local_env::environment(&args.environment)?;
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
pub async fn cold_path(
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
