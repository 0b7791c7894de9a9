//! `ecs-audit redrive`: what a region's failure queues hold, why each event failed, and, on
//! confirmation, each event recorded again through the function's own write path
//! ([`record_event`] with the [`DynamoDbStore`]), its message deleted only once its item is
//! in the table.
//!
//! Two queues per region, both named after the environment ([`queues`]). Safe to repeat: the
//! write is first-write-wins, so an event recorded in the meantime (or twice in the queues)
//! is a duplicate, which counts as recorded. Events the handler still rejects stay in their
//! queue, listed with their error. Reading a message ([`message`]) and the lines shown
//! ([`listing`]) are pure; [`sqs`] is the only part that talks to SQS.

pub mod listing;
pub mod message;
pub mod prompt;
pub mod queues;
pub mod sqs;

use std::io::Write;

use ecs_audit_core::contract;
use ecs_state_logger::config::DEFAULT_RETENTION_DAYS;
use ecs_state_logger::dynamodb::DynamoDbStore;
use ecs_state_logger::handler::{Outcome, record_event};

use crate::cli::RedriveArgs;
use crate::error::{Error, Result};
use crate::session::{NamedEnvironment, Session};
use listing::{SHOWN_ERROR_CHARS, describe, kept, shown};
use message::Message;
use queues::{QueueKind, kinds};
use sqs::Queues;

/// A redrive asked for, its retention resolved.
#[derive(Debug, Clone)]
pub struct RedriveQuestion {
    pub args: RedriveArgs,
    /// Days a redriven record is kept: `--retention-days`, else the environment's, else the
    /// function's default.
    pub retention_days: u32,
}

/// Resolves the retention days and checks them, before any AWS call.
pub fn read(args: &RedriveArgs, environment: Option<&NamedEnvironment>) -> Result<RedriveQuestion> {
    let retention_days = args
        .retention_days
        .or_else(|| environment?.1.retention_days)
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    // The bounds the module validates retention_days against; also checks the file the
    // queue names come from.
    let bounds = contract::retention_days().map_err(|error| Error::Internal(error.to_string()))?;
    if !bounds.contains(&retention_days) {
        return Err(Error::BadArgument(format!(
            "retention days {retention_days}: pass --retention-days from {} to {}",
            bounds.start(),
            bounds.end()
        )));
    }
    Ok(RedriveQuestion {
        args: args.clone(),
        retention_days,
    })
}

/// One region's queues and table, and the messages read from them.
struct Region {
    name: String,
    queues: Queues,
    store: DynamoDbStore,
    messages: Vec<Message>,
}

/// What a redrive did in one region.
#[derive(Debug, Default)]
struct Tally {
    written: usize,
    duplicate: usize,
    kept: Vec<String>,
}

fn output_error(error: std::io::Error) -> Error {
    Error::Output(error.to_string())
}

