//! What the black-box tests share: the built function package, Terraform with the machine's
//! provider mirror, a targeted apply of `environments/local` (and its primary region's table
//! on a moto of its own), a DynamoDB client and the `aws` CLI against moto, and the built
//! `bootstrap` polling a Runtime API of its own. The package and how it is started follow
//! the architecture under test, `LAMBDA_ARCH` (see [`crate::arch`]).
//!
//! Regions always come from [`crate::local_env`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::Select;
use serde_json::{Value, json};

use crate::arch::{ARCH_VAR, Arch};
use crate::error::{Error, Result};
use crate::local_env::{self, LocalEnvironment, repo_root};
use crate::{
    FunctionCommand, FunctionProcess, Invocation, MotoServer, RuntimeApi, RuntimeApiConfig,
    Terraform,
};

/// Where `make build` leaves the function, relative to the repository root.
pub const LAMBDA_DIR: &str = "target/lambda/ecs-state-logger";

/// The `RETENTION_DAYS` the tests give the function.
pub const RETENTION_DAYS: u32 = 14;

/// How long [`LambdaUnderTest::start`] waits for the first poll of the Runtime API.
const FIRST_POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// The machine's provider mirror, which the Makefile picks when `TF_PLUGIN_DIR` is unset.
const PROVIDER_MIRROR: &str = "/opt/tf-plugins";

/// A file of the package `make build` left (`bootstrap`, `bootstrap.zip`), once the package is
/// known to be for the architecture under test ([`Arch::from_env`]); otherwise an error that
/// says what to build.
pub fn built_lambda(file: &str) -> Result<PathBuf> {
    let arch = Arch::from_env()?;
    let dir = repo_root().join(LAMBDA_DIR);
    let path = dir.join(file);
    let build = format!("run `make build ARCH={arch}` first");
    if !path.is_file() {
        return Err(Error::Setup(format!(
            "{} is missing: {build}",
            path.display()
        )));
    }
    // The zip is opaque: `make build` writes the architecture it built next to it.
    let marker = dir.join("ARCH");
    let labelled = std::fs::read_to_string(&marker)
        .map_err(|e| Error::io(format!("reading {} ({build})", marker.display()), e))?;
    let labelled = labelled.trim();
    if labelled != arch.name() {
        return Err(Error::Setup(format!(
            "{} holds an {labelled} package, but the tests run {arch} ({ARCH_VAR}, default: this machine's): {build}",
            dir.display()
        )));
    }
    // And the binary itself must be what the label says.
    let bootstrap = dir.join("bootstrap");
    let binary = Arch::of_binary(&bootstrap)?;
    if binary != arch {
        return Err(Error::Setup(format!(
            "{} is an {binary} binary in a package labelled {arch}: {build}",
            bootstrap.display()
        )));
    }
    Ok(path)
}

/// `environments/local`'s variables for the moto at `endpoint`, with the function package
/// when there is one, deployed with the architecture under test.
pub fn local_vars(endpoint: &str, package: Option<&Path>) -> Value {
    // An invalid LAMBDA_ARCH cannot reach a deployment: `built_lambda` refuses it first.
    let arch = Arch::from_env().unwrap_or_else(|_| Arch::host());
    let mut vars = json!({"aws_endpoint_url": endpoint, "architecture": arch.name()});
    if let Some(package) = package {
        vars["package_path"] = json!(package.display().to_string());
    }
    vars
}

/// [`Terraform`] for the root module in `dir`, using the machine's provider mirror
/// (`/opt/tf-plugins`) when `TF_PLUGIN_DIR` is unset, as the Makefile does.
pub fn terraform(dir: impl AsRef<Path>) -> Result<Terraform> {
    let mut terraform = Terraform::new(dir)?;
    let mirror = Path::new(PROVIDER_MIRROR);
    if std::env::var_os("TF_PLUGIN_DIR").is_none_or(|dir| dir.is_empty()) && mirror.is_dir() {
        let config = terraform.data_dir().join("terraformrc-mirror");
        std::fs::write(&config, crate::terraform::cli_config(Some(mirror)))
            .map_err(|e| Error::io(format!("writing {}", config.display()), e))?;
        terraform = terraform.env("TF_CLI_CONFIG_FILE", config);
    }
    Ok(terraform)
}

