//! The `why` answer as a page for people: what ended, why in words, then each part that was
//! found (or why it is absent). Pure: the answer and the zone in, text out.

use std::io::{self, Write};

use chrono::{Local, Utc};
use ecs_audit_core::why::{Outcome, ServiceEvent, WhyAnswer};

use crate::cli::TzChoice;
use crate::output::{Zone, show_time};

/// `✗` before failures, as the other tables mark them.
const FAILED: &str = "✗";

fn time(text: &str, tz: TzChoice) -> String {
    match tz {
        TzChoice::Utc => show_time(text, &Zone::<Utc>::Utc),
        TzChoice::Local => show_time(text, &Zone::Local(Local)),
    }
}

/// Where a deployment ended up, in words.
fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::InProgress => "in progress",
        Outcome::Completed => "completed",
        Outcome::Failed => "failed",
        Outcome::RolledBack => "failed, rolled back by the circuit breaker",
        Outcome::NoEvents => "no event of it recorded in the window read",
    }
}

fn or_dash(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("-")
}

/// Text on one line: a reason may hold newlines (events are untrusted input).
fn line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn event_line(out: &mut dyn Write, event: &ServiceEvent, tz: TzChoice) -> io::Result<()> {
    let mark = if event.explanation.is_some() {
        FAILED
    } else {
        " "
    };
    writeln!(
        out,
        "  {mark} {}  {}  {}",
        time(&event.time, tz),
        or_dash(event.event_name.as_deref()),
        line(or_dash(event.reason.as_deref()))
    )?;
    if let Some(explanation) = &event.explanation {
        writeln!(out, "      {explanation}")?;
    }
    Ok(())
}