/// Runs `ecs-audit redrive`: lists the failures of every region asked for, asks (unless
/// `--yes` or `--dry-run`), redrives, and fails when any event stays in its queue.
pub async fn run(
    session: &Session,
    question: &RedriveQuestion,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<()> {
    let args = &question.args;
    let target = &session.target;
    let config = ecs_state_logger::Config {
        table_name: target.table.clone(),
        retention_days: question.retention_days,
    };

    // Read and show.
    let mut regions = Vec::new();
    for table in session.tables() {
        let queues = Queues::new(&table.region, session.sqs(&table.region));
        let mut messages = Vec::new();
        for kind in kinds(args.queue) {
            messages.extend(queues.read(*kind, &target.table).await?);
        }
        regions.push(Region {
            name: table.region.clone(),
            queues,
            store: DynamoDbStore::new(table.client.clone(), &target.table),
            messages,
        });
    }
    let total: usize = regions.iter().map(|region| region.messages.len()).sum();
    for region in &regions {
        list(region, args, &target.table, out)?;
    }
    if total == 0 {
        writeln!(
            out,
            "nothing to redrive: the failure queues are empty in {}",
            target.regions.join(", ")
        )
        .map_err(output_error)?;
        return Ok(());
    }
    let go = if args.dry_run {
        false
    } else if args.yes {
        true
    } else {
        prompt::confirm(
            &format!(
                "Record these {total} event(s) in table {} ({}) and delete their messages?",
                target.table,
                target.regions.join(", ")
            ),
            log,
        )
    };
    if !go {
        for region in &regions {
            let all: Vec<&Message> = region.messages.iter().collect();
            region.queues.release(&all, log).await;
        }
        writeln!(
            out,
            "{}: {total} message(s) left in their queues",
            if args.dry_run {
                "dry run"
            } else {
                "not redriven"
            }
        )
        .map_err(output_error)?;
        return Ok(());
    }

    let mut remaining = 0;
    for region in &regions {
        remaining += redrive(region, &config, out, log).await?;
    }
    if remaining > 0 {
        return Err(Error::RedriveIncomplete { remaining });
    }
    Ok(())
}

/// `region <name>: N failed event(s): ...`, then a line per message.
fn list(region: &Region, args: &RedriveArgs, table: &str, out: &mut dyn Write) -> Result<()> {
    let count = |kind: QueueKind| {
        region
            .messages
            .iter()
            .filter(|message| message.kind == kind)
            .count()
    };
    let queues: Vec<String> = kinds(args.queue)
        .iter()
        .map(|kind| format!("{} in {}", count(*kind), kind.queue_name(table)))
        .collect();
    writeln!(
        out,
        "region {}: {} failed event(s): {}",
        region.name,
        region.messages.len(),
        queues.join(", ")
    )
    .map_err(output_error)?;
    for message in &region.messages {
        writeln!(out, "  {}", describe(message)).map_err(output_error)?;
    }
    Ok(())
}

/// Records each event of the region, deletes its message once the item is in the table,
/// releases the rest and says what happened; returns how many messages stay queued.
async fn redrive(
    region: &Region,
    config: &ecs_state_logger::Config,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> Result<usize> {
    let mut tally = Tally::default();
    let mut keep: Vec<&Message> = Vec::new();
    let mut stopped: Option<String> = None;
    for message in &region.messages {
        if stopped.is_some() {
            keep.push(message);
            continue;
        }
        let failure = match &message.failure {
            Ok(failure) => failure,
            Err(_) => {
                tally.kept.push(describe(message));
                keep.push(message);
                continue;
            }
        };
        match record_event(&region.store, config, &failure.event).await {
            Ok(recorded) => {
                if let Err(error) = region.queues.delete(message).await {
                    // The item is written: the next redrive finds it a duplicate.
                    tally.kept.push(kept(
                        message.kind,
                        failure.event_id(),
                        &format!(
                            "recorded ({}), but its message was not deleted: {}",
                            recorded.outcome,
                            shown(&error, SHOWN_ERROR_CHARS)
                        ),
                    ));
                    keep.push(message);
                } else if recorded.outcome != Outcome::Duplicate.as_str() {
                    // Written, written with warnings, or kept as a conflict: a new item.
                    tally.written += 1;
                } else {
                    tally.duplicate += 1;
                }
            }
            Err(error) => {
                tally.kept.push(kept(
                    message.kind,
                    failure.event_id(),
                    &format!(
                        "{}: {}",
                        error.error_type(),
                        shown(&error.to_string(), SHOWN_ERROR_CHARS)
                    ),
                ));
                keep.push(message);
                if error.is_retryable() {
                    // DynamoDB is failing: the rest would fail the same way, slowly.
                    stopped = Some(shown(&error.to_string(), SHOWN_ERROR_CHARS));
                }
            }
        }
    }
    region.queues.release(&keep, log).await;
    let untried = keep.len().saturating_sub(tally.kept.len());
    writeln!(
        out,
        "redrive {}: {} message(s): {} written, {} duplicate, {} kept in the queue",
        region.name,
        region.messages.len(),
        tally.written,
        tally.duplicate,
        keep.len()
    )
    .map_err(output_error)?;
    for line in &tally.kept {
        writeln!(out, "  kept {line}").map_err(output_error)?;
    }
    if let Some(reason) = stopped {
        writeln!(
            out,
            "  stopped after a DynamoDB failure; {untried} more message(s) not tried: {reason}"
        )
        .map_err(output_error)?;
    }
    Ok(keep.len())
}
