//! The shipped `bootstrap` against the local API over TLS (`scripts/moto-tls.py`, a local CA):
//! it trusts a private CA given as `SSL_CERT_FILE` and nothing it was not given, opens its
//! DynamoDB connection during init, and still starts when that connection cannot be made.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use harness::bench::tables::{create_rust_table, dynamodb_client};
use harness::bench::tls_api::TlsApi;
use harness::local_env::repo_root;
use harness::testkit::{RETENTION_DAYS, built_lambda};
use harness::{FunctionCommand, FunctionProcess, RuntimeApi, RuntimeApiConfig};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const TABLE: &str = "audit-tls";
const INIT: Duration = Duration::from_secs(20);

fn python() -> PathBuf {
    std::env::var_os("PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn fixture(name: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let path = repo_root().join("tests/fixtures/events").join(name);
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// The local API over TLS with our table, and a Runtime API.
async fn setup(
    dir: &tempfile::TempDir,
) -> Result<(TlsApi, RuntimeApi), Box<dyn std::error::Error>> {
    let api = TlsApi::start(
        &python(),
        &repo_root().join("scripts/moto-tls.py"),
        &dir.path().join("moto-tls.log"),
    )
    .await?;
    let config = RuntimeApiConfig::default();
    let client = dynamodb_client(&api.http_endpoint(), &config.region);
    create_rust_table(&client, &api.http_endpoint(), TABLE).await?;
    let runtime = RuntimeApi::start_with(config).await?;
    Ok((api, runtime))
}

fn bootstrap(api: &TlsApi) -> Result<FunctionCommand, Box<dyn std::error::Error>> {
    Ok(FunctionCommand::new(built_lambda("bootstrap")?)
        .env("TABLE_NAME", TABLE)
        .env("RETENTION_DAYS", RETENTION_DAYS.to_string())
        .env("AWS_ENDPOINT_URL", api.https_endpoint())
        .env("RUST_LOG", "info"))
}

/// `command` started against `runtime` (logging into `dir`), once it has initialised: polled
/// for its first event.
async fn initialised(
    command: FunctionCommand,
    runtime: &RuntimeApi,
    dir: &tempfile::TempDir,
) -> Result<FunctionProcess, Box<dyn std::error::Error>> {
    let function = command
        .log_file(dir.path().join("function.log"))
        .spawn(runtime)?;
    runtime
        .wait_first_poll(INIT)
        .await
        .ok_or_else(|| format!("never polled:\n{}", function.log_tail(20)))?;
    Ok(function)
}

/// The remote ports of the process's established TCP connections (its socket inodes,
/// looked up in /proc/net/tcp).
fn established_remote_ports(
    process: &FunctionProcess,
) -> Result<HashSet<u16>, Box<dyn std::error::Error>> {
    let mut inodes = HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{}/fd", process.pid()))? {
        let target = std::fs::read_link(fd?.path())?;
        let target = target.to_string_lossy();
        if let Some(inode) = target
            .strip_prefix("socket:[")
            .and_then(|t| t.strip_suffix(']'))
        {
            inodes.insert(inode.to_owned());
        }
    }
    let mut ports = HashSet::new();
    for line in std::fs::read_to_string("/proc/net/tcp")?.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // local, remote, state ("01" is ESTABLISHED), ..., inode
        if let (Some(remote), Some(&"01"), Some(inode)) =
            (fields.get(2), fields.get(3), fields.get(9))
            && inodes.contains(*inode)
            && let Some((_, port)) = remote.split_once(':')
        {
            ports.insert(u16::from_str_radix(port, 16)?);
        }
    }
    Ok(ports)
}

fn https_port(api: &TlsApi) -> Result<u16, Box<dyn std::error::Error>> {
    let endpoint = api.https_endpoint();
    let port = endpoint.rsplit_once(':').ok_or("no port")?.1;
    Ok(port.parse()?)
}

#[tokio::test]
async fn with_its_ca_in_ssl_cert_file_the_function_connects_during_init_and_records_over_tls()
-> TestResult {
    // GIVEN the local API over TLS, its CA appended to the system trust store as SSL_CERT_FILE
    let dir = tempfile::tempdir()?;
    let (api, runtime) = setup(&dir).await?;

    // WHEN it has initialised (polled for its first event)
    let function = initialised(
        bootstrap(&api)?.env("SSL_CERT_FILE", api.ca_bundle()),
        &runtime,
        &dir,
    )
    .await?;

    // THEN it already holds a connection to DynamoDB, before any event
    let ports = established_remote_ports(&function)?;
    assert!(
        ports.contains(&https_port(&api)?),
        "no connection to {} after init (connections to ports {ports:?}); log:\n{}",
        api.https_endpoint(),
        function.log_tail(20)
    );
    // AND an event is recorded over TLS
    let invocation = runtime
        .invoke(fixture("task-fargate-03-running.json")?)
        .await;
    assert_eq!(
        invocation.response().map(|r| r["outcome"].clone()),
        Some(Value::from("written")),
        "{:?}\n{}",
        invocation.outcome,
        function.log_tail(20)
    );
    Ok(())
}

#[tokio::test]
async fn without_its_ca_the_function_still_starts_but_refuses_the_server() -> TestResult {
    // GIVEN the local API over TLS and a function that was not given its CA
    let dir = tempfile::tempdir()?;
    let (api, runtime) = setup(&dir).await?;

    // WHEN it starts: the connection it opens during init fails verification
    let function = initialised(bootstrap(&api)?, &runtime, &dir).await?;
    assert!(
        runtime.init_errors().is_empty(),
        "{:?}",
        runtime.init_errors()
    );

    // THEN an event is not written: the server's certificate is not trusted
    let invocation = runtime
        .invoke(fixture("task-fargate-03-running.json")?)
        .await;
    assert!(
        invocation.is_error(),
        "written without trusting the server: {:?}",
        invocation.outcome
    );
    let logs = function.logs()?;
    assert!(
        logs.contains("could not open the DynamoDB connection during init"),
        "init did not say its connection failed:\n{logs}"
    );
    Ok(())
}
