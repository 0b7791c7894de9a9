//! The I/O edge: sends the queries [`crate::query`] describes to one region's table, streams
//! every page (`LastEvaluatedKey`) as it arrives, and reads full items back with
//! `BatchGetItem`, in bounded concurrent batches, where an index copies only some attributes. Items become records through the domain's one
//! mapping ([`record_from_attributes`]).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use ecs_audit_core::attributes::{from_attributes, record_from_attributes};
use ecs_audit_core::episode::{Episode, episode_of_item, episodes_partition};
use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

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

/// What one region's stream read, and what it cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Query pages read.
    pub pages: usize,
    /// Records delivered.
    pub events: usize,
    /// Index entries whose item was gone when read back (expired in between).
    pub missing: usize,
}

/// Chunks of full items read back at once, per region: bounds both the requests in flight
/// and the records held (each chunk is at most [`BATCH_GET_MAX_KEYS`] records).
const READ_AHEAD: usize = 4;
/// Query pages fetched ahead of the read-back; a page is at most 1 MB of index entries.
const PAGES_AHEAD: usize = 1;

/// Paging options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paging {
    /// `Limit` per Query page.
    pub page_size: Option<i32>,
    /// Stop paging once this many entries are in (the order is the query's own).
    pub max_items: Option<usize>,
}

