//! The drift corpus: every modelled field of every modelled detail-type, nested container fields
//! included, given a value of another type, one at a time, in every fixture of
//! `tests/fixtures/events`. The fields are not listed here: they are what the typed model of
//! each fixture serializes back to, walked node by node, so a field added to the model is in
//! the corpus at once. Each case must become an item (outcome `written_with_warnings`) whose
//! `driftedFields` names that field with its raw value; none may be an error.

use std::collections::BTreeSet;
use std::path::Path;

use ecs_audit_core::capacity::{MAX_ITEM_BYTES, item_size};
use ecs_audit_core::event::{self, Detail};
use ecs_audit_core::text::canonical_json;
use ecs_state_logger::Config;
use ecs_state_logger::handler::record_event;
use ecs_state_logger::store::MemoryStore;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/events");
    let mut files: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap(),
            )
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// The typed detail of a fixture, serialized back: exactly the fields the model reads.
fn modelled(input: &Value) -> Option<Value> {
    let parsed = event::parse(input).unwrap();
    assert!(
        parsed.drifted.is_empty(),
        "a fixture drifts: {:?}",
        parsed.drifted
    );
    Some(match parsed.detail {
        Detail::Task(task) => serde_json::to_value(task).unwrap(),
        Detail::ContainerInstance(instance) => serde_json::to_value(instance).unwrap(),
        Detail::ServiceAction(action) => serde_json::to_value(action).unwrap(),
        Detail::Deployment(deployment) => serde_json::to_value(deployment).unwrap(),
        Detail::Hook(hook) => serde_json::to_value(hook).unwrap(),
        Detail::DaemonAction(action) => serde_json::to_value(action).unwrap(),
        Detail::DaemonDeployment(deployment) => serde_json::to_value(deployment).unwrap(),
        Detail::ContainerInstanceHealth(health) => serde_json::to_value(health).unwrap(),
        Detail::Other => return None,
    })
}

/// Every node below the root, as a path.
fn walk(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Step::Index(i), v))
            .collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        path.push(step);
        out.push(path.clone());
        walk(child, path, out);
        path.pop();
    }
}

fn path_text(path: &[Step]) -> String {
    let mut text = String::from("detail");
    for step in path {
        match step {
            Step::Key(key) => text.push_str(&format!(".{key}")),
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

fn at_mut<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |cursor, step| match step {
        Step::Key(key) => &mut cursor[key.as_str()],
        Step::Index(index) => &mut cursor[*index],
    })
}

/// A value of another JSON type than `value`'s: a number where a string was, a string where a
/// number or a boolean was, an object where a list was, a list where an object was.
fn other_type(value: &Value) -> Value {
    match value {
        Value::String(_) => json!(1_700_000_000_000_u64),
        Value::Number(_) => json!("137"),
        Value::Bool(_) => json!("true"),
        Value::Array(_) => json!({"was": "a list"}),
        Value::Object(_) => json!(["was", "an object"]),
        Value::Null => json!({"was": null}),
    }
}

#[test]
fn every_modelled_field_of_another_type_is_kept_raw_and_never_an_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let config = Config {
        table_name: "audit".into(),
        retention_days: 14,
    };
    let mut problems = Vec::new();
    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    let mut cases = 0;
    for (name, input) in fixtures() {
        let Some(model) = modelled(&input) else {
            continue;
        };
        let detail_type = input["detail-type"].as_str().unwrap().to_string();
        let mut paths = Vec::new();
        walk(&model, &mut Vec::new(), &mut paths);
        for path in paths {
            let field = path_text(&path);
            let mut mutated = input.clone();
            let slot = at_mut(&mut mutated["detail"], &path);
            let wrong = other_type(slot);
            *slot = wrong.clone();
            cases += 1;
            let store = MemoryStore::default();
            let outcome = runtime.block_on(record_event(&store, &config, &mutated));
            let items = store.items();
            let result = match (&outcome, items.as_slice()) {
                (Ok(recorded), [item]) if recorded.outcome == "written_with_warnings" => {
                    let kept = item
                        .get("driftedFields")
                        .and_then(|drifted| drifted.get(&field))
                        .and_then(Value::as_str);
                    if kept != Some(canonical_json(&wrong).as_str()) {
                        Err(format!("driftedFields is {:?}", item.get("driftedFields")))
                    } else if item_size(item) > MAX_ITEM_BYTES {
                        Err("item over 400 KB".to_string())
                    } else {
                        Ok(())
                    }
                }
                _ => Err(format!(
                    "{:?} with {} item(s)",
                    outcome.map(|r| r.outcome),
                    items.len()
                )),
            };
            match result {
                Ok(()) => {
                    // Generic over indexes: `containers[3].name` counts as `containers[].name`.
                    let generic: String = field
                        .split('[')
                        .map(|part| part.split_once(']').map_or(part, |(_, rest)| rest))
                        .collect::<Vec<_>>()
                        .join("[]");
                    covered.insert((detail_type.clone(), generic));
                }
                Err(problem) => problems.push(format!("{name}: {field} = {wrong}: {problem}")),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {cases} cases:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The walk found the fields it must: each detail-type, the identifying fields, nested ones.
    for (detail_type, field) in [
        ("ECS Task State Change", "detail.taskArn"),
        ("ECS Task State Change", "detail.version"),
        ("ECS Task State Change", "detail.updatedAt"),
        ("ECS Task State Change", "detail.containers"),
        ("ECS Task State Change", "detail.containers[]"),
        ("ECS Task State Change", "detail.containers[].exitCode"),
        ("ECS Task State Change", "detail.containers[].name"),
        (
            "ECS Container Instance State Change",
            "detail.containerInstanceArn",
        ),
        (
            "ECS Container Instance State Change",
            "detail.agentConnected",
        ),
        (
            "ECS Container Instance State Change",
            "detail.versionInfo.agentVersion",
        ),
        ("ECS Service Action", "detail.capacityProviderArns[]"),
        ("ECS Service Action", "detail.createdAt"),
        ("ECS Deployment State Change", "detail.deploymentId"),
        ("ECS Deployment State Change", "detail.reason"),
        (
            "ECS Task State Change",
            "detail.attachments[].details[].value",
        ),
        ("ECS Hook State Change", "detail.hookId"),
        ("ECS Hook State Change", "detail.serviceArn"),
        ("ECS Daemon Service Action", "detail.failureType"),
        ("ECS Daemon Service Action", "detail.daemonArn"),
        (
            "ECS Daemon Deployment State Change",
            "detail.daemonDeploymentArn",
        ),
        (
            "ECS Container Instance Health Change",
            "detail.healthChecks[].status",
        ),
    ] {
        assert!(
            covered.contains(&(detail_type.to_string(), field.to_string())),
            "{detail_type} {field} not in the corpus"
        );
    }
    let per_type: BTreeSet<&str> = covered.iter().map(|(t, _)| t.as_str()).collect();
    let modelled_types = ecs_audit_core::contract::detail_types().unwrap();
    assert_eq!(per_type.len(), modelled_types.len(), "{per_type:?}");
    assert!(cases >= 300, "only {cases} cases");
}
