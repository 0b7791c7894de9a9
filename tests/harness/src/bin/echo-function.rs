//! A tiny function on the Rust `lambda_runtime` client, for testing the harness itself (and
//! for the retry/destination paths, which need a function that fails on demand).
//!
//! The event steers it:
//! - `{"fail": "Type"}` answers an error of that type (message names the event's `id`);
//! - `{"panic": true}` panics (with `panic = "abort"` builds, the process dies);
//! - `{"exit": N}` exits the process with code N mid-invocation;
//! - `{"sleep_ms": N}` waits N ms first;
//! - `{"env": ["NAME", ...]}` echoes those environment variables under `env`, and as
//!   `resourceArn: "env"`, `eventKey: "NAME=value,..."` (what `lambda-replay` prints);
//! - anything else is echoed back as `{"outcome": <event.outcome or "written">, "event": ...}`.

use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    tracing::info!(request_id = %context.request_id, "invoked");
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    if payload.get("panic").and_then(Value::as_bool) == Some(true) {
        panic!("asked to panic");
    }
    let id = payload.get("id").and_then(Value::as_str).unwrap_or("-");
    if let Some(error_type) = payload.get("fail").and_then(Value::as_str) {
        return Err(Diagnostic {
            error_type: error_type.to_owned(),
            error_message: format!("event {id}: failing as asked"),
        });
    }
    let mut answer = json!({
        "outcome": payload.get("outcome").cloned().unwrap_or_else(|| json!("written")),
        "requestId": context.request_id,
        "functionArn": context.invoked_function_arn,
        "deadlineMs": context.deadline,
        "event": payload,
    });
    if let Some(names) = payload.get("env").and_then(Value::as_array) {
        let env: serde_json::Map<String, Value> = names
            .iter()
            .filter_map(Value::as_str)
            .map(|name| {
                let value = std::env::var(name).map_or(Value::Null, Value::String);
                (name.to_owned(), value)
            })
            .collect();
        let key = env
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(",");
        answer["resourceArn"] = json!("env");
        answer["eventKey"] = json!(key);
        answer["env"] = Value::Object(env);
    }
    Ok(answer)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(handle)).await
}
