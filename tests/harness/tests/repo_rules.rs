//! Rules about the repository itself. Region names belong to environments: every other
//! Terraform, Rust, shell or Python file and the Makefile take regions from
//! `environments/<env>/terraform.tfvars.json`, so adding a region is a one-line change there.
//! Test targets belong to layers: each is in exactly one of the Makefile's layer lists, so
//! `make test`, which runs the layers, runs every test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use harness::local_env::repo_root;

/// Directories that are not the project's source: build outputs, Terraform caches, VCS.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "build", ".terraform", "environments"];

/// The geographic prefixes AWS region codes start with.
const AREAS: &[&str] = &["af", "ap", "ca", "cn", "eu", "il", "me", "mx", "sa", "us"];

const DIRECTIONS: &[&str] = &[
    "central",
    "north",
    "south",
    "east",
    "west",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
];

/// Region codes such as the AWS console shows: `<area>[-gov|-iso..]-<direction>-<n>`.
/// Placeholders like `xx-west-1` are not regions.
fn region_names_in(text: &str) -> Vec<String> {
    let is_code_char = |c: char| c.is_ascii_alphanumeric() || c == '-';
    text.split(|c: char| !is_code_char(c))
        .filter(|word| is_region_code(word))
        .map(str::to_owned)
        .collect()
}

fn is_region_code(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    let rest = match parts.as_slice() {
        [area, rest @ ..] if AREAS.contains(area) => rest,
        _ => return false,
    };
    let rest = match rest {
        [qualifier, tail @ ..] if *qualifier == "gov" || qualifier.starts_with("iso") => tail,
        _ => rest,
    };
    matches!(rest, [direction, number]
        if DIRECTIONS.contains(direction)
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit()))
}

fn is_checked(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == "Makefile"
        || [".tf", ".tf.json", ".rs", ".sh", ".py"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

fn checked_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name) {
                checked_files(&path, found)?;
            }
        } else if is_checked(&path) {
            found.push(path);
        }
    }
    Ok(())
}

#[test]
fn the_detector_knows_region_codes_from_placeholders() {
    let east = ["us", "east", "1"].join("-");
    let gov = ["us", "gov", "west", "1"].join("-");
    let asia = ["ap", "southeast", "2"].join("-");
    let text = format!("arn:aws:ecs:{east}:1:task/x, {gov}; region = \"{asia}\"");
    assert_eq!(region_names_in(&text), vec![east, gov, asia]);
    assert!(
        region_names_in("xx-test-1 xx-west-1 us-east eu-west-x ecs-state-logger-local").is_empty()
    );
}

#[test]
fn no_file_outside_environments_names_a_region() -> std::io::Result<()> {
    let root = repo_root();
    let mut files = Vec::new();
    checked_files(&root, &mut files)?;
    assert!(
        files.iter().any(|f| f.ends_with("Makefile")),
        "the walk found no Makefile under {}",
        root.display()
    );
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for (number, line) in text.lines().enumerate() {
            for region in region_names_in(line) {
                let shown = file.strip_prefix(&root).unwrap_or(&file).display();
                offenders.push(format!("{shown}:{}: {region}", number + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "region names outside environments/ (take them from environments/<env>/terraform.tfvars.json):\n{}",
        offenders.join("\n")
    );
    Ok(())
}

/// Names declared as `<keyword> "<name>"` at the start of a line of a Terraform file.
fn declared(file: &Path, keyword: &str) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(file)?;
    let prefix = format!("{keyword} \"");
    Ok(text
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect())
}

#[test]
fn every_module_readme_lists_its_inputs_and_outputs() -> std::io::Result<()> {
    let modules = repo_root().join("modules");
    let mut missing = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&modules)? {
        let module = entry?.path();
        if !module.join("main.tf").is_file() {
            continue;
        }
        checked += 1;
        let readme = std::fs::read_to_string(module.join("README.md")).unwrap_or_default();
        let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `")).collect();
        for (file, keyword) in [("variables.tf", "variable"), ("outputs.tf", "output")] {
            for name in declared(&module.join(file), keyword)? {
                if !rows
                    .iter()
                    .any(|row| row.starts_with(&format!("| `{name}` |")))
                {
                    missing.push(format!("{}: {keyword} `{name}`", module.display()));
                }
            }
        }
        // A row for something the module no longer declares is as wrong as a missing one.
        let mut declared_names = declared(&module.join("variables.tf"), "variable")?;
        declared_names.extend(declared(&module.join("outputs.tf"), "output")?);
        for row in rows {
            let name = row
                .trim_start_matches("| `")
                .split('`')
                .next()
                .unwrap_or_default();
            if !declared_names.iter().any(|d| d == name) {
                missing.push(format!(
                    "{}: README lists `{name}`, which is not declared",
                    module.display()
                ));
            }
        }
    }
    assert!(
        checked >= 2,
        "found only {checked} modules under {}",
        modules.display()
    );
    assert!(
        missing.is_empty(),
        "module READMEs out of date:\n{}",
        missing.join("\n")
    );
    Ok(())
}

