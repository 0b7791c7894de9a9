//! Crash loops: when one service (or standalone task family) fails at least `threshold`
//! times within `window` minutes, by the events' own times. Pure: the keys of the three kinds
//! of items the function keeps in the audit table for them, and the decisions over their
//! contents; the function's DynamoDB adapter makes the conditional writes.
//!
//! The items, none of which lands in an index (they have no `cluster`+time pair of any index):
//!
//! | item | `resourceArn` | `eventKey` | holds |
//! |---|---|---|---|
//! | subject state | [`STATE_PARTITION`] | `<cluster>/<name>` | `recent`: a string set of `<failedAt> <resourceArn>` (each failure once, whatever the redeliveries: set semantics); `openSince` while a loop is open |
//! | episode | `crash-loops#<cluster>` | `<startedAt>#<name>` | `cluster`, `service` or `family`, `startedAt`, `lastFailureAt`, `failures`, `lastKind`, `endedAt` once closed: the read API (`ecs-audit loops`) queries this partition |
//! | notification claim | `notification#<partition>` | `<sort>` | `state` `sending`/`sent`/`pending`, `claimedUntil`: exactly one publish per message ([`crate::notification`]) |
//!
//! `<name>` is the service's name, or `family:<family>` for tasks no service started.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::item::Item;
use crate::record::AuditRecord;
use crate::text::format_time;

/// The partition of every subject's state: the scheduled sweep reads it with one Query.
pub const STATE_PARTITION: &str = "crash-loop-state";
/// The prefix of a cluster's episodes partition.
pub const EPISODES_PREFIX: &str = "crash-loops#";
/// The prefix of a notification claim's partition.
pub const NOTIFICATION_PREFIX: &str = "notification#";

/// True for the partitions of the crash-loop and notification items: readers of the audit
/// records (a Scan of the table) leave them out.
pub fn is_alert_partition(partition: &str) -> bool {
    partition == STATE_PARTITION
        || partition.starts_with(EPISODES_PREFIX)
        || partition.starts_with(NOTIFICATION_PREFIX)
}

/// A service, or a task family run outside any service, in one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub cluster: String,
    /// The service name, or the family name when `standalone`.
    pub name: String,
    pub standalone: bool,
}

impl Subject {
    /// The subject a failure counts against: its service, else its task family.
    pub fn of(record: &AuditRecord) -> Option<Subject> {
        let cluster = record.cluster_name()?.to_string();
        match (&record.service, &record.family) {
            (Some(service), _) => Some(Subject {
                cluster,
                name: service.clone(),
                standalone: false,
            }),
            (None, Some(family)) => Some(Subject {
                cluster,
                name: family.clone(),
                standalone: true,
            }),
            (None, None) => None,
        }
    }

    /// `web`, or `family:batch` for a standalone family.
    pub fn name(&self) -> String {
        if self.standalone {
            format!("family:{}", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The sort key of this subject's state item under [`STATE_PARTITION`].
    pub fn state_key(&self) -> String {
        format!("{}/{}", self.cluster, self.name())
    }

    /// Reads a state item's sort key back.
    pub fn from_state_key(key: &str) -> Option<Subject> {
        let (cluster, name) = key.split_once('/')?;
        Some(match name.strip_prefix("family:") {
            Some(family) => Subject {
                cluster: cluster.into(),
                name: family.into(),
                standalone: true,
            },
            None => Subject {
                cluster: cluster.into(),
                name: name.into(),
                standalone: false,
            },
        })
    }
}

/// The member of a state's `recent` set for one failure: its time first, so that the set's
/// members sort by time as text.
pub fn entry(failed_at: &str, resource_arn: &str) -> String {
    format!("{failed_at} {resource_arn}")
}

fn entry_time(entry: &str) -> &str {
    entry.split_once(' ').map_or(entry, |(time, _)| time)
}

fn parse_time(time: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The failures counted in the window that ends at `at`: the members of `recent` from
/// `at - window` to `at` inclusive, oldest first.
pub fn in_window<'a>(recent: &'a [String], at: &str, window: Duration) -> Vec<&'a str> {
    let Some(end) = parse_time(at) else {
        return Vec::new();
    };
    let start = format_time(end - window);
    let end = format_time(end);
    let mut members: Vec<&str> = recent
        .iter()
        .map(String::as_str)
        .filter(|m| {
            let t = entry_time(m);
            t >= start.as_str() && t <= end.as_str()
        })
        .collect();
    members.sort_unstable();
    members
}

/// When the failure at `at` opens a loop: the time of the first failure of the window
/// (the loop's start), if the window holds at least `threshold` failures.
pub fn opens_loop(recent: &[String], at: &str, window: Duration, threshold: u32) -> Option<String> {
    let members = in_window(recent, at, window);
    (members.len() >= threshold as usize)
        .then(|| members.first().map(|m| entry_time(m).to_string()))
        .flatten()
}

/// Members older than anything a window or the open loop still needs: they can be removed
/// from the state (best effort, to keep the item small).
pub fn stale(
    recent: &[String],
    at: &str,
    window: Duration,
    open_since: Option<&str>,
) -> Vec<String> {
    let Some(end) = parse_time(at) else {
        return Vec::new();
    };
    let keep_from = format_time(end - window);
    recent
        .iter()
        .filter(|m| {
            let t = entry_time(m);
            t < keep_from.as_str() && open_since.is_none_or(|since| t < since)
        })
        .cloned()
        .collect()
}

/// A crash-loop episode, as its item records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    pub subject: Subject,
    pub started_at: String,
    pub last_failure_at: String,
    /// Failures from `started_at` on.
    pub failures: u64,
    /// The latest failure's kind (`notification::failure_kind`: `out-of-memory`, ...).
    pub last_kind: String,
    /// The latest failure's time + the window: when it became quiet. Set once closed.
    pub ended_at: Option<String>,
}

impl Episode {
    /// The open episode described by a state: every member from `open_since` on.
    pub fn from_state(
        subject: Subject,
        recent: &[String],
        open_since: &str,
        last_kind: &str,
    ) -> Episode {
        let mut members: Vec<&str> = recent
            .iter()
            .map(|m| entry_time(m))
            .filter(|t| *t >= open_since)
            .collect();
        members.sort_unstable();
        Episode {
            subject,
            started_at: open_since.to_string(),
            last_failure_at: members.last().map_or(open_since, |t| t).to_string(),
            failures: members.len() as u64,
            last_kind: last_kind.to_string(),
            ended_at: None,
        }
    }

