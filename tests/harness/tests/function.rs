//! Function processes against the Runtime API: the Rust `lambda_runtime` client (the
//! `echo-function` test binary) and Python's `awslambdaric`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use harness::{FunctionCommand, Outcome, RuntimeApi, RuntimeApiConfig};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ECHO: &str = env!("CARGO_BIN_EXE_echo-function");
const INIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_rust_function_gets_the_lambda_environment_and_answers() -> TestResult {
    // GIVEN the lambda_runtime-based test function started against a Runtime API
    let api = RuntimeApi::start().await?;
    let function = FunctionCommand::new(ECHO)
        .env("TABLE_NAME", "audit")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .spawn(&api)?;
    let first_poll = api
        .wait_first_poll(INIT)
        .await
        .ok_or_else(|| format!("never polled; log:\n{}", function.log_tail(20)))?;
    let init = first_poll - function.spawned_at();
    println!("echo-function init (spawn to first poll): {init:?}");

    // WHEN it is invoked
    let names = [
        "TABLE_NAME",
        "AWS_ENDPOINT_URL",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "_HANDLER",
        "AWS_PROFILE",
    ];
    let invocation = api.invoke(json!({"id": "e-1", "env": names})).await;

    // THEN it answers with what Lambda would have given it
    let response = invocation
        .response()
        .ok_or_else(|| format!("{:?}\n{}", invocation.outcome, function.log_tail(20)))?;
    let env = &response["env"];
    assert_eq!(env["TABLE_NAME"], "audit");
    assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:1");
    assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], json!(api.address()));
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "ecs-state-logger");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(
        env["AWS_LAMBDA_LOG_GROUP_NAME"],
        "/aws/lambda/ecs-state-logger"
    );
    assert_eq!(env["AWS_REGION"], harness::local_env::default_region());
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "testing");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(
        env["AWS_PROFILE"],
        Value::Null,
        "the caller's profile leaked in"
    );
    assert_eq!(response["requestId"], json!(invocation.request_id));
    assert_eq!(response["functionArn"], json!(api.function_arn()));

    // AND its errors, JSON logs and memory are visible
    let failed = api
        .invoke(json!({"id": "e-2", "fail": "InvalidEvent"}))
        .await;
    assert_eq!(
        failed.outcome,
        Outcome::Error {
            error_type: "InvalidEvent".into(),
            error_message: "event e-2: failing as asked".into()
        }
    );
    let logs = function.json_logs()?;
    assert!(
        logs.iter().any(|l| l["fields"]["message"] == "invoked"
            && l["fields"]["request_id"] == json!(invocation.request_id)),
        "no JSON log line names {}: {logs:?}",
        invocation.request_id
    );
    let peak = function.peak_rss_kib().ok_or("no VmHWM")?;
    assert!(peak > 100 && peak < 1_000_000, "peak RSS {peak} KiB");
    println!("echo-function peak RSS: {peak} KiB");
    assert!(function.is_running());
    Ok(())
}

#[tokio::test]
async fn a_crash_mid_invocation_is_detectable() -> TestResult {
    // GIVEN a short function timeout
    let api = RuntimeApi::start_with(RuntimeApiConfig {
        timeout: Duration::from_secs(1),
        ..RuntimeApiConfig::default()
    })
    .await?;
    let function = FunctionCommand::new(ECHO).spawn(&api)?;
    api.wait_first_poll(INIT).await.ok_or("never polled")?;

    // WHEN the process dies while handling an event
    let invocation = api.invoke(json!({"exit": 3})).await;

    // THEN the invocation times out as in Lambda and the exit is visible
    assert_eq!(invocation.error_type(), Some("Sandbox.Timedout"));
    let status = function
        .wait_exit(Duration::from_secs(5))
        .await
        .ok_or("still running")?;
    assert_eq!(status.code(), Some(3));
    assert!(!function.is_running());
    assert_eq!(function.describe_exit().as_deref(), Some("exit code 3"));
    Ok(())
}

#[tokio::test]
async fn a_killed_process_is_reaped_and_reported() -> TestResult {
    let api = RuntimeApi::start().await?;
    let function = FunctionCommand::new(ECHO).spawn(&api)?;
    api.wait_first_poll(INIT).await.ok_or("never polled")?;
    let status = function.kill()?;
    assert!(!function.is_running());
    assert_eq!(
        function.describe_exit().as_deref(),
        Some("killed by signal 9 (SIGKILL)"),
        "{status:?}"
    );
    Ok(())
}

#[tokio::test]
async fn dropping_the_handle_kills_the_process() -> TestResult {
    let api = RuntimeApi::start().await?;
    let function = FunctionCommand::new(ECHO).spawn(&api)?;
    let proc_dir = format!("/proc/{}", function.pid());
    assert!(std::path::Path::new(&proc_dir).exists());
    drop(function);
    assert!(!std::path::Path::new(&proc_dir).exists());
    Ok(())
}