/// The Makefile's test layers (`make test-<layer>`), each the variable that lists its targets.
const LAYERS: &[(&str, &str)] = &[
    ("unit", "UNIT_TESTS"),
    ("adapter", "ADAPTER_TESTS"),
    ("blackbox", "BLACKBOX_TESTS"),
];

/// The words of a Makefile variable's definition (`NAME := ...`, `\` continuations joined).
fn make_variable(makefile: &str, name: &str) -> Option<Vec<String>> {
    let mut lines = makefile.lines();
    let first = lines.find_map(|line| line.strip_prefix(&format!("{name} :=")))?;
    let mut text = first.to_owned();
    let mut rest = lines;
    while let Some(stripped) = text.trim_end().strip_suffix('\\') {
        text = format!("{stripped} {}", rest.next().unwrap_or_default());
    }
    Some(text.split_whitespace().map(str::to_owned).collect())
}

/// `--test <name>` selections of a variable's words (and `--lib`, `--bins` as themselves).
fn selections(words: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--test" => found.extend(words.next().cloned()),
            "--lib" | "--bins" => found.push(word.clone()),
            _ => {}
        }
    }
    found
}

/// Every integration-test target of the workspace (`<member>/tests/<name>.rs` or
/// `<member>/tests/<name>/main.rs`, Cargo's automatic discovery), as `name -> member/file`.
fn test_targets(root: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let members: Vec<&str> = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default()
        .split('"')
        .skip(1)
        .step_by(2)
        .collect();
    assert!(
        members.len() >= 3,
        "no workspace members found in Cargo.toml"
    );
    let mut targets = BTreeMap::new();
    for member in members {
        let crate_manifest = std::fs::read_to_string(root.join(member).join("Cargo.toml"))?;
        assert!(
            !crate_manifest.contains("[[test]]") && !crate_manifest.contains("autotests"),
            "{member}/Cargo.toml declares test targets by hand; this rule finds them by Cargo's discovery"
        );
        let dir = root.join(member).join("tests");
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = if path.is_dir() && path.join("main.rs").is_file() {
                path.file_name()
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                path.file_stem()
            } else {
                None
            };
            if let Some(name) = name.and_then(|n| n.to_str()) {
                let shown = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                if let Some(other) = targets.insert(name.to_owned(), shown.clone()) {
                    panic!("two test targets named {name}: {other} and {shown}");
                }
            }
        }
    }
    Ok(targets)
}

#[test]
fn every_test_target_is_in_exactly_one_layer() -> std::io::Result<()> {
    let root = repo_root();
    let makefile = std::fs::read_to_string(root.join("Makefile"))?;
    let mut layer_of: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (layer, variable) in LAYERS {
        let words = make_variable(&makefile, variable)
            .unwrap_or_else(|| panic!("the Makefile defines no {variable} (make test-{layer})"));
        assert!(
            makefile.contains(&format!("test-{layer}:"))
                && makefile.contains(&format!("$({variable})")),
            "the Makefile has no target test-{layer} running $({variable})"
        );
        for selection in selections(&words) {
            layer_of.entry(selection).or_default().push(layer);
        }
    }
    let targets = test_targets(&root)?;
    let mut problems = Vec::new();
    for (name, file) in &targets {
        match layer_of.get(name).map(Vec::as_slice) {
            None | Some([]) => problems.push(format!(
                "{file}: in no layer (add `--test {name}` to one of {})",
                LAYERS
                    .iter()
                    .map(|(_, v)| *v)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some([_]) => {}
            Some(layers) => problems.push(format!("{file}: in several layers: {layers:?}")),
        }
    }
    for own in ["--lib", "--bins"] {
        if layer_of.get(own).map(Vec::len) != Some(1) {
            problems.push(format!(
                "`{own}` (every crate's unit tests) must be in exactly one layer"
            ));
        }
    }
    for name in layer_of.keys() {
        if !name.starts_with("--") && !targets.contains_key(name) {
            problems.push(format!(
                "the Makefile names `--test {name}`, which no crate has"
            ));
        }
    }
    // What `make test ARCH=<not the host's>` runs is a part of the black-box layer.
    let emulated = make_variable(&makefile, "EMULATED_TESTS").unwrap_or_default();
    for name in selections(&emulated) {
        if layer_of.get(&name).map(Vec::as_slice) != Some(&["blackbox"]) {
            problems.push(format!(
                "EMULATED_TESTS names `{name}`, which is not a black-box test"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "test layers in the Makefile do not cover the test targets:\n{}",
        problems.join("\n")
    );
    Ok(())
}
