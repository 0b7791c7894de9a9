//! `make bench`'s "questions at scale": a busy cluster's day (the scale day of
//! `harness::synthetic::scale`) and the same day twice over, loaded into the local
//! environment's table on moto, then asked with the shipped `ecs-audit` (release build) —
//! `cluster`, `service`, `cluster --failures`, `report` — next to the bare `aws dynamodb query`
//! of the `cluster-time` index on the same API. Each child's wall time and peak RSS (its
//! `getrusage`) go to `<out>/scale.md` and `<out>/scale.json`. Nothing is asserted: the
//! numbers are for people (BENCHMARKS.md). `--questions` asks only some; `--baseline` asks
//! them of a second build too, right after the first, for before/after rows on the same data.
//!
//! The items are written with `BatchWriteItem`, built by the handler's own mapping
//! (`record::build`, then the item and its attributes), not through the bootstrap: 60,000
//! invocations would take longer than the questions.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use clap::Parser;
use ecs_audit_core::attributes::to_attributes;
use ecs_audit_core::event::parse;
use ecs_audit_core::item::indexes_of;
use ecs_audit_core::mapping::build;
use ecs_audit_core::schema::CLUSTER_TIME_INDEX;
use futures_util::StreamExt;
use harness::synthetic::scale::{self, ScaleDay, service_name};
use harness::testkit::LocalTable;
use serde_json::json;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[derive(Debug, Parser)]
#[command(about = "ecs-audit's questions at scale against the bare index query, on moto")]
struct Args {
    /// Task runs of the day (about three events each); a second cluster gets twice as many
    #[arg(long, default_value_t = 7_000)]
    tasks: usize,
    #[arg(long, default_value_t = 50)]
    services: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The release `ecs-audit` binary
    #[arg(long)]
    ecs_audit: PathBuf,
    /// Where scale.md, scale.json and the report pages go
    #[arg(long)]
    out: PathBuf,
    /// The questions to ask (all by default; the bare query is always asked)
    #[arg(long, value_delimiter = ',', value_parser = QUESTIONS, default_values_t = QUESTIONS.map(str::to_string))]
    questions: Vec<String>,
    /// Another `ecs-audit` build (an earlier commit's, say), asked each question after the
    /// one measured, on the same data: a before/after row each
    #[arg(long)]
    baseline: Option<PathBuf>,
}

/// The questions asked of each day, by name.
const QUESTIONS: [&str; 4] = ["cluster", "service", "failures", "report"];

/// BatchWriteItem takes at most 25 items; this many requests are in flight at once.
const BATCH: usize = 25;
const IN_FLIGHT: usize = 8;
const RETENTION_DAYS: u32 = 14;

/// One child process, measured.
#[derive(Debug, Clone)]
struct Measured {
    seconds: f64,
    peak_rss_mb: f64,
    stderr: String,
}