#[tokio::test]
async fn a_missing_program_is_an_error() -> TestResult {
    let api = RuntimeApi::start().await?;
    let err = FunctionCommand::new("/nonexistent/bootstrap")
        .spawn(&api)
        .err()
        .ok_or("spawned a missing program")?;
    assert!(err.to_string().contains("/nonexistent/bootstrap"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_one_runtime_api() -> TestResult {
    // GIVEN four function processes on one Runtime API
    let api = Arc::new(RuntimeApi::start().await?);
    let mut functions = Vec::new();
    for _ in 0..4 {
        functions.push(FunctionCommand::new(ECHO).spawn(&api)?);
    }
    api.wait_first_poll(INIT).await.ok_or("never polled")?;

    // WHEN 400 events are invoked concurrently
    let invokers: Vec<_> = (0..400)
        .map(|n| {
            let api = Arc::clone(&api);
            tokio::spawn(async move { api.invoke(json!({"n": n, "sleep_ms": 1})).await })
        })
        .collect();
    let mut ids = HashSet::new();
    for (n, invoker) in invokers.into_iter().enumerate() {
        let invocation = invoker.await?;
        let response = invocation
            .response()
            .ok_or_else(|| format!("event {n}: {:?}", invocation.outcome))?;
        assert_eq!(response["event"]["n"], json!(n));
        ids.insert(invocation.request_id.clone());
    }

    // THEN every event was answered once, and the work was spread
    assert_eq!(ids.len(), 400);
    let busy = functions
        .iter()
        .filter(|f| f.logs().is_ok_and(|l| l.contains("invoked")))
        .count();
    assert!(busy >= 2, "only {busy} of 4 processes handled events");
    assert!(functions.iter().all(|f| f.is_running()));
    Ok(())
}

const PY_HANDLER: &str = r#"
import json, os

def fn(event, context):
    if event.get("fail"):
        raise ValueError("event %s: failing as asked" % event.get("id"))
    return {"outcome": "written", "requestId": context.aws_request_id,
            "table": os.environ.get("TABLE_NAME"), "event": event}
"#;

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn require_awslambdaric() -> TestResult {
    let ok = std::process::Command::new(python())
        .args(["-c", "import awslambdaric"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err("awslambdaric is not installed: pip install -r tests/requirements.txt".into())
    }
}

#[tokio::test]
async fn a_python_function_runs_under_awslambdaric() -> TestResult {
    require_awslambdaric()?;
    let root = tempfile::tempdir()?;
    std::fs::write(root.path().join("handler.py"), PY_HANDLER)?;
    let api = RuntimeApi::start().await?;
    let function = FunctionCommand::python_ric(root.path(), "handler.fn")
        .env("TABLE_NAME", "ecslogger")
        .spawn(&api)?;
    let first_poll = api
        .wait_first_poll(INIT)
        .await
        .ok_or_else(|| format!("never polled; log:\n{}", function.log_tail(20)))?;
    println!(
        "awslambdaric init (spawn to first poll): {:?}",
        first_poll - function.spawned_at()
    );

    let ok = api.invoke(json!({"id": "p-1"})).await;
    let response = ok
        .response()
        .ok_or_else(|| format!("{:?}\n{}", ok.outcome, function.log_tail(20)))?;
    assert_eq!(response["outcome"], "written");
    assert_eq!(response["table"], "ecslogger");
    assert_eq!(response["requestId"], json!(ok.request_id));

    let failed = api.invoke(json!({"id": "p-2", "fail": true})).await;
    assert_eq!(
        failed.outcome,
        Outcome::Error {
            error_type: "ValueError".into(),
            error_message: "event p-2: failing as asked".into()
        },
        "{}",
        function.log_tail(20)
    );
    assert!(
        failed
            .error_body
            .is_some_and(|b| b["stackTrace"].is_array())
    );
    assert!(function.peak_rss_kib().is_some_and(|kib| kib > 1000));
    Ok(())
}

#[tokio::test]
async fn a_python_import_failure_is_an_init_error() -> TestResult {
    require_awslambdaric()?;
    let root = tempfile::tempdir()?;
    let api = RuntimeApi::start().await?;
    let function = FunctionCommand::python_ric(root.path(), "missing.fn").spawn(&api)?;
    let deadline = tokio::time::Instant::now() + INIT;
    while api.init_errors().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let errors = api.init_errors();
    let first = errors
        .first()
        .ok_or_else(|| format!("no init error; log:\n{}", function.log_tail(20)))?;
    assert_eq!(first.error_type, "Runtime.ImportModuleError");
    assert!(
        first.error_message.contains("missing"),
        "{}",
        first.error_message
    );
    Ok(())
}
