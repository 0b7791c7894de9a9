//! Mutation tests: the no-loss checks of `soak.rs` run against `mutant-function` — the real
//! handler over a store that breaks one guarantee — and must fail, with the loss the broken
//! guarantee causes. A mutant that fails any other way (does not start, answers errors) fails
//! these tests instead: only the guarantee's own assertion counts.
//!
//! - `unconditional` (the conditional write removed): a redelivery overwrites the first
//!   delivery's item, which then holds the redelivery's `eventId`;
//! - `unversioned-key` (the version dropped from the key): a task's later states land on the
//!   key of its first; the handler keeps each as a conflict next to it, so every state but the
//!   first is missing from the key its version names.
//!
//! Short runs (a few hundred deliveries each) keep these cheap; the shipped function runs the
//! full ones in `soak.rs`. Need moto and Terraform; the mutant is built with this crate.

use harness::FunctionCommand;
use harness::no_loss::{self, Loss, Redeliveries, Run, Soak};
use harness::testkit::LocalTable;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn mutant(name: &str) -> FunctionCommand {
    FunctionCommand::new(env!("CARGO_BIN_EXE_mutant-function")).env("MUTANT", name)
}

fn overwritten(run: &Run) -> usize {
    run.losses
        .iter()
        .filter(|loss| matches!(loss, Loss::Overwritten { .. }))
        .count()
}

fn missing(run: &Run) -> usize {
    run.losses
        .iter()
        .filter(|loss| matches!(loss, Loss::Missing { .. }))
        .count()
}

/// Runs both checks against `name`; each must report a loss that `is_its_loss` counts.
/// Both share one table, emptied between them.
async fn both_checks_fail(name: &str, is_its_loss: fn(&Run) -> usize) -> TestResult {
    let table = LocalTable::apply().await?;
    let soak = no_loss::soak(&table, mutant(name), &Soak::SHORT)
        .await
        .map_err(|error| format!("the soak did not run against the {name} mutant: {error}"))?;
    assert!(
        is_its_loss(&soak) > 0,
        "the soak passed against the {name} mutant: {}",
        soak.describe_losses(5)
    );
    table.clear().await?;
    let redeliveries = no_loss::redeliveries(&table, mutant(name), &Redeliveries::SHORT)
        .await
        .map_err(|error| {
            format!("the redelivery check did not run against the {name} mutant: {error}")
        })?;
    assert!(
        is_its_loss(&redeliveries) > 0,
        "the redelivery check passed against the {name} mutant: {}",
        redeliveries.describe_losses(5)
    );
    eprintln!(
        "{name}: soak {}; redeliveries {}",
        soak.describe_losses(1),
        redeliveries.describe_losses(1)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_conditional_write_redeliveries_overwrite_the_first_delivery() -> TestResult {
    both_checks_fail("unconditional", overwritten).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_version_in_the_key_events_go_missing() -> TestResult {
    both_checks_fail("unversioned-key", missing).await
}
