//! One lane as its records arrive: the runs still open, the layout and numbers of the runs
//! done, service events (every failure, the first few routine ones, a count of the rest) and
//! deployments folded to their span. Memory grows with what is drawn and with the runs
//! open at once, not with the lane's runs. Pure.

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use chrono::{DateTime, Utc};

use super::compact::TaskKey;
use super::pack::{LaneLayout, MARKER_CAP};
use super::run::TaskSoFar;
use super::stats::LaneStats;
use super::{Deployment, Lane, Marker, TaskBar};

/// A deployment event: when, its name, whether it is a failure (ordered as a sort of the
/// deployment's events would order them).
type DeploymentEvent = (DateTime<Utc>, String, bool);

/// A deployment's events folded: its first, the first that ended it, its last.
#[derive(Debug)]
struct DeploymentSoFar {
    start: DateTime<Utc>,
    ended: Option<DeploymentEvent>,
    last: DeploymentEvent,
}

/// An event that ends a deployment: one that says it completed or failed.
fn ends_deployment((_, name, failed): &DeploymentEvent) -> bool {
    *failed || name.ends_with("_COMPLETED") || name.ends_with("_FAILED")
}

impl DeploymentSoFar {
    fn new(event: DeploymentEvent) -> Self {
        Self {
            start: event.0,
            ended: ends_deployment(&event).then(|| event.clone()),
            last: event,
        }
    }

    fn add(&mut self, event: DeploymentEvent) {
        self.start = self.start.min(event.0);
        if ends_deployment(&event) && self.ended.as_ref().is_none_or(|ended| event < *ended) {
            self.ended = Some(event.clone());
        }
        if event > self.last {
            self.last = event;
        }
    }

    fn finish(self, id: String) -> Deployment {
        let (end, (_, state, failed)) = match self.ended {
            Some(ended) => (Some(ended.0), ended),
            None => (None, self.last),
        };
        Deployment {
            id,
            start: self.start,
            end,
            state,
            failed,
        }
    }
}

/// A routine service event, ordered by time then name (the order they are drawn in).
#[derive(Debug)]
struct ByTime(Marker);

impl ByTime {
    fn key(&self) -> (DateTime<Utc>, &str) {
        (self.0.time, &self.0.name)
    }
}

impl PartialEq for ByTime {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for ByTime {}
impl PartialOrd for ByTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

#[derive(Debug)]
pub(super) struct LaneBuilder {
    pub(super) open: HashMap<TaskKey, TaskSoFar>,
    layout: LaneLayout,
    stats: LaneStats,
    failed_markers: Vec<Marker>,
    /// The earliest [`MARKER_CAP`] routine service events (the latest of them on top).
    routine_markers: BinaryHeap<ByTime>,
    routine_beyond: usize,
    deployments: BTreeMap<String, DeploymentSoFar>,
}

impl LaneBuilder {
    pub(super) fn new(since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            open: HashMap::new(),
            layout: LaneLayout::new(since, until),
            stats: LaneStats::default(),
            failed_markers: Vec::new(),
            routine_markers: BinaryHeap::new(),
            routine_beyond: 0,
            deployments: BTreeMap::new(),
        }
    }

    /// A run that is done: drawn (or folded) and counted. Runs come latest start first.
    pub(super) fn add_run(&mut self, bar: TaskBar) {
        self.stats.add(&bar);
        self.layout.add(bar);
    }

    pub(super) fn add_marker(&mut self, marker: Marker) {
        if marker.failed {
            self.failed_markers.push(marker);
            return;
        }
        self.routine_markers.push(ByTime(marker));
        if self.routine_markers.len() > MARKER_CAP {
            self.routine_markers.pop();
            self.routine_beyond += 1;
        }
    }

    pub(super) fn add_deployment_event(&mut self, id: &str, event: DeploymentEvent) {
        match self.deployments.get_mut(id) {
            Some(deployment) => deployment.add(event),
            None => {
                self.deployments
                    .insert(id.to_string(), DeploymentSoFar::new(event));
            }
        }
    }

    /// The lane, once every run is done.
    pub(super) fn finish(self, name: String, region: String) -> Lane {
        let mut markers = self.failed_markers;
        markers.extend(
            self.routine_markers
                .into_iter()
                .map(|ByTime(marker)| marker),
        );
        markers.sort_by(|a, b| (a.time, &a.name).cmp(&(b.time, &b.name)));
        // the map keeps them by id
        let deployments: Vec<Deployment> = self
            .deployments
            .into_iter()
            .map(|(id, deployment)| deployment.finish(id))
            .collect();
        Lane {
            name,
            region,
            layout: self.layout,
            stats: self.stats,
            markers,
            more_markers: self.routine_beyond,
            deployments,
        }
    }
}
