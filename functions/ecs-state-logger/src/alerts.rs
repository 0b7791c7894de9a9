//! What follows the recording of a failure: its message on the failures topic, and the
//! crash-loop bookkeeping; and the scheduled sweep that closes quiet loops.
//!
//! Exactly once: every message has a claim item ([`AlertStore::claim`]). Any delivery of a
//! failure (the first, a duplicate, Lambda's retry) claims its message; only the winner
//! publishes, then marks it sent. A failed publish marks it pending and fails the invocation,
//! so Lambda retries it (and finally keeps it in the failed-events queue, whose redrive
//! records the event again as a duplicate, which publishes). A publish that succeeded just
//! before the process died (no mark) is published again by the retry after the claim's
//! deadline: at least once in that case, and only then.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{DateTime, Utc};
use ecs_audit_core::episode::{self, Episode, Subject, failure_notification_key};
use ecs_audit_core::notification::{self, Links, Message};
use ecs_audit_core::record::AuditRecord;
use ecs_audit_core::text::format_time;
use serde::Serialize;
use serde_json::Value;

use crate::alert_config::AlertConfig;
use crate::alert_store::{AlertStore, Claim, State};
use crate::error::Error;
use crate::handler::Recorded;

/// What one invocation announced, returned with its answer and logged.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Announced {
    /// Messages this invocation published.
    pub published: usize,
    /// Messages found sent (or being sent) by another delivery.
    pub already_sent: usize,
    /// Crash loops opened (failure) or closed (sweep) by this invocation.
    pub loops_opened: usize,
    pub loops_closed: usize,
    /// What announcing cost: DynamoDB UpdateItem requests (claims, marks, crash-loop state
    /// and episodes; a failed condition is billed as a write too) and Query pages.
    pub dynamodb_writes: u64,
    pub dynamodb_queries: u64,
}

pub struct Alerts {
    config: AlertConfig,
    store: AlertStore,
    sns: aws_sdk_sns::Client,
    links: Links,
    retention_days: u32,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn epoch_seconds(time: &str) -> i64 {
    DateTime::parse_from_rfc3339(time).map_or(0, |t| t.timestamp())
}

impl Alerts {
    pub fn new(
        config: AlertConfig,
        dynamodb: aws_sdk_dynamodb::Client,
        sns: aws_sdk_sns::Client,
        table: &str,
        retention_days: u32,
    ) -> Self {
        let links = Links {
            region: config.region.clone(),
            table: table.to_string(),
        };
        Alerts {
            config,
            store: AlertStore::new(dynamodb, table),
            sns,
            links,
            retention_days,
        }
    }

    /// Kept as long as the records they describe.
    fn expires_at(&self, time: &str) -> i64 {
        epoch_seconds(time) + i64::from(self.retention_days) * 86_400
    }

    /// After an event was recorded (first time or again): announces it if it is a failure.
    pub async fn after_recording(
        &self,
        record: &AuditRecord,
        recorded: &Recorded,
        deadline_ms: u64,
    ) -> Result<Announced, Error> {
        let before = self.store.requests();
        let announced = self.announce(record, recorded, deadline_ms).await?;
        Ok(self.costed(announced, before))
    }

    fn costed(&self, announced: Announced, (writes, queries): (u64, u64)) -> Announced {
        let (writes_now, queries_now) = self.store.requests();
        Announced {
            dynamodb_writes: writes_now - writes,
            dynamodb_queries: queries_now - queries,
            ..announced
        }
    }

    async fn announce(
        &self,
        record: &AuditRecord,
        recorded: &Recorded,
        deadline_ms: u64,
    ) -> Result<Announced, Error> {
        let mut announced = Announced::default();
        if record.failure.is_none() {
            return Ok(announced);
        }
        let kind = notification::failure_kind(record).unwrap_or_default();
        let fail = |message: String| Error::Notify {
            event_id: record.event_id.clone(),
            message,
        };
        let failed_at = record.failed_at.as_deref().unwrap_or(&record.event_time);
        let expires_at = self.expires_at(failed_at);
        let key = failure_notification_key(&recorded.resource_arn, &recorded.event_key);
        let message = notification::failure_message(record, &self.links);
        self.publish_once(key, &message, deadline_ms, expires_at, &mut announced)
            .await
            .map_err(fail)?;

        let Some(subject) = Subject::of(record) else {
            return Ok(announced);
        };
        let window = self.config.window();
        let state = self
            .store
            .add_failure(
                &subject,
                episode::entry(failed_at, &record.resource_arn),
                &kind,
                expires_at,
            )
            .await
            .map_err(fail)?;
        // A loop whose failures before this one are a quiet window old ended unnoticed (no
        // sweep ran since): it is closed first, and this failure may start a new one.
        let mut state = state;
        if let Some(since) = state.open_since.clone() {
            let earlier: Vec<String> = state
                .recent
                .iter()
                .filter(|m| m.as_str() < failed_at)
                .cloned()
                .collect();
            let before = Episode::from_state(subject.clone(), &earlier, &since, &state.last_kind);
            if before.failures > 0 && before.closed_by(failed_at, window).is_some() {
                self.close_quiet(&subject, &state, failed_at, deadline_ms, &mut announced)
                    .await
                    .map_err(fail)?;
                state.open_since = None;
            }
        }
        let open = match &state.open_since {
            Some(since) => Some(since.clone()),
            None => {
                match episode::opens_loop(&state.recent, failed_at, window, self.config.threshold) {
                    Some(since) => {
                        let (since, opened) =
                            self.store.open(&subject, &since).await.map_err(fail)?;
                        announced.loops_opened += usize::from(opened);
                        Some(since)
                    }
                    None => None,
                }
            }
        };
        if let Some(since) = open.filter(|since| failed_at >= since.as_str()) {
            let episode = Episode::from_state(subject.clone(), &state.recent, &since, &kind);
            let episode_expires = self.expires_at(&episode.last_failure_at);
            self.store
                .save_episode(&episode, episode_expires)
                .await
                .map_err(fail)?;
            let message = notification::crash_loop_message(
                &episode,
                false,
                self.config.window_minutes,
                &self.links,
            );
            self.publish_once(
                episode.notification_key(false),
                &message,
                deadline_ms,
                episode_expires,
                &mut announced,
            )
            .await
            .map_err(fail)?;
        }
        let open_since = state.open_since.as_deref();
        self.store
            .trim(
                &subject,
                episode::stale(&state.recent, failed_at, window, open_since),
            )
            .await;
        Ok(announced)
    }

