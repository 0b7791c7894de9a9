//! The redrive tests' stack: environments/local's table and failure queues on a moto of their own, the ecs-audit process, and a relay that cuts DynamoDB mid-answer.

use super::*;

/// `environments/local`'s table and failure queues in its primary region, on a moto of its own.
pub(crate) struct Stack {
    pub(crate) moto: MotoServer,
    pub(crate) env: LocalEnvironment,
    pub(crate) region: String,
    pub(crate) _applied: TargetedApply,
}

impl Stack {
    pub(crate) async fn start(recording: bool) -> TestResult<Self> {
        let env = local_env::local()?;
        let region = env.primary_region.clone();
        let moto = MotoServer::options().recording(recording).start().await?;
        let package = built_lambda("bootstrap.zip").ok();
        let logger = logger_module(&region);
        let applied = TargetedApply::local(
            &local_vars(&moto.endpoint(), package.as_deref()),
            &[
                table_module(&region),
                format!("{logger}.aws_sqs_queue.failed_events"),
                format!("{logger}.aws_sqs_queue.delivery_dlq"),
            ],
        )
        .await?;
        Ok(Stack {
            moto,
            env,
            region,
            _applied: applied,
        })
    }

    pub(crate) fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        dynamodb_client(&self.moto.endpoint(), &self.region)
    }

    pub(crate) fn sqs(&self) -> aws_sdk_sqs::Client {
        harness::async_invoke::local_sqs_client(&self.moto.endpoint(), &self.region)
    }

    pub(crate) async fn queue_url(&self, suffix: &str) -> TestResult<String> {
        let name = format!("{}-{suffix}", self.env.name);
        let output = self.sqs().get_queue_url().queue_name(&name).send().await?;
        Ok(output.queue_url().ok_or("no queue URL")?.to_owned())
    }

    /// Messages in the queue, visible or not.
    pub(crate) async fn depth(&self, suffix: &str) -> TestResult<usize> {
        let attributes = self
            .sqs()
            .get_queue_attributes()
            .queue_url(self.queue_url(suffix).await?)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?;
        let count = |name: QueueAttributeName| -> usize {
            attributes
                .attributes()
                .and_then(|a| a.get(&name))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Ok(count(QueueAttributeName::ApproximateNumberOfMessages)
            + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }

    /// Messages a reader would get now (not hidden by another read).
    pub(crate) async fn visible(&self, suffix: &str) -> TestResult<usize> {
        let attributes = self
            .sqs()
            .get_queue_attributes()
            .queue_url(self.queue_url(suffix).await?)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await?;
        Ok(attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    pub(crate) async fn item_count(&self) -> TestResult<usize> {
        Ok(testkit::item_count(&self.dynamodb(), &self.env.name).await?)
    }

    /// The built `ecs-audit redrive` against this moto, for the local environment's primary
    /// region, with `stdin` as the answer to its question.
    pub(crate) fn redrive(&self, args: &[&str], stdin: &str) -> TestResult<Run> {
        let mut all = vec!["--env", "local", "--region", &self.region, "redrive"];
        all.extend_from_slice(args);
        ecs_audit(&self.moto.endpoint(), &all, stdin)
    }
}

/// What a run of the binary printed.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn ecs_audit(endpoint: &str, args: &[&str], stdin: &str) -> TestResult<Run> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-audit"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    let nowhere = std::env::temp_dir().join("ecs-audit-tests-no-such-aws-config");
    let mut child = command
        .arg("--environments-dir")
        .arg(repo_root().join("environments"))
        .args(args)
        .env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", endpoint)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    Ok(Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// The `(resourceArn, eventKey)` the handler gives an event.
pub(crate) fn key_of(event: &Value) -> TestResult<(String, String)> {
    let parsed = event::parse(event)?;
    let record = record::build(&parsed, RETENTION_DAYS)?;
    Ok((record.resource_arn, record.event_key))
}

/// What to do with connections while the relay is cut.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WhileCut {
    /// Close them at once, as a dead server's port does.
    Refuse,
    /// Keep them waiting, then pass them on when the relay is restored.
    Hold,
}

/// A TCP relay in front of moto. moto replays its recording after a restart assuming nothing
/// else talks to it, so the function and the on-failure destination reach moto through
/// relays that stay cut from the kill until the replay is done.
pub(crate) struct Relay {
    pub(crate) addr: SocketAddr,
    pub(crate) up: watch::Sender<bool>,
    pub(crate) task: JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    pub(crate) async fn start(upstream_port: u16, while_cut: WhileCut) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let up = watch::Sender::new(true);
        let state = up.subscribe();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let mut state = state.clone();
                connections.spawn(async move {
                    if !*state.borrow_and_update() {
                        match while_cut {
                            WhileCut::Refuse => return,
                            WhileCut::Hold => {
                                if state.wait_for(|up| *up).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream_port)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Relay { addr, up, task })
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts every open connection and treats new ones as `WhileCut` says.
    pub(crate) fn cut(&self) {
        self.up.send_replace(false);
    }

    pub(crate) fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// Event ids listed by a redrive's dry run, with their error types.
pub(crate) fn listed(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|line| line.starts_with("failed-events") || line.starts_with("delivery-dlq"))
        .filter_map(|line| {
            let mut fields = line.split("  ").filter(|f| !f.trim().is_empty());
            let _queue = fields.next()?;
            let id = fields.next()?.trim().to_owned();
            let _detail_type = fields.next()?;
            let error = fields.next()?;
            let error_type = error.split(':').next()?.trim().to_owned();
            Some((id, error_type))
        })
        .collect()
}
