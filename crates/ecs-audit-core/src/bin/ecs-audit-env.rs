//! The environment loader for the Makefile and scripts: the same reading of
//! `environments/<env>/terraform.tfvars.json` as the CLI's and the test harness's.
//!
//!     ecs-audit-env ENV        the environment as JSON (every key of the file, checked)
//!     ecs-audit-env ENV KEY    one key as shell words: lists space-separated, booleans
//!                              lower-case, a missing key empty
//!
//! `environments/` is the nearest one above the working directory. Exit status 2 when the
//! environment is unknown or its file is broken, with the reason on stderr.

use std::process::ExitCode;

use ecs_audit_core::environment::{Environment, find_environments_dir};
use serde_json::Value;

const USAGE: &str = "usage: ecs-audit-env ENV [KEY]";

/// A value as the shell reads it.
fn shell_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| shell_text(Some(item)))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (env, key) = match args.as_slice() {
        [env] if !env.starts_with('-') => (env, None),
        [env, key] if !env.starts_with('-') => (env, Some(key)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let dir = find_environments_dir(&std::env::current_dir().unwrap_or_default());
    let environment = match Environment::load(&dir, env) {
        Ok(environment) => environment,
        Err(error) => {
            eprintln!("ecs-audit-env: {error}");
            return ExitCode::from(2);
        }
    };
    match key {
        Some(key) => println!("{}", shell_text(environment.settings.get(key))),
        None => println!("{}", Value::Object(environment.settings)),
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::shell_text;
    use serde_json::json;

    #[test]
    fn values_read_as_the_shell_expects() {
        assert_eq!(shell_text(Some(&json!(["a-1", "b-2"]))), "a-1 b-2");
        assert_eq!(shell_text(Some(&json!(false))), "false");
        assert_eq!(shell_text(Some(&json!(14))), "14");
        assert_eq!(shell_text(Some(&json!("arm64"))), "arm64");
        assert_eq!(shell_text(Some(&json!(null))), "");
        assert_eq!(shell_text(None), "");
    }
}
