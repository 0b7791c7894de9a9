//! Headless Chromium for the browser tests: found on PATH (or `CHROMIUM=<path>`), installed
//! from Debian's archive when missing. A browser test without a browser fails: a page nobody
//! saw render is not tested. Only an explicit `ECS_AUDIT_SKIP_BROWSER=1` skips it (saying why),
//! for a machine that cannot run a browser; CI never sets it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::TestResult;

const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser"]
        .iter()
        .find_map(|name| on_path(name))
}

fn apt_get(args: &[&str]) -> bool {
    Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Chromium, installed from Debian's archive when missing; `Err` says why there is none.
pub fn chromium() -> Result<PathBuf, String> {
    if let Some(path) = find_chromium() {
        return Ok(path);
    }
    if on_path("apt-get").is_none() {
        return Err("chromium is not installed and there is no apt-get to install it".into());
    }
    eprintln!("chromium is missing: apt-get install -y chromium");
    if !apt_get(&["install", "-y", "-q", "chromium"]) {
        eprintln!("apt-get install failed; apt-get update and once more");
        let _ = apt_get(&["update", "-q"]);
        if !apt_get(&["install", "-y", "-q", "chromium"]) {
            return Err(
                "`apt-get install -y chromium` failed (no root, or no package archive)".into(),
            );
        }
    }
    find_chromium().ok_or_else(|| "chromium was installed but is not on PATH".into())
}

/// Set to `1` to skip the browser tests on a machine without Chromium; anything else runs them.
pub const SKIP_BROWSER: &str = "ECS_AUDIT_SKIP_BROWSER";

/// The browser for the test named `test`: `Ok(None)` only when [`SKIP_BROWSER`] is `1` (the
/// test then returns, having said it skipped), an error when there is none otherwise.
pub fn browser(test: &str) -> TestResult<Option<PathBuf>> {
    match chromium() {
        Ok(path) => Ok(Some(path)),
        Err(why) if std::env::var(SKIP_BROWSER).is_ok_and(|v| v == "1") => {
            eprintln!("SKIPPED {test} ({SKIP_BROWSER}=1): {why}");
            Ok(None)
        }
        Err(why) => Err(format!(
            "no browser to render the report: {why}; install Debian's chromium (apt-get install -y chromium), name one with CHROMIUM=<path>, or set {SKIP_BROWSER}=1 to skip this test knowingly"
        )
        .into()),
    }
}

/// Runs headless Chromium on `page` with `mode` (`--screenshot=…` or `--dump-dom`) and returns
/// what it printed on stdout.
pub fn run_chromium(chromium: &Path, work: &Path, mode: &str, page: &Path) -> TestResult<String> {
    let profile = tempfile::Builder::new()
        .prefix("chromium-profile-")
        .tempdir_in(work)?;
    let stdout_path = work.join("chromium.stdout");
    let stderr_path = work.join("chromium.stderr");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(mode)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path)?)
        .stderr(File::create(&stderr_path)?)
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", chromium.display()))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "chromium {mode} did not finish within {CHROMIUM_TIMEOUT:?}: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        return Err(format!(
            "chromium {mode} failed ({status}): {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        )
        .into());
    }
    Ok(std::fs::read_to_string(&stdout_path)?)
}