impl RegionTable {
    /// Runs `spec` and sends its records to `out` in the query's order, a chunk at a time,
    /// as the pages arrive: the next page is fetched while the full items of this one are
    /// read back, in at most [`READ_AHEAD`] concurrent batches. Holds a bounded number of
    /// records whatever the answer's size; stops early, without error, when `out` closes.
    pub async fn stream(
        self,
        spec: QuerySpec,
        paging: Paging,
        out: mpsc::Sender<Vec<Found>>,
    ) -> Result<Tally> {
        let (pages_in, mut pages) = mpsc::channel(PAGES_AHEAD);
        let pager = {
            let table = self.clone();
            let spec = spec.clone();
            tokio::spawn(async move { table.pages(&spec, paging, pages_in).await })
        };
        let mut tally = Tally::default();
        let mut in_flight: VecDeque<ChunkJob> = VecDeque::new();
        let mut open = true;
        'pages: while let Some(page) = pages.recv().await {
            let mut page: Vec<Attributes> = page;
            while !page.is_empty() {
                let rest = page.split_off(page.len().min(BATCH_GET_MAX_KEYS));
                let chunk = std::mem::replace(&mut page, rest);
                let table = self.clone();
                let full = spec.needs_full_items;
                in_flight.push_back(tokio::spawn(async move { table.chunk(chunk, full).await }));
                if in_flight.len() >= READ_AHEAD
                    && let Some(oldest) = in_flight.pop_front()
                    && !deliver(oldest, &out, &mut tally).await?
                {
                    open = false;
                    break 'pages;
                }
            }
        }
        while open && let Some(oldest) = in_flight.pop_front() {
            open = deliver(oldest, &out, &mut tally).await?;
        }
        if !open {
            pager.abort();
            in_flight.iter().for_each(JoinHandle::abort);
            return Ok(tally);
        }
        tally.pages = pager
            .await
            .map_err(|error| Error::Internal(format!("a region's pages stopped: {error}")))??;
        Ok(tally)
    }

    /// Sends every Query page of `spec` to `out` (stops at `paging.max_items` entries or when
    /// `out` closes); returns the pages read.
    async fn pages(
        &self,
        spec: &QuerySpec,
        paging: Paging,
        out: mpsc::Sender<Vec<Attributes>>,
    ) -> Result<usize> {
        let mut pages = 0;
        let mut entries = 0;
        let mut start: Option<Attributes> = None;
        loop {
            let (items, next) = self.page(spec, paging, start.take()).await?;
            pages += 1;
            entries += items.len();
            if out.send(items).await.is_err() {
                break;
            }
            if paging.max_items.is_some_and(|max| entries >= max) {
                break;
            }
            match next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok(pages)
    }

    /// Full records of one chunk of index entries (read back by key when `full`), in the
    /// entries' order, and how many were gone.
    async fn chunk(&self, entries: Vec<Attributes>, full: bool) -> Result<(Vec<Found>, usize)> {
        let (items, missing) = if full {
            self.full_items(&entries).await?
        } else {
            (entries, 0)
        };
        let found = items
            .iter()
            .map(|item| self.record(item))
            .collect::<Result<Vec<_>>>()?;
        Ok((found, missing))
    }

    /// The crash-loop episodes of `cluster` that started by `until` (stored time), oldest
    /// first: one Query of the cluster's episodes partition
    /// ([`ecs_audit_core::episode::episodes_partition`]).
    pub async fn episodes(&self, cluster: &str, until: &str) -> Result<Vec<Episode>> {
        let mut episodes = Vec::new();
        let mut start: Option<Attributes> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk <= :until")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_values(":pk", AttributeValue::S(episodes_partition(cluster)))
                // Sort keys are `<startedAt>#<name>`: "~" sorts after every name.
                .expression_attribute_values(":until", AttributeValue::S(format!("{until}~")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| self.error("Query", error))?;
            for item in output.items() {
                let item = from_attributes(item).map_err(|error| self.bad_item(item, error))?;
                episodes.extend(episode_of_item(&item));
            }
            match output.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(episodes),
            }
        }
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
            let (page, next) = self.page(spec, paging, start.take()).await?;
            pages += 1;
            items.extend(page);
            if paging.max_items.is_some_and(|max| items.len() >= max) {
                break;
            }
            match next {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok((items, pages))
    }

    /// One Query page from `start`, and where the next begins (`None`: this was the last).
    async fn page(
        &self,
        spec: &QuerySpec,
        paging: Paging,
        start: Option<Attributes>,
    ) -> Result<(Vec<Attributes>, Option<Attributes>)> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(spec.index.map(str::to_string))
            .key_condition_expression(&spec.key_condition)
            .set_filter_expression(spec.filter.clone())
            .scan_index_forward(!spec.newest_first)
            .set_limit(paging.page_size)
            .set_exclusive_start_key(start);
        for (placeholder, name) in &spec.names {
            request = request.expression_attribute_names(placeholder, name);
        }
        for (placeholder, value) in &spec.values {
            request =
                request.expression_attribute_values(placeholder, AttributeValue::S(value.clone()));
        }
        let output = request
            .send()
            .await
            .map_err(|error| self.error("Query", error))?;
        let next = output.last_evaluated_key.filter(|key| !key.is_empty());
        Ok((output.items.unwrap_or_default(), next))
    }

    /// Reads the full items of `entries` (index projections) by their table keys, keeping the
    /// entries' order; returns them and how many were gone.
    async fn full_items(&self, entries: &[Attributes]) -> Result<(Vec<Attributes>, usize)> {
        // An item has one entry in an index, so the keys of one answer are distinct.
        let order: Vec<(String, String)> = entries.iter().filter_map(table_key).collect();
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

    /// An item this version cannot read, named by its key and region.
    fn bad_item(&self, item: &Attributes, error: impl std::fmt::Display) -> Error {
        Error::BadItem {
            key: table_key(item)
                .map(|(arn, key)| format!("{arn} {key}"))
                .unwrap_or_else(|| "(no key)".into()),
            region: self.region.clone(),
            message: error.to_string(),
        }
    }

    fn record(&self, item: &Attributes) -> Result<Found> {
        let record = record_from_attributes(item).map_err(|error| self.bad_item(item, error))?;
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

/// A chunk being read back: its records and how many were gone.
type ChunkJob = JoinHandle<Result<(Vec<Found>, usize)>>;

/// Waits for the oldest chunk and sends it on; false when the receiver has gone.
async fn deliver(
    chunk: ChunkJob,
    out: &mpsc::Sender<Vec<Found>>,
    tally: &mut Tally,
) -> Result<bool> {
    let (found, missing) = chunk
        .await
        .map_err(|error| Error::Internal(format!("a read-back stopped: {error}")))??;
    tally.events += found.len();
    tally.missing += missing;
    Ok(found.is_empty() || out.send(found).await.is_ok())
}

fn table_key(item: &Attributes) -> Option<(String, String)> {
    let arn = item.get(PARTITION_KEY)?.as_s().ok()?;
    let event_key = item.get(SORT_KEY)?.as_s().ok()?;
    Some((arn.clone(), event_key.clone()))
}
