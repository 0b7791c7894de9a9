//! Function processes: any command (the Rust `bootstrap`, `python -m awslambdaric handler.fn`)
//! started against a [`RuntimeApi`] with the environment Lambda gives a function.
//!
//! The child gets a clean environment: the variables Lambda sets, a few needed to find
//! programs (`PATH`, `HOME`, pyenv's), and what the caller adds — never the caller's own AWS
//! credentials or endpoints unless passed on purpose.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::runtime_api::RuntimeApi;

/// Variables passed through from the harness's own environment.
const PASSTHROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "LD_LIBRARY_PATH",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "PYENV_DIR",
    "VIRTUAL_ENV",
    "RUST_BACKTRACE",
    "RUST_LOG",
];

/// What to start and with which extra environment.
#[derive(Debug, Clone)]
pub struct FunctionCommand {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    current_dir: Option<PathBuf>,
    handler: String,
    function_name: Option<String>,
    memory_mb: u32,
    log_file: Option<PathBuf>,
    inherit_env: bool,
    cgroup_procs: Option<PathBuf>,
}

impl FunctionCommand {
    /// A command (e.g. `target/lambda/ecs-state-logger/bootstrap`). `_HANDLER` defaults to
    /// `bootstrap`.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            current_dir: None,
            handler: "bootstrap".to_owned(),
            function_name: None,
            memory_mb: 128,
            log_file: None,
            inherit_env: false,
            cgroup_procs: None,
        }
    }

    /// `python3 -m awslambdaric <handler>` run in `task_root` (the handler's directory),
    /// the way a Python function runs under the runtime interface client.
    pub fn python_ric(task_root: impl AsRef<Path>, handler: &str) -> Self {
        let python = std::env::var_os("PYTHON").unwrap_or_else(|| OsString::from("python3"));
        let mut cmd = Self::new(python).args(["-m", "awslambdaric", handler]);
        cmd.handler = handler.to_owned();
        cmd.current_dir = Some(task_root.as_ref().to_owned());
        cmd
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets one variable (overrides the Lambda defaults).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Sets variables (override the Lambda defaults).
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env
                .push((k.as_ref().to_owned(), v.as_ref().to_owned()));
        }
        self
    }

    /// Working directory (and `LAMBDA_TASK_ROOT`). Default: the harness's own.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// `_HANDLER`.
    pub fn handler(mut self, handler: impl Into<String>) -> Self {
        self.handler = handler.into();
        self
    }

    /// `AWS_LAMBDA_FUNCTION_NAME` (default: the Runtime API's function name).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.function_name = Some(name.into());
        self
    }

    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (default 128).
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }

    /// Where stdout and stderr go (appended). Default: a file in a temporary directory that
    /// lives as long as the process handle.
    pub fn log_file(mut self, path: impl AsRef<Path>) -> Self {
        self.log_file = Some(path.as_ref().to_owned());
        self
    }

    /// Pass the harness's whole environment through instead of a clean one.
    pub fn inherit_env(mut self, inherit: bool) -> Self {
        self.inherit_env = inherit;
        self
    }

    /// Start the process inside a control group: `procs` is the group's `cgroup.procs` file
    /// (cgroup v1 or v2). The child joins it between fork and exec, so its whole life,
    /// from the first instruction of the program, runs under the group's limits (a CPU
    /// quota, as Lambda allots CPU in proportion to memory).
    pub fn cgroup(mut self, procs: impl AsRef<Path>) -> Self {
        self.cgroup_procs = Some(procs.as_ref().to_owned());
        self
    }

    /// The environment Lambda would give the function, before the caller's additions.
    pub fn lambda_env(&self, api: &RuntimeApi) -> Vec<(String, String)> {
        let config = api.config();
        let name = self
            .function_name
            .clone()
            .unwrap_or_else(|| config.function_name.clone());
        let task_root = self
            .current_dir
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "/var/task".to_owned());
        let stream = format!(
            "{}/[$LATEST]{}",
            chrono::Utc::now().format("%Y/%m/%d"),
            uuid::Uuid::new_v4().simple()
        );
        [
            ("AWS_LAMBDA_RUNTIME_API", api.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_REGION", config.region.clone()),
            ("AWS_DEFAULT_REGION", config.region.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_SESSION_TOKEN", "testing".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("_HANDLER", self.handler.clone()),
            ("LAMBDA_TASK_ROOT", task_root),
            ("TZ", ":UTC".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Starts the process against `api`.
    pub fn spawn(&self, api: &RuntimeApi) -> Result<FunctionProcess> {
        // The whole command line: under an emulator the program alone names only the emulator.
        let program = std::iter::once(&self.program)
            .chain(&self.args)
            .map(|part| part.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let (log_path, log_dir) = match &self.log_file {
            Some(p) => (p.clone(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("harness-function-")
                    .tempdir()
                    .map_err(|e| Error::io("creating a log directory", e))?;
                (dir.path().join("function.log"), Some(dir))
            }
        };
        if let Some(parent) = log_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        let (stdout, stderr) = log_output(&log_path)?;

        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        if !self.inherit_env {
            command.env_clear();
            for key in PASSTHROUGH {
                if let Some(value) = std::env::var_os(key) {
                    command.env(key, value);
                }
            }
        }
        command.envs(self.lambda_env(api));
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        // Its own process group, so that kill reaches anything it starts.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        // Opened here, written in the child: "0" moves the writing process itself. The file
        // is close-on-exec, and is closed in the parent when `procs` drops after the spawn.
        let procs = match &self.cgroup_procs {
            Some(path) => Some(
                File::options()
                    .write(true)
                    .open(path)
                    .map_err(|e| Error::io(format!("opening {}", path.display()), e))?,
            ),
            None => None,
        };
        if let Some(file) = &procs {
            let fd = std::os::fd::AsRawFd::as_raw_fd(file);
            // SAFETY: the closure runs in the forked child before exec and calls only
            // write(2), which is async-signal-safe; it allocates nothing and takes no lock.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                    let rc = libc::write(fd, b"0".as_ptr().cast(), 1);
                    if rc == 1 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }

        let spawned_at = Instant::now();
        let child = command.spawn().map_err(|e| Error::Function {
            program: program.clone(),
            message: format!("cannot start: {e}"),
        })?;
        Ok(FunctionProcess {
            pid: child.id(),
            child: Mutex::new(child),
            exit: Mutex::new(None),
            spawned_at,
            program,
            log_path,
            _log_dir: log_dir,
        })
    }
}

/// A running (or finished) function process. Killed on drop.
#[derive(Debug)]
pub struct FunctionProcess {
    pid: u32,
    child: Mutex<Child>,
    exit: Mutex<Option<ExitStatus>>,
    spawned_at: Instant,
    program: String,
    log_path: PathBuf,
    _log_dir: Option<tempfile::TempDir>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends `signal` to the process group `pgid`.
/// Standard output and error of a child process, both appended to the file at `path`.
pub(crate) fn log_output(path: &Path) -> Result<(Stdio, Stdio)> {
    let opening = |e| Error::io(format!("opening {}", path.display()), e);
    let log = File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(opening)?;
    let log_err = log.try_clone().map_err(opening)?;
    Ok((Stdio::from(log), Stdio::from(log_err)))
}

pub(crate) fn signal_group(pgid: u32, signal: libc::c_int) -> std::io::Result<()> {
    let pgid = libc::pid_t::try_from(pgid)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) with a negative pid signals a process group; it reads no memory of ours.
    let rc = unsafe { libc::kill(-pgid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl FunctionProcess {
    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// When the process was started.
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// The command line that was started.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The file holding its stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Everything it has logged so far.
    pub fn logs(&self) -> Result<String> {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| Error::io(format!("reading {}", self.log_path.display()), e))
    }

    /// Its log lines that are JSON objects (what `AWS_LAMBDA_LOG_FORMAT=JSON` produces).
    pub fn json_logs(&self) -> Result<Vec<serde_json::Value>> {
        Ok(self
            .logs()?
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
            .filter(serde_json::Value::is_object)
            .collect())
    }

    /// The last `n` lines of its log (for error messages).
    pub fn log_tail(&self, n: usize) -> String {
        let logs = self.logs().unwrap_or_default();
        tail_lines(&logs, n)
    }

    /// Peak resident set size (`VmHWM`) in KiB, while the process is alive.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmHWM:")
    }

    /// Current resident set size (`VmRSS`) in KiB, while the process is alive.
    pub fn rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmRSS:")
    }

    /// Its exit status, if it has exited (reaps it).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        let mut exit = lock(&self.exit);
        if exit.is_none()
            && let Ok(Some(status)) = lock(&self.child).try_wait()
        {
            *exit = Some(status);
        }
        *exit
    }

    /// Whether it is still running.
    pub fn is_running(&self) -> bool {
        self.exit_status().is_none()
    }

    /// A description of how it ended (`exit code 3`, `killed by signal 6`), if it has.
    pub fn describe_exit(&self) -> Option<String> {
        self.exit_status().map(|s| describe_status(&s))
    }

    /// Waits up to `timeout` for it to exit.
    pub async fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends `SIGTERM` to its process group (Lambda's shutdown signal).
    pub fn terminate(&self) -> Result<()> {
        if self.exit_status().is_some() {
            return Ok(());
        }
        signal_group(self.pid, libc::SIGTERM)
            .map_err(|e| Error::io(format!("SIGTERM to {}", self.program), e))
    }

    /// Kills its process group and reaps it.
    pub fn kill(&self) -> Result<ExitStatus> {
        if let Some(status) = self.exit_status() {
            return Ok(status);
        }
        // The group may be gone already; wait() below tells.
        let _ = signal_group(self.pid, libc::SIGKILL);
        let status = lock(&self.child)
            .wait()
            .map_err(|e| Error::io(format!("waiting for {}", self.program), e))?;
        *lock(&self.exit) = Some(status);
        Ok(status)
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// `exit code N` or `killed by signal N (NAME)`.
pub fn describe_status(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        format!("exit code {code}")
    } else if let Some(signal) = status.signal() {
        let name = match signal {
            libc::SIGABRT => " (SIGABRT)",
            libc::SIGBUS => " (SIGBUS)",
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGSEGV => " (SIGSEGV)",
            libc::SIGTERM => " (SIGTERM)",
            _ => "",
        };
        format!("killed by signal {signal}{name}")
    } else {
        status.to_string()
    }
}

pub(crate) fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Finds `program` the way a shell would: as a path if it has a slash, else on `PATH`.
pub(crate) fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    find_on_path(&std::env::var_os("PATH")?, program)
}

/// The first executable `program` in a directory of `path` (a `PATH` value).
pub(crate) fn find_on_path(path: &OsStr, program: impl AsRef<Path>) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program.as_ref()))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::tail_lines;

    #[test]
    fn tails() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
        assert_eq!(tail_lines("", 5), "");
    }
}