/// GNU time, which reports its child's peak RSS. The child's own `getrusage` through
/// `wait4` is not used: a child forked from this process starts with this process's pages
/// counted, until it execs.
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `program args` to completion, stdout to `stdout`; its wall time and peak RSS.
fn measure(
    program: &Path,
    args: &[String],
    env: &[(&str, &str)],
    stdout: &Path,
) -> Result<Measured> {
    let stderr_path = stdout.with_extension("stderr");
    let rss_path = stdout.with_extension("rss");
    let mut command = Command::new(GNU_TIME);
    command
        .arg("--format=%M")
        .arg(format!("--output={}", rss_path.display()))
        .arg(program)
        .args(args)
        .env_remove("AWS_PROFILE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout)?)
        .stderr(std::fs::File::create(&stderr_path)?);
    let started = Instant::now();
    let status = command
        .status()
        .map_err(|error| format!("{GNU_TIME} (GNU time, apt-get install time): {error}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    if !status.success() {
        return Err(format!("{} {args:?} failed ({status}): {stderr}", program.display()).into());
    }
    let kib: f64 = std::fs::read_to_string(&rss_path)?
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .parse()?;
    Ok(Measured {
        seconds,
        peak_rss_mb: kib / 1024.0,
        stderr,
    })
}

/// Writes the day's items into the table, as the handler would. Returns how many were
/// written and how many of them `cluster-time` lists (a task's steps between RUNNING and
/// STOPPED are not listed).
async fn load(table: &LocalTable, events: &[serde_json::Value]) -> Result<(usize, usize)> {
    let mut requests = Vec::with_capacity(events.len());
    let mut listed = 0;
    for event in events {
        let parsed = parse(event)?;
        let record = build(&parsed, RETENTION_DAYS)?;
        let item = record.to_item()?;
        if indexes_of(&item)
            .iter()
            .any(|index| index.name == CLUSTER_TIME_INDEX)
        {
            listed += 1;
        }
        let item = to_attributes(&item);
        requests.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build()?)
                .build(),
        );
    }
    let written = requests.len();
    let name = table.env.name.clone();
    let batches: Vec<Vec<WriteRequest>> = requests.chunks(BATCH).map(<[_]>::to_vec).collect();
    let mut results = futures_util::stream::iter(batches.into_iter().map(|batch| {
        let client = table.client.clone();
        let name = name.clone();
        async move {
            let mut pending = batch;
            for _ in 0..20 {
                let output = client
                    .batch_write_item()
                    .request_items(&name, pending)
                    .send()
                    .await?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut rest| rest.remove(&name))
                    .unwrap_or_default();
                if pending.is_empty() {
                    return Ok(());
                }
            }
            Err::<(), Box<dyn std::error::Error>>("items left unprocessed".into())
        }
    }))
    .buffer_unordered(IN_FLIGHT);
    while let Some(result) = results.next().await {
        result?;
    }
    Ok((written, listed))
}

/// The question as a person would type it, without the output flags.
fn label(question: &[&str]) -> String {
    let mut words = Vec::new();
    let mut skip = false;
    for word in question {
        if std::mem::take(&mut skip) {
            continue;
        }
        if matches!(*word, "--output" | "--html") {
            skip = true;
            continue;
        }
        words.push(*word);
    }
    words.join(" ")
}

