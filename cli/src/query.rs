//! Each audit question as a DynamoDB query: which index, which key condition, which order.
//! Pure: the adapter in [`crate::dynamo`] sends what this module describes.
//!
//! Index names and key attributes come from the domain's schema ([`schema::indexes`]), read
//! from the file `modules/audit-table` creates the table from, so the reader and the table
//! cannot drift apart.

use ecs_audit_core::event::{DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION};
use ecs_audit_core::record::AuditRecord;
use ecs_audit_core::schema::{
    self, CLUSTER_FAILURES_INDEX, CLUSTER_TIME_INDEX, FAMILY_STOPPED_INDEX, IndexSpec,
    PARTITION_KEY, Projection, SERVICE_TIME_INDEX,
};
use ecs_audit_core::why::{ROLLBACK_REASON, SameWayAsk, Scope};

use crate::error::{Error, Result};
use crate::timerange::TimeRange;

/// The attribute a question's answers are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// `eventKey`: a task's versions in order.
    Version,
    EventTime,
    StoppedAt,
    FailedAt,
}

impl SortField {
    /// The value a record is ordered by; also the time shown for it.
    pub fn value_of<'a>(&self, record: &'a AuditRecord) -> &'a str {
        match self {
            SortField::Version => &record.event_key,
            SortField::EventTime => &record.event_time,
            SortField::StoppedAt => record.stopped_at.as_deref().unwrap_or(&record.event_time),
            SortField::FailedAt => record.failed_at.as_deref().unwrap_or(&record.event_time),
        }
    }
}

/// One DynamoDB Query, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySpec {
    /// `None` queries the table itself.
    pub index: Option<&'static str>,
    pub key_condition: String,
    pub filter: Option<String>,
    /// `#name` → attribute name.
    pub names: Vec<(String, String)>,
    /// `:value` → string value (every key attribute of the table is a string).
    pub values: Vec<(String, String)>,
    pub newest_first: bool,
    pub sort: SortField,
    /// The index copies only some attributes: read the full items by key afterwards.
    pub needs_full_items: bool,
}

fn index(name: &'static str) -> IndexSpec {
    // schema.json names every index queried here (a unit test of ecs-audit-core checks it);
    // were it unusable, the query still names its index and DynamoDB's error says what is wrong.
    schema::index(name).cloned().unwrap_or(IndexSpec {
        name,
        hash_key: "",
        range_key: "",
        projection: Projection::All,
    })
}

/// `hash = :pk AND range BETWEEN :from AND :to` on an index, newest first.
fn timeline(index_name: &'static str, partition: &str, range: &TimeRange) -> QuerySpec {
    let spec = index(index_name);
    let (from, to) = range.bounds();
    let sort = match spec.range_key {
        "stoppedAt" => SortField::StoppedAt,
        "failedAt" => SortField::FailedAt,
        _ => SortField::EventTime,
    };
    QuerySpec {
        index: Some(spec.name),
        key_condition: "#pk = :pk AND #sk BETWEEN :from AND :to".into(),
        filter: None,
        names: vec![
            ("#pk".into(), spec.hash_key.into()),
            ("#sk".into(), spec.range_key.into()),
        ],
        values: vec![
            (":pk".into(), partition.into()),
            (":from".into(), from),
            (":to".into(), to),
        ],
        newest_first: true,
        sort,
        needs_full_items: spec.projection != Projection::All,
    }
}

/// (a) A task's lifecycle: its items in the table, in version order.
pub fn task_history(task_arn: &str) -> QuerySpec {
    QuerySpec {
        index: None,
        key_condition: "#pk = :pk".into(),
        filter: None,
        names: vec![("#pk".into(), PARTITION_KEY.into())],
        values: vec![(":pk".into(), task_arn.into())],
        newest_first: false,
        sort: SortField::Version,
        needs_full_items: false,
    }
}

/// (b) The finished runs of a task definition family, optionally one revision.
pub fn definition_runs(definition: &Definition, range: &TimeRange) -> QuerySpec {
    let mut spec = timeline(FAMILY_STOPPED_INDEX, &definition.family, range);
    if let Some(revision) = &definition.revision {
        spec.filter = Some("#td = :td".into());
        spec.names.push(("#td".into(), "taskDefinition".into()));
        spec.values
            .push((":td".into(), format!("{}:{revision}", definition.family)));
    }
    spec
}

/// (c) A cluster's events, newest first (its tasks when they start running and when they stop;
/// a task's steps between are in its history, (a)).
pub fn cluster_events(cluster: &str, range: &TimeRange) -> QuerySpec {
    timeline(CLUSTER_TIME_INDEX, cluster, range)
}

