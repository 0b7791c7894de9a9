//! A moto server (the local AWS API) owned by a test: started on a free port, killed on drop,
//! with fault injection.
//!
//! State survives [`MotoServer::kill`] + [`MotoServer::restart`] through moto's recorder:
//! the server runs with `MOTO_ENABLE_RECORDING=True`, appending every request to a file, and
//! after a restart on the same port `POST /moto-api/recorder/replay-recording` makes it
//! re-execute them all (moto 5.2.1, `moto/moto_api/_internal/recorder`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;

use crate::error::{Error, Result};
use crate::function::{describe_status, find_program, log_output, signal_group, tail_lines};
use crate::http;

const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start moto.
#[derive(Debug, Clone)]
pub struct MotoOptions {
    /// The program (default `moto_server`, looked up on `PATH`).
    pub program: PathBuf,
    /// Port (default: a free one).
    pub port: Option<u16>,
    /// Record requests so that state survives kill + restart (default true; a benchmark may
    /// turn it off to spare moto the file append per request).
    pub recording: bool,
    /// How long to wait for the server to answer HTTP (default 30 s).
    pub startup_timeout: Duration,
    /// How long a replay may take after a restart (default 120 s).
    pub replay_timeout: Duration,
}

impl Default for MotoOptions {
    fn default() -> Self {
        Self {
            program: PathBuf::from("moto_server"),
            port: None,
            recording: true,
            startup_timeout: Duration::from_secs(30),
            replay_timeout: Duration::from_secs(120),
        }
    }
}

impl MotoOptions {
    /// Sets whether requests are recorded (state kept across restarts).
    pub fn recording(mut self, recording: bool) -> Self {
        self.recording = recording;
        self
    }

    /// Sets a fixed port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the program to run instead of `moto_server`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// Sets how long to wait for the server to answer.
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Starts a server with these options.
    pub async fn start(self) -> Result<MotoServer> {
        MotoServer::start_with(self).await
    }
}

/// A moto server process. Killed on drop.
#[derive(Debug)]
pub struct MotoServer {
    options: MotoOptions,
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    started_in: Duration,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::io("finding a free port on 127.0.0.1", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("finding a free port on 127.0.0.1", e))
}

impl MotoServer {
    /// Starts `moto_server` on a free port with recording on, and waits until it answers.
    pub async fn start() -> Result<Self> {
        Self::start_with(MotoOptions::default()).await
    }

    /// Options to start a server with.
    pub fn options() -> MotoOptions {
        MotoOptions::default()
    }