    /// The scheduled sweep at `now` (the schedule event's own time): closes every loop quiet
    /// for the window, announcing each end once.
    pub async fn sweep(&self, now: &str, deadline_ms: u64) -> Result<Announced, Error> {
        let before = self.store.requests();
        let announced = self.sweep_loops(now, deadline_ms).await?;
        Ok(self.costed(announced, before))
    }

    async fn sweep_loops(&self, now: &str, deadline_ms: u64) -> Result<Announced, Error> {
        let fail = |message: String| Error::Notify {
            event_id: format!("sweep at {now}"),
            message,
        };
        let mut announced = Announced::default();
        for (subject, state) in self.store.open_loops().await.map_err(fail)? {
            self.close_quiet(&subject, &state, now, deadline_ms, &mut announced)
                .await
                .map_err(fail)?;
        }
        Ok(announced)
    }

    /// Ends the subject's open loop if it has been quiet for the window at `now`: records
    /// the end, announces it once, then closes the state unless a failure arrived meanwhile.
    async fn close_quiet(
        &self,
        subject: &Subject,
        state: &State,
        now: &str,
        deadline_ms: u64,
        announced: &mut Announced,
    ) -> Result<(), String> {
        let Some(since) = state.open_since.as_deref() else {
            return Ok(());
        };
        let members: Vec<String> = state
            .recent
            .iter()
            .filter(|m| m.as_str() < now)
            .cloned()
            .collect();
        let episode = Episode::from_state(subject.clone(), &members, since, &state.last_kind);
        let Some(closed) = episode.closed_by(now, self.config.window()) else {
            return Ok(());
        };
        let expires_at = self.expires_at(&closed.last_failure_at);
        // Recorded and announced before the state forgets the loop: a crash in between
        // leaves the loop open, and the next sweep finishes the job.
        self.store.save_episode(&closed, expires_at).await?;
        let message = notification::crash_loop_message(
            &closed,
            true,
            self.config.window_minutes,
            &self.links,
        );
        self.publish_once(
            closed.notification_key(true),
            &message,
            deadline_ms,
            expires_at,
            announced,
        )
        .await?;
        if self.store.close(subject, since, state.recent.len()).await? {
            announced.loops_closed += 1;
        }
        Ok(())
    }

    async fn publish_once(
        &self,
        key: (String, String),
        message: &Message,
        deadline_ms: u64,
        expires_at: i64,
        announced: &mut Announced,
    ) -> Result<(), String> {
        match self
            .store
            .claim(key.clone(), now_ms(), deadline_ms, expires_at)
            .await?
        {
            Claim::Sent | Claim::Held => {
                announced.already_sent += 1;
                return Ok(());
            }
            Claim::Won => {}
        }
        match self.publish(message).await {
            Ok(message_id) => {
                announced.published += 1;
                self.store.mark(key, Some(&message_id)).await
            }
            Err(problem) => {
                // Released for the retry; if even this fails, the claim lapses at the deadline.
                if let Err(release) = self.store.mark(key, None).await {
                    tracing::warn!(error = %release, "could not release a notification claim");
                }
                Err(problem)
            }
        }
    }

    async fn publish(&self, message: &Message) -> Result<String, String> {
        let mut request = self
            .sns
            .publish()
            .topic_arn(&self.config.topic_arn)
            .subject(&message.subject)
            .message(&message.body)
            .message_structure("json");
        for (name, value) in &message.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|error| format!("message attribute {name}: {error}"))?;
            request = request.message_attributes(*name, attribute);
        }
        let output = request.send().await.map_err(|error| {
            format!(
                "publishing to {}: {}",
                self.config.topic_arn,
                DisplayErrorContext(&error)
            )
        })?;
        Ok(output.message_id().unwrap_or_default().to_string())
    }
}

/// The time of a scheduled event (EventBridge's `Scheduled Event`), if `input` is one: the
/// sweep's "now", from the event, not the clock.
pub fn scheduled_time(input: &Value) -> Option<String> {
    if input.get("source").and_then(Value::as_str) != Some("aws.events")
        || input.get("detail-type").and_then(Value::as_str) != Some("Scheduled Event")
    {
        return None;
    }
    let time = input.get("time").and_then(Value::as_str)?;
    let time = DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc);
    Some(format_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_eventbridge_schedules_are_sweeps() {
        let schedule = json!({"source": "aws.events", "detail-type": "Scheduled Event",
                              "time": "2026-11-20T10:17:00Z", "detail": {}});
        assert_eq!(
            scheduled_time(&schedule).as_deref(),
            Some("2026-11-20T10:17:00.000Z")
        );
        let ecs = json!({"source": "aws.ecs", "detail-type": "Scheduled Event",
                         "time": "2026-11-20T10:17:00Z"});
        assert_eq!(scheduled_time(&ecs), None);
    }
}