/// `module.region_<region>`: a region's wiring (table, replica, logger) in `environments/local`.
pub fn region_module(region: &str) -> String {
    format!("module.region_{}", region.replace('-', "_"))
}

/// `module.region_<region>.module.table`: a region's table in `environments/local`.
pub fn table_module(region: &str) -> String {
    format!("{}.module.table", region_module(region))
}

/// `module.region_<region>.module.logger`: a region's logger in `environments/local`.
pub fn logger_module(region: &str) -> String {
    format!("{}.module.logger", region_module(region))
}

/// `environments/local` applied by Terraform to a test's own moto, only the resources the
/// `-target`s name. Dropping it removes the workspace's state: its resources lived in the
/// test's own moto, gone by then, so there is nothing to destroy.
#[derive(Debug)]
pub struct TargetedApply {
    terraform: Terraform,
    state_dir: PathBuf,
}

impl TargetedApply {
    /// Applies `vars` (see [`local_vars`]) with one `-target` per entry of `targets`.
    pub async fn local(vars: &Value, targets: &[String]) -> Result<Self> {
        let terraform = terraform(repo_root().join("environments/local"))?;
        terraform.init().await?;
        let state_dir = terraform
            .env_dir()
            .join("terraform.tfstate.d")
            .join(terraform.workspace());
        let applied = TargetedApply {
            terraform,
            state_dir,
        };
        let var_file = applied.terraform.data_dir().join("targets.tfvars.json");
        std::fs::write(&var_file, vars.to_string())
            .map_err(|e| Error::io(format!("writing {}", var_file.display()), e))?;
        let mut args = vec![
            "apply".to_owned(),
            "-input=false".to_owned(),
            "-no-color".to_owned(),
            "-auto-approve".to_owned(),
            format!("-var-file={}", var_file.display()),
        ];
        args.extend(targets.iter().map(|target| format!("-target={target}")));
        applied.terraform.run(args).await?;
        Ok(applied)
    }

    /// The Terraform that applied it.
    pub fn terraform(&self) -> &Terraform {
        &self.terraform
    }
}

impl Drop for TargetedApply {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// `environments/local`'s table in its primary region alone (`-target` its module), applied
/// with the built package to a moto of its own (not recording).
#[derive(Debug)]
pub struct LocalTable {
    /// The local environment: the table's name and its primary region.
    pub env: LocalEnvironment,
    pub moto: MotoServer,
    /// A client for the primary region.
    pub client: aws_sdk_dynamodb::Client,
    _applied: TargetedApply,
}

impl LocalTable {
    /// Starts moto and applies the table; needs `make build` first (for the package).
    pub async fn apply() -> Result<Self> {
        let package = built_lambda("bootstrap.zip")?;
        let env = local_env::local()?;
        let moto = MotoServer::options().recording(false).start().await?;
        let endpoint = moto.endpoint();
        let applied = TargetedApply::local(
            &local_vars(&endpoint, Some(&package)),
            &[table_module(&env.primary_region)],
        )
        .await?;
        let client = dynamodb_client(&endpoint, &env.primary_region);
        Ok(LocalTable {
            env,
            moto,
            client,
            _applied: applied,
        })
    }
}

impl LocalTable {
    /// Deletes every item, so that the next test starts from an empty table without another
    /// apply.
    pub async fn clear(&self) -> Result<()> {
        use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
        use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY};
        let table = &self.env.name;
        let keys = item_keys(&self.client, table).await?;
        // BatchWriteItem takes at most 25 requests.
        for chunk in keys.chunks(25) {
            let requests = chunk
                .iter()
                .map(|(partition, sort)| {
                    let delete = DeleteRequest::builder()
                        .key(PARTITION_KEY, AttributeValue::S(partition.clone()))
                        .key(SORT_KEY, AttributeValue::S(sort.clone()))
                        .build()
                        .map_err(|e| Error::Aws {
                            what: format!("deleting an item of {table}"),
                            message: e.to_string(),
                        })?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>>>()?;
            let mut pending = Some(std::collections::HashMap::from([(table.clone(), requests)]));
            while let Some(items) = pending.take().filter(|items| !items.is_empty()) {
                let output = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(items))
                    .send()
                    .await
                    .map_err(|e| Error::Aws {
                        what: format!("deleting the items of {table}"),
                        message: DisplayErrorContext(&e).to_string(),
                    })?;
                pending = output.unprocessed_items;
            }
        }
        let left = item_count(&self.client, table).await?;
        if left == 0 {
            Ok(())
        } else {
            Err(Error::Setup(format!(
                "{table} still holds {left} items after clearing"
            )))
        }
    }
}

/// A DynamoDB client for the local AWS API at `endpoint`, with fake credentials (no profile
/// or instance metadata lookups).
pub fn dynamodb_client(endpoint: &str, region: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// How many items `table` holds (every page of a `Select::Count` scan).
pub async fn item_count(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<usize> {
    let mut count = 0;
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .select(Select::Count)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| Error::Aws {
                what: format!("counting the items of {table}"),
                message: DisplayErrorContext(&e).to_string(),
            })?;
        count += usize::try_from(page.count()).unwrap_or_default();
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(count),
        }
    }
}