/// (d) A cluster's failures, newest first.
pub fn cluster_failures(cluster: &str, range: &TimeRange) -> QuerySpec {
    timeline(CLUSTER_FAILURES_INDEX, cluster, range)
}

/// (e) One service's events, newest first (its tasks when they start running and when they
/// stop).
pub fn service_events(service: &ServiceRef, range: &TimeRange) -> QuerySpec {
    timeline(SERVICE_TIME_INDEX, &service.key(), range)
}

/// The task events of a cluster whose ARN contains `/<prefix>`: candidates for a short id.
pub fn task_lookup(cluster: &str, prefix: &str, range: &TimeRange) -> QuerySpec {
    let mut spec = timeline(CLUSTER_TIME_INDEX, cluster, range);
    spec.filter = Some("contains(#arn, :task) AND contains(#arn, :id)".into());
    spec.names.push(("#arn".into(), PARTITION_KEY.into()));
    spec.values.push((":task".into(), ":task/".into()));
    spec.values.push((":id".into(), format!("/{prefix}")));
    spec.needs_full_items = false;
    spec
}

/// A service's own events (its actions or its deployment events: the service ARN is their
/// partition, their `eventKey` starts with the event time) of one detail-type within `range`,
/// read from the table itself: full items, no read-back.
fn service_partition(service_arn: &str, detail_type: &str, range: &TimeRange) -> QuerySpec {
    let (from, to) = range.bounds();
    QuerySpec {
        index: None,
        key_condition: "#pk = :pk AND #sk BETWEEN :from AND :to".into(),
        filter: Some("#dt = :dt".into()),
        names: vec![
            ("#pk".into(), PARTITION_KEY.into()),
            ("#sk".into(), schema::SORT_KEY.into()),
            ("#dt".into(), "detailType".into()),
        ],
        values: vec![
            (":pk".into(), service_arn.into()),
            (":from".into(), from),
            // `<time>#<hash>`: `~` sorts after every hash, so the last millisecond is in.
            (":to".into(), format!("{to}#~")),
            (":dt".into(), detail_type.into()),
        ],
        newest_first: false,
        sort: SortField::EventTime,
        needs_full_items: false,
    }
}

/// (why) A deployment's events within `range`, and the circuit breaker's rollbacks (another
/// deployment whose reason says it rolls back).
pub fn deployment_events(service_arn: &str, deployment_id: &str, range: &TimeRange) -> QuerySpec {
    let mut spec = service_partition(service_arn, DEPLOYMENT_STATE_CHANGE, range);
    spec.filter = Some("#dt = :dt AND (#dep = :dep OR contains(#reason, :rollback))".into());
    spec.names.push(("#dep".into(), "deploymentId".into()));
    spec.names.push(("#reason".into(), "reason".into()));
    spec.values.push((":dep".into(), deployment_id.into()));
    spec.values
        .push((":rollback".into(), ROLLBACK_REASON.into()));
    spec
}

/// (why) A service's actions within `range` (placement failures, start impaired, steady state).
pub fn service_actions(service_arn: &str, range: &TimeRange) -> QuerySpec {
    service_partition(service_arn, SERVICE_ACTION, range)
}

