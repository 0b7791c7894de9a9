//! One tool call answered the CLI's way: the arguments checked against the tool's schema,
//! turned into the command line they stand for, and run through [`crate::run`] with
//! `--output json` into a buffer, so a tool's answer is the CLI's by construction. Every
//! failure (a bad argument, no credentials, an AWS error, even a panic) becomes a tool error
//! with the CLI's one-line message: the server keeps serving.

use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde_json::Value;

use super::params::ToolParams;
use crate::Cli;
use crate::cli::Common;
use crate::error::Error;

/// A tool's input schema: its parameters' JSON schema (draft 2020-12, as MCP asks), without
/// the Rust type's title and doc, which mean nothing to a client.
pub fn input_schema<P: ToolParams>() -> Arc<JsonObject> {
    let schema = rmcp::handler::server::common::schema_for_type::<P>();
    let mut schema = schema.as_ref().clone();
    schema.remove("title");
    schema.remove("description");
    Arc::new(schema)
}

/// Answers one call of the tool whose parameters are `P`, for a server started with `server`'s flags.
pub async fn answer<P: ToolParams>(server: &Common, arguments: JsonObject) -> CallToolResult {
    let params = match read::<P>(arguments) {
        Ok(params) => params,
        Err(message) => return tool_error(message),
    };
    let (scope, command) = params.command();
    let cli = Cli {
        common: scope.common(server),
        command,
    };
    match run(cli).await {
        Ok(json) => CallToolResult::success(vec![ContentBlock::text(json)]),
        Err(error) => tool_error(error.to_string()),
    }
}

/// The arguments as `P`; an argument the schema does not name is refused (a misspelt `since`
/// would otherwise widen the question silently).
fn read<P: ToolParams>(arguments: JsonObject) -> Result<P, String> {
    let schema = input_schema::<P>();
    let known: Vec<&String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().collect())
        .unwrap_or_default();
    if let Some(unknown) = arguments.keys().find(|key| !known.contains(key)) {
        let names: Vec<&str> = known.iter().map(|name| name.as_str()).collect();
        return Err(format!(
            "unknown argument {unknown:?}; this tool takes: {}",
            names.join(", ")
        ));
    }
    serde_json::from_value(Value::Object(arguments))
        .map_err(|error| format!("bad arguments: {error}"))
}

/// Runs the command line as `ecs-audit` does, its answer into a buffer and its progress
/// lines to the server's stderr (an MCP client's log of the server). On a blocking thread with
/// its own runtime: the CLI's run writes through `&mut dyn Write`, which a tool's future
/// (sent between the server's threads) cannot hold, and a panic stays inside the call.
async fn run(cli: Cli) -> Result<String, Error> {
    let call = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::Internal(format!("cannot start a runtime: {error}")))?;
        let mut out = Vec::new();
        let mut log = Vec::new();
        let result = runtime.block_on(crate::run(cli, &mut out, &mut log));
        if !log.is_empty() {
            eprint!("{}", String::from_utf8_lossy(&log));
        }
        result.map(|()| out)
    });
    let out = call
        .await
        .map_err(|error| Error::Internal(format!("the tool call stopped: {error}")))??;
    String::from_utf8(out).map_err(|error| Error::Output(error.to_string()))
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mcp::params::{ClusterFailures, TaskHistory};

    fn object(value: Value) -> JsonObject {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn schemas_name_every_argument_flattened_and_require_the_subject() {
        let schema = input_schema::<ClusterFailures>();
        assert_eq!(schema["type"], "object");
        let properties = schema["properties"].as_object().unwrap();
        let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "cluster",
                "environment",
                "limit",
                "region",
                "since",
                "until"
            ]
        );
        assert_eq!(schema["required"], serde_json::json!(["cluster"]));
        assert!(!schema.contains_key("title"));
    }

    #[test]
    fn unknown_or_mistyped_arguments_are_refused_with_the_tool_s_names() {
        let error = read::<TaskHistory>(object(serde_json::json!({"task": "t", "snice": "2h"})))
            .unwrap_err();
        assert!(
            error.contains("\"snice\"") && error.contains("since"),
            "{error}"
        );
        let error =
            read::<TaskHistory>(object(serde_json::json!({"cluster": "prod"}))).unwrap_err();
        assert!(error.contains("missing field `task`"), "{error}");
        let error =
            read::<TaskHistory>(object(serde_json::json!({"task": "t", "limit": -1}))).unwrap_err();
        assert!(error.starts_with("bad arguments"), "{error}");
    }

    #[tokio::test]
    async fn a_bad_value_is_a_tool_error_with_the_cli_s_message() {
        let server = Common {
            env: None,
            environments_dir: None,
            region: Some("xx-test-1".into()),
            all_regions: false,
            table: Some("t".into()),
            output: crate::cli::OutputFormat::Table,
            tz: crate::cli::TzChoice::Utc,
            page_size: None,
            limit: None,
            verbose: false,
        };
        let result = answer::<ClusterFailures>(
            &server,
            object(serde_json::json!({"cluster": "prod", "since": "yesterday"})),
        )
        .await;
        assert_eq!(result.is_error, Some(true));
        let text = serde_json::to_string(&result.content).unwrap();
        assert!(text.contains("bad --since value"), "{text}");
    }
}