/// Every item's key `(resourceArn, eventKey)`, in scan order.
pub async fn item_keys(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<(String, String)>> {
    use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY};
    let items = string_attributes(client, table, [PARTITION_KEY, SORT_KEY], "keys").await?;
    Ok(items
        .into_iter()
        .map(|[partition, sort]| (partition, sort))
        .collect())
}

/// The string attributes `names` of every item in `table` (every page of a scan), in scan
/// order: each item's values in the order of `names`, empty where an item lacks one.
/// `what` names the attributes in the error ("reading the `what` of `table`").
pub async fn string_attributes<const N: usize>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    names: [&str; N],
    what: &str,
) -> Result<Vec<[String; N]>> {
    // Placeholders, as attribute names may be reserved words.
    let placeholders: [String; N] = std::array::from_fn(|i| format!("#a{i}"));
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .projection_expression(placeholders.join(", "))
            .set_expression_attribute_names(Some(
                placeholders
                    .iter()
                    .cloned()
                    .zip(names.iter().map(|name| (*name).to_owned()))
                    .collect(),
            ))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| Error::Aws {
                what: format!("reading the {what} of {table}"),
                message: DisplayErrorContext(&e).to_string(),
            })?;
        for item in page.items() {
            items.push(names.map(|name| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            }));
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(items),
        }
    }
}

/// The `aws` CLI against the local AWS API at `endpoint`, for the resource kinds the tests
/// have no SDK crate for: its JSON output (`null` when it prints nothing).
pub fn aws_cli(endpoint: &str, region: &str, args: &[&str]) -> Result<Value> {
    let what = format!("aws {}", args.join(" "));
    let output = std::process::Command::new("aws")
        .args([
            "--endpoint-url",
            endpoint,
            "--region",
            region,
            "--output",
            "json",
        ])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_PAGER", "")
        .output()
        .map_err(|e| Error::Aws {
            what: what.clone(),
            message: format!("not run: {e} (pip install -r tests/requirements.txt)"),
        })?;
    if !output.status.success() {
        return Err(Error::Aws {
            what,
            message: format!("failed: {}", String::from_utf8_lossy(&output.stderr)),
        });
    }
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&output.stdout).map_err(|e| Error::json(what, e))
}

/// The built `bootstrap` in one or more processes polling a Runtime API of its own, started
/// as the architecture under test is ([`Arch::launcher`]: natively or emulated), with
/// the environment Lambda gives it plus `TABLE_NAME`, `RETENTION_DAYS` ([`RETENTION_DAYS`])
/// and `AWS_ENDPOINT_URL`.
#[derive(Debug)]
pub struct LambdaUnderTest {
    api: Arc<RuntimeApi>,
    /// Never empty.
    processes: Vec<FunctionProcess>,
}

