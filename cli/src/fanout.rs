//! One question asked of every region at once: each region's table streams its sorted answer
//! ([`RegionTable::stream`]), a k-way merge ([`crate::merge`]) hands the records on in the
//! question's order as the pages arrive.

use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle, JoinSet};

use crate::dynamo::{Paging, RegionTable, Tally};
use crate::error::{Error, Result};
use crate::merge::{Merge, Step};
use crate::output::Found;
use crate::query::QuerySpec;

/// Records a region's stream holds before its reader waits for the merge.
const CHUNKS_AHEAD: usize = 2;

/// Asks every region at once and hands each record to `each` in the question's order, as
/// the regions' pages arrive (a k-way merge of their sorted streams); at most `limit`. A
/// region that fails stops the whole answer with its error; returns what each region read,
/// in the regions' order.
pub async fn stream(
    tables: &[RegionTable],
    spec: &QuerySpec,
    paging: Paging,
    limit: Option<usize>,
    mut each: impl FnMut(Found) -> Result<()>,
) -> Result<Vec<Tally>> {
    let mut receivers = Vec::with_capacity(tables.len());
    let mut producers = Vec::with_capacity(tables.len());
    for table in tables {
        let (sender, receiver) = mpsc::channel(CHUNKS_AHEAD);
        producers.push(Some(tokio::spawn(table.clone().stream(
            spec.clone(),
            paging,
            sender,
        ))));
        receivers.push(receiver);
    }
    let mut tallies = vec![Tally::default(); tables.len()];
    let mut merge = Merge::new(tables.len(), spec.sort, spec.newest_first);
    let mut emitted = 0;
    let outcome: Result<()> = async {
        loop {
            match merge.step() {
                Step::Need(source) => match receivers[source].recv().await {
                    Some(chunk) => merge.push(source, chunk),
                    None => {
                        // the region's stream ended: fail at once if it ended in an error
                        if let Some(producer) = producers[source].take() {
                            tallies[source] = joined(producer.await)?;
                        }
                        merge.finish(source);
                    }
                },
                Step::Group(group) => {
                    for found in group {
                        if limit.is_some_and(|limit| emitted >= limit) {
                            return Ok(());
                        }
                        each(found)?;
                        emitted += 1;
                    }
                }
                Step::Done => return Ok(()),
            }
        }
    }
    .await;
    drop(receivers);
    if let Err(error) = outcome {
        producers.iter().flatten().for_each(JoinHandle::abort);
        return Err(error);
    }
    // stopped early (--limit): each region stops at its next send
    for (position, producer) in producers.into_iter().enumerate() {
        if let Some(producer) = producer {
            tallies[position] = joined(producer.await)?;
        }
    }
    Ok(tallies)
}

fn joined(result: std::result::Result<Result<Tally>, JoinError>) -> Result<Tally> {
    result.map_err(|error| Error::Internal(format!("a region's query stopped: {error}")))?
}

/// The resource ARNs `spec` matches in every region, in no particular order (a lookup that
/// needs no more than the key; `--limit` does not apply).
pub async fn arns(tables: &[RegionTable], spec: &QuerySpec, paging: Paging) -> Result<Vec<String>> {
    let paging = Paging {
        max_items: None,
        ..paging
    };
    let mut lookups = JoinSet::new();
    for table in tables {
        let table = table.clone();
        let spec = spec.clone();
        lookups.spawn(async move { table.arns(&spec, paging).await });
    }
    let mut all = Vec::new();
    while let Some(joined) = lookups.join_next().await {
        let (arns, _pages) = joined
            .map_err(|error| Error::Internal(format!("a region's lookup stopped: {error}")))??;
        all.extend(arns);
    }
    Ok(all)
}
