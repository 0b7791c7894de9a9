//! The rule: what a statement may grant, and which resources are the function's own.

use super::*;

// ---------------------------------------------------------------------------- the rule

/// What a statement may grant, by the actions it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    Table,
    Topic,
    Logs,
    Queue,
    Traces,
    Key,
}

pub(crate) fn grant_of(action: &str) -> Option<Grant> {
    match action {
        // PutItem records; UpdateItem and Query keep crash-loop episodes and notification
        // claims in the same table.
        "dynamodb:PutItem" | "dynamodb:UpdateItem" | "dynamodb:Query" => Some(Grant::Table),
        "sns:Publish" => Some(Grant::Topic),
        "logs:CreateLogStream" | "logs:PutLogEvents" => Some(Grant::Logs),
        "sqs:SendMessage" => Some(Grant::Queue),
        "xray:PutTraceSegments" | "xray:PutTelemetryRecords" => Some(Grant::Traces),
        "kms:Decrypt" | "kms:GenerateDataKey" => Some(Grant::Key),
        _ => None,
    }
}

/// A statement's resource: an ARN, or (in a plan, before apply) the references of the
/// expression that will give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resource {
    Known(String),
    Refs(BTreeSet<String>),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Statement {
    pub(crate) sid: String,
    pub(crate) effect: Option<String>,
    pub(crate) actions: Vec<String>,
    pub(crate) resources: Vec<Resource>,
    pub(crate) not_actions: bool,
    pub(crate) not_resources: bool,
    pub(crate) principals: bool,
    /// `(variable, values)` of each condition.
    pub(crate) conditions: Vec<(String, Vec<String>)>,
}

/// The function's own resources in one region.
#[derive(Debug, Clone)]
pub(crate) struct Own {
    pub(crate) region: String,
    /// The environment's name: table, function, log group and queues are named after it.
    pub(crate) name: String,
    pub(crate) tracing: bool,
    pub(crate) kms_key: Option<String>,
    /// Concrete ARNs, when known (after apply).
    pub(crate) log_streams: Option<String>,
    pub(crate) queue_arn: Option<String>,
}

pub(crate) fn refs(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// `arn:aws:dynamodb:<own region>:<account>:table/<name>`.
pub(crate) fn is_own_table(arn: &str, own: &Own) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", "aws", "dynamodb", region, account, table]
        if *region == own.region
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && *table == format!("table/{}", own.name))
}

/// `arn:aws:sns:<own region>:<account>:<name>-failures`: the module's failures topic.
pub(crate) fn is_own_topic(arn: &str, own: &Own) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", "aws", "sns", region, account, topic]
        if *region == own.region
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && *topic == format!("{}-failures", own.name))
}

pub(crate) fn is_own(grant: Grant, resource: &Resource, own: &Own) -> bool {
    match (grant, resource) {
        (Grant::Table, Resource::Known(arn)) => is_own_table(arn, own),
        (Grant::Table, Resource::Refs(r)) => *r == refs(&["var.table_arn"]),
        (Grant::Topic, Resource::Known(arn)) => is_own_topic(arn, own),
        // Before apply: the topic the module created, or the one it was given.
        (Grant::Topic, Resource::Refs(r)) => *r == refs(&["local.failures_topic_arn"]),
        (Grant::Logs, Resource::Known(arn)) => own.log_streams.as_deref() == Some(arn.as_str()),
        // Before apply: the log group's ARN (the module adds ":log-stream:*"; the applied test
        // sees the whole ARN).
        (Grant::Logs, Resource::Refs(r)) => {
            *r == refs(&[
                "aws_cloudwatch_log_group.this.arn",
                "aws_cloudwatch_log_group.this",
            ])
        }
        (Grant::Queue, Resource::Known(arn)) => own.queue_arn.as_deref() == Some(arn.as_str()),
        (Grant::Queue, Resource::Refs(r)) => {
            *r == refs(&[
                "aws_sqs_queue.failed_events.arn",
                "aws_sqs_queue.failed_events",
            ])
        }
        // X-Ray's actions have no resource-level permissions: "*" is the only resource.
        (Grant::Traces, Resource::Known(arn)) => arn == "*",
        (Grant::Key, Resource::Known(arn)) => own.kms_key.as_deref() == Some(arn.as_str()),
        _ => false,
    }
}

