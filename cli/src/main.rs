use std::process::ExitCode;

use clap::Parser;
use ecs_audit::Cli;
use ecs_audit::cli::Command;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // The MCP server owns stdout for its messages (no lock held here while it writes).
        Command::Mcp(_) => ecs_audit::commands::mcp::serve(cli.common).await,
        _ => ecs_audit::run(cli, &mut std::io::stdout().lock(), &mut std::io::stderr()).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ecs-audit: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