impl LambdaUnderTest {
    /// One process writing to `table` at `endpoint`, on a Runtime API started with `config`;
    /// returns once it has polled.
    pub async fn start(config: RuntimeApiConfig, table: &str, endpoint: &str) -> Result<Self> {
        Self::start_processes(config, 1, table, endpoint).await
    }

    /// `processes` processes (at least one) writing to `table` at `endpoint`, polling one
    /// Runtime API started with `config`; returns once the first of them has polled.
    pub async fn start_processes(
        config: RuntimeApiConfig,
        processes: usize,
        table: &str,
        endpoint: &str,
    ) -> Result<Self> {
        let bootstrap = built_lambda("bootstrap")?;
        let command = Arch::from_env()?.launcher()?.command(&bootstrap);
        Self::start_command(config, processes, command, table, endpoint).await
    }

    /// Like [`LambdaUnderTest::start_processes`] with another program than the built
    /// `bootstrap` (a mutant of it, for the mutation tests).
    pub async fn start_command(
        config: RuntimeApiConfig,
        processes: usize,
        program: FunctionCommand,
        table: &str,
        endpoint: &str,
    ) -> Result<Self> {
        let api = Arc::new(RuntimeApi::start_with(config).await?);
        let command = program
            .env("TABLE_NAME", table)
            .env("RETENTION_DAYS", RETENTION_DAYS.to_string())
            .env("AWS_ENDPOINT_URL", endpoint);
        let processes = (0..processes.max(1))
            .map(|_| command.spawn(&api))
            .collect::<Result<Vec<_>>>()?;
        let lambda = LambdaUnderTest { api, processes };
        if lambda
            .api
            .wait_first_poll(FIRST_POLL_TIMEOUT)
            .await
            .is_none()
        {
            return Err(Error::Function {
                program: lambda.process().program().to_owned(),
                message: format!(
                    "never polled the Runtime API within {FIRST_POLL_TIMEOUT:?} ({}):\n{}",
                    lambda
                        .process()
                        .describe_exit()
                        .unwrap_or_else(|| "still running".to_owned()),
                    lambda.process().log_tail(20)
                ),
            });
        }
        Ok(lambda)
    }

    /// The Runtime API the processes poll.
    pub fn api(&self) -> &Arc<RuntimeApi> {
        &self.api
    }

    /// The first process.
    pub fn process(&self) -> &FunctionProcess {
        &self.processes[0]
    }

    /// Every process.
    pub fn processes(&self) -> &[FunctionProcess] {
        &self.processes
    }

    /// A synchronous invoke.
    pub async fn invoke(&self, event: Value) -> Invocation {
        self.api.invoke(event).await
    }

    /// Invokes and returns the function's `outcome` (`written`, `duplicate`); an error
    /// answer is an error naming the event, with the first process's last log lines.
    pub async fn record(&self, event: Value) -> Result<String> {
        let id = event["id"].clone();
        let invocation = self.invoke(event).await;
        invocation
            .response()
            .and_then(|r| r["outcome"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| Error::Function {
                program: self.process().program().to_owned(),
                message: format!(
                    "event {id}: {:?}\n{}",
                    invocation.outcome,
                    self.process().log_tail(10)
                ),
            })
    }
}

/// The default of a `number` variable of `modules/regional-logger` (the function's timeout,
/// Lambda's retries), read from its `variables.tf`: the tests emulate what the module deploys.
pub fn logger_default(variable: &str) -> Result<u64> {
    let path = repo_root().join("modules/regional-logger/variables.tf");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let opening = format!("variable \"{variable}\" {{");
    text.split_once(&opening)
        .and_then(|(_, block)| {
            block
                .lines()
                .take_while(|line| !line.starts_with('}'))
                .find_map(|line| line.trim().strip_prefix("default"))
        })
        .and_then(|rest| rest.trim().strip_prefix('='))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| {
            Error::Setup(format!(
                "{}: no number default for variable {variable:?}",
                path.display()
            ))
        })
}

/// The function's timeout as `modules/regional-logger` deploys it by default.
pub fn function_timeout() -> Result<Duration> {
    logger_default("timeout").map(Duration::from_secs)
}