    /// Closed at `now` if the last failure is at least `window` before it: the episode with
    /// its end (the last failure + the window), else `None` (still looping).
    pub fn closed_by(&self, now: &str, window: Duration) -> Option<Episode> {
        let last = parse_time(&self.last_failure_at)?;
        let now = parse_time(now)?;
        (now - last >= window).then(|| Episode {
            ended_at: Some(format_time(last + window)),
            ..self.clone()
        })
    }

    /// The partition of the subject's cluster's episodes.
    pub fn partition(&self) -> String {
        format!("{EPISODES_PREFIX}{}", self.subject.cluster)
    }

    /// The episode item's sort key: sorts by start time within the cluster.
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.started_at, self.subject.name())
    }

    /// The notification claim key of the episode's start (`ended` false) or end message.
    pub fn notification_key(&self, ended: bool) -> (String, String) {
        (
            format!("{NOTIFICATION_PREFIX}{}", self.partition()),
            format!(
                "{}#{}",
                self.sort_key(),
                if ended { "ended" } else { "started" }
            ),
        )
    }
}

/// The attributes of an episode item: the function's store writes them, [`episode_of_item`]
/// reads them.
pub mod attribute {
    pub const CLUSTER: &str = "cluster";
    /// The subject's name: a service's under `SERVICE`, a standalone family's under `FAMILY`.
    pub const SERVICE: &str = "service";
    pub const FAMILY: &str = "family";
    pub const STARTED_AT: &str = "startedAt";
    pub const LAST_FAILURE_AT: &str = "lastFailureAt";
    pub const FAILURES: &str = "failures";
    pub const LAST_KIND: &str = "lastKind";
    pub const ENDED_AT: &str = "endedAt";
}

/// The partition holding `cluster`'s episodes, for readers (`ecs-audit loops`).
pub fn episodes_partition(cluster: &str) -> String {
    format!("{EPISODES_PREFIX}{cluster}")
}

/// The episode an item of [`episodes_partition`] records; `None` for anything else.
pub fn episode_of_item(item: &Item) -> Option<Episode> {
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
    let cluster = text(attribute::CLUSTER)?;
    let (name, standalone) = match (text(attribute::SERVICE), text(attribute::FAMILY)) {
        (Some(service), _) => (service, false),
        (None, Some(family)) => (family, true),
        (None, None) => return None,
    };
    let failures = match item.get(attribute::FAILURES)? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some(Episode {
        subject: Subject {
            cluster,
            name,
            standalone,
        },
        started_at: text(attribute::STARTED_AT)?,
        last_failure_at: text(attribute::LAST_FAILURE_AT)?,
        failures,
        last_kind: text(attribute::LAST_KIND).unwrap_or_default(),
        ended_at: text(attribute::ENDED_AT),
    })
}

impl Episode {
    /// True when the loop was going on at some time from `since` to `until` (stored times).
    pub fn overlaps(&self, since: &str, until: &str) -> bool {
        self.started_at.as_str() <= until
            && self.ended_at.as_deref().is_none_or(|ended| ended >= since)
    }
}

