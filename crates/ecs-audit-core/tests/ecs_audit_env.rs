//! `ecs-audit-env`, the loader the Makefile and scripts call, against the repository's own
//! environments: what it prints is what the loader reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ecs_audit_core::environment::Environment;
use serde_json::Value;

fn environments() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-audit-env"))
        .args(args)
        .current_dir(environments())
        .output()
        .expect("ecs-audit-env runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

#[test]
fn a_key_prints_as_shell_words() {
    let local = Environment::load(&environments(), "local").expect("local loads");
    let regions = run(&["local", "regions"]);
    assert!(regions.status.success(), "{regions:?}");
    assert_eq!(stdout(&regions), local.regions.join(" "));
    assert_eq!(stdout(&run(&["local", "name"])), local.name);
    let protection = stdout(&run(&["local", "deletion_protection"]));
    assert!(
        protection == "true" || protection == "false",
        "{protection}"
    );
    let missing = run(&["local", "no_such_key"]);
    assert!(missing.status.success());
    assert_eq!(stdout(&missing), "");
}

#[test]
fn without_a_key_it_prints_every_key_of_the_file() {
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(environments().join("prd/terraform.tfvars.json"))
            .expect("prd's file"),
    )
    .expect("prd's file is JSON");
    let printed: Value =
        serde_json::from_str(&stdout(&run(&["prd"]))).expect("ecs-audit-env prints JSON");
    assert_eq!(printed, file);
}

#[test]
fn an_unknown_environment_exits_2_naming_the_known_ones() {
    let output = run(&["stagin"]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("unknown environment \"stagin\""),
        "{message}"
    );
    assert!(message.contains("local"), "{message}");
    assert!(output.stdout.is_empty());
}
