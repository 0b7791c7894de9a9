//! One run's connection to AWS, built once before any command runs: the SDK's configuration,
//! the table and regions to read (from the environment and the flags), a DynamoDB client per
//! region, and the settings every answer shares (paging, limit, zone, format). The
//! credentials are checked here, so a missing login is one clear error before any request.

use std::io::Write;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_dynamodb::config::{ProvideCredentials, Region};
use chrono::{DateTime, Utc};

use crate::cli::{Common, OutputFormat, TzChoice};
use crate::dynamo::{Paging, RegionTable, Tally};
use crate::environment::{
    Environment, RegionChoice, Target, find_environments_dir, resolve_target,
};
use crate::error::{Error, Result, one_line};

/// The environment `--env` names, by name.
pub type NamedEnvironment = (String, Environment);

/// Everything a command needs to ask AWS, resolved once.
#[derive(Debug)]
pub struct Session {
    /// The moment the run began: ranges count back from it, running tasks' bars end at it.
    pub now: DateTime<Utc>,
    /// The table's name and the regions to read, in the environment's order.
    pub target: Target,
    pub output: OutputFormat,
    pub tz: TzChoice,
    /// `--page-size` and `--limit`, as the queries take them.
    pub paging: Paging,
    /// `--limit`: at most this many records in an answer.
    pub limit: Option<usize>,
    pub verbose: bool,
    sdk_config: SdkConfig,
    tables: Vec<RegionTable>,
}

/// The environment `--env` names, read from `--environments-dir`, else from the nearest
/// `environments/` above the working directory; `None` without `--env`.
pub fn load_environment(common: &Common) -> Result<Option<NamedEnvironment>> {
    let Some(name) = common.env.as_deref() else {
        return Ok(None);
    };
    let dir = match &common.environments_dir {
        Some(dir) => dir.clone(),
        None => find_environments_dir(&std::env::current_dir().unwrap_or_default()),
    };
    Ok(Some((name.to_string(), Environment::load(&dir, name)?)))
}

impl Session {
    /// Loads the SDK's configuration, chooses the table and regions to read (`implied`: the
    /// region a task ARN names) and checks that credentials are there, before any AWS call.
    pub async fn open(
        common: &Common,
        environment: Option<&NamedEnvironment>,
        implied: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let sdk_config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let choice = RegionChoice {
            region: common.region.clone(),
            all_regions: common.all_regions,
            implied,
            sdk_default: sdk_config.region().map(|region| region.to_string()),
        };
        let target = resolve_target(
            environment.map(|(name, env)| (name.as_str(), env)),
            common.table.as_deref(),
            &choice,
        )?;
        check_credentials(&sdk_config).await?;
        let tables = target
            .regions
            .iter()
            .map(|region| RegionTable {
                client: aws_sdk_dynamodb::Client::from_conf(
                    aws_sdk_dynamodb::config::Builder::from(&sdk_config)
                        .region(Region::new(region.clone()))
                        .build(),
                ),
                region: region.clone(),
                table: target.table.clone(),
            })
            .collect();
        Ok(Session {
            now,
            target,
            output: common.output,
            tz: common.tz,
            paging: Paging {
                page_size: common.page_size,
                max_items: common.limit,
            },
            limit: common.limit,
            verbose: common.verbose,
            sdk_config,
            tables,
        })
    }

    /// The table in each region, in the regions' order.
    pub fn tables(&self) -> &[RegionTable] {
        &self.tables
    }

    /// An SQS client for `region` (the failure queues live beside the table).
    pub fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&self.sdk_config)
                .region(aws_sdk_sqs::config::Region::new(region.to_string()))
                .build(),
        )
    }

    /// With `-v`: what each region read.
    pub fn log_tallies(&self, tallies: &[Tally], log: &mut dyn Write) {
        if !self.verbose {
            return;
        }
        for (table, tally) in self.tables.iter().zip(tallies) {
            let _ = writeln!(
                log,
                "region {}: table {}, {} page(s), {} event(s){}",
                table.region,
                table.table,
                tally.pages,
                tally.events,
                if tally.missing > 0 {
                    format!(", {} expired before they could be read", tally.missing)
                } else {
                    String::new()
                }
            );
        }
    }
}

/// Fails early, with what to do, when the SDK's credential chain finds nothing.
async fn check_credentials(sdk_config: &SdkConfig) -> Result<()> {
    let provider = sdk_config
        .credentials_provider()
        .ok_or_else(|| Error::NoCredentials {
            message: "no credential provider configured".into(),
        })?;
    provider
        .provide_credentials()
        .await
        .map(drop)
        .map_err(|error| Error::NoCredentials {
            message: match error {
                CredentialsError::CredentialsNotLoaded(_) => {
                    "the SDK tried the environment, the profile files, web identity, the container and instance metadata"
                        .into()
                }
                other => one_line(&other),
            },
        })
}
