//! How a lane is laid out, as its runs arrive: runs that do not overlap share a row
//! (interval packing, so a lane is as tall as its peak concurrency), failures always get
//! rows of their own, and routine runs beyond [`ROUTINE_CAP`] are folded into a density band
//! with a count. Only what is drawn is kept: each row's free time, the bars of the rows
//! drawn, the band's counts. Pure.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{Ending, TaskBar};

/// Routine runs (stopped normally, still running) drawn one by one per lane; whole rows are
/// drawn while they fit, the runs of the rest go into the density band.
pub const ROUTINE_CAP: usize = 24;
/// Columns of a lane's density band.
pub const DENSITY_BUCKETS: usize = 120;
/// Routine service events (not failures) drawn per lane; the rest are counted.
pub const MARKER_CAP: usize = 8;

/// Rows of runs placed latest start first (as a newest-first stream finishes them): each
/// row is free until the start of the earliest run placed in it, and a run goes into the
/// row free until the soonest time at or after its end (best fit). In that order this uses
/// as few rows as the peak concurrency (the mirror image of packing by start time), and
/// holds one time per row, whatever the number of runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    free_until: BTreeSet<(DateTime<Utc>, usize)>,
}

impl Rows {
    /// The row of the run `start`..`end`; runs must come latest start first.
    pub fn place(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> usize {
        let end = end.max(start);
        let fits = self.free_until.range((end, 0)..).next().copied();
        let row = match fits {
            Some(slot) => {
                self.free_until.remove(&slot);
                slot.1
            }
            None => self.free_until.len(),
        };
        self.free_until.insert((start, row));
        row
    }

    pub fn count(&self) -> usize {
        self.free_until.len()
    }
}

/// Each run's row and the number of rows, for runs in any order (placed latest start first).
pub fn pack(runs: &[(DateTime<Utc>, DateTime<Utc>)]) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|index| std::cmp::Reverse(runs[*index]));
    let mut rows = Rows::default();
    let mut assigned = vec![0; runs.len()];
    for index in order {
        assigned[index] = rows.place(runs[index].0, runs[index].1);
    }
    (assigned, rows.count())
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

/// A lane as drawn, built run by run (latest start first).
#[derive(Debug, Clone, PartialEq)]
pub struct LaneLayout {
    /// Every failed or interrupted run, packed.
    pub failure_rows: Vec<Vec<TaskBar>>,
    /// The routine runs drawn one by one, packed: the leading rows while their runs fit
    /// [`ROUTINE_CAP`].
    pub routine_rows: Vec<Vec<TaskBar>>,
    /// Routine runs not drawn one by one.
    pub folded: usize,
    /// How many folded runs are alive in each of [`DENSITY_BUCKETS`] columns of the window.
    pub density: Vec<usize>,
    failure_packing: Rows,
    routine_packing: Rows,
    /// Runs per routine row, drawn or not (a row's count only grows, so a row folded once
    /// stays folded).
    routine_counts: Vec<usize>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
}

