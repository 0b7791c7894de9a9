//! The cold path: what a cold start costs as Lambda runs it. DynamoDB is reached over TLS
//! with keep-alive ([`TlsApi`]), and the function process runs in a CPU quota of the share
//! Lambda gives its memory size ([`CpuQuota`]). Each run is a fresh process: init (spawn to
//! its first `/next`), the first event, then warm events, with the process's CPU time in
//! each phase. Both implementations, alternating which goes first.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use super::Implementation;
use super::cpu::cpu_ms;
use super::cpu_quota::{CpuQuota, quota_us, vcpu_percent};
use super::tables::{create_python_table, create_rust_table, dynamodb_client};
use super::tls_api::TlsApi;
use crate::error::{Error, Result};
use crate::runtime_api::new_request_id;
use crate::{Outcome, RuntimeApi};

/// How long a process may take to reach its first `/next` (Python at 7 % of a core takes
/// seconds).
const INIT_TIMEOUT: Duration = Duration::from_secs(120);
/// Between runs: the next process starts with a whole quota period of its own, not what the
/// previous one left of it.
const SETTLE: Duration = Duration::from_millis(250);
/// The memory size the targets are set at.
const TARGET_MB: u32 = 128;
/// Targets at [`TARGET_MB`]: init + first event, first event against a warm one, and warm
/// against the recipe's warm event.
const TARGET_INIT_PLUS_FIRST_MS: f64 = 60.0;
const TARGET_FIRST_OVER_WARM: f64 = 2.0;
const TARGET_WARM_OVER_RECIPE: f64 = 0.1;

#[derive(Debug, Clone)]
pub struct ColdOptions {
    pub bootstrap: PathBuf,
    pub baseline_dir: PathBuf,
    pub rust_table: String,
    pub region: String,
    pub python: PathBuf,
    pub moto_tls: PathBuf,
    /// Fresh processes per implementation and memory size.
    pub runs: u32,
    pub memory_mb: Vec<u32>,
    /// The events each process gets: the first is its first event, the rest warm.
    pub events: Vec<Bytes>,
    pub logs: PathBuf,
}

/// One fresh process.
#[derive(Debug, Clone, Default)]
pub struct ColdSample {
    pub implementation: &'static str,
    pub memory_mb: u32,
    pub run: u32,
    pub init_ms: f64,
    pub first_ms: f64,
    /// Median over the warm events.
    pub warm_ms: f64,
    pub init_cpu_ms: f64,
    pub first_cpu_ms: f64,
    /// Per warm event.
    pub warm_cpu_ms: f64,
    pub peak_rss_kib: u64,
    pub errors: usize,
    pub first_error: Option<String>,
}

impl ColdSample {
    fn to_json(&self) -> Value {
        json!({
            "implementation": self.implementation,
            "memory_mb": self.memory_mb,
            "run": self.run,
            "init_ms": self.init_ms,
            "first_event_ms": self.first_ms,
            "warm_event_median_ms": self.warm_ms,
            "init_plus_first_ms": self.init_ms + self.first_ms,
            "init_cpu_ms": self.init_cpu_ms,
            "first_event_cpu_ms": self.first_cpu_ms,
            "warm_event_cpu_ms": self.warm_cpu_ms,
            "peak_rss_kib": self.peak_rss_kib,
            "errors": self.errors,
            "first_error": self.first_error,
        })
    }
}

