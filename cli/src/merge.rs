//! A k-way merge of already-sorted streams, one per region, into one ordered stream. Pure:
//! the caller feeds each source's chunks as they arrive ([`Merge::push`], [`Merge::finish`])
//! and takes groups out ([`Merge::step`]); it holds only what has arrived and not yet left.
//!
//! Records with equal sort values leave together, as a group, ordered by region, resource
//! and key (the order a full sort would give) with the copies a global table holds in every
//! replica counted once: a replica's copy has the same sort value, so it is in the same group.

use std::collections::{HashSet, VecDeque};

use crate::output::Found;
use crate::query::SortField;

/// What the merge needs next.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Source `n` (its position) must deliver more, or be finished, before anything can leave.
    Need(usize),
    /// The next records in order.
    Group(Vec<Found>),
    /// Every source is finished and empty.
    Done,
}

#[derive(Debug, Default)]
struct Source {
    buffer: VecDeque<Found>,
    finished: bool,
}

/// The merge of `sources` streams, each sorted by `sort` (newest first when `newest_first`).
#[derive(Debug)]
pub struct Merge {
    sources: Vec<Source>,
    sort: SortField,
    newest_first: bool,
}

impl Merge {
    pub fn new(sources: usize, sort: SortField, newest_first: bool) -> Self {
        Self {
            sources: (0..sources).map(|_| Source::default()).collect(),
            sort,
            newest_first,
        }
    }

    /// Appends a chunk of source `source`'s stream.
    pub fn push(&mut self, source: usize, chunk: Vec<Found>) {
        if let Some(source) = self.sources.get_mut(source) {
            source.buffer.extend(chunk);
        }
    }

    /// Source `source` has nothing more.
    pub fn finish(&mut self, source: usize) {
        if let Some(source) = self.sources.get_mut(source) {
            source.finished = true;
        }
    }

    /// `a` comes before `b` in the output order.
    fn before(&self, a: &str, b: &str) -> bool {
        if self.newest_first { a > b } else { a < b }
    }

