//! `lambda-replay` end to end, with the `echo-function` test binary standing in for the
//! shipped bootstrap.

use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const REPLAY: &str = env!("CARGO_BIN_EXE_lambda-replay");
const ECHO: &str = env!("CARGO_BIN_EXE_echo-function");

fn write(dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// Runs `lambda-replay` on the echo function, its logs in a directory removed afterwards.
fn replay(args: &[&str]) -> std::io::Result<Output> {
    let logs = tempfile::tempdir()?;
    Command::new(REPLAY)
        .args(["--bootstrap", ECHO])
        .arg("--log-dir")
        .arg(logs.path())
        .args(args)
        .output()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn replays_files_in_order_and_fails_on_errors() -> TestResult {
    // GIVEN a directory of events: one file with one event, one with an array
    let dir = tempfile::tempdir()?;
    write(dir.path(), "a-running.json", r#"{"id": "1"}"#)?;
    write(
        dir.path(),
        "b-mixed.json",
        r#"[{"id": "2", "outcome": "duplicate"}, {"id": "3", "fail": "InvalidEvent"}]"#,
    )?;
    let events = dir.path().display().to_string();

    // WHEN replayed
    let output = replay(&["--events", &events])?;
    let (stdout, stderr) = text(&output);

    // THEN one line per event, in file order, then a summary; an error fails the run
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 5, "{stdout}\n{stderr}");
    assert!(
        lines[0].contains("a-running.json") && lines[0].contains("written"),
        "{stdout}"
    );
    assert!(
        lines[1].contains("b-mixed.json[0]") && lines[1].contains("duplicate"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("b-mixed.json[1]")
            && lines[2].contains("error")
            && lines[2].contains("InvalidEvent: event 3: failing as asked"),
        "{stdout}"
    );
    assert!(lines[3].contains("replayed 3 events"), "{stdout}");
    assert!(
        lines[3].contains("1 duplicate, 1 error, 1 written"),
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("1 of 3 events ended in an error"),
        "{stderr}"
    );

    // AND --allow-errors accepts them
    let output = replay(&["--events", &events, "--allow-errors"])?;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    Ok(())
}

#[test]
fn passes_the_environment_and_runs_processes_concurrently() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        "events/env.json",
        r#"{"env": ["TABLE_NAME", "AWS_REGION", "AWS_ENDPOINT_URL", "RETENTION_DAYS", "EXTRA"]}"#,
    )?;
    write(
        dir.path(),
        "events/more.json",
        r#"[{"n": 1}, {"n": 2}, {"n": 3}]"#,
    )?;
    write(
        dir.path(),
        "environments/local/terraform.tfvars.json",
        r#"{"name": "ecs-state-logger-local", "regions": ["xx-west-1", "xx-east-1"],
            "primary_region": "xx-west-1", "retention_days": 7}"#,
    )?;
    let events = dir.path().join("events").display().to_string();
    let environments = dir.path().join("environments").display().to_string();

    let output = replay(&[
        "--events",
        &events,
        "--environment",
        "local",
        "--environments-dir",
        &environments,
        "--endpoint",
        "http://127.0.0.1:4566",
        "--env",
        "EXTRA=x=y",
        "--processes",
        "3",
        "--repeat",
        "2",
    ])?;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "AWS_ENDPOINT_URL=http://127.0.0.1:4566,AWS_REGION=xx-west-1,EXTRA=x=y,\
             RETENTION_DAYS=7,TABLE_NAME=ecs-state-logger-local"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("(run 2)"), "{stdout}");
    assert!(
        stdout.contains("replayed 8 events (4 per run x 2) with 3 process(es)"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("peak RSS per process").count(),
        1,
        "{stdout}"
    );
    Ok(())
}

#[test]
fn a_crashing_function_fails_the_replay_with_its_log() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(dir.path(), "crash.json", r#"{"exit": 7}"#)?;
    write(dir.path(), "next.json", r#"{"id": "after"}"#)?;
    let output = replay(&[
        "--events",
        &dir.path().display().to_string(),
        "--timeout",
        "1",
        "--allow-errors",
    ])?;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("Sandbox.Timedout"), "{stdout}");
    assert!(
        stdout.contains("no function process is running"),
        "{stdout}"
    );
    assert!(stderr.contains("exit code 7"), "{stderr}");
    Ok(())
}

#[test]
fn a_missing_bootstrap_or_event_dir_is_a_usage_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(dir.path(), "e.json", "{}")?;
    let output = Command::new(REPLAY)
        .args(["--bootstrap", "/nonexistent/bootstrap", "--events"])
        .arg(dir.path())
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).1.contains("make build"),
        "{:?}",
        text(&output)
    );

    let output = replay(&["--events", "/nonexistent/events"])?;
    assert_eq!(output.status.code(), Some(2), "{:?}", text(&output));
    Ok(())
}
