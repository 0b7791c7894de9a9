//! The benchmark's command line (`make bench` passes it through scripts/bench.sh).

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "ecs-state-logger against the Python recipe: same events, same Runtime API, same moto"
)]
pub struct Args {
    /// The function binary, or a script that execs it (e.g. under `valgrind --tool=callgrind`).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "target/lambda/ecs-state-logger/bootstrap"
    )]
    pub bootstrap: PathBuf,
    /// Its deployment package.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "target/lambda/ecs-state-logger/bootstrap.zip"
    )]
    pub package: PathBuf,
    /// The directory holding the baseline's handler.py (its task root).
    #[arg(long, value_name = "DIR", default_value = "build/bench/python-recipe")]
    pub baseline_dir: PathBuf,
    /// The baseline's deployment package (a zip of handler.py alone).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "build/bench/python-recipe.zip"
    )]
    pub baseline_package: PathBuf,
    /// Events per run.
    #[arg(long, default_value_t = 2000)]
    pub events: usize,
    /// Runs per implementation; the report gives medians over them.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub repetitions: u32,
    /// Seed of the event stream.
    #[arg(long, default_value_t = 20_261_120)]
    pub seed: u64,
    /// The environment whose terraform.tfvars.json names the region and the table.
    #[arg(long, default_value = "local")]
    pub environment: String,
    /// Where results.md, results.json and the function logs go.
    #[arg(long, value_name = "DIR", default_value = "build/bench")]
    pub out: PathBuf,
    /// Tool versions and build settings, for the report (free text).
    #[arg(long, default_value = "")]
    pub versions: String,
    /// Fresh processes per implementation and memory size on the cold path: TLS to the
    /// local API, a CPU quota of Lambda's share (0 skips it).
    #[arg(long, default_value_t = 5)]
    pub cold_runs: u32,
    /// Memory sizes (MB) of the cold path; each gets its CPU share.
    #[arg(long, value_delimiter = ',', default_value = "128,256,512")]
    pub cold_memory: Vec<u32>,
    /// Warm events after the first one on the cold path.
    #[arg(long, default_value_t = 20)]
    pub cold_warm_events: usize,
    /// The launcher of the local API over TLS.
    #[arg(long, value_name = "PATH", default_value = "scripts/moto-tls.py")]
    pub moto_tls: PathBuf,
    /// Only the cold path: no warm run.
    #[arg(long)]
    pub cold_only: bool,
    /// Write the generated events to this file (a JSON array, e.g. for `lambda-replay`)
    /// and exit.
    #[arg(long, value_name = "PATH")]
    pub dump_events: Option<PathBuf>,
}
