use std::process::ExitCode;

use clap::Parser;
use ecs_audit::Cli;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = ecs_audit::run(cli, &mut std::io::stdout().lock(), &mut std::io::stderr()).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ecs-audit: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
