//! The I/O edge: sends the queries [`crate::query`] describes to one region's table, follows
//! every page (`LastEvaluatedKey`), and reads full items back with `BatchGetItem` where an
//! index copies only some attributes. Items become records through the handler crate's own
//! mapping ([`record_from_attributes`]).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use ecs_state_logger::dynamodb::record_from_attributes;
use ecs_state_logger::record::{PARTITION_KEY, SORT_KEY};

use crate::error::{Error, Result, one_line};
use crate::output::Found;
use crate::query::QuerySpec;

/// BatchGetItem takes at most 100 keys per request.
const BATCH_GET_MAX_KEYS: usize = 100;
/// Rounds of retrying the keys BatchGetItem leaves unprocessed (throttling) before giving up.
const UNPROCESSED_RETRIES: u32 = 8;

type Attributes = HashMap<String, AttributeValue>;

/// One region's copy of the table.
#[derive(Debug, Clone)]
pub struct RegionTable {
    pub client: Client,
    pub region: String,
    pub table: String,
}

/// What one region answered, and what it cost.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub found: Vec<Found>,
    /// Query pages read.
    pub pages: usize,
    /// Index entries whose item was gone when read back (expired in between).
    pub missing: usize,
}

/// Paging options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paging {
    /// `Limit` per Query page.
    pub page_size: Option<i32>,
    /// Stop paging once this many entries are in (the order is the query's own).
    pub max_items: Option<usize>,
}

impl RegionTable {
    /// Runs `spec`, follows every page, and returns full records in the query's order.
    pub async fn answer(&self, spec: &QuerySpec, paging: Paging) -> Result<Answer> {
        let (items, pages) = self.query_items(spec, paging).await?;
        let (items, missing) = if spec.needs_full_items {
            self.full_items(&items).await?
        } else {
            (items, 0)
        };
        let found = items
            .iter()
            .map(|item| self.record(item))
            .collect::<Result<Vec<_>>>()?;
        Ok(Answer {
            found,
            pages,
            missing,
        })
    }

    /// The resource ARNs the query matches, in order, with the pages read; for lookups that
    /// need no more than the key.
    pub async fn arns(&self, spec: &QuerySpec, paging: Paging) -> Result<(Vec<String>, usize)> {
        let (items, pages) = self.query_items(spec, paging).await?;
        let arns = items
            .iter()
            .filter_map(|item| item.get(PARTITION_KEY)?.as_s().ok().cloned())
            .collect();
        Ok((arns, pages))
    }

    async fn query_items(
        &self,
        spec: &QuerySpec,
        paging: Paging,
    ) -> Result<(Vec<Attributes>, usize)> {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut start: Option<Attributes> = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(spec.index.map(str::to_string))
                .key_condition_expression(&spec.key_condition)
                .set_filter_expression(spec.filter.clone())
                .scan_index_forward(!spec.newest_first)
                .set_limit(paging.page_size)
                .set_exclusive_start_key(start.take());
            for (placeholder, name) in &spec.names {
                request = request.expression_attribute_names(placeholder, name);
            }
            for (placeholder, value) in &spec.values {
                request = request
                    .expression_attribute_values(placeholder, AttributeValue::S(value.clone()));
            }
            let output = request
                .send()
                .await
                .map_err(|error| self.error("Query", error))?;
            pages += 1;
            items.extend(output.items.unwrap_or_default());
            if paging.max_items.is_some_and(|max| items.len() >= max) {
                break;
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok((items, pages))
    }

    /// Reads the full items of `entries` (index projections) by their table keys, keeping the
    /// entries' order; returns them and how many were gone.
    async fn full_items(&self, entries: &[Attributes]) -> Result<(Vec<Attributes>, usize)> {
        let mut order: Vec<(String, String)> = Vec::with_capacity(entries.len());
        for entry in entries {
            if let Some(key) = table_key(entry)
                && !order.contains(&key)
            {
                order.push(key);
            }
        }
        let mut by_key: HashMap<(String, String), Attributes> = HashMap::new();
        for chunk in order.chunks(BATCH_GET_MAX_KEYS) {
            let keys = chunk
                .iter()
                .map(|(arn, event_key)| {
                    HashMap::from([
                        (PARTITION_KEY.to_string(), AttributeValue::S(arn.clone())),
                        (SORT_KEY.to_string(), AttributeValue::S(event_key.clone())),
                    ])
                })
                .collect();
            for item in self.batch_get(keys).await? {
                if let Some(key) = table_key(&item) {
                    by_key.insert(key, item);
                }
            }
        }
        let mut items = Vec::with_capacity(order.len());
        let mut missing = 0;
        for key in order {
            match by_key.remove(&key) {
                Some(item) => items.push(item),
                None => missing += 1,
            }
        }
        Ok((items, missing))
    }

    async fn batch_get(&self, keys: Vec<Attributes>) -> Result<Vec<Attributes>> {
        let mut items = Vec::new();
        let mut pending = keys;
        let mut round = 0;
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(false)
                .build()
                .map_err(|error| self.failure("BatchGetItem", error.to_string()))?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|error| self.error("BatchGetItem", error))?;
            if let Some(mut responses) = output.responses {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                .map(|rest| rest.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                round += 1;
                if round > UNPROCESSED_RETRIES {
                    return Err(self.failure(
                        "BatchGetItem",
                        format!(
                            "{} keys still unprocessed after {UNPROCESSED_RETRIES} retries (throttled); try again later",
                            pending.len()
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50 << round.min(6))).await;
            }
        }
        Ok(items)
    }

    fn record(&self, item: &Attributes) -> Result<Found> {
        let record = record_from_attributes(item).map_err(|error| Error::BadItem {
            key: table_key(item)
                .map(|(arn, key)| format!("{arn} {key}"))
                .unwrap_or_else(|| "(no key)".into()),
            region: self.region.clone(),
            message: error.to_string(),
        })?;
        Ok(Found {
            region: self.region.clone(),
            record,
        })
    }

    fn failure(&self, operation: &'static str, message: String) -> Error {
        Error::Aws {
            operation,
            table: self.table.clone(),
            region: self.region.clone(),
            message,
        }
    }

    /// Maps an SDK error to the one-line error a person can act on.
    fn error<E, R>(&self, operation: &'static str, error: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let flat = |text: String| text.replace(['\n', '\r'], " ");
        match &error {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("unknown error");
                let message = service.err().message().unwrap_or_default();
                match code {
                    "ResourceNotFoundException" => Error::TableNotFound {
                        table: self.table.clone(),
                        region: self.region.clone(),
                    },
                    "UnrecognizedClientException"
                    | "InvalidSignatureException"
                    | "ExpiredTokenException"
                    | "AccessDeniedException" => self.failure(
                        operation,
                        flat(format!(
                            "{code}: {message}; check the credentials (AWS_PROFILE, `aws sso login`) and that they may read the table"
                        )),
                    ),
                    _ => self.failure(operation, flat(format!("{code}: {message}"))),
                }
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Error::Unreachable {
                region: self.region.clone(),
                message: one_line(&error),
            },
            _ => self.failure(operation, one_line(&error)),
        }
    }
}

fn table_key(item: &Attributes) -> Option<(String, String)> {
    let arn = item.get(PARTITION_KEY)?.as_s().ok()?;
    let event_key = item.get(SORT_KEY)?.as_s().ok()?;
    Some((arn.clone(), event_key.clone()))
}
