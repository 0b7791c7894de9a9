//! One invocation of the deployed function: a scheduled sweep, or an ECS event recorded and,
//! if it is a failure, announced ([`crate::alerts`]). Errors are logged with their event
//! and returned, so Lambda retries them.

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use ecs_audit_core::event::event_id_of;

use crate::alerts::{Alerts, scheduled_time};
use crate::config::Config;
use crate::error::Error;
use crate::handler::{function_handler, record};
use crate::store::RecordStore;

pub async fn handle<S: RecordStore>(
    store: &S,
    config: &Config,
    alerts: Option<&Alerts>,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let Some(alerts) = alerts else {
        if scheduled_time(&event.payload).is_some() {
            // A sweep with nothing to sweep: no failures topic, so no crash loops are kept.
            // Not an ECS event either, so it is not recorded.
            tracing::info!(
                outcome = "ignored",
                "scheduled event without FAILURES_TOPIC_ARN"
            );
            return Ok(serde_json::json!({"outcome": "ignored"}));
        }
        let recorded = function_handler(store, config, event).await?;
        return Ok(serde_json::to_value(recorded).unwrap_or_default());
    };
    let deadline_ms = event.context.deadline;
    if let Some(now) = scheduled_time(&event.payload) {
        let result = alerts.sweep(&now, deadline_ms).await;
        return match result {
            Ok(announced) => {
                tracing::info!(
                    outcome = "swept",
                    now,
                    published = announced.published,
                    loops_closed = announced.loops_closed,
                    "crash loops swept"
                );
                let mut answer = serde_json::to_value(&announced).unwrap_or_default();
                answer["outcome"] = "swept".into();
                Ok(answer)
            }
            Err(error) => {
                tracing::error!(outcome = "failed", error_type = error.error_type(), error = %error, "sweep failed; it will be retried");
                Err(error)
            }
        };
    }
    let result = match record(store, config, &event.payload).await {
        Ok((recorded, audit)) => alerts
            .after_recording(&audit, &recorded, deadline_ms)
            .await
            .map(|announced| (recorded, announced)),
        Err(error) => Err(error),
    };
    match result {
        Ok((recorded, announced)) => {
            if announced != Default::default() {
                tracing::info!(
                    event_id = event_id_of(&event.payload),
                    published = announced.published,
                    already_sent = announced.already_sent,
                    loops_opened = announced.loops_opened,
                    "failure announced"
                );
            }
            let mut answer = serde_json::to_value(&recorded).unwrap_or_default();
            answer["announced"] = serde_json::to_value(&announced).unwrap_or_default();
            Ok(answer)
        }
        Err(error) => {
            let event_id = event_id_of(&event.payload);
            if error.is_retryable() {
                tracing::error!(event_id, outcome = "failed", error_type = error.error_type(), error = %error, "event not recorded or not announced; it will be retried");
            } else {
                tracing::warn!(event_id, outcome = "rejected", error_type = error.error_type(), error = %error, "event rejected");
            }
            Err(error)
        }
    }
}