/// (why) The runs that may have ended like the task: its cluster's failures of the same code
/// (the failures index copies every attribute, so the scope is filtered there), or, for an
/// ending that is no failure, its family's stopped runs with the same stop code.
pub fn same_way_candidates(ask: &SameWayAsk) -> QuerySpec {
    let range = TimeRange {
        since: ask.span.from,
        until: ask.span.to,
    };
    let (cluster, mut spec) = match (&ask.failure, &ask.scope) {
        (Some(failure), Scope::Service { cluster, key, .. }) => {
            let mut spec = cluster_failures(cluster, &range);
            spec.filter = Some("#failure = :failure AND #scope = :scope".into());
            spec.names.push(("#failure".into(), "failure".into()));
            spec.names.push(("#scope".into(), "serviceKey".into()));
            spec.values.push((":failure".into(), failure.clone()));
            spec.values.push((":scope".into(), key.clone()));
            return spec;
        }
        (Some(failure), Scope::Family { cluster, family }) => {
            let mut spec = cluster_failures(cluster, &range);
            spec.filter = Some(
                "#failure = :failure AND #family = :family AND attribute_not_exists(#service)"
                    .into(),
            );
            spec.names.push(("#failure".into(), "failure".into()));
            spec.names.push(("#family".into(), "family".into()));
            spec.names.push(("#service".into(), "service".into()));
            spec.values.push((":failure".into(), failure.clone()));
            spec.values.push((":family".into(), family.clone()));
            return spec;
        }
        (
            None,
            Scope::Service {
                cluster, service, ..
            },
        ) => {
            // the index copies `service` (not `serviceKey`): the cluster is in the task ARN
            let family = ask.family.clone().unwrap_or_default();
            let mut spec = timeline(FAMILY_STOPPED_INDEX, &family, &range);
            spec.filter = Some("#service = :service".into());
            spec.names.push(("#service".into(), "service".into()));
            spec.values.push((":service".into(), service.clone()));
            (cluster, spec)
        }
        (None, Scope::Family { cluster, family }) => {
            let mut spec = timeline(FAMILY_STOPPED_INDEX, family, &range);
            spec.filter = Some("attribute_not_exists(#service)".into());
            spec.names.push(("#service".into(), "service".into()));
            (cluster, spec)
        }
    };
    let mut filter = spec.filter.take().unwrap_or_default();
    filter.push_str(" AND contains(#arn, :cluster)");
    spec.names.push(("#arn".into(), PARTITION_KEY.into()));
    spec.values
        .push((":cluster".into(), format!(":task/{cluster}/")));
    if let Some(code) = &ask.stop_code {
        filter.push_str(" AND #code = :code");
        spec.names.push(("#code".into(), "stopCode".into()));
        spec.values.push((":code".into(), code.clone()));
    }
    spec.filter = Some(filter);
    spec
}

/// What `ecs-audit task <arg>` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskRef {
    Arn {
        arn: String,
        /// The region in the ARN.
        region: Option<String>,
    },
    /// A task id or the start of one, to be found in a cluster's events.
    Id {
        cluster: Option<String>,
        prefix: String,
    },
}

/// Reads a task ARN, `<cluster>/<id>`, or a bare (possibly short) id.
pub fn parse_task_ref(input: &str, cluster: Option<&str>) -> Result<TaskRef> {
    let input = input.trim();
    if input.starts_with("arn:") {
        if !input.contains(":task/") {
            return Err(Error::BadArgument(format!(
                "{input:?} is not a task ARN (arn:<partition>:ecs:<region>:<account>:task/<cluster>/<id>)"
            )));
        }
        let region = input
            .split(':')
            .nth(3)
            .filter(|region| !region.is_empty())
            .map(str::to_string);
        return Ok(TaskRef::Arn {
            arn: input.to_string(),
            region,
        });
    }
    let (cluster_in_arg, prefix) = match input.rsplit_once('/') {
        Some((cluster, id)) => (Some(cluster), id),
        None => (None, input),
    };
    if prefix.is_empty() || prefix.contains(':') || prefix.contains(char::is_whitespace) {
        return Err(Error::BadArgument(format!(
            "{input:?} is neither a task ARN nor a task id; pass the task ARN, <cluster>/<id> or <id> --cluster <name>"
        )));
    }
    let cluster = match (cluster_in_arg, cluster) {
        (Some(from_arg), Some(flag)) if from_arg != flag => {
            return Err(Error::BadArgument(format!(
                "{input:?} names cluster {from_arg:?} but --cluster is {flag:?}; drop one of them"
            )));
        }
        (Some(name), _) | (None, Some(name)) => Some(name.to_string()),
        (None, None) => None,
    };
    Ok(TaskRef::Id {
        cluster,
        prefix: prefix.to_string(),
    })
}

/// Keeps the distinct task ARNs whose id starts with `prefix`, in first-seen order.
pub fn matching_task_arns<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
    prefix: &str,
) -> Vec<String> {
    let mut arns: Vec<String> = Vec::new();
    for record in records {
        let matches = record.task_id().is_some_and(|id| id.starts_with(prefix));
        if matches && !arns.contains(&record.resource_arn) {
            arns.push(record.resource_arn.clone());
        }
    }
    arns
}

/// What `ecs-audit service <arg>` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub cluster: String,
    pub service: String,
}

impl ServiceRef {
    /// The `serviceKey` attribute: `<cluster>/<service>`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.cluster, self.service)
    }
}

/// Reads `<cluster>/<service>` or a service ARN (`…:service/<cluster>/<service>`).
pub fn parse_service_ref(input: &str) -> Result<ServiceRef> {
    let input = input.trim();
    let path = match input.split_once(":service/") {
        Some((_, path)) if input.starts_with("arn:") => path,
        _ => input,
    };
    match path.split_once('/') {
        Some((cluster, service))
            if !cluster.is_empty() && !service.is_empty() && !service.contains('/') =>
        {
            Ok(ServiceRef {
                cluster: cluster.to_string(),
                service: service.to_string(),
            })
        }
        _ => Err(Error::BadArgument(format!(
            "{input:?} does not name a service: pass <cluster>/<service> (service names are unique only within a cluster)"
        ))),
    }
}