/// The events `ecs-audit -v` says it read, summed over regions.
fn events_read(stderr: &str) -> usize {
    stderr
        .lines()
        .filter_map(|line| line.split(" page(s), ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

struct Bench<'a> {
    args: &'a Args,
    endpoint: String,
    region: String,
    table: String,
}

impl Bench<'_> {
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", self.region.as_str()),
            ("AWS_DEFAULT_REGION", self.region.as_str()),
        ]
    }

    fn window() -> (String, String) {
        let start = scale::day_start();
        let end = start + chrono::Duration::days(1) + chrono::Duration::hours(2);
        (
            start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            end.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
    }

    fn bare_query(&self, cluster: &str) -> Result<Measured> {
        let (from, to) = Self::window();
        let args: Vec<String> = [
            "dynamodb",
            "query",
            "--table-name",
            &self.table,
            "--index-name",
            CLUSTER_TIME_INDEX,
            "--key-condition-expression",
            "#c = :c AND eventTime BETWEEN :a AND :b",
            "--expression-attribute-names",
            r##"{"#c":"cluster"}"##,
            "--expression-attribute-values",
            &json!({":c": {"S": cluster}, ":a": {"S": from}, ":b": {"S": to}}).to_string(),
            "--output",
            "json",
        ]
        .map(str::to_string)
        .to_vec();
        let aws = which("aws").ok_or("the AWS CLI is not on PATH (make tools)")?;
        measure(
            &aws,
            &args,
            &self.env(),
            &self.args.out.join(format!("scale-bare-{cluster}.json")),
        )
    }

    fn ecs_audit(&self, program: &Path, name: &str, question: &[&str]) -> Result<Measured> {
        let (from, to) = Self::window();
        let mut args: Vec<String> = ["--env", "local", "--region", &self.region, "-v"]
            .map(str::to_string)
            .to_vec();
        args.extend(question.iter().map(|arg| arg.to_string()));
        args.extend(["--since".to_string(), from, "--until".to_string(), to]);
        measure(
            program,
            &args,
            &self.env(),
            &self.args.out.join(format!("scale-{name}.out")),
        )
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    eprintln!("bench-scale: moto and the local table ...");
    let table = LocalTable::apply().await?;
    let bench = Bench {
        args: &args,
        endpoint: table.moto.endpoint(),
        region: table.env.primary_region.clone(),
        table: table.env.name.clone(),
    };
    let days = [("day", args.tasks), ("day2x", 2 * args.tasks)];
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    for (cluster, tasks) in days {
        let day = ScaleDay {
            tasks,
            services: args.services,
            seed: args.seed,
        };
        let events = scale::generate(day, cluster, &bench.region);
        let started = Instant::now();
        let (written, listed) = load(&table, &events).await?;
        drop(events);
        eprintln!(
            "bench-scale: {cluster}: {written} items written in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let bare = bench.bare_query(cluster)?;
        eprintln!(
            "bench-scale: {cluster} bare query: {listed} items, {:.1} s, {:.0} MB",
            bare.seconds, bare.peak_rss_mb
        );
        let service = format!("{cluster}/{}", service_name(0));
        rows.push(format!(
            "| {cluster} | bare `aws dynamodb query` of `{CLUSTER_TIME_INDEX}` | {listed} | {:.1} | {:.1} | 1.00 |",
            bare.seconds, bare.peak_rss_mb
        ));
        let builds = std::iter::once((&args.ecs_audit, ""))
            .chain(args.baseline.iter().map(|baseline| (baseline, "-baseline")));
        let asked = builds.flat_map(|build| {
            QUESTIONS
                .into_iter()
                .filter(|name| args.questions.iter().any(|asked| asked == name))
                .map(move |name| (name, build))
        });
        let mut asked: Vec<_> = asked.collect();
        // each question by both builds in turn, so both see the machine alike
        asked.sort_by_key(|(name, _)| QUESTIONS.iter().position(|each| each == name));
        for (name, (program, build)) in asked {
            let page = args.out.join(format!("scale-{cluster}{build}.html"));
            let page_arg = page.display().to_string();
            let question = match name {
                "cluster" => vec!["cluster", cluster, "--output", "json"],
                "service" => vec!["service", &service, "--output", "json"],
                "failures" => vec!["cluster", cluster, "--failures"],
                _ => vec!["report", "--cluster", cluster, "--html", &page_arg],
            };
            let run = bench.ecs_audit(program, &format!("{name}-{cluster}{build}"), &question)?;
            let events = events_read(&run.stderr);
            let baseline = if build.is_empty() { "" } else { " (baseline)" };
            let size = if name == "report" {
                format!(
                    " (page {:.2} MB)",
                    std::fs::metadata(&page)?.len() as f64 / 1e6
                )
            } else {
                String::new()
            };
            eprintln!(
                "bench-scale: {cluster} {name}{baseline}: {events} events, {:.1} s, {:.1} MB{size}",
                run.seconds, run.peak_rss_mb
            );
            rows.push(format!(
                "| {cluster} | `ecs-audit {}`{baseline}{size} | {events} | {:.1} | {:.1} | {:.2} |",
                label(&question),
                run.seconds,
                run.peak_rss_mb,
                run.seconds / bare.seconds.max(0.001)
            ));
            json_rows.push(json!({
                "day": cluster, "question": name, "baseline": !build.is_empty(), "events": events,
                "seconds": run.seconds, "peak_rss_mb": run.peak_rss_mb,
                "bare_seconds": bare.seconds, "bare_peak_rss_mb": bare.peak_rss_mb,
            }));
        }
    }
    let markdown = format!(
        "## Questions at scale\n\n{} task runs of {} services in one day (cluster `day`), and twice as many (`day2x`), in the local table on moto; items written with BatchWriteItem from the handler's own mapping. Time: wall seconds; RSS: the child's peak, MB; ratio: time over the bare query's.\n\n| day | question | events | time s | peak RSS MB | ratio |\n|---|---|---|---|---|---|\n{}\n",
        args.tasks,
        args.services,
        rows.join("\n")
    );
    std::fs::write(args.out.join("scale.md"), &markdown)?;
    std::fs::write(
        args.out.join("scale.json"),
        serde_json::to_string_pretty(&json_rows)?,
    )?;
    println!("{markdown}");
    Ok(())
}
