//! How a lane is laid out: runs that do not overlap share a row (interval packing, so a
//! lane is as tall as its peak concurrency), failures always get rows of their own, and
//! routine runs beyond [`ROUTINE_CAP`] are folded into a density band with a count. Also
//! the lane's one-line numbers. Pure.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Duration, Utc};

use super::{Ending, Lane, TaskBar};

/// Routine runs (stopped normally, still running) drawn one by one per lane; whole rows are
/// drawn while they fit, the runs of the rest go into the density band.
pub const ROUTINE_CAP: usize = 24;
/// Columns of a lane's density band.
pub const DENSITY_BUCKETS: usize = 120;
/// Routine service events (not failures) drawn per lane; the rest are counted.
pub const MARKER_CAP: usize = 8;

/// Assigns each run (`(start, end)`, sorted by start) a row so that runs in one row do not
/// overlap (one may start when the other ends); uses as few rows as the peak concurrency.
/// Returns each run's row and the number of rows.
pub fn pack(runs: &[(DateTime<Utc>, DateTime<Utc>)]) -> (Vec<usize>, usize) {
    // rows by the time they become free, earliest first
    let mut free: BinaryHeap<Reverse<(DateTime<Utc>, usize)>> = BinaryHeap::new();
    let mut rows = 0;
    let mut assigned = Vec::with_capacity(runs.len());
    for (start, end) in runs {
        let row = match free.peek() {
            Some(Reverse((free_at, row))) if free_at <= start => {
                let row = *row;
                free.pop();
                row
            }
            _ => {
                rows += 1;
                rows - 1
            }
        };
        free.push(Reverse(((*end).max(*start), row)));
        assigned.push(row);
    }
    (assigned, rows)
}

/// The most runs alive at one instant (a run ending when another starts does not overlap it).
pub fn peak_concurrency(runs: &[(DateTime<Utc>, DateTime<Utc>)]) -> usize {
    let mut edges: Vec<(DateTime<Utc>, i64)> = Vec::with_capacity(runs.len() * 2);
    for (start, end) in runs {
        edges.push((*start, 1));
        edges.push(((*end).max(*start), -1));
    }
    // at equal times ends (-1) come before starts (+1)
    edges.sort();
    let mut alive = 0_i64;
    let mut peak = 0_i64;
    for (_, change) in edges {
        alive += change;
        peak = peak.max(alive);
    }
    usize::try_from(peak).unwrap_or_default()
}

/// A failure: its bar stays visible and links to its row in the failures list.
pub fn is_failure(bar: &TaskBar) -> bool {
    matches!(bar.ending, Ending::Failed | Ending::Interrupted)
}

/// A lane as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneLayout<'a> {
    /// Every failed or interrupted run, packed.
    pub failure_rows: Vec<Vec<&'a TaskBar>>,
    /// The routine runs drawn one by one, packed.
    pub routine_rows: Vec<Vec<&'a TaskBar>>,
    /// Routine runs not drawn one by one.
    pub folded: usize,
    /// How many folded runs are alive in each of [`DENSITY_BUCKETS`] columns of the window.
    pub density: Vec<usize>,
}

fn rows_of<'a>(bars: &[&'a TaskBar]) -> Vec<Vec<&'a TaskBar>> {
    let runs: Vec<_> = bars.iter().map(|bar| (bar.created, bar.end)).collect();
    let (assigned, count) = pack(&runs);
    let mut rows: Vec<Vec<&TaskBar>> = vec![Vec::new(); count];
    for (bar, row) in bars.iter().zip(assigned) {
        rows[row].push(bar);
    }
    rows
}