/// What is wrong with a function's policy; empty when it is least privilege.
pub(crate) fn check_statements(statements: &[Statement], own: &Own) -> Vec<String> {
    let mut problems = Vec::new();
    let mut granted = BTreeSet::new();
    for statement in statements {
        let at = format!("{} statement {:?}", own.region, statement.sid);
        if statement.effect.as_deref().is_some_and(|e| e == "Deny") {
            continue;
        }
        if statement
            .effect
            .as_deref()
            .is_some_and(|effect| effect != "Allow")
        {
            problems.push(format!("{at}: effect {:?}", statement.effect));
        }
        if statement.not_actions || statement.not_resources {
            problems.push(format!("{at}: NotAction/NotResource grant everything else"));
        }
        if statement.principals {
            problems.push(format!("{at}: principals in an identity policy"));
        }
        if statement.actions.is_empty() {
            problems.push(format!("{at}: no actions"));
        }
        let mut grants = BTreeSet::new();
        for action in &statement.actions {
            if action.contains(['*', '?']) {
                problems.push(format!("{at}: wildcard action {action:?}"));
            }
            match grant_of(action) {
                Some(grant) => {
                    grants.insert(format!("{grant:?}"));
                }
                None => problems.push(format!("{at}: grants {action:?}, beyond the list")),
            }
        }
        let grant = match statement
            .actions
            .iter()
            .filter_map(|a| grant_of(a))
            .collect::<Vec<_>>()
            .as_slice()
        {
            [first, rest @ ..] if rest.iter().all(|g| g == first) => *first,
            [] => continue,
            _ => {
                problems.push(format!("{at}: mixes actions on different resources"));
                continue;
            }
        };
        granted.insert(format!("{grant:?}"));
        match grant {
            Grant::Traces if !own.tracing => {
                problems.push(format!("{at}: X-Ray actions without tracing_mode Active"));
            }
            Grant::Key if own.kms_key.is_none() => {
                problems.push(format!("{at}: KMS actions without a customer key"));
            }
            _ => {}
        }
        if statement.resources.is_empty() {
            problems.push(format!("{at}: no resources"));
        }
        for resource in &statement.resources {
            if !is_own(grant, resource, own) {
                problems.push(format!(
                    "{at}: {grant:?} actions on {resource:?}, not the function's own"
                ));
            }
        }
        // Only the key statement has a condition: the key is used through DynamoDB, SQS and SNS of
        // the function's own region.
        if grant == Grant::Key {
            let via: Vec<&String> = statement
                .conditions
                .iter()
                .filter(|(variable, _)| variable == "kms:ViaService")
                .flat_map(|(_, values)| values)
                .collect();
            let expected = [
                format!("dynamodb.{}.amazonaws.com", own.region),
                format!("sqs.{}.amazonaws.com", own.region),
                format!("sns.{}.amazonaws.com", own.region),
            ];
            if via.is_empty() || via.iter().any(|service| !expected.contains(service)) {
                problems.push(format!(
                    "{at}: the key must be limited (kms:ViaService) to {expected:?}, is {via:?}"
                ));
            }
        } else if !statement.conditions.is_empty() {
            problems.push(format!(
                "{at}: unexpected conditions {:?}",
                statement.conditions
            ));
        }
    }
    for needed in [Grant::Table, Grant::Topic, Grant::Logs, Grant::Queue]
        .into_iter()
        .chain(own.tracing.then_some(Grant::Traces))
        .chain(own.kms_key.is_some().then_some(Grant::Key))
    {
        if !granted.contains(&format!("{needed:?}")) {
            problems.push(format!(
                "{}: no {needed:?} statement: the function could not work",
                own.region
            ));
        }
    }
    problems
}
