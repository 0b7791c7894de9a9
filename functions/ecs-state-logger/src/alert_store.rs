//! DynamoDB adapter for the crash-loop and notification items ([`ecs_audit_core::episode`]
//! describes them): conditional updates, so that concurrent function instances agree on one
//! episode and one publish per message without a lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use ecs_audit_core::episode::{Episode, STATE_PARTITION, Subject, attribute};
use ecs_audit_core::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};

/// What a claim on a message found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This invocation publishes the message, then marks it sent (or pending on failure).
    Won,
    /// Published before.
    Sent,
    /// Another invocation holds the claim until its deadline; if it dies, its own retry (or
    /// the next one after the deadline) publishes.
    Held,
}

/// A subject's state, as the update that added a failure left it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    pub recent: Vec<String>,
    pub open_since: Option<String>,
    pub last_kind: String,
}

pub struct AlertStore {
    client: Client,
    table: String,
    /// Requests sent, for the cost per failure each answer reports (`make bench` sums them).
    writes: AtomicU64,
    queries: AtomicU64,
}

type Attributes = HashMap<String, AttributeValue>;

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text(item: &Attributes, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn state_of(item: &Attributes) -> State {
    State {
        recent: item
            .get("recent")
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default(),
        open_since: text(item, "openSince"),
        last_kind: text(item, "lastKind").unwrap_or_default(),
    }
}

impl AlertStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        AlertStore {
            client,
            table: table.into(),
            writes: AtomicU64::new(0),
            queries: AtomicU64::new(0),
        }
    }

    /// (UpdateItem requests, Query pages) sent so far by this process.
    pub fn requests(&self) -> (u64, u64) {
        (
            self.writes.load(Ordering::Relaxed),
            self.queries.load(Ordering::Relaxed),
        )
    }

    fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    fn fail(&self, what: &str, error: impl std::error::Error) -> String {
        format!(
            "table {}: {what}: {}",
            self.table,
            DisplayErrorContext(error)
        )
    }

    fn counted_update(
        &self,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.wrote();
        self.client.update_item()
    }

    fn counted_query(&self) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.client.query()
    }

    /// Claims the message under (`partition`, `sort`) until `until_ms` (the invocation's
    /// deadline): won when nobody has, when an earlier publish failed (`pending`), or when the
    /// holder's deadline has passed (it died or timed out before marking).
    pub async fn claim(
        &self,
        (partition, sort): (String, String),
        now_ms: u64,
        until_ms: u64,
        expires_at: i64,
    ) -> Result<Claim, String> {
        let result = self
            .counted_update()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(partition))
            .key(SORT_KEY, s(sort))
            .update_expression("SET #state = :sending, claimedUntil = :until, expiresAt = :expires")
            .condition_expression(
                "attribute_not_exists(#state) OR #state = :pending OR (#state = :sending AND claimedUntil < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":until", n(until_ms))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":expires", n(expires_at))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Won),
            Err(error) => match error.as_service_error() {
                Some(failed) if failed.is_conditional_check_failed_exception() => {
                    let old = match failed {
                        UpdateItemError::ConditionalCheckFailedException(e) => {
                            e.item().and_then(|item| text(item, "state"))
                        }
                        _ => None,
                    };
                    Ok(if old.as_deref() == Some("sent") {
                        Claim::Sent
                    } else {
                        Claim::Held
                    })
                }
                _ => Err(self.fail("claiming a notification", error)),
            },
        }
    }

    /// Marks a claimed message `sent` (with SNS's message id) or back to `pending`.
    pub async fn mark(
        &self,
        (partition, sort): (String, String),
        sent: Option<&str>,
    ) -> Result<(), String> {
        let mut request = self
            .counted_update()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(partition))
            .key(SORT_KEY, s(sort))
            .expression_attribute_names("#state", "state");
        request = match sent {
            Some(message_id) => request
                .update_expression("SET #state = :sent, messageId = :id")
                .expression_attribute_values(":sent", s("sent"))
                .expression_attribute_values(":id", s(message_id)),
            None => request
                .update_expression("SET #state = :pending")
                .expression_attribute_values(":pending", s("pending")),
        };
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|error| self.fail("marking a notification", error))
    }

    /// Adds one failure to the subject's recent set (a redelivery adds nothing: set
    /// semantics) and returns the state after it.
    pub async fn add_failure(
        &self,
        subject: &Subject,
        entry: String,
        kind: &str,
        expires_at: i64,
    ) -> Result<State, String> {
        let output = self
            .counted_update()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(STATE_PARTITION))
            .key(SORT_KEY, s(subject.state_key()))
            .update_expression("ADD recent :entry SET lastKind = :kind, expiresAt = :expires")
            .expression_attribute_values(":entry", AttributeValue::Ss(vec![entry]))
            .expression_attribute_values(":kind", s(kind))
            .expression_attribute_values(":expires", n(expires_at))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|error| self.fail("counting a failure", error))?;
        Ok(output.attributes().map(state_of).unwrap_or_default())
    }

    /// Opens the subject's loop at `since` unless it is open already; returns the start of
    /// the open loop, whoever opened it (the same for every racing instance).
    pub async fn open(&self, subject: &Subject, since: &str) -> Result<(String, bool), String> {
        let result = self
            .counted_update()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(STATE_PARTITION))
            .key(SORT_KEY, s(subject.state_key()))
            .update_expression("SET openSince = :since")
            .condition_expression("attribute_not_exists(openSince)")
            .expression_attribute_values(":since", s(since))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok((since.to_string(), true)),
            Err(error) => {
                let open = match error.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                        failed.item().and_then(|item| text(item, "openSince"))
                    }
                    _ => None,
                };
                if let Some(open) = open {
                    return Ok((open, false));
                }
                Err(self.fail("opening a crash loop", error))
            }
        }
    }

    /// Removes members no window needs any more; best effort (a leftover only costs bytes).
    pub async fn trim(&self, subject: &Subject, stale: Vec<String>) {
        if stale.is_empty() {
            return;
        }
        let result = self
            .counted_update()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(STATE_PARTITION))
            .key(SORT_KEY, s(subject.state_key()))
            .update_expression("DELETE recent :stale")
            .expression_attribute_values(":stale", AttributeValue::Ss(stale))
            .send()
            .await;
        if let Err(error) = result {
            tracing::info!(error = %DisplayErrorContext(&error), "could not trim a crash-loop state");
        }
    }

    /// Writes the episode item with what is known now; an older snapshot (fewer failures)
    /// never overwrites a newer one.
    pub async fn save_episode(&self, episode: &Episode, expires_at: i64) -> Result<(), String> {
        let mut values: Attributes = HashMap::from([
            (":cluster".into(), s(&episode.subject.cluster)),
            (":started".into(), s(&episode.started_at)),
            (":last".into(), s(&episode.last_failure_at)),
            (":failures".into(), n(episode.failures)),
            (":kind".into(), s(&episode.last_kind)),
            (":subject".into(), s(&episode.subject.name)),
            (":expires".into(), n(expires_at)),
        ]);
        let subject_attribute = if episode.subject.standalone {
            attribute::FAMILY
        } else {
            attribute::SERVICE
        };
        let mut names: HashMap<String, String> = [
            ("#cluster", attribute::CLUSTER),
            ("#started", attribute::STARTED_AT),
            ("#last", attribute::LAST_FAILURE_AT),
            ("#failures", attribute::FAILURES),
            ("#kind", attribute::LAST_KIND),
            ("#subject", subject_attribute),
            ("#expires", TTL_ATTRIBUTE),
        ]
        .into_iter()
        .map(|(placeholder, name)| (placeholder.to_string(), name.to_string()))
        .collect();
        let mut update = "SET #cluster = :cluster, #started = :started, #last = :last, #failures = :failures, #kind = :kind, #subject = :subject, #expires = :expires".to_string();
        let mut condition = "attribute_not_exists(#failures) OR #failures < :failures".to_string();
        if let Some(ended) = &episode.ended_at {
            update.push_str(", #ended = :ended");
            names.insert("#ended".into(), attribute::ENDED_AT.into());
            values.insert(":ended".into(), s(ended));
            condition.push_str(" OR #failures = :failures");
        }
        let result = self
            .counted_update()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(episode.partition()))
            .key(SORT_KEY, s(episode.sort_key()))
            .update_expression(update)
            .condition_expression(condition)
            // `cluster` would put the item in the cluster indexes only with their sort key;
            // it has none of them (eventTime, failedAt), so it stays out of every index.
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(self.fail("saving a crash-loop episode", error)),
        }
    }

    /// Every subject whose loop is open.
    pub async fn open_loops(&self) -> Result<Vec<(Subject, State)>, String> {
        let mut found = Vec::new();
        let mut start: Option<Attributes> = None;
        loop {
            let output = self
                .counted_query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :state")
                .filter_expression("attribute_exists(openSince)")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_values(":state", s(STATE_PARTITION))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| self.fail("listing open crash loops", error))?;
            for item in output.items() {
                if let Some(subject) =
                    text(item, SORT_KEY).and_then(|k| Subject::from_state_key(&k))
                {
                    found.push((subject, state_of(item)));
                }
            }
            match output.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(found),
            }
        }
    }

    /// Closes the subject's loop unless a failure was added since `members` were read.
    /// Returns false when one was (the loop goes on).
    pub async fn close(
        &self,
        subject: &Subject,
        since: &str,
        members: usize,
    ) -> Result<bool, String> {
        let result = self
            .counted_update()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(STATE_PARTITION))
            .key(SORT_KEY, s(subject.state_key()))
            .update_expression("REMOVE openSince")
            .condition_expression("openSince = :since AND size(recent) = :members")
            .expression_attribute_values(":since", s(since))
            .expression_attribute_values(":members", n(members))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(self.fail("closing a crash loop", error)),
        }
    }
}
