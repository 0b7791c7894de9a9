//! Event files for replays: a `*.json` file holds one event or a JSON array of events;
//! directories are walked recursively in sorted order.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

/// One event and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSource {
    /// The file.
    pub file: PathBuf,
    /// Its position in the file's array, when the file holds an array.
    pub index: Option<usize>,
    /// The event.
    pub event: Value,
}

impl EventSource {
    /// `path` or `path[index]`.
    pub fn label(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}]", self.file.display()),
            None => self.file.display().to_string(),
        }
    }
}

/// Every `*.json` file under `path` (itself, if it is a file), sorted.
pub fn json_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io(format!("listing {}", path.display()), e))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(format!("listing {}", path.display()), e))?;
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        if entry.is_dir() {
            files.extend(json_files(&entry)?);
        } else if entry.extension().is_some_and(|ext| ext == "json") {
            files.push(entry);
        }
    }
    Ok(files)
}

/// The events in one file.
pub fn load_file(file: &Path) -> Result<Vec<EventSource>> {
    let text =
        std::fs::read(file).map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
    let value: Value =
        serde_json::from_slice(&text).map_err(|e| Error::json(file.display().to_string(), e))?;
    Ok(match value {
        Value::Array(events) => events
            .into_iter()
            .enumerate()
            .map(|(i, event)| EventSource {
                file: file.to_owned(),
                index: Some(i),
                event,
            })
            .collect(),
        event => vec![EventSource {
            file: file.to_owned(),
            index: None,
            event,
        }],
    })
}

/// The events under every path, in order (paths as given, files sorted within directories).
pub fn load(paths: &[PathBuf]) -> Result<Vec<EventSource>> {
    let mut events = Vec::new();
    for path in paths {
        for file in json_files(path)? {
            events.extend(load_file(&file)?);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_and_splits_arrays() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io("mkdir", e))?;
            }
            std::fs::write(&path, text).map_err(|e| Error::io("write", e))
        };
        write("b.json", r#"[{"n":2},{"n":3}]"#)?;
        write("a.json", r#"{"n":1}"#)?;
        write("c/d.json", r#"{"n":4}"#)?;
        write("notes.txt", "not an event")?;

        let events = load(&[dir.path().to_owned()])?;
        let ns: Vec<i64> = events
            .iter()
            .filter_map(|e| e.event["n"].as_i64())
            .collect();
        assert_eq!(ns, [1, 2, 3, 4]);
        assert!(events[1].label().ends_with("b.json[0]"));
        assert!(events[0].label().ends_with("a.json"));

        write("bad.json", "{")?;
        assert!(load(&[dir.path().join("bad.json")]).is_err());
        Ok(())
    }
}