/// The cold path's outcome: samples, or why it could not run here.
#[derive(Debug)]
pub enum ColdResults {
    Measured {
        samples: Vec<ColdSample>,
        quotas: Vec<String>,
        runs: u32,
        warm_events: usize,
    },
    Skipped(String),
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
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

/// Runs every implementation `runs` times at every memory size.
pub async fn measure(options: &ColdOptions) -> Result<ColdResults> {
    if options.events.len() < 2 {
        return Err(Error::Setup(
            "the cold path needs at least two events (a first and a warm one)".into(),
        ));
    }
    // Probe first: without a quota there is nothing this mode can say.
    let group = |mb: u32| format!("ecs-state-logger-bench-{}-{mb}", std::process::id());
    match CpuQuota::create(&group(TARGET_MB), TARGET_MB) {
        Ok(probe) => drop(probe),
        Err(e) => return Ok(ColdResults::Skipped(e.to_string())),
    }
    std::fs::create_dir_all(&options.logs)
        .map_err(|e| Error::io(format!("creating {}", options.logs.display()), e))?;
    let api = TlsApi::start(
        &options.python,
        &options.moto_tls,
        &options.logs.join("moto-tls.log"),
    )
    .await?;
    eprintln!(
        "bench cold: local API over TLS at {} (set-up over {})",
        api.https_endpoint(),
        api.http_endpoint()
    );
    let client = dynamodb_client(&api.http_endpoint(), &options.region);
    create_rust_table(&client, &api.http_endpoint(), &options.rust_table).await?;
    create_python_table(&client, &api.http_endpoint()).await?;
    eprintln!("bench cold: tables created");

    let mut samples = Vec::new();
    let mut quotas = Vec::new();
    for &mb in &options.memory_mb {
        let quota = CpuQuota::create(&group(mb), mb)?;
        quotas.push(format!("{mb} MB: {}", quota.describe()));
        for run in 1..=options.runs {
            let order = if run % 2 == 1 {
                [Implementation::Rust, Implementation::Python]
            } else {
                [Implementation::Python, Implementation::Rust]
            };
            for implementation in order {
                let sample = one(options, &api, &quota, implementation, run).await?;
                eprintln!(
                    "bench cold: {mb:>4} MB {:<24} run {run}: init {:.1} ms, first {:.1} ms, warm {:.2} ms, \
                     init + first {:.1} ms; CPU init {:.1} ms, first {:.1} ms, warm {:.2} ms; {} errors",
                    implementation.label(),
                    sample.init_ms,
                    sample.first_ms,
                    sample.warm_ms,
                    sample.init_ms + sample.first_ms,
                    sample.init_cpu_ms,
                    sample.first_cpu_ms,
                    sample.warm_cpu_ms,
                    sample.errors
                );
                samples.push(sample);
            }
        }
    }
    Ok(ColdResults::Measured {
        samples,
        quotas,
        runs: options.runs,
        warm_events: options.events.len() - 1,
    })
}

async fn one(
    options: &ColdOptions,
    api: &TlsApi,
    quota: &CpuQuota,
    implementation: Implementation,
    run: u32,
) -> Result<ColdSample> {
    let mb = quota.memory_mb();
    let runtime = RuntimeApi::start_with(implementation.runtime_config(
        &options.rust_table,
        &options.region,
        Duration::from_secs(60),
        Duration::from_secs(180),
    ))
    .await?;
    let log = options
        .logs
        .join(format!("cold-{}-{mb}-{run}.log", implementation.slug()));
    let _ = std::fs::remove_file(&log);
    let bundle = api.ca_bundle();
    let mut command = implementation
        .command(
            &options.bootstrap,
            &options.baseline_dir,
            &options.rust_table,
        )
        .env("AWS_ENDPOINT_URL", api.https_endpoint())
        // The system store plus the local CA, as a private CA is given on Lambda.
        .env("SSL_CERT_FILE", &bundle)
        .memory_mb(mb)
        .log_file(&log)
        .cgroup(quota.procs_file());
    if implementation == Implementation::Python {
        // botocore reads its own variable, not SSL_CERT_FILE.
        command = command.env("AWS_CA_BUNDLE", &bundle);
    }
    tokio::time::sleep(SETTLE).await;
    let process = command.spawn(&runtime)?;
    let failed = |what: String| Error::Function {
        program: process.program().to_owned(),
        message: format!("{what}; last log lines:\n{}", process.log_tail(20)),
    };
    let Some(first_poll) = runtime.wait_first_poll(INIT_TIMEOUT).await else {
        return Err(failed(format!(
            "no /next within {INIT_TIMEOUT:?} ({})",
            process
                .describe_exit()
                .unwrap_or_else(|| "still running".into())
        )));
    };
    let pid = process.pid();
    let mut sample = ColdSample {
        implementation: implementation.slug(),
        memory_mb: mb,
        run,
        init_ms: ms(first_poll.saturating_duration_since(process.spawned_at())),
        init_cpu_ms: cpu_ms(pid),
        ..ColdSample::default()
    };
    let mut durations = Vec::with_capacity(options.events.len());
    let mut cpu_after_first = f64::NAN;
    for (i, body) in options.events.iter().enumerate() {
        let invocation = runtime.invoke_raw(new_request_id(), body.clone()).await;
        durations.push(ms(invocation.duration()));
        if i == 0 {
            cpu_after_first = cpu_ms(pid);
        }
        if let Outcome::Error {
            error_type,
            error_message,
        } = &invocation.outcome
        {
            sample.errors += 1;
            sample
                .first_error
                .get_or_insert_with(|| format!("{error_type}: {error_message}"));
            if !process.is_running() {
                return Err(failed(format!(
                    "died ({})",
                    process.describe_exit().unwrap_or_default()
                )));
            }
        }
    }
    let cpu_end = cpu_ms(pid);
    sample.peak_rss_kib = process.peak_rss_kib().unwrap_or(0);
    process.kill()?;
    let warm = durations.len() - 1;
    sample.first_ms = durations[0];
    sample.warm_ms = median(durations[1..].iter().copied());
    sample.first_cpu_ms = cpu_after_first - sample.init_cpu_ms;
    sample.warm_cpu_ms = (cpu_end - cpu_after_first) / warm as f64;
    Ok(sample)
}

/// Medians of one implementation at one memory size.
#[derive(Debug, Clone, Copy)]
struct Medians {
    init: f64,
    first: f64,
    warm: f64,
    init_plus_first: f64,
    init_cpu: f64,
    first_cpu: f64,
    warm_cpu: f64,
    rss_mib: f64,
    errors: usize,
}

fn medians(samples: &[ColdSample], implementation: Implementation, mb: u32) -> Option<Medians> {
    let of: Vec<&ColdSample> = samples
        .iter()
        .filter(|s| s.implementation == implementation.slug() && s.memory_mb == mb)
        .collect();
    if of.is_empty() {
        return None;
    }
    let m = |f: fn(&ColdSample) -> f64| median(of.iter().map(|s| f(s)));
    Some(Medians {
        init: m(|s| s.init_ms),
        first: m(|s| s.first_ms),
        warm: m(|s| s.warm_ms),
        init_plus_first: m(|s| s.init_ms + s.first_ms),
        init_cpu: m(|s| s.init_cpu_ms),
        first_cpu: m(|s| s.first_cpu_ms),
        warm_cpu: m(|s| s.warm_cpu_ms),
        rss_mib: m(|s| s.peak_rss_kib as f64 / 1024.0),
        errors: of.iter().map(|s| s.errors).sum(),
    })
}

fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// The cold path's section of results.md.
pub fn report(results: &ColdResults) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Cold start: TLS to the local API, Lambda's CPU share\n"
    );
    let (samples, quotas, runs, warm_events) = match results {
        ColdResults::Skipped(reason) => {
            let _ = writeln!(out, "Not measured: {reason}.\n");
            return out;
        }
        ColdResults::Measured {
            samples,
            quotas,
            runs,
            warm_events,
        } => (samples, quotas, runs, warm_events),
    };
    let _ = writeln!(
        out,
        "Each run: a fresh process in a CPU quota of the share Lambda gives its memory ({}), against the local API \
         over TLS with HTTP/1.1 keep-alive (`scripts/moto-tls.py`, its local CA appended to the system trust store and given as `SSL_CERT_FILE`); the first event, then {warm_events} warm ones. \
         {runs} run(s) per implementation and size, medians. CPU is the function process's own (all threads).\n",
        quotas.join("; ")
    );
    let _ = writeln!(
        out,
        "| memory | implementation | init (ms) | first event (ms) | warm event (ms) | init + first (ms) | CPU: init (ms) | CPU: first event (ms) | CPU: warm event (ms) | peak RSS (MiB) | errors |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut sizes: Vec<u32> = samples.iter().map(|s| s.memory_mb).collect();
    sizes.dedup();
    for &mb in &sizes {
        for implementation in [Implementation::Rust, Implementation::Python] {
            let Some(m) = medians(samples, implementation, mb) else {
                continue;
            };
            let _ = writeln!(
                out,
                "| {mb} MB ({:.2} % vCPU, quota {} µs) | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} | {:.2} | {:.3} | {:.1} | {} |",
                vcpu_percent(mb),
                quota_us(mb),
                implementation.label(),
                m.init,
                m.first,
                m.warm,
                m.init_plus_first,
                m.init_cpu,
                m.first_cpu,
                m.warm_cpu,
                m.rss_mib,
                m.errors
            );
        }
    }
    if let (Some(rust), Some(python)) = (
        medians(samples, Implementation::Rust, TARGET_MB),
        medians(samples, Implementation::Python, TARGET_MB),
    ) {
        let _ = writeln!(out, "\nTargets at {TARGET_MB} MB:\n");
        let _ = writeln!(out, "| target | result | met |\n|---|---|---|");
        let _ = writeln!(
            out,
            "| init + first event ≤ {TARGET_INIT_PLUS_FIRST_MS} ms | {:.1} ms | {} |",
            rust.init_plus_first,
            met(rust.init_plus_first <= TARGET_INIT_PLUS_FIRST_MS)
        );
        let first_over_warm = rust.first / rust.warm;
        let _ = writeln!(
            out,
            "| first event ≤ {TARGET_FIRST_OVER_WARM} × a warm event | {:.1} ms = {first_over_warm:.2} × {:.2} ms | {} |",
            rust.first,
            rust.warm,
            met(first_over_warm <= TARGET_FIRST_OVER_WARM)
        );
        let warm_ratio = rust.warm / python.warm;
        let _ = writeln!(
            out,
            "| warm ≤ {TARGET_WARM_OVER_RECIPE} × the recipe's | {:.2} ms vs {:.2} ms = {warm_ratio:.3} | {} |",
            rust.warm,
            python.warm,
            met(warm_ratio <= TARGET_WARM_OVER_RECIPE)
        );
        let _ = writeln!(
            out,
            "| errors | {} | {} |",
            rust.errors,
            met(rust.errors == 0)
        );
    }
    out.push('\n');
    out
}

/// Every sample, raw, for results.json.
pub fn to_json(results: &ColdResults) -> Value {
    match results {
        ColdResults::Skipped(reason) => json!({ "skipped": reason }),
        ColdResults::Measured {
            samples,
            quotas,
            runs,
            warm_events,
        } => json!({
            "quotas": quotas,
            "runs": runs,
            "warm_events": warm_events,
            "samples": samples.iter().map(ColdSample::to_json).collect::<Vec<_>>(),
        }),
    }
}
