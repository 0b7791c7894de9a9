//! Black-box tests of `ecs-audit mcp` through a real MCP client: the `mcp` package from PyPI
//! (tests/mcp_client.py: stdio_client and ClientSession) starts the built binary and speaks
//! to it as an assistant's client does.
//!
//! Against moto with the audit table applied in two regions and seeded (the CLI tests'
//! stack): initialize, tools/list (names and schemas), then every tool, each answer compared
//! with the CLI's `--output json` of the same question. Without any AWS: the server starts and
//! lists its tools with no credentials and never connects anywhere, and a tool that cannot
//! reach AWS (or is asked badly) answers with a tool error while the server keeps answering.

mod support;

use std::net::TcpListener;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::*;

/// The server's tools, by name: tools/list must list exactly these (and the README's table).
const TOOLS: &[&str] = &[
    "cluster_failures",
    "crash_loops",
    "definition_runs",
    "service_history",
    "task_history",
    "why_stopped",
];

/// One question to a tool, with the same question as the CLI's arguments.
struct Question {
    tool: &'static str,
    arguments: Value,
    cli: Vec<String>,
}

/// Every tool asked at least once; a tool's default region is every region of the
/// environment (`--all-regions`).
fn questions(stack: &Stack) -> Vec<Question> {
    let first = stack.first_region();
    let second = stack.second_region();
    let oom = stack.task_arn(first, TASK_OOM);
    let question = |tool, arguments, cli: &[&str]| Question {
        tool,
        arguments,
        cli: cli.iter().map(|arg| arg.to_string()).collect(),
    };
    vec![
        question(
            "task_history",
            json!({"task": oom}),
            &["--all-regions", "task", &oom],
        ),
        question(
            "task_history",
            json!({"task": format!("{CLUSTER}/c4d5"), "region": first}),
            &["--region", first, "task", &format!("{CLUSTER}/c4d5")],
        ),
        question(
            "cluster_failures",
            json!({"cluster": CLUSTER, "since": "2h"}),
            &[
                "--all-regions",
                "cluster",
                CLUSTER,
                "--since",
                "2h",
                "--failures",
            ],
        ),
        question(
            "cluster_failures",
            json!({"cluster": CLUSTER, "since": "2h", "region": second}),
            &[
                "--region",
                second,
                "cluster",
                CLUSTER,
                "--since",
                "2h",
                "--failures",
            ],
        ),
        question(
            "service_history",
            json!({"service": format!("{CLUSTER}/web"), "since": "2h", "limit": 3}),
            &[
                "--all-regions",
                "--limit",
                "3",
                "service",
                &format!("{CLUSTER}/web"),
                "--since",
                "2h",
            ],
        ),
        question(
            "crash_loops",
            json!({"cluster": CLUSTER}),
            &["--all-regions", "loops", "--cluster", CLUSTER],
        ),
        question(
            "crash_loops",
            json!({"cluster": CLUSTER, "service": "web", "since": "1d", "region": second}),
            &[
                "--region",
                second,
                "loops",
                "--cluster",
                CLUSTER,
                "--service",
                "web",
                "--since",
                "1d",
            ],
        ),
        question(
            "why_stopped",
            json!({"task": oom}),
            &["--all-regions", "why", &oom],
        ),
        question(
            "why_stopped",
            json!({"task": format!("{CLUSTER}/c4d5"), "region": first, "window": "30m"}),
            &[
                "--region",
                first,
                "why",
                &format!("{CLUSTER}/c4d5"),
                "--window",
                "30m",
            ],
        ),
        question(
            "definition_runs",
            json!({"definition": "report", "since": "1d", "environment": "local"}),
            &["--all-regions", "definition", "report", "--since", "1d"],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tool_answers_as_the_cli_does() -> TestResult {
    // GIVEN the audit table in two regions, seeded, and the server started by a real client
    let stack = Stack::start().await?;
    stack
        .save_episode(stack.first_region(), "web", (120, 110, Some(95)))
        .await?;
    stack
        .save_episode(stack.second_region(), "web", (30, 5, None))
        .await?;
    let questions = questions(&stack);
    let calls: Vec<Value> = questions
        .iter()
        .map(|q| json!({"tool": q.tool, "arguments": q.arguments}))
        .collect();
    let session = client(&server_env(Some(&stack.moto.endpoint()), true), &calls)?;

    // THEN initialize names the server, and tools/list names every tool with its schema
    assert_eq!(session["initialize"]["serverInfo"]["name"], "ecs-audit");
    assert_eq!(tool_names(&session["tools"]), TOOLS);
    for tool in session["tools"].as_array().ok_or("no tools")? {
        tool_schema_is_complete(tool);
    }
    // AND every tool is asked at least once below
    for tool in TOOLS {
        assert!(
            questions.iter().any(|q| q.tool == *tool),
            "{tool} is never asked"
        );
    }

    // AND each answer is the CLI's `--output json` of the same question
    for (question, answer) in questions
        .iter()
        .zip(session["calls"].as_array().ok_or("no calls")?)
    {
        assert_eq!(answer["isError"], false, "{}: {answer}", question.tool);
        let text = answer["content"][0]["text"]
            .as_str()
            .ok_or("no text content")?;
        let from_tool: Value = serde_json::from_str(text)?;
        let mut cli = vec!["--env", "local", "--output", "json"];
        cli.extend(question.cli.iter().map(String::as_str));
        let from_cli = stack.ecs_audit(&cli)?.json()?;
        assert!(
            from_cli
                .as_array()
                .map_or(from_cli.is_object(), |records| !records.is_empty()),
            "{}: the CLI found nothing, so the comparison proves nothing",
            question.tool
        );
        assert_eq!(
            from_tool, from_cli,
            "{} {}",
            question.tool, question.arguments
        );
    }
    Ok(())
}

/// A tool's schema: an object whose properties include the environment and region every
/// tool takes, and which requires the thing asked about.
fn tool_schema_is_complete(tool: &Value) {
    let schema = &tool["inputSchema"];
    assert_eq!(schema["type"], "object", "{tool}");
    for name in ["environment", "region", "limit"] {
        assert!(
            schema["properties"][name].is_object(),
            "{name} missing: {tool}"
        );
    }
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    assert_eq!(required.len(), 1, "{tool}");
    assert!(
        schema["properties"][required[0].as_str().unwrap_or_default()]["description"].is_string()
    );
    assert_eq!(tool["annotations"]["readOnlyHint"], true, "{tool}");
}

#[test]
fn starts_and_lists_tools_without_aws_and_reports_aws_errors_as_tool_errors() -> TestResult {
    // GIVEN no credentials at all and an endpoint that records any connection
    let watcher = TcpListener::bind("127.0.0.1:0")?;
    watcher.set_nonblocking(true)?;
    let watched = format!("http://{}", watcher.local_addr()?);

    // WHEN a client initializes and lists the tools
    let session = client(&server_env(Some(&watched), false), &[])?;

    // THEN the server answers both, and nothing connected to the endpoint
    assert_eq!(session["initialize"]["serverInfo"]["name"], "ecs-audit");
    assert_eq!(tool_names(&session["tools"]), TOOLS);
    match watcher.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the server connected to AWS before any tool ran: {other:?}"),
    }

    // GIVEN an endpoint where nothing listens
    let closed = format!("http://{}", TcpListener::bind("127.0.0.1:0")?.local_addr()?);
    let question = json!({"tool": "cluster_failures", "arguments": {"cluster": CLUSTER}});
    let bad = [
        (
            json!({"tool": "cluster_failures", "arguments": {"cluster": CLUSTER, "since": "yesterday"}}),
            "bad --since value",
        ),
        (
            json!({"tool": "task_history", "arguments": {"task": "7f3e0c1d"}}),
            "is a task id, not an ARN",
        ),
        (
            json!({"tool": "service_history", "arguments": {"service": "prod/web", "environment": "stagin"}}),
            "unknown environment \"stagin\"",
        ),
        (
            json!({"tool": "definition_runs", "arguments": {"definition": "report", "region": "xx-nowhere-1"}}),
            "not one of environment",
        ),
        (
            json!({"tool": "task_history", "arguments": {"tsak": "x"}}),
            "unknown argument \"tsak\"",
        ),
    ];
    let mut calls = vec![question.clone()];
    calls.extend(bad.iter().map(|(call, _)| call.clone()));

    // WHEN a tool runs without credentials, with credentials against that endpoint, and badly
    let without = client(&server_env(Some(&closed), false), &[question])?;
    let with = client(&server_env(Some(&closed), true), &calls)?;

    // THEN each is that call's tool error with the CLI's message, and the server answers after
    tool_error(&without["calls"][0], "no AWS credentials found");
    tool_error(&with["calls"][0], "cannot reach DynamoDB");
    for ((_, message), answer) in bad
        .iter()
        .zip(with["calls"].as_array().ok_or("no calls")?.iter().skip(1))
    {
        tool_error(answer, message);
    }
    assert_eq!(tool_names(&without["toolsAfter"]), TOOLS);
    assert_eq!(tool_names(&with["toolsAfter"]), TOOLS);
    Ok(())
}

#[test]
fn the_readme_s_client_configurations_start_the_server() -> TestResult {
    // GIVEN each MCP client configuration the README shows
    let readme = std::fs::read_to_string(repo_root().join("README.md"))?;
    let section = readme
        .split("### `ecs-audit mcp`")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .ok_or("README.md has no `ecs-audit mcp` section")?;
    let configs: Vec<Value> = section
        .split("```json\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(configs.len(), 2, "Claude Desktop and VS Code");
    // AND its table names every tool
    let mut documented: Vec<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    documented.sort_unstable();
    assert_eq!(documented, TOOLS, "the README's tool table");
    for config in configs {
        let servers = config["mcpServers"]
            .as_object()
            .or(config["servers"].as_object())
            .ok_or("no servers")?;
        let server = &servers["ecs-audit"];
        assert_eq!(server["command"], "ecs-audit");
        // WHEN a client starts it as written (the binary and environments/ of this checkout)
        let args: Vec<Value> = server["args"]
            .as_array()
            .ok_or("no args")?
            .iter()
            .map(|arg| match arg.as_str() {
                Some(dir) if dir.ends_with("/environments") => {
                    json!(repo_root().join("environments"))
                }
                _ => arg.clone(),
            })
            .collect();
        let session = client_with_args(&server_env(None, false), &args, &[])?;
        // THEN it answers initialize and lists every tool
        assert_eq!(tool_names(&session["tools"]), TOOLS, "{server}");
    }
    Ok(())
}

fn tool_error(answer: &Value, message: &str) {
    assert_eq!(answer["isError"], true, "not a tool error: {answer}");
    let text = answer["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(message), "{message:?} not in {text:?}");
}

fn tool_names(tools: &Value) -> Vec<String> {
    let mut names: Vec<String> = tools
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|tool| {
                    tool["name"]
                        .as_str()
                        .or(tool.as_str())
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The server's whole environment (the client adds only PATH, HOME and the like): AWS's
/// endpoint, test credentials when `credentials`, and no profile files or instance metadata.
fn server_env(endpoint: Option<&str>, credentials: bool) -> Value {
    let nowhere = std::env::temp_dir().join("ecs-audit-tests-no-such-aws-config");
    let mut env = json!({
        "AWS_CONFIG_FILE": nowhere,
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",
    });
    if credentials {
        env["AWS_ACCESS_KEY_ID"] = json!("test");
        env["AWS_SECRET_ACCESS_KEY"] = json!("test");
    }
    if let Some(endpoint) = endpoint {
        env["AWS_ENDPOINT_URL"] = json!(endpoint);
    }
    env
}

/// Runs tests/mcp_client.py: `ecs-audit --env local mcp` started by the `mcp` package's
/// stdio client, initialize, tools/list, `calls` in order, tools/list again.
fn client(env: &Value, calls: &[Value]) -> TestResult<Value> {
    let args = json!([
        "--environments-dir",
        repo_root().join("environments"),
        "--env",
        "local",
        "mcp"
    ]);
    client_with_args(env, args.as_array().ok_or("args")?, calls)
}

/// The same with the server's command-line arguments given.
fn client_with_args(env: &Value, args: &[Value], calls: &[Value]) -> TestResult<Value> {
    let plan = json!({
        "command": env!("CARGO_BIN_EXE_ecs-audit"),
        "args": args,
        "env": env,
        "calls": calls,
    });
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .arg(repo_root().join("tests/mcp_client.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    serde_json::to_writer(child.stdin.take().ok_or("no stdin")?, &plan)?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("No module named") {
            " (install the MCP client: pip install -r tests/requirements.txt)"
        } else {
            ""
        };
        return Err(format!("the MCP client failed ({}){hint}: {stderr}", output.status).into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}
