use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use ecs_state_logger::dynamodb::DynamoDbStore;
use ecs_state_logger::{Config, handler};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

/// One attempt may take this long before the SDK retries it: a healthy PutItem takes
/// milliseconds, so a stalled connection is given up on quickly.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// All attempts together stay well inside the function's timeout, so a DynamoDB outage ends
/// the invocation with our error, not with Lambda's timeout.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
const MAX_ATTEMPTS: u32 = 3;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .load()
        .await;
    let store = DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(&sdk_config),
        &config.table_name,
    );
    let (store, config) = (&store, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::function_handler(store, config, event).await
    }))
    .await
}
