//! The side-by-side benchmark: ecs-state-logger's `bootstrap` against the Python recipe it
//! replaces, on the same events, under the same local Lambda Runtime API, writing to the same
//! moto server. `make bench` runs it through `scripts/bench.sh`.
//!
//! For each repetition and each implementation (alternating which goes first), moto is reset,
//! both tables are created, a fresh function process is started and the same deterministic
//! event stream ([`harness::synthetic`]) is fed one event at a time. Measured: init (spawn to
//! first `/next`), the first event, warm events (hand-out to answer), peak RSS (`VmHWM`),
//! items written and lost (a Scan after the run), and write units from the items' DynamoDB
//! sizes and the indexes each lands in (`ecs_state_logger::capacity`).
//!
//! Writes `<out>/results.md` (printed too) and `<out>/results.json` (every run, raw).

use std::process::ExitCode;

use clap::Parser;
use harness::bench::args::Args;
use harness::bench::driver::bench;

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