/// The notification claim key of a failure's own message: one per recorded event item.
pub fn failure_notification_key(resource_arn: &str, event_key: &str) -> (String, String) {
    (
        format!("{NOTIFICATION_PREFIX}{resource_arn}"),
        event_key.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> Subject {
        Subject {
            cluster: "prod".into(),
            name: "web".into(),
            standalone: false,
        }
    }

    fn recent(times: &[&str]) -> Vec<String> {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| entry(t, &format!("arn:aws:ecs:xx-test-1:1:task/prod/{i}")))
            .collect()
    }

    #[test]
    fn three_failures_within_fifteen_minutes_open_a_loop_at_the_first() {
        let window = Duration::minutes(15);
        let r = recent(&[
            "2026-11-20T09:00:00.000Z",
            "2026-11-20T10:00:00.000Z",
            "2026-11-20T10:05:00.000Z",
            "2026-11-20T10:15:00.000Z",
        ]);
        // 09:00 is outside the window; 10:00, 10:05, 10:15 are inside it (bounds included).
        assert_eq!(
            opens_loop(&r, "2026-11-20T10:15:00.000Z", window, 3).as_deref(),
            Some("2026-11-20T10:00:00.000Z")
        );
        assert_eq!(opens_loop(&r, "2026-11-20T10:05:00.000Z", window, 3), None);
        assert_eq!(opens_loop(&r, "2026-11-20T10:15:00.001Z", window, 4), None);
        // A window ending before the later failures counts only what precedes its end.
        assert_eq!(opens_loop(&r, "2026-11-20T10:14:59.000Z", window, 3), None);
    }

    #[test]
    fn stale_members_are_those_no_window_or_open_loop_needs() {
        let window = Duration::minutes(15);
        let r = recent(&["2026-11-20T09:00:00.000Z", "2026-11-20T10:00:00.000Z"]);
        assert_eq!(
            stale(&r, "2026-11-20T10:10:00.000Z", window, None),
            vec![r[0].clone()]
        );
        assert!(
            stale(
                &r,
                "2026-11-20T10:10:00.000Z",
                window,
                Some("2026-11-20T08:00:00.000Z")
            )
            .is_empty()
        );
    }

    #[test]
    fn an_episode_closes_only_after_a_quiet_window() {
        let r = recent(&[
            "2026-11-20T10:00:00.000Z",
            "2026-11-20T10:01:00.000Z",
            "2026-11-20T10:02:00.000Z",
        ]);
        let episode = Episode::from_state(
            web(),
            &r,
            "2026-11-20T10:00:00.000Z",
            "EssentialContainerExited",
        );
        assert_eq!(episode.failures, 3);
        assert_eq!(episode.last_failure_at, "2026-11-20T10:02:00.000Z");
        let window = Duration::minutes(15);
        assert_eq!(episode.closed_by("2026-11-20T10:16:59.999Z", window), None);
        let closed = episode
            .closed_by("2026-11-20T10:17:00.000Z", window)
            .unwrap();
        assert_eq!(closed.ended_at.as_deref(), Some("2026-11-20T10:17:00.000Z"));
        assert_eq!(episode.partition(), "crash-loops#prod");
        assert_eq!(episode.sort_key(), "2026-11-20T10:00:00.000Z#web");
    }

    #[test]
    fn episode_items_read_back_and_overlap_ranges() {
        let item: Item = serde_json::from_value(serde_json::json!({
            "resourceArn": "crash-loops#prod", "eventKey": "2026-11-20T10:00:00.000Z#web",
            "cluster": "prod", "service": "web", "startedAt": "2026-11-20T10:00:00.000Z",
            "lastFailureAt": "2026-11-20T10:08:00.000Z", "failures": 5,
            "lastKind": "EssentialContainerExited", "endedAt": "2026-11-20T10:23:00.000Z"
        }))
        .unwrap();
        let episode = episode_of_item(&item).unwrap();
        assert_eq!(episode.subject, web());
        assert_eq!(episode.failures, 5);
        assert_eq!(episode.partition(), episodes_partition("prod"));
        assert!(episode.overlaps("2026-11-20T10:20:00.000Z", "2026-11-21T00:00:00.000Z"));
        assert!(!episode.overlaps("2026-11-20T10:24:00.000Z", "2026-11-21T00:00:00.000Z"));
        assert!(!episode.overlaps("2026-11-19T00:00:00.000Z", "2026-11-20T09:59:00.000Z"));
        let ongoing = Episode {
            ended_at: None,
            ..episode
        };
        assert!(ongoing.overlaps("2026-11-21T00:00:00.000Z", "2026-11-22T00:00:00.000Z"));
    }

    #[test]
    fn state_keys_read_back_for_services_and_standalone_families() {
        let batch = Subject {
            cluster: "prod".into(),
            name: "batch".into(),
            standalone: true,
        };
        for subject in [web(), batch] {
            assert_eq!(Subject::from_state_key(&subject.state_key()), Some(subject));
        }
    }
}
