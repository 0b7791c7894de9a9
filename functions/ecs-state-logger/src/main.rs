use std::collections::HashMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use ecs_state_logger::alert_config::AlertConfig;
use ecs_state_logger::alerts::Alerts;
use ecs_state_logger::dynamodb::DynamoDbStore;
use ecs_state_logger::{Config, invoke};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

/// One attempt may take this long before the SDK retries it: a healthy PutItem takes
/// milliseconds, so a stalled connection is given up on quickly.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// All attempts together stay well inside the function's timeout, so a DynamoDB outage ends
/// the invocation with our error, not with Lambda's timeout.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
const MAX_ATTEMPTS: u32 = 3;
/// Opening the connection during init gives up after this long: init must not wait out a
/// DynamoDB outage (the first event then connects, with its own timeouts and retries).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config);
    open_connection(&client, &config.table_name).await;
    // Building the SNS client makes no request: a cold start costs no more for it. Its
    // connection opens with the first failure's message.
    let alerts = AlertConfig::from_env()?.map(|alerts| {
        Alerts::new(
            alerts,
            client.clone(),
            aws_sdk_sns::Client::new(&sdk_config),
            &config.table_name,
            config.retention_days,
        )
    });
    let store = DynamoDbStore::new(client, &config.table_name);
    let (store, config, alerts) = (&store, &config, alerts.as_ref());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        invoke::handle(store, config, alerts, event).await
    }))
    .await
}

/// rustls with ring. The SDK's default, rustls with aws-lc-rs, collects CPU jitter entropy
/// the first time a process needs randomness: tens of milliseconds of CPU, which at a
/// 128 MB function's 1/14 of a vCPU is hundreds of milliseconds (BENCHMARKS.md, cold start).
/// ring seeds from the kernel (getrandom). The trust store is the SDK's default: the
/// system's roots, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (a private CA for a VPC
/// endpoint or a TLS-inspecting proxy).
fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::rustls(CryptoMode::Ring))
        .build_https()
}

/// Opens the TLS connection to DynamoDB during init, so that the first event finds it
/// ready, as every later event does (the SDK keeps it alive).
///
/// The request is a PutItem of an empty item: DynamoDB authorizes it (the function's role
/// may PutItem on its table), then rejects it as invalid, so it writes and bills nothing
/// and needs no further permission. On the way it does everything a first write would do
/// once: resolve the endpoint and the credentials, load the trust store, handshake, sign.
/// Anything but that rejection is logged and otherwise ignored: the events' own writes
/// report real failures, with retries.
async fn open_connection(client: &aws_sdk_dynamodb::Client, table: &str) {
    let request = client
        .put_item()
        .table_name(table)
        .set_item(Some(HashMap::new()))
        .customize()
        .config_override(
            aws_sdk_dynamodb::Config::builder()
                .retry_config(RetryConfig::disabled())
                .timeout_config(
                    TimeoutConfig::builder()
                        .operation_timeout(CONNECT_TIMEOUT)
                        .build(),
                ),
        );
    match request.send().await {
        Err(e) if e.code() == Some("ValidationException") => {
            tracing::debug!("DynamoDB connection opened during init");
        }
        Ok(_) => tracing::warn!("DynamoDB accepted an empty item during init"),
        Err(e) => tracing::info!(
            error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e),
            "could not open the DynamoDB connection during init; the first event will"
        ),
    }
}
