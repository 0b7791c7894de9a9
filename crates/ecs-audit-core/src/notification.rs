//! What the failures topic receives: one message per failure, one when a crash loop starts
//! and one when it ends. Pure: the function's SNS adapter sends what this builds.
//!
//! Each message is published with `MessageStructure=json`, one body per protocol: `default`
//! (every protocol without its own key: HTTPS, so AWS Chatbot / Amazon Q Developer in chat
//! channels, SQS, Lambda) is Chatbot's custom-notification JSON, which Chatbot renders in
//! Slack, Teams or Chime without a formatter of ours; `email` is plain text. Attributes
//! ([`ATTRIBUTES`]) let a subscription's filter policy pick clusters, services or kinds.

use serde_json::{Value, json};

use crate::episode::Episode;
use crate::explain;
use crate::failure;
use crate::record::AuditRecord;

/// SNS caps an e-mail subject at 100 characters.
const MAX_SUBJECT_CHARS: usize = 100;

/// The message attributes every notification carries (all `String`), for filter policies.
pub const ATTRIBUTES: [&str; 4] = ["notification", "cluster", "service", "failureKind"];

/// The values of the `notification` attribute.
pub const KIND_FAILURE: &str = "failure";
pub const KIND_CRASH_LOOP_STARTED: &str = "crash-loop-started";
pub const KIND_CRASH_LOOP_ENDED: &str = "crash-loop-ended";

/// Where a message links to: the table's item explorer in the console (the log outlives the
/// ECS console's hour of stopped tasks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub region: String,
    pub table: String,
}

impl Links {
    /// The console page that queries the table by the task (or service) resource.
    pub fn console_query(&self, partition: &str) -> String {
        format!(
            "https://{region}.console.aws.amazon.com/dynamodbv2/home?region={region}#item-explorer?table={table}&maximize=true&pk={pk}",
            region = self.region,
            table = self.table,
            pk = url_encode(partition)
        )
    }
}

/// One message as SNS takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The e-mail subject: one line, at most 100 characters.
    pub subject: String,
    /// The `MessageStructure=json` body: `{"default": <Chatbot JSON>, "email": <text>}`.
    pub body: String,
    /// Name → value for [`ATTRIBUTES`]; empty values are left out (SNS refuses them).
    pub attributes: Vec<(&'static str, String)>,
}

/// The service (or, for a standalone task, `family:<name>`) a record belongs to.
pub fn subject_name(record: &AuditRecord) -> String {
    match (&record.service, &record.family) {
        (Some(service), _) => service.clone(),
        (None, Some(family)) => format!("family:{family}"),
        (None, None) => String::new(),
    }
}

/// A failure's kind as the `failureKind` attribute carries it: the stable id of
/// [`failure::FailureKind`] (`out-of-memory`, `image-pull`, ...), else its failure code.
pub fn failure_kind(record: &AuditRecord) -> Option<String> {
    failure::kind(record)
        .map(|kind| kind.id().to_string())
        .or_else(|| record.failure.clone())
}