/// Writes the page.
pub fn page(answer: &WhyAnswer, tz: TzChoice, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Task {} ({})",
        answer.task_arn,
        or_dash(answer.region.as_deref())
    )?;
    let scope = match (&answer.service, &answer.group) {
        (Some(service), _) => format!("service {service}"),
        (None, Some(group)) => group.clone(),
        _ => "-".into(),
    };
    writeln!(
        out,
        "  {scope} · task definition {} · {} · started by {}",
        or_dash(answer.task_definition.as_deref()),
        or_dash(
            answer
                .capacity_provider
                .as_deref()
                .or(answer.launch_type.as_deref())
        ),
        or_dash(answer.started_by.as_deref())
    )?;

    let ending = &answer.ending;
    let code = ending
        .failure
        .as_deref()
        .or(ending.stop_code.as_deref())
        .unwrap_or(if ending.stopped {
            "stopped"
        } else {
            "not stopped"
        });
    let mark = if ending.failure.is_some() {
        FAILED
    } else {
        " "
    };
    writeln!(out, "\nHow it ended: {mark} {code}")?;
    writeln!(out, "  {}", ending.explanation)?;
    if !ending.reason.is_empty() {
        writeln!(out, "  reason: {}", line(&ending.reason))?;
    }

    writeln!(out, "\nLifecycle")?;
    for step in &answer.lifecycle {
        writeln!(
            out,
            "  {}  v{:<3} {:<15} desired {}",
            time(&step.time, tz),
            step.version.map(|v| v.to_string()).unwrap_or("-".into()),
            or_dash(step.last_status.as_deref()),
            or_dash(step.desired_status.as_deref())
        )?;
    }

    writeln!(out, "\nContainers")?;
    if answer.containers.is_empty() {
        writeln!(out, "  none recorded")?;
    }
    for container in &answer.containers {
        writeln!(
            out,
            "  {}  {}  digest {}  exit {}",
            or_dash(container.name.as_deref()),
            or_dash(container.image.as_deref()),
            or_dash(container.image_digest.as_deref()),
            container
                .exit_code
                .map(|code| code.to_string())
                .unwrap_or("-".into())
        )?;
    }

    if let Some(deployment) = &answer.deployment {
        writeln!(
            out,
            "\nDeployment {}: {} (events read {} → {})",
            deployment.id,
            outcome(deployment.outcome),
            time(&deployment.window.from, tz),
            time(&deployment.window.to, tz)
        )?;
        for event in &deployment.events {
            event_line(out, event, tz)?;
        }
    }

    if let Some(around) = &answer.around_stop {
        writeln!(
            out,
            "\nThe service around the stop ({} → {})",
            time(&around.window.from, tz),
            time(&around.window.to, tz)
        )?;
        if around.actions.is_empty() {
            writeln!(out, "  no service action recorded")?;
        }
        for action in &around.actions {
            event_line(out, action, tz)?;
        }
    }

    if let Some(same) = &answer.same_way {
        writeln!(
            out,
            "\nEnded the same way ({}): {} other task(s) of {} ({} → {})",
            same.kind,
            same.count,
            same.scope,
            time(&same.window.from, tz),
            time(&same.window.to, tz)
        )?;
        for (which, sighting) in [("first", &same.first), ("last", &same.last)] {
            if let Some(sighting) = sighting {
                writeln!(
                    out,
                    "  {which}: {} at {}",
                    sighting.task_arn,
                    time(&sighting.stopped_at, tz)
                )?;
            }
        }
    }

    if let Some(episodes) = &answer.crash_loop_episodes {
        if episodes.is_empty() {
            writeln!(out, "\nCrash loops: none recorded in the window")?;
        }
        for episode in episodes {
            let ended = match &episode.ended_at {
                Some(ended) => format!("ended {}", time(ended, tz)),
                None => "still going on".to_string(),
            };
            writeln!(
                out,
                "\nCrash loop of {}: since {}, {} failure(s), the latest {} ({}); {ended}",
                episode.subject.name(),
                time(&episode.started_at, tz),
                episode.failures,
                time(&episode.last_failure_at, tz),
                episode.last_kind,
            )?;
        }
    }

    for note in &answer.notes {
        writeln!(out, "\nNote: {note}")?;
    }
    writeln!(out, "\n({} DynamoDB Query page(s))", answer.queries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer() -> WhyAnswer {
        serde_json::from_value(json!({
            "taskArn": "arn:aws:ecs:xx-test-1:1:task/prod/abc",
            "region": "xx-test-1",
            "service": "web",
            "taskDefinition": "web:42",
            "launchType": "FARGATE",
            "startedBy": "ecs-svc/7",
            "lastStatus": "STOPPED",
            "lifecycle": [{"time": "2026-11-20T10:00:00.000Z", "version": 1, "lastStatus": "STOPPED"}],
            "ending": {"stopped": true, "stopCode": "TaskFailedToStart", "failure": "TaskFailedToStart",
                       "kind": "TaskFailedToStart", "explanation": "The task never started.",
                       "reason": "CannotPullContainerError:\nmanifest unknown"},
            "containers": [{"name": "app", "image": "web:2", "imageDigest": "sha256:ab"}],
            "deployment": {"id": "ecs-svc/7", "outcome": "ROLLED_BACK",
                           "window": {"from": "2026-11-19T10:00:00.000Z", "to": "2026-11-21T10:00:00.000Z"},
                           "events": [{"time": "2026-11-20T10:05:00.000Z", "eventName": "SERVICE_DEPLOYMENT_FAILED",
                                       "reason": "circuit breaker", "explanation": "The deployment was declared failed."}]},
            "aroundStop": {"window": {"from": "2026-11-20T09:00:00.000Z", "to": "2026-11-20T11:00:00.000Z"},
                           "actions": []},
            "sameWay": {"scope": "service prod/web", "kind": "TaskFailedToStart",
                        "window": {"from": "2026-11-20T09:00:00.000Z", "to": "2026-11-20T11:00:00.000Z"},
                        "count": 2,
                        "first": {"taskArn": "arn:first", "stoppedAt": "2026-11-20T09:30:00.000Z"},
                        "last": {"taskArn": "arn:last", "stoppedAt": "2026-11-20T10:30:00.000Z"}},
            "notes": [],
            "queries": 4
        }))
        .unwrap()
    }

    #[test]
    fn the_page_names_each_part() {
        let mut out = Vec::new();
        page(&answer(), TzChoice::Utc, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        for expected in [
            "Task arn:aws:ecs:xx-test-1:1:task/prod/abc (xx-test-1)",
            "service web · task definition web:42 · FARGATE · started by ecs-svc/7",
            "How it ended: ✗ TaskFailedToStart",
            "reason: CannotPullContainerError: manifest unknown",
            "app  web:2  digest sha256:ab  exit -",
            "Deployment ecs-svc/7: failed, rolled back by the circuit breaker",
            "  ✗ 2026-11-20 10:05:00.000Z  SERVICE_DEPLOYMENT_FAILED  circuit breaker",
            "      The deployment was declared failed.",
            "no service action recorded",
            "2 other task(s) of service prod/web",
            "first: arn:first at 2026-11-20 09:30:00.000Z",
            "last: arn:last at 2026-11-20 10:30:00.000Z",
            "(4 DynamoDB Query page(s))",
        ] {
            assert!(page.contains(expected), "{expected:?} not in\n{page}");
        }
    }
}