    /// The next group, or which source must deliver first.
    pub fn step(&mut self) -> Step {
        if let Some(position) = self
            .sources
            .iter()
            .position(|source| source.buffer.is_empty() && !source.finished)
        {
            return Step::Need(position);
        }
        let sort = self.sort;
        let Some(head) = self
            .sources
            .iter()
            .filter_map(|source| source.buffer.front())
            .map(|found| sort.value_of(&found.record))
            .reduce(|best, value| {
                if self.before(value, best) {
                    value
                } else {
                    best
                }
            })
            .map(str::to_string)
        else {
            return Step::Done;
        };
        // A source whose buffer ends with the head's value may hold more of it still unread.
        if let Some(position) = self.sources.iter().position(|source| {
            !source.finished
                && source
                    .buffer
                    .back()
                    .is_some_and(|last| sort.value_of(&last.record) == head)
        }) {
            return Step::Need(position);
        }
        let mut seen = HashSet::new();
        let mut group = Vec::new();
        for source in &mut self.sources {
            while source
                .buffer
                .front()
                .is_some_and(|found| sort.value_of(&found.record) == head)
            {
                let Some(found) = source.buffer.pop_front() else {
                    break;
                };
                if seen.insert((
                    found.record.resource_arn.clone(),
                    found.record.event_key.clone(),
                )) {
                    group.push(found);
                }
            }
        }
        group.sort_by(|a, b| {
            let order = a
                .region()
                .cmp(b.region())
                .then_with(|| a.record.resource_arn.cmp(&b.record.resource_arn))
                .then_with(|| a.record.event_key.cmp(&b.record.event_key));
            if self.newest_first {
                order.reverse()
            } else {
                order
            }
        });
        Step::Group(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_audit_core::record::AuditRecord;

    fn found(region: &str, arn: &str, key: &str, time: &str) -> Found {
        Found {
            region: region.into(),
            record: AuditRecord {
                resource_arn: arn.into(),
                event_key: key.into(),
                event_time: time.into(),
                ..AuditRecord::default()
            },
        }
    }

    /// Runs the merge, handing each source its chunks one at a time when asked.
    fn drive(merge: &mut Merge, mut chunks: Vec<VecDeque<Vec<Found>>>) -> Vec<Found> {
        let mut out = Vec::new();
        loop {
            match merge.step() {
                Step::Need(source) => match chunks[source].pop_front() {
                    Some(chunk) => merge.push(source, chunk),
                    None => merge.finish(source),
                },
                Step::Group(group) => out.extend(group),
                Step::Done => return out,
            }
        }
    }

    fn keys(found: &[Found]) -> Vec<(&str, &str, &str)> {
        found
            .iter()
            .map(|f| {
                (
                    f.region.as_str(),
                    f.record.resource_arn.as_str(),
                    f.record.event_key.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn sorted_streams_merge_in_order_and_replica_copies_count_once() {
        let a = vec![
            found("xx-test-1", "t1", "v3", "2026-11-20T10:05:00.000Z"),
            found("xx-test-1", "t1", "v2", "2026-11-20T10:03:00.000Z"),
            found("xx-test-1", "t1", "v1", "2026-11-20T10:01:00.000Z"),
        ];
        let b = vec![
            // a global table's replica holds the same item
            found("xx-test-2", "t1", "v3", "2026-11-20T10:05:00.000Z"),
            found("xx-test-2", "t2", "v1", "2026-11-20T10:04:00.000Z"),
            found("xx-test-2", "t3", "v1", "2026-11-20T10:03:00.000Z"),
        ];
        // chunks of one record, so every source is asked again and again
        let chunked = |records: &[Found]| -> VecDeque<Vec<Found>> {
            records.iter().map(|f| vec![f.clone()]).collect()
        };
        let mut merge = Merge::new(2, SortField::EventTime, true);
        let merged = drive(&mut merge, vec![chunked(&a), chunked(&b)]);
        assert_eq!(
            keys(&merged),
            [
                ("xx-test-1", "t1", "v3"),
                ("xx-test-2", "t2", "v1"),
                // equal times: the full sort's order (reversed, newest first)
                ("xx-test-2", "t3", "v1"),
                ("xx-test-1", "t1", "v2"),
                ("xx-test-1", "t1", "v1"),
            ]
        );
    }

    #[test]
    fn a_group_waits_for_every_source_that_may_hold_more_of_it() {
        let time = "2026-11-20T10:00:00.000Z";
        let mut merge = Merge::new(2, SortField::EventTime, false);
        merge.push(0, vec![found("r", "b", "v1", time)]);
        merge.push(1, vec![found("r", "c", "v1", time)]);
        // source 0's last record has the head's time: it may have more of that second
        assert_eq!(merge.step(), Step::Need(0));
        merge.push(0, vec![found("r", "a", "v1", time)]);
        assert_eq!(merge.step(), Step::Need(0));
        merge.finish(0);
        assert_eq!(merge.step(), Step::Need(1));
        merge.finish(1);
        match merge.step() {
            Step::Group(group) => assert_eq!(
                keys(&group),
                [("r", "a", "v1"), ("r", "b", "v1"), ("r", "c", "v1")]
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(merge.step(), Step::Done);
    }

    #[test]
    fn versions_sort_as_text_oldest_first() {
        let one = vec![
            found(
                "r",
                "t",
                "v00000000000000000009",
                "2026-11-20T10:00:01.000Z",
            ),
            found(
                "r",
                "t",
                "v00000000000000000010",
                "2026-11-20T10:00:00.000Z",
            ),
        ];
        let mut merge = Merge::new(1, SortField::Version, false);
        let merged = drive(&mut merge, vec![VecDeque::from([one])]);
        assert_eq!(merged[0].record.event_key, "v00000000000000000009");
        assert_eq!(merged.len(), 2);
    }

    #[test]
    fn no_sources_is_done_at_once() {
        assert_eq!(Merge::new(0, SortField::Version, false).step(), Step::Done);
    }
}