/// The message for one failure: what ended, why in words, the deployment that started it.
pub fn failure_message(record: &AuditRecord, links: &Links) -> Message {
    let kind = failure_kind(record).unwrap_or_default();
    let code = record.failure.clone().unwrap_or_default();
    let cluster = record.cluster_name().unwrap_or_default().to_string();
    let subject = subject_name(record);
    let explanation = explain::explain(record);
    let reason = explain::reason(record);
    let what = match record.task_id() {
        Some(id) => format!("Task {id}"),
        None => record
            .event_name
            .clone()
            .unwrap_or_else(|| record.detail_type.clone()),
    };
    let title = format!("ECS failure: {what} of {subject} in {cluster} ({kind})");
    let deployment = record
        .started_by
        .clone()
        .or_else(|| record.deployment_id.clone());
    let link = links.console_query(&record.resource_arn);
    let mut lines = vec![
        explanation.clone(),
        String::new(),
        format!("Cluster: {cluster}"),
        format!("Service: {subject}"),
    ];
    if let Some(definition) = &record.task_definition {
        lines.push(format!("Task definition: {definition}"));
    }
    if let Some(deployment) = &deployment {
        lines.push(format!("Deployment (startedBy): {deployment}"));
    }
    if !reason.is_empty() {
        lines.push(format!("Reason: {reason}"));
    }
    if let Some(codes) = &record.exit_codes {
        lines.push(format!("Exit codes: {codes}"));
    }
    lines.push(format!("Failure: {code} ({kind})"));
    lines.push(format!("At: {}", record.event_time));
    lines.push(format!("Resource: {}", record.resource_arn));
    lines.push(String::new());
    lines.push(format!("History in the audit log: {link}"));
    if record.task_id().is_some() {
        lines.push(format!(
            "From a shell: ecs-audit why {}",
            record.resource_arn
        ));
    }
    let mut description = format!("{explanation}\n*Cluster:* {cluster}  *Service:* {subject}");
    if let Some(deployment) = &deployment {
        description.push_str(&format!("\n*Deployment:* {deployment}"));
    }
    if !reason.is_empty() {
        description.push_str(&format!("\n*Reason:* {reason}"));
    }
    let chat = chatbot(
        &title,
        &description,
        &link,
        &record.resource_arn,
        &format!("{cluster}/{subject}"),
        &kind,
    );
    message(
        title,
        chat,
        lines.join("\n"),
        [KIND_FAILURE, &cluster, &subject, &kind],
    )
}

/// The message that a crash loop started (`ended` false) or ended.
pub fn crash_loop_message(
    episode: &Episode,
    ended: bool,
    window_minutes: u32,
    links: &Links,
) -> Message {
    let subject = episode.subject.name();
    let cluster = &episode.subject.cluster;
    let (kind, title, summary) = if ended {
        (
            KIND_CRASH_LOOP_ENDED,
            format!("ECS crash loop ended: {subject} in {cluster}"),
            format!(
                "{subject} has had no failure for {window_minutes} minutes. The loop ran from {} to {} with {} failures.",
                episode.started_at, episode.last_failure_at, episode.failures
            ),
        )
    } else {
        (
            KIND_CRASH_LOOP_STARTED,
            format!("ECS crash loop: {subject} in {cluster}"),
            format!(
                "{subject} failed {} times within {window_minutes} minutes (first at {}, latest at {}). Further failures of this loop are not announced one by one in this message; a message follows when it has been quiet for {window_minutes} minutes.",
                episode.failures, episode.started_at, episode.last_failure_at
            ),
        )
    };
    let link = links.console_query(&episode.partition());
    let text = format!(
        "{summary}\n\nCluster: {cluster}\nService: {subject}\nLast failure kind: {}\n\nEpisodes in the audit log: {link}\nFrom a shell: ecs-audit loops --cluster {cluster}",
        episode.last_kind
    );
    let chat = chatbot(
        &title,
        &summary,
        &link,
        &episode.partition(),
        &format!("{cluster}/{subject}"),
        kind,
    );
    message(
        title,
        chat,
        text,
        [kind, cluster, &subject, &episode.last_kind],
    )
}

fn chatbot(
    title: &str,
    description: &str,
    link: &str,
    resource: &str,
    thread: &str,
    kind: &str,
) -> Value {
    json!({
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description,
            "nextSteps": [format!("<{link}|Open the history in the audit log>")],
            "keywords": [kind]
        },
        "metadata": {
            // One chat thread per service, so a crash loop does not flood the channel.
            "threadId": thread,
            "summary": title,
            "eventType": kind,
            "relatedResources": [resource]
        }
    })
}

fn message(title: String, chat: Value, text: String, values: [&str; 4]) -> Message {
    let body = json!({
        // Protocols without a key of their own (HTTPS, so Chatbot; SQS; Lambda) get this.
        "default": chat.to_string(),
        "email": text,
    });
    let attributes = ATTRIBUTES
        .into_iter()
        .zip(values)
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name, value.to_string()))
        .collect();
    Message {
        subject: one_line(&title, MAX_SUBJECT_CHARS),
        body: body.to_string(),
        attributes,
    }
}

