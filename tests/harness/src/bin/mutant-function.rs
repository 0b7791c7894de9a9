//! The function with one storage guarantee deliberately broken, for the mutation tests: the
//! real handler (`handler::function_handler`) over a store chosen by `MUTANT`:
//!
//! - `unconditional`: `PutItem` without its condition, always answering `written`, so a
//!   redelivery overwrites the first delivery's item;
//! - `unversioned-key`: the real conditional store, but every sort key loses the version
//!   (`v<20 digits>` becomes `v`, a conflict key `v<20 digits>#conflict#…` becomes
//!   `v#conflict#…`), so a task's later states collide with its first: the handler keeps
//!   them as conflicts, under keys no version names.
//!
//! The no-loss checks ([`harness::no_loss`]) must fail against both. This binary is a test
//! tool: it is never packaged, and it reaches the local AWS API at `AWS_ENDPOINT_URL` with
//! the harness's test credentials.

use ecs_audit_core::attributes::to_attributes;
use ecs_audit_core::keys::version_key;
use ecs_audit_core::schema::SORT_KEY;
use ecs_state_logger::dynamodb::DynamoDbStore;
use ecs_state_logger::store::{Item, PutOutcome, RecordStore};
use ecs_state_logger::{Config, Error, handler};
use harness::testkit::dynamodb_client;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

/// The variable that picks the mutation.
const MUTANT: &str = "MUTANT";
/// What a version key is without its version.
const UNVERSIONED: &str = "v";

/// `key` with its version taken out: [`version_key`]'s digits dropped, the rest (a conflict
/// suffix) kept; any other key as it is.
fn unversioned(key: &str) -> String {
    let digits = version_key(0).len() - UNVERSIONED.len();
    match key.strip_prefix(UNVERSIONED) {
        Some(rest)
            if rest.len() >= digits && rest[..digits].bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{UNVERSIONED}{}", &rest[digits..])
        }
        _ => key.to_owned(),
    }
}

/// `PutItem` with no condition: the last write wins.
struct Unconditional {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl RecordStore for Unconditional {
    async fn put_new(&self, item: &Item) -> Result<PutOutcome, Error> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(item)))
            .send()
            .await
            .map_err(|error| Error::Store {
                event_id: String::new(),
                message: aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string(),
            })?;
        Ok(PutOutcome::Written)
    }
}

/// The real store, given items whose sort key lost the version.
struct UnversionedKey(DynamoDbStore);

impl RecordStore for UnversionedKey {
    async fn put_new(&self, item: &Item) -> Result<PutOutcome, Error> {
        let mut item = item.clone();
        if let Some(key) = item.get(SORT_KEY).and_then(Value::as_str) {
            let key = unversioned(key);
            item.insert(SORT_KEY.to_owned(), Value::from(key));
        }
        self.0.put_new(&item).await
    }
}

async fn run<S: RecordStore + Sync>(store: S, config: Config) -> Result<(), lambda_runtime::Error> {
    let (store, config) = (&store, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::function_handler(store, config, event).await
    }))
    .await
}

fn variable(name: &str) -> Result<String, lambda_runtime::Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let client = dynamodb_client(&variable("AWS_ENDPOINT_URL")?, &variable("AWS_REGION")?);
    match variable(MUTANT)?.as_str() {
        "unconditional" => {
            let table = config.table_name.clone();
            run(Unconditional { client, table }, config).await
        }
        "unversioned-key" => {
            let store = DynamoDbStore::new(client, &config.table_name);
            run(UnversionedKey(store), config).await
        }
        other => {
            Err(format!("{MUTANT}={other:?}: expected `unconditional` or `unversioned-key`").into())
        }
    }
}
