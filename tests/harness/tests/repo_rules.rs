//! Rules about the repository itself. Region names belong to environments: every other
//! Terraform, Rust, shell or Python file and the Makefile take regions from
//! `environments/<env>/terraform.tfvars.json`, so adding a region is a one-line change there.

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