    /// Starts a server with `options`.
    pub async fn start_with(options: MotoOptions) -> Result<Self> {
        if find_program(&options.program).is_none() {
            return Err(Error::MotoNotInstalled);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = match options.port {
                Some(p) => p,
                None => free_port()?,
            };
            let dir = tempfile::Builder::new()
                .prefix("harness-moto-")
                .tempdir()
                .map_err(|e| Error::io("creating moto's working directory", e))?;
            let mut server = Self {
                options: options.clone(),
                port,
                child: None,
                dir,
                started_in: Duration::ZERO,
            };
            let began = Instant::now();
            match server.launch().await {
                Ok(()) => {
                    server.started_in = began.elapsed();
                    return Ok(server);
                }
                // Something took the free port between our probe and moto's bind: try another.
                Err(Error::MotoNotReady { ref log_tail, .. })
                    if options.port.is_none()
                        && attempt < 3
                        && log_tail.contains("Address already in use") => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Spawns the process on `self.port` and waits until it answers.
    async fn launch(&mut self) -> Result<()> {
        let (stdout, stderr) = log_output(&self.log_path())?;
        let mut command = Command::new(&self.options.program);
        command
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        if self.options.recording {
            command
                .env("MOTO_ENABLE_RECORDING", "True")
                .env("MOTO_RECORDER_FILEPATH", self.recording_path());
        } else {
            command.env_remove("MOTO_ENABLE_RECORDING");
        }
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::MotoNotInstalled
            } else {
                Error::io(format!("starting {}", self.options.program.display()), e)
            }
        })?;
        self.child = Some(child);
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let until = Instant::now() + self.options.startup_timeout;
        // An unknown recorder path: answered with 404 and, unlike other paths, not recorded.
        let probe = format!("{}/moto-api/recorder/harness-ready", self.endpoint());
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(self.not_ready(format!(
                    "exited while starting ({})",
                    describe_status(&status)
                )));
            }
            if http::get(&probe, Duration::from_secs(1)).await.is_ok() {
                return Ok(());
            }
            if Instant::now() >= until {
                let waited = self.options.startup_timeout;
                return Err(self.not_ready(format!("did not answer HTTP within {waited:?}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn not_ready(&self, problem: String) -> Error {
        Error::MotoNotReady {
            endpoint: self.endpoint(),
            problem,
            log: self.log_path(),
            log_tail: self.log_tail(20),
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// How long the last start (or restart, without the replay) took to answer HTTP.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// moto's log (stdout and stderr).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("moto.log")
    }

    /// The last `n` lines of moto's log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read(self.log_path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        tail_lines(&text, n)
    }

    /// The request recording replayed after a restart.
    pub fn recording_path(&self) -> PathBuf {
        self.dir.path().join("recording.jsonl")
    }

    /// Whether the process is alive (paused counts as alive).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn signal(&self, signal: libc::c_int, name: &str) -> Result<()> {
        let pid = self.pid().ok_or_else(|| Error::Moto {
            endpoint: self.endpoint(),
            what: format!("cannot {name}: the server is not running"),
        })?;
        signal_group(pid, signal).map_err(|e| Error::Moto {
            endpoint: self.endpoint(),
            what: format!("{name}: {e}"),
        })
    }

    /// Freezes the server (`SIGSTOP`): connections are accepted by the kernel but nothing
    /// answers until [`MotoServer::resume`].
    pub fn pause(&self) -> Result<()> {
        self.signal(libc::SIGSTOP, "pause")
    }

    /// Lets a paused server go on (`SIGCONT`).
    pub fn resume(&self) -> Result<()> {
        self.signal(libc::SIGCONT, "resume")
    }

    /// Kills the server (`SIGKILL`, like a crash) and reaps it. The port stops answering.
    pub fn kill(&mut self) -> Result<()> {
        match self.child.as_mut().map(Child::try_wait) {
            None => return Ok(()),
            // It died on its own already.
            Some(Ok(Some(_))) => {
                self.child = None;
                return Ok(());
            }
            Some(_) => {}
        }
        self.signal(libc::SIGKILL, "kill")?;
        if let Some(mut child) = self.child.take() {
            child.wait().map_err(|e| Error::Moto {
                endpoint: self.endpoint(),
                what: format!("waiting for the killed server: {e}"),
            })?;
        }
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = signal_group(child.id(), libc::SIGKILL);
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (killing it first if it still runs) and,
    /// when recording, replays every recorded request so that the state from before is
    /// back. Returns the time from spawn to the end of the replay.
    pub async fn restart(&mut self) -> Result<Duration> {
        self.kill()?;
        if self.options.recording {
            repair_recording(&self.recording_path()).map_err(|e| Error::Moto {
                endpoint: self.endpoint(),
                what: format!("repairing the recording: {e}"),
            })?;
        }
        let began = Instant::now();
        self.launch().await?;
        self.started_in = began.elapsed();
        if self.options.recording && self.recording_path().exists() {
            self.control("recorder/replay-recording", self.options.replay_timeout)
                .await?;
        }
        Ok(began.elapsed())
    }

    /// Drops all state (`POST /moto-api/reset`) and, when recording, empties the recording
    /// so that a later restart starts from the reset state too.
    pub async fn reset(&self) -> Result<()> {
        self.control("reset", CONTROL_TIMEOUT).await?;
        if self.options.recording {
            self.control("recorder/reset-recording", CONTROL_TIMEOUT)
                .await?;
        }
        Ok(())
    }

    /// `POST /moto-api/<path>`; fails unless moto answers 200.
    async fn control(&self, path: &str, timeout: Duration) -> Result<()> {
        let url = format!("{}/moto-api/{path}", self.endpoint());
        let response = http::post(&url, "", timeout).await?;
        if response.status == 200 {
            Ok(())
        } else {
            Err(Error::Moto {
                endpoint: self.endpoint(),
                what: format!(
                    "POST /moto-api/{path} answered {}: {}\n{}",
                    response.status,
                    response.text(),
                    self.log_tail(20)
                ),
            })
        }
    }
}

/// Rewrites the recording as one whole request per line, which moto's replay needs.
///
/// Two things break that line shape. A kill in the middle of an append leaves the last entry
/// cut short. And moto appends an entry and its newline in two writes; an entry larger than
/// Python's 8 KiB buffer (a function's zip, a long policy) reaches the file at once while its
/// newline waits, so a concurrent request's entry can land between them: `{big}{small}\n\n`.
/// Each entry itself is one `write`, so re-splitting the stream of JSON values restores every
/// entry in the order moto received them; a cut-short tail is dropped.
fn repair_recording(path: &Path) -> std::io::Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let mut repaired = String::with_capacity(text.len());
    let mut entries = serde_json::Deserializer::from_str(&text).into_iter::<IgnoredAny>();
    let mut entry_start = 0;
    while let Some(Ok(_)) = entries.next() {
        let entry_end = entries.byte_offset();
        repaired.push_str(text[entry_start..entry_end].trim_start());
        repaired.push('\n');
        entry_start = entry_end;
    }
    if repaired != text {
        std::fs::write(path, repaired)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_a_cut_recording() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("r.jsonl");

        std::fs::write(&path, "{\"a\":1}\n{\"b\":")?;
        repair_recording(&path)?;
        assert_eq!(std::fs::read_to_string(&path)?, "{\"a\":1}\n");

        std::fs::write(&path, "{\"a\":1}\n{\"b\":2}")?;
        repair_recording(&path)?;
        assert_eq!(std::fs::read_to_string(&path)?, "{\"a\":1}\n{\"b\":2}\n");

        std::fs::write(&path, "{\"a\":1}\n")?;
        repair_recording(&path)?;
        assert_eq!(std::fs::read_to_string(&path)?, "{\"a\":1}\n");

        // A large entry whose newline came after a concurrent request's entry.
        std::fs::write(&path, "{\"big\":1}{\"small\":2}\n\n{\"c\":3}\n")?;
        repair_recording(&path)?;
        assert_eq!(
            std::fs::read_to_string(&path)?,
            "{\"big\":1}\n{\"small\":2}\n{\"c\":3}\n"
        );

        repair_recording(&dir.path().join("missing"))?;
        Ok(())
    }

    #[test]
    fn finds_programs_on_path() {
        assert!(find_program(Path::new("sh")).is_some());
        assert!(find_program(Path::new("no-such-program-here")).is_none());
    }
}