/// Lays `lane` out over the window `since`..`until`.
pub fn layout(lane: &Lane, since: DateTime<Utc>, until: DateTime<Utc>) -> LaneLayout<'_> {
    // the builder sorts a lane's bars by creation
    let (failures, routine): (Vec<&TaskBar>, Vec<&TaskBar>) =
        lane.tasks.iter().partition(|bar| is_failure(bar));
    let failure_rows = rows_of(&failures);
    let mut routine_rows = rows_of(&routine);
    let mut shown = 0;
    let keep = routine_rows
        .iter()
        .take_while(|row| {
            shown += row.len();
            shown <= ROUTINE_CAP
        })
        .count();
    let folded_rows = routine_rows.split_off(keep);
    let mut density = vec![0; DENSITY_BUCKETS];
    let span = (until - since).num_milliseconds().max(1);
    let bucket = |time: DateTime<Utc>| {
        let offset = (time - since).num_milliseconds().clamp(0, span);
        let index = offset * DENSITY_BUCKETS as i64 / span;
        usize::try_from(index)
            .unwrap_or_default()
            .min(DENSITY_BUCKETS - 1)
    };
    let mut folded = 0;
    for bar in folded_rows.iter().flatten() {
        folded += 1;
        for count in &mut density[bucket(bar.created)..=bucket(bar.end)] {
            *count += 1;
        }
    }
    LaneLayout {
        failure_rows,
        routine_rows,
        folded,
        density,
    }
}

/// A lane's numbers, for its summary line.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneStats {
    pub runs: usize,
    pub failures: usize,
    /// Of finished runs, created to stopped.
    pub median: Option<Duration>,
    pub p95: Option<Duration>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// The value at `fraction` (0..=1) of sorted `values`, nearest rank.
fn percentile(sorted: &[Duration], fraction: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

pub fn stats(lane: &Lane) -> LaneStats {
    let mut durations: Vec<Duration> = lane
        .tasks
        .iter()
        .filter(|bar| bar.ending != Ending::Running)
        .map(|bar| bar.end - bar.created)
        .collect();
    durations.sort();
    LaneStats {
        runs: lane.tasks.len(),
        failures: lane.tasks.iter().filter(|bar| is_failure(bar)).count(),
        median: percentile(&durations, 0.5),
        p95: percentile(&durations, 0.95),
        first: lane.tasks.iter().map(|bar| bar.created).min(),
        last: lane.tasks.iter().map(|bar| bar.end).max(),
    }
}

/// `42s`, `7m05s`, `2h03m`.
pub fn short_duration(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
            + Duration::minutes(minute)
    }

    /// A deterministic jumble of runs: short and long, touching and overlapping.
    fn runs(count: usize, seed: u64) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut state = seed;
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            i64::try_from((state >> 33) % n).unwrap_or_default()
        };
        let mut runs: Vec<_> = (0..count)
            .map(|_| {
                let start = next(1440);
                (at(start), at(start + next(120)))
            })
            .collect();
        runs.sort();
        runs
    }

    #[test]
    fn rows_never_overlap_and_number_the_peak_concurrency() {
        for seed in 1..40 {
            let runs = runs(300, seed);
            let (assigned, rows) = pack(&runs);
            assert_eq!(rows, peak_concurrency(&runs), "seed {seed}");
            for row in 0..rows {
                let mut mine: Vec<_> = runs
                    .iter()
                    .zip(&assigned)
                    .filter(|(_, r)| **r == row)
                    .map(|(run, _)| *run)
                    .collect();
                mine.sort();
                for pair in mine.windows(2) {
                    assert!(pair[0].1 <= pair[1].0, "overlap in row {row}: {pair:?}");
                }
            }
        }
    }

    #[test]
    fn sequential_runs_share_one_row_and_touching_ones_too() {
        let runs = [(at(0), at(10)), (at(10), at(20)), (at(30), at(40))];
        assert_eq!(pack(&runs), (vec![0, 0, 0], 1));
        let overlapping = [(at(0), at(10)), (at(5), at(20)), (at(6), at(7))];
        assert_eq!(pack(&overlapping).1, 3);
        assert_eq!(pack(&[]).1, 0);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::seconds).collect();
        assert_eq!(percentile(&values, 0.5), Some(Duration::seconds(50)));
        assert_eq!(percentile(&values, 0.95), Some(Duration::seconds(95)));
        assert_eq!(percentile(&values[..1], 0.95), Some(Duration::seconds(1)));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(short_duration(Duration::seconds(425)), "7m05s");
        assert_eq!(short_duration(Duration::seconds(7380)), "2h03m");
    }
}
