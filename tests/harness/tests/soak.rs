//! Soak: 10,000 deliveries (8,000 distinct generated events — tasks, service actions,
//! deployments — and 2,000 redeliveries with new envelope ids, shuffled) through 4 processes
//! of the built `bootstrap` polling one Runtime API, into `environments/local`'s table
//! (applied by Terraform to moto, `-target` the primary region's table only): exactly one item
//! per distinct event, each holding its first delivery's `eventId`, no errors.
//!
//! And redeliveries: every documented fixture and 300 generated events, then three copies of
//! each with new envelope ids, sent at once: every copy is a duplicate and changes nothing.
//!
//! `mutants.rs` runs the same checks against builds without the guarantee and sees them fail.
//! Needs `make build` first (`make test` does it). `SOAK_DELIVERIES` shortens the soak (same
//! 4:1 mix) where the bootstrap runs emulated (`LAMBDA_ARCH`).

use harness::FunctionCommand;
use harness::arch::Arch;
use harness::no_loss::{self, Redeliveries, Soak};
use harness::testkit::{LocalTable, built_lambda};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The shipped bootstrap, started as `LAMBDA_ARCH` says (natively or under the emulator).
fn bootstrap() -> harness::Result<FunctionCommand> {
    Ok(Arch::from_env()?
        .launcher()?
        .command(&built_lambda("bootstrap")?))
}

/// [`Soak::FULL`], or `SOAK_DELIVERIES` deliveries (at least 10), a fifth of them redeliveries.
fn soak_plan() -> Result<Soak, Box<dyn std::error::Error>> {
    let Ok(text) = std::env::var("SOAK_DELIVERIES") else {
        return Ok(Soak::FULL);
    };
    let deliveries = text
        .parse::<usize>()
        .ok()
        .filter(|&n| n >= 10)
        .ok_or_else(|| format!("SOAK_DELIVERIES={text:?}: a number of deliveries, at least 10"))?;
    let redeliveries = deliveries / 5;
    Ok(Soak {
        distinct: deliveries - redeliveries,
        redeliveries,
        ..Soak::FULL
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_deliveries_through_four_processes_leave_one_item_per_event() -> TestResult {
    let plan = soak_plan()?;

    // GIVEN 8,000 distinct events and 2,000 redeliveries with new ids, shuffled, through
    // 4 processes of the shipped bootstrap, 16 at a time
    // WHEN every delivery is invoked
    let run = no_loss::soak(&LocalTable::apply().await?, bootstrap()?, &plan).await?;

    // THEN the table holds exactly one item per distinct event, with its first delivery's id
    assert!(run.losses.is_empty(), "{}", run.describe_losses(10));
    assert_eq!(run.items, plan.distinct);
    // AND each first delivery wrote, and each redelivery was a duplicate
    assert_eq!(run.first("written"), plan.distinct, "{:?}", run.first);
    assert_eq!(
        run.redelivered("duplicate"),
        plan.redeliveries,
        "{:?}",
        run.redelivered
    );
    let deliveries = plan.distinct + plan.redeliveries;
    eprintln!(
        "soak: {deliveries} deliveries through {} processes in {:.1?}, {:.0}/s",
        plan.processes,
        run.took,
        deliveries as f64 / run.took.as_secs_f64()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeliveries_with_new_ids_are_duplicates_and_keep_the_first_delivery() -> TestResult {
    let plan = Redeliveries::FULL;

    // GIVEN every fixture and 300 generated events, recorded once by the shipped bootstrap
    // WHEN three copies of each, with new envelope ids, arrive at once
    let run = no_loss::redeliveries(&LocalTable::apply().await?, bootstrap()?, &plan).await?;

    // THEN every first delivery wrote, every copy was a duplicate
    assert_eq!(run.first("written"), run.events, "{:?}", run.first);
    assert_eq!(
        run.redelivered("duplicate"),
        run.events * plan.copies,
        "{:?}",
        run.redelivered
    );
    // AND each event has one item, holding its first delivery's id
    assert!(run.losses.is_empty(), "{}", run.describe_losses(10));
    assert_eq!(run.items, run.events);
    Ok(())
}
