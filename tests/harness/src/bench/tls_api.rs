//! The local AWS API over TLS with keep-alive: `scripts/moto-tls.py` (moto's WSGI app under
//! werkzeug, one state behind a plain HTTP and a TLS listener, a local CA appended to a copy
//! of the system trust store). Stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::function::{log_output, signal_group, tail_lines};
use crate::http;
use crate::moto::free_port;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct TlsApi {
    child: Child,
    http_port: u16,
    https_port: u16,
    certs: tempfile::TempDir,
    log: PathBuf,
}

impl TlsApi {
    /// Starts `script` with `python` and waits until it answers; its output goes to `log`.
    pub async fn start(python: &Path, script: &Path, log: &Path) -> Result<Self> {
        let certs = tempfile::Builder::new()
            .prefix("bench-tls-")
            .tempdir()
            .map_err(|e| Error::io("creating a directory for the local CA", e))?;
        // It runs in the certificates' directory: the script's path must not be relative.
        let script = std::fs::canonicalize(script)
            .map_err(|e| Error::io(format!("finding {}", script.display()), e))?;
        let (http_port, https_port) = (free_port()?, free_port()?);
        let (stdout, stderr) = log_output(log)?;
        let mut command = Command::new(python);
        command
            .arg(&script)
            .args(["--http-port", &http_port.to_string()])
            .args(["--https-port", &https_port.to_string()])
            .arg("--certs")
            .arg(certs.path())
            .current_dir(certs.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|e| {
            Error::io(
                format!("starting {} {}", python.display(), script.display()),
                e,
            )
        })?;
        let mut api = Self {
            child,
            http_port,
            https_port,
            certs,
            log: log.to_owned(),
        };
        api.wait_ready().await?;
        Ok(api)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let until = Instant::now() + STARTUP_TIMEOUT;
        let probe = format!("{}/moto-api/recorder/harness-ready", self.http_endpoint());
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.not_ready(format!("exited while starting ({status})")));
            }
            if http::get(&probe, Duration::from_secs(1)).await.is_ok() {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(self.not_ready(format!("did not answer within {STARTUP_TIMEOUT:?}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn not_ready(&self, problem: String) -> Error {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        Error::MotoNotReady {
            endpoint: self.https_endpoint(),
            problem,
            log: self.log.clone(),
            log_tail: tail_lines(&text, 20),
        }
    }

    /// Plain HTTP, for the benchmark's own set-up.
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// TLS, for the functions (`AWS_ENDPOINT_URL`).
    pub fn https_endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.https_port)
    }

    /// The system trust store with the local CA appended (`SSL_CERT_FILE`).
    pub fn ca_bundle(&self) -> PathBuf {
        self.certs.path().join("ca-bundle.pem")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for TlsApi {
    fn drop(&mut self) {
        let _ = signal_group(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }
}