/// A subject SNS accepts: printable ASCII-safe single line within `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::episode::Subject;
    use crate::testing::{envelope, record_of};

    fn links() -> Links {
        Links {
            region: "xx-test-1".into(),
            table: "audit".into(),
        }
    }

    fn oom() -> AuditRecord {
        record_of(&envelope(
            "ECS Task State Change",
            json!([]),
            json!({"taskArn": "arn:aws:ecs:xx-test-1:111122223333:task/prod/0c1d", "version": 6,
                   "clusterArn": "arn:aws:ecs:xx-test-1:111122223333:cluster/prod",
                   "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
                   "group": "service:web", "startedBy": "ecs-svc/123456",
                   "taskDefinitionArn": "arn:aws:ecs:xx-test-1:111122223333:task-definition/web:7",
                   "stoppedReason": "Essential container in task exited",
                   "updatedAt": "2026-11-20T10:00:00.000Z",
                   "containers": [{"name": "web", "exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"}]}),
        ))
    }

    #[test]
    fn a_failure_message_says_why_where_and_which_deployment_in_each_format() {
        let record = oom();
        assert_eq!(record.failure.as_deref(), Some("EssentialContainerExited"));
        let message = failure_message(&record, &links());
        let body: Value = serde_json::from_str(&message.body).unwrap();
        let email = body["email"].as_str().unwrap();
        for needle in [
            "Out of memory",
            "Cluster: prod",
            "Service: web",
            "Deployment (startedBy): ecs-svc/123456",
            "table=audit",
            "ecs-audit why arn:aws:ecs:xx-test-1:111122223333:task/prod/0c1d",
            "Failure: EssentialContainerExited (out-of-memory)",
        ] {
            assert!(email.contains(needle), "{needle:?} not in {email}");
        }
        let chat: Value = serde_json::from_str(body["default"].as_str().unwrap()).unwrap();
        assert_eq!(chat["version"], "1.0");
        assert_eq!(chat["source"], "custom");
        assert_eq!(chat["content"]["textType"], "client-markdown");
        assert!(
            chat["content"]["description"]
                .as_str()
                .unwrap()
                .contains("ecs-svc/123456")
        );
        assert_eq!(
            message.attributes,
            vec![
                ("notification", "failure".to_string()),
                ("cluster", "prod".to_string()),
                ("service", "web".to_string()),
                ("failureKind", "out-of-memory".to_string()),
            ]
        );
        assert!(message.subject.chars().count() <= MAX_SUBJECT_CHARS);
    }

    #[test]
    fn subjects_stay_within_one_line_of_a_hundred_characters() {
        let long = format!("a\nb{}", "x".repeat(300));
        let line = one_line(&long, MAX_SUBJECT_CHARS);
        assert_eq!(line.chars().count(), MAX_SUBJECT_CHARS);
        assert!(!line.contains('\n'));
    }

    #[test]
    fn crash_loop_messages_name_the_episode_and_its_kind() {
        let episode = Episode {
            subject: Subject {
                cluster: "prod".into(),
                name: "web".into(),
                standalone: false,
            },
            started_at: "2026-11-20T10:00:00.000Z".into(),
            last_failure_at: "2026-11-20T10:04:00.000Z".into(),
            failures: 3,
            last_kind: "EssentialContainerExited".into(),
            ended_at: None,
        };
        let started = crash_loop_message(&episode, false, 15, &links());
        assert!(started.body.contains("failed 3 times within 15 minutes"));
        assert_eq!(
            started.attributes[0],
            ("notification", KIND_CRASH_LOOP_STARTED.to_string())
        );
        let ended = crash_loop_message(&episode, true, 15, &links());
        assert!(ended.body.contains("no failure for 15 minutes"));
        assert_eq!(
            ended.attributes[0],
            ("notification", KIND_CRASH_LOOP_ENDED.to_string())
        );
    }
}