/// What `ecs-audit definition <arg>` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub family: String,
    pub revision: Option<String>,
}

/// Reads `family`, `family:rev` or a task definition ARN.
pub fn parse_definition(input: &str) -> Result<Definition> {
    let input = input.trim();
    let name = match input.split_once(":task-definition/") {
        Some((_, name)) if input.starts_with("arn:") => name,
        _ => input,
    };
    let (family, revision) = match name.split_once(':') {
        Some((family, revision)) => (family, Some(revision)),
        None => (name, None),
    };
    let bad_revision =
        revision.is_some_and(|r| r.is_empty() || !r.bytes().all(|b| b.is_ascii_digit()));
    if family.is_empty() || family.contains('/') || bad_revision {
        return Err(Error::BadArgument(format!(
            "{input:?} does not name a task definition: pass <family> or <family>:<revision> (e.g. web:42)"
        )));
    }
    Ok(Definition {
        family: family.to_string(),
        revision: revision.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn range() -> TimeRange {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        TimeRange {
            since: at("2026-11-20T10:00:00Z"),
            until: at("2026-11-20T12:00:00Z"),
        }
    }

    fn value<'a>(spec: &'a QuerySpec, name: &str) -> &'a str {
        &spec.values.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn timelines_use_the_indexes_newest_first() {
        let spec = cluster_events("prod", &range());
        assert_eq!(spec.index, Some("cluster-time"));
        assert_eq!(
            spec.names,
            vec![
                ("#pk".to_string(), "cluster".to_string()),
                ("#sk".to_string(), "eventTime".to_string())
            ]
        );
        assert_eq!(value(&spec, ":from"), "2026-11-20T10:00:00.000Z");
        assert_eq!(value(&spec, ":to"), "2026-11-20T12:00:00.000Z");
        assert!(spec.newest_first && spec.needs_full_items);

        let failures = cluster_failures("prod", &range());
        assert_eq!(failures.index, Some("cluster-failures"));
        assert_eq!(failures.sort, SortField::FailedAt);
        assert!(!failures.needs_full_items, "failures project ALL");

        let service = parse_service_ref("prod/web").unwrap();
        let spec = service_events(&service, &range());
        assert_eq!(spec.index, Some("service-time"));
        assert_eq!(value(&spec, ":pk"), "prod/web");
    }

    #[test]
    fn a_revision_filters_the_family_index() {
        let all = definition_runs(&parse_definition("report").unwrap(), &range());
        assert_eq!(all.index, Some("family-stopped"));
        assert_eq!(all.sort, SortField::StoppedAt);
        assert_eq!(all.filter, None);
        let one = definition_runs(&parse_definition("report:12").unwrap(), &range());
        assert_eq!(one.filter.as_deref(), Some("#td = :td"));
        assert_eq!(value(&one, ":td"), "report:12");
        let arn =
            parse_definition("arn:aws:ecs:xx-test-1:111122223333:task-definition/web:3").unwrap();
        assert_eq!(
            arn,
            Definition {
                family: "web".into(),
                revision: Some("3".into())
            }
        );
        assert!(parse_definition("web:latest").is_err());
        assert!(parse_definition("").is_err());
    }

    #[test]
    fn a_task_history_reads_the_table_in_version_order() {
        let spec = task_history("arn:aws:ecs:xx-test-1:1:task/prod/abc");
        assert_eq!(spec.index, None);
        assert!(!spec.newest_first);
        assert_eq!(spec.sort, SortField::Version);
    }

    #[test]
    fn task_refs() {
        assert_eq!(
            parse_task_ref("arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b", None).unwrap(),
            TaskRef::Arn {
                arn: "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b".into(),
                region: Some("xx-test-1".into())
            }
        );
        assert_eq!(
            parse_task_ref("prod/0a1b", None).unwrap(),
            TaskRef::Id {
                cluster: Some("prod".into()),
                prefix: "0a1b".into()
            }
        );
        assert_eq!(
            parse_task_ref("0a1b", Some("prod")).unwrap(),
            TaskRef::Id {
                cluster: Some("prod".into()),
                prefix: "0a1b".into()
            }
        );
        assert_eq!(
            parse_task_ref("0a1b", None).unwrap(),
            TaskRef::Id {
                cluster: None,
                prefix: "0a1b".into()
            }
        );
        assert!(parse_task_ref("prod/0a1b", Some("other")).is_err());
        assert!(parse_task_ref("arn:aws:ecs:xx-test-1:1:service/prod/web", None).is_err());
        assert!(parse_task_ref("", None).is_err());
    }

    #[test]
    fn short_ids_match_by_prefix_of_the_task_id() {
        let record = |arn: &str| AuditRecord {
            resource_arn: arn.into(),
            ..AuditRecord::default()
        };
        let records = [
            record("arn:aws:ecs:xx-test-1:1:task/prod/abc111"),
            record("arn:aws:ecs:xx-test-1:1:task/prod/abc111"),
            record("arn:aws:ecs:xx-test-1:1:task/prod/abd222"),
            // the cluster name starts with the prefix, the id does not
            record("arn:aws:ecs:xx-test-1:1:task/abcluster/ffff"),
            record("arn:aws:ecs:xx-test-1:1:service/prod/abc111"),
        ];
        assert_eq!(
            matching_task_arns(&records, "abc"),
            vec!["arn:aws:ecs:xx-test-1:1:task/prod/abc111"]
        );
        assert_eq!(matching_task_arns(&records, "ab").len(), 2);
        assert!(matching_task_arns(&records, "zz").is_empty());
    }

    #[test]
    fn why_reads_the_service_partition_and_the_failures_index() {
        let service = "arn:aws:ecs:xx-test-1:1:service/prod/web";
        let spec = deployment_events(service, "ecs-svc/42", &range());
        assert_eq!(
            spec.index, None,
            "the table itself: full items, no read-back"
        );
        assert!(!spec.needs_full_items);
        assert_eq!(value(&spec, ":pk"), service);
        assert_eq!(value(&spec, ":dt"), "ECS Deployment State Change");
        assert_eq!(value(&spec, ":dep"), "ecs-svc/42");
        // the last millisecond's `<time>#<hash>` keys are inside the range
        assert!(format!("{}#0f", value(&spec, ":from")).as_str() <= value(&spec, ":to"));
        assert!("2026-11-20T12:00:00.000Z#ffff" < value(&spec, ":to"));
        let spec = service_actions(service, &range());
        assert_eq!(value(&spec, ":dt"), "ECS Service Action");

        let ask = |failure: Option<&str>, scope: Scope| SameWayAsk {
            scope,
            span: ecs_audit_core::why::Span {
                from: range().since,
                to: range().until,
            },
            family: Some("web".into()),
            failure: failure.map(str::to_string),
            stop_code: Some("EssentialContainerExited".into()),
            kind: "EssentialContainerExited app=137".into(),
        };
        let web = Scope::Service {
            cluster: "prod".into(),
            service: "web".into(),
            key: "prod/web".into(),
        };
        let job = Scope::Family {
            cluster: "batch".into(),
            family: "report".into(),
        };
        // a failure: the failures index (every attribute copied), scoped there
        let spec = same_way_candidates(&ask(Some("EssentialContainerExited"), web.clone()));
        assert_eq!(spec.index, Some("cluster-failures"));
        assert!(!spec.needs_full_items);
        assert_eq!(value(&spec, ":pk"), "prod");
        assert_eq!(value(&spec, ":scope"), "prod/web");
        let spec = same_way_candidates(&ask(Some("EssentialContainerExited"), job.clone()));
        assert_eq!(value(&spec, ":family"), "report");
        assert!(spec.filter.unwrap().contains("attribute_not_exists"));
        // no failure: the family's stopped runs with the same stop code, in the same cluster
        let spec = same_way_candidates(&ask(None, web));
        assert_eq!(spec.index, Some("family-stopped"));
        assert_eq!(value(&spec, ":pk"), "web");
        assert_eq!(value(&spec, ":service"), "web");
        assert_eq!(value(&spec, ":cluster"), ":task/prod/");
        assert_eq!(value(&spec, ":code"), "EssentialContainerExited");
        let spec = same_way_candidates(&ask(None, job));
        assert_eq!(value(&spec, ":pk"), "report");
        assert_eq!(value(&spec, ":cluster"), ":task/batch/");
    }

    #[test]
    fn service_refs_need_the_cluster() {
        assert_eq!(
            parse_service_ref("arn:aws:ecs:xx-test-1:1:service/prod/web").unwrap(),
            ServiceRef {
                cluster: "prod".into(),
                service: "web".into()
            }
        );
        let error = parse_service_ref("web").unwrap_err();
        assert!(error.to_string().contains("<cluster>/<service>"), "{error}");
    }
}