impl LaneLayout {
    /// An empty lane over the window `since`..`until`.
    pub fn new(since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            failure_rows: Vec::new(),
            routine_rows: Vec::new(),
            folded: 0,
            density: vec![0; DENSITY_BUCKETS],
            failure_packing: Rows::default(),
            routine_packing: Rows::default(),
            routine_counts: Vec::new(),
            since,
            until,
        }
    }

    /// Places a run; runs must come latest start (`created`) first.
    pub fn add(&mut self, bar: TaskBar) {
        if is_failure(&bar) {
            let row = self.failure_packing.place(bar.created, bar.end);
            if row == self.failure_rows.len() {
                self.failure_rows.push(Vec::new());
            }
            self.failure_rows[row].push(bar);
            return;
        }
        let row = self.routine_packing.place(bar.created, bar.end);
        if row == self.routine_counts.len() {
            self.routine_counts.push(0);
            // a new row is drawn only if every row before it is
            if row == self.routine_rows.len() {
                self.routine_rows.push(Vec::new());
            }
        }
        self.routine_counts[row] += 1;
        match self.routine_rows.get_mut(row) {
            Some(drawn) => drawn.push(bar),
            None => self.fold(&bar),
        }
        let mut drawn: usize = self.routine_counts[..self.routine_rows.len()].iter().sum();
        while drawn > ROUTINE_CAP {
            let Some(last) = self.routine_rows.pop() else {
                break;
            };
            drawn -= last.len();
            for bar in &last {
                self.fold(bar);
            }
        }
    }

    fn bucket(&self, time: DateTime<Utc>) -> usize {
        let span = (self.until - self.since).num_milliseconds().max(1);
        let offset = (time - self.since).num_milliseconds().clamp(0, span);
        let index = offset * DENSITY_BUCKETS as i64 / span;
        usize::try_from(index)
            .unwrap_or_default()
            .min(DENSITY_BUCKETS - 1)
    }

    fn fold(&mut self, bar: &TaskBar) {
        self.folded += 1;
        let (first, last) = (self.bucket(bar.created), self.bucket(bar.end));
        for count in &mut self.density[first..=last.max(first)] {
            *count += 1;
        }
    }

    /// Every run drawn one by one: the failures, then the routine runs.
    pub fn bars(&self) -> impl Iterator<Item = &TaskBar> {
        self.failure_rows.iter().chain(&self.routine_rows).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

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
        (0..count)
            .map(|_| {
                let start = next(1440);
                let longest = [5, 30, 120][usize::try_from(next(3)).unwrap_or_default()];
                (at(start), at(start + 1 + next(longest)))
            })
            .collect()
    }

    #[test]
    fn rows_never_overlap_and_number_the_peak_concurrency() {
        for seed in 1..200 {
            let runs = runs(20 + seed as usize, seed);
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

    fn bar(id: usize, (created, end): (DateTime<Utc>, DateTime<Utc>), ending: Ending) -> TaskBar {
        TaskBar {
            region: "xx-test-1".into(),
            task_id: format!("{id:04}"),
            definition: None,
            created,
            started: None,
            end,
            ending,
            last_status: "STOPPED".into(),
            stop_code: None,
            exit_codes: None,
            reason: None,
        }
    }

    #[test]
    fn a_lane_built_run_by_run_draws_what_packing_all_its_runs_at_once_would() {
        let (since, until) = (at(0), at(1600));
        for seed in 1..60 {
            // GIVEN a lane's runs, every seventh a failure, arriving latest start first
            let runs = runs(10 + 3 * seed as usize, seed);
            let ending = |index: usize| {
                if index.is_multiple_of(7) {
                    Ending::Failed
                } else {
                    Ending::Ok
                }
            };
            let mut order: Vec<usize> = (0..runs.len()).collect();
            order.sort_by_key(|index| std::cmp::Reverse(runs[*index]));
            let mut layout = LaneLayout::new(since, until);
            for index in &order {
                layout.add(bar(*index, runs[*index], ending(*index)));
            }
            // THEN failures are packed as tightly as their peak concurrency allows
            let failures: Vec<_> = (0..runs.len())
                .filter(|i| i % 7 == 0)
                .map(|i| runs[i])
                .collect();
            assert_eq!(layout.failure_rows.len(), peak_concurrency(&failures));
            assert_eq!(
                layout.failure_rows.iter().map(Vec::len).sum::<usize>(),
                failures.len()
            );
            // AND the routine runs drawn are the leading rows of their packing that fit the
            // cap, the rest counted in the band, column by column
            let routine: Vec<_> = (0..runs.len())
                .filter(|i| i % 7 != 0)
                .map(|i| runs[i])
                .collect();
            let (assigned, rows) = pack(&routine);
            let mut per_row = vec![0; rows];
            for row in &assigned {
                per_row[*row] += 1;
            }
            let mut total = 0;
            let drawn_rows = per_row
                .iter()
                .take_while(|count| {
                    total += **count;
                    total <= ROUTINE_CAP
                })
                .count();
            assert_eq!(layout.routine_rows.len(), drawn_rows, "seed {seed}");
            let mut want_density = vec![0; DENSITY_BUCKETS];
            let mut want_folded = 0;
            for (run, row) in routine.iter().zip(&assigned) {
                if *row >= drawn_rows {
                    want_folded += 1;
                    let (first, last) = (layout.bucket(run.0), layout.bucket(run.1));
                    for count in &mut want_density[first..=last] {
                        *count += 1;
                    }
                }
            }
            assert_eq!(layout.folded, want_folded, "seed {seed}");
            assert_eq!(layout.density, want_density, "seed {seed}");
            let drawn: usize = layout.routine_rows.iter().map(Vec::len).sum();
            assert!(drawn <= ROUTINE_CAP);
            assert_eq!(drawn + want_folded, routine.len());
        }
    }
}
