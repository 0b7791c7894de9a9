//! `docs/failure-rule.md`, rendered from the rule's own tables, so the document cannot say
//! anything the code does not do. A test compares the file with [`markdown`];
//! `UPDATE_SNAPSHOTS=1 cargo test -p ecs-audit-core failure_rule_doc` rewrites it.

use std::fmt::Write;

use super::{
    EXIT_CODES, FAILURE_EVENTS, FailureKind, HEALTH_CHECK_REASONS, REASON_PATTERNS, STOP_CODES,
    StopRule,
};
use crate::explain::kind_sentence;

/// The repository path of the rendered document.
pub const DOC_PATH: &str = "docs/failure-rule.md";

fn rule_text(rule: StopRule) -> String {
    match rule {
        StopRule::Failure(kind) => format!("failure (`{kind}`)"),
        StopRule::ContainersDecide => "the containers decide".to_string(),
        StopRule::Routine => "not a failure".to_string(),
    }
}

/// The whole document.
pub fn markdown() -> String {
    let mut doc = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        doc,
        "# What counts as a failure\n\n\
         <!-- Rendered from crates/ecs-audit-core/src/failure.rs by its tests; do not edit by hand:\n\
         UPDATE_SNAPSHOTS=1 cargo test -p ecs-audit-core failure_rule_doc -->\n\n\
         A run is a failure only if ECS or the task's own containers say so. A failure gets a\n\
         code (the `failure` attribute: ECS's stop code or event name, or a label below) and a\n\
         kind (a stable id: `ecs-audit why` shows it, the failures topic sends it as the\n\
         `failureKind` message attribute).\n\n\
         ## Tasks\n\n\
         A task is judged once, on its `STOPPED` event. In this order:\n\n\
         1. a stop code that is a failure (below) is the failure;\n\
         2. else an attachment ECS reports `FAILED` (an EBS volume that could not be created\n   \
            or attached) is a failure, code `{attachment}`; with a failed attachment the kind\n   \
            is `ebs-attach` whatever the code;\n\
         3. a stop reason starting with a failed health check is a failure (labels below);\n\
         4. `UserInitiated` and `ServiceSchedulerInitiated` are routine, whatever the exit codes;\n\
         5. otherwise (`EssentialContainerExited`, a missing or unknown stop code) the\n   \
            containers decide: a failure if one exited non-zero on its own.\n\n\
         Which containers count: the event has no `essential` flag. Once an essential container\n\
         exits, ECS stops the others with SIGTERM (exit 143) and after the stop timeout SIGKILL\n\
         (exit 137 without an out-of-memory reason): those exits are the stop's consequence and\n\
         do not count. So an essential container exiting 0 with sidecars exiting 143 is a clean\n\
         run. Only when every exit is such a signal does the signalled container count (nothing\n\
         else explains the stop). A sidecar that answers SIGTERM with another non-zero code\n\
         counts as a failure: the event cannot tell it from a crash.\n",
        attachment = super::ATTACHMENT_FAILED
    );
    let _ = writeln!(
        doc,
        "### Stop codes\n\n| Stop code | Rule | Why |\n|---|---|---|"
    );
    for (code, rule, why) in STOP_CODES {
        let _ = writeln!(doc, "| `{code}` | {} | {why} |", rule_text(*rule));
    }
    let _ = writeln!(
        doc,
        "\n### Health-check stop reasons\n\n| Stop reason starts with | Code |\n|---|---|"
    );
    for (prefix, label) in HEALTH_CHECK_REASONS {
        let _ = writeln!(doc, "| {prefix} | `{label}` |");
    }
    let _ = writeln!(
        doc,
        "\n### Exit codes\n\nAny other code above 128 is \"killed by signal (code − 128)\".\n\n\
         | Exit code | Meaning |\n|---|---|"
    );
    for (code, meaning) in EXIT_CODES {
        let _ = writeln!(doc, "| {code} | {meaning} |");
    }
    let _ = writeln!(
        doc,
        "\n## Scheduler, deployment, hook and daemon events\n\n\
         These event names are failures; so is every other event with `eventType` `ERROR`\n\
         (kind `{}`).\n\n| Detail-type | Event name | Kind |\n|---|---|---|",
        FailureKind::SchedulerError
    );
    for (detail_type, name, kind) in FAILURE_EVENTS {
        let _ = writeln!(doc, "| {detail_type} | `{name}` | `{kind}` |");
    }
    let _ = writeln!(
        doc,
        "\n## Reason patterns\n\n\
         A task that failed to start and a daemon task that could not start get the kind the\n\
         first matching pattern names (case-insensitive, in any reason the event carries).\n\n\
         | Text in a reason | Kind |\n|---|---|"
    );
    for (pattern, kind) in REASON_PATTERNS {
        let _ = writeln!(doc, "| `{pattern}` | `{kind}` |");
    }
    let _ = writeln!(doc, "\n## Kinds\n\n| Kind | In words |\n|---|---|");
    for kind in FailureKind::ALL {
        let _ = writeln!(doc, "| `{kind}` | {} |", kind_sentence(*kind));
    }
    doc
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn failure_rule_doc_is_rendered_from_the_code() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(DOC_PATH);
        let rendered = markdown();
        if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|value| value == "1") {
            std::fs::write(&path, &rendered).unwrap();
            return;
        }
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(
            on_disk == rendered,
            "{DOC_PATH} is not what the rule says; rerun with UPDATE_SNAPSHOTS=1 and review the diff"
        );
    }
}
