//! A local Lambda Runtime API (`2018-06-01`): the HTTP interface a function's runtime client
//! polls for events and answers on.
//!
//! Endpoints served:
//! - `GET  /2018-06-01/runtime/invocation/next` — long-polls until an event is queued;
//! - `POST /2018-06-01/runtime/invocation/{id}/response`;
//! - `POST /2018-06-01/runtime/invocation/{id}/error`;
//! - `POST /2018-06-01/runtime/init/error`.
//!
//! Any number of runtime clients (processes) may poll at once: each queued event is handed to
//! exactly one `/next` request, in the order the pollers arrived. Nothing in the hand-out path
//! sleeps or polls; an event wakes one waiting poller through a channel and an answer wakes
//! the invoker through a oneshot.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::error::{Error, Result};

const PREFIX: &str = "/2018-06-01/runtime";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";
const ERROR_BODY_TRAILER: &str = "lambda-runtime-function-error-body";

/// Settings of the emulated function, as Lambda would report them to the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeApiConfig {
    /// Function name (in the invoked ARN). Default `ecs-state-logger`.
    pub function_name: String,
    /// Region (in the invoked ARN). Default: the local environment's primary region.
    pub region: String,
    /// Account (in the invoked ARN). Default moto's `123456789012`.
    pub account_id: String,
    /// The function timeout: an event handed out and not answered within it completes as
    /// `Sandbox.Timedout`, as Lambda reports it. Also sets `Lambda-Runtime-Deadline-Ms`.
    /// Default 30 s.
    pub timeout: Duration,
    /// How long `invoke` waits for a runtime client to take a queued event before giving up
    /// with `Harness.NotPickedUp` (no function process polling, or all of them stuck).
    /// `None` waits forever. Default 60 s.
    pub queue_timeout: Option<Duration>,
}

impl Default for RuntimeApiConfig {
    fn default() -> Self {
        Self {
            function_name: "ecs-state-logger".to_owned(),
            region: crate::local_env::default_region(),
            account_id: "123456789012".to_owned(),
            timeout: Duration::from_secs(30),
            queue_timeout: Some(Duration::from_secs(60)),
        }
    }
}

impl RuntimeApiConfig {
    /// `arn:aws:lambda:<region>:<account>:function:<name>` (unqualified, as in
    /// `Lambda-Runtime-Invoked-Function-Arn` for an unqualified invoke).
    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.function_name
        )
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function posted a response (parsed as JSON; a non-JSON body becomes a string).
    Response(Value),
    /// The function posted an error, or the invocation failed around it. Besides the
    /// function's own error types, the harness reports `Sandbox.Timedout` (no answer within
    /// the timeout) and `Harness.NotPickedUp` (no runtime client took the event).
    Error {
        error_type: String,
        error_message: String,
    },
}

/// One completed invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    pub outcome: Outcome,
    /// The error document the function posted (`errorType`, `errorMessage`, `stackTrace`...),
    /// when it posted one.
    pub error_body: Option<Value>,
    /// When `invoke` queued the event.
    pub queued: Instant,
    /// When a `/next` request was answered with the event (equals `completed` when nothing
    /// took it).
    pub handed_out: Instant,
    /// When the function's answer had been read completely (or the harness gave up).
    pub completed: Instant,
}

impl Invocation {
    /// Time inside the function: from hand-out to the end of its answer.
    pub fn duration(&self) -> Duration {
        self.completed.saturating_duration_since(self.handed_out)
    }

    /// Time spent queued before a runtime client took the event.
    pub fn queue_wait(&self) -> Duration {
        self.handed_out.saturating_duration_since(self.queued)
    }

    /// The response document, if the function succeeded.
    pub fn response(&self) -> Option<&Value> {
        match &self.outcome {
            Outcome::Response(v) => Some(v),
            Outcome::Error { .. } => None,
        }
    }

    /// Whether the invocation ended in an error.
    pub fn is_error(&self) -> bool {
        matches!(self.outcome, Outcome::Error { .. })
    }

    /// The error type, if the invocation ended in an error.
    pub fn error_type(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Error { error_type, .. } => Some(error_type),
            Outcome::Response(_) => None,
        }
    }
}

/// An error a runtime posted to `/runtime/init/error`.
#[derive(Debug, Clone)]
pub struct InitError {
    pub error_type: String,
    pub error_message: String,
    pub body: Value,
    pub at: Instant,
}

struct Job {
    request_id: String,
    body: Bytes,
    handed: oneshot::Sender<Instant>,
    done: oneshot::Sender<Answer>,
}

struct Answer {
    outcome: Outcome,
    error_body: Option<Value>,
    completed: Instant,
}

struct Shared {
    config: RuntimeApiConfig,
    function_arn: String,
    jobs_tx: mpsc::UnboundedSender<Job>,
    jobs_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    first_poll: watch::Sender<Option<Instant>>,
    init_errors: Mutex<Vec<InitError>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The emulator. Dropping it stops the server and closes every connection.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("addr", &self.addr)
            .field("function_arn", &self.shared.function_arn)
            .finish_non_exhaustive()
    }
}

impl RuntimeApi {
    /// Starts a Runtime API with default settings on `127.0.0.1:<free port>`.
    /// Must be called inside a Tokio runtime.
    pub async fn start() -> Result<Self> {
        Self::start_with(RuntimeApiConfig::default()).await
    }

    /// Starts a Runtime API with the given settings on `127.0.0.1:<free port>`.
    pub async fn start_with(config: RuntimeApiConfig) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::io("binding the Runtime API to 127.0.0.1:0", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the Runtime API's address", e))?;
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn: config.function_arn(),
            config,
            jobs_tx,
            jobs_rx: tokio::sync::Mutex::new(jobs_rx),
            in_flight: Mutex::new(HashMap::new()),
            first_poll: watch::Sender::new(None),
            init_errors: Mutex::new(Vec::new()),
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    /// `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The listening socket address.
    pub fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` (handy for raw HTTP in tests).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The emulated function's settings.
    pub fn config(&self) -> &RuntimeApiConfig {
        &self.shared.config
    }

    /// The unqualified function ARN the runtime sees.
    pub fn function_arn(&self) -> &str {
        &self.shared.function_arn
    }

    /// When the first `/next` request arrived (the end of the function's init), if one has.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.borrow()
    }

    /// Waits until the first `/next` request arrives, at most `timeout`.
    pub async fn wait_first_poll(&self, timeout: Duration) -> Option<Instant> {
        let mut rx = self.shared.first_poll.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(value)) => *value,
            _ => self.first_poll(),
        }
    }

    /// Errors runtimes posted to `/runtime/init/error`, oldest first.
    pub fn init_errors(&self) -> Vec<InitError> {
        lock(&self.shared.init_errors).clone()
    }

    /// Invocations handed out and not answered yet.
    pub fn in_flight(&self) -> usize {
        lock(&self.shared.in_flight).len()
    }

    /// Queues one event and waits until a runtime client has answered it (or the timeout
    /// rules in [`RuntimeApiConfig`] end it). Safe to call concurrently.
    pub async fn invoke(&self, event: Value) -> Invocation {
        self.invoke_as(new_request_id(), &event).await
    }

    /// Like [`RuntimeApi::invoke`] with a chosen request id (Lambda keeps the id across
    /// the retries of one asynchronous invocation).
    pub async fn invoke_as(&self, request_id: String, event: &Value) -> Invocation {
        // Serialising a `Value` cannot fail (its map keys are strings).
        let body = Bytes::from(serde_json::to_vec(event).unwrap_or_default());
        self.invoke_raw(request_id, body).await
    }

    /// Queues a raw payload (not necessarily JSON) and waits for its answer.
    pub async fn invoke_raw(&self, request_id: String, body: Bytes) -> Invocation {
        let (handed_tx, handed_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let queued = Instant::now();
        let job = Job {
            request_id: request_id.clone(),
            body,
            handed: handed_tx,
            done: done_tx,
        };
        let give_up = |error_type: &str, error_message: String, handed_out: Option<Instant>| {
            let now = Instant::now();
            Invocation {
                request_id: request_id.clone(),
                outcome: Outcome::Error {
                    error_type: error_type.to_owned(),
                    error_message,
                },
                error_body: None,
                queued,
                handed_out: handed_out.unwrap_or(now),
                completed: now,
            }
        };
        if self.shared.jobs_tx.send(job).is_err() {
            return give_up(
                "Harness.Stopped",
                "the Runtime API server has stopped".to_owned(),
                None,
            );
        }

        let handed = match self.shared.config.queue_timeout {
            Some(limit) => match tokio::time::timeout(limit, handed_rx).await {
                Ok(handed) => handed,
                // Dropping `handed_rx` marks the job abandoned: `/next` skips it.
                Err(_) => {
                    return give_up(
                        "Harness.NotPickedUp",
                        format!("no runtime client polled /next within {limit:?}"),
                        None,
                    );
                }
            },
            None => handed_rx.await,
        };
        let Ok(handed_out) = handed else {
            return give_up(
                "Harness.Stopped",
                "the Runtime API server has stopped".to_owned(),
                None,
            );
        };

        let limit = self.shared.config.timeout;
        let deadline = tokio::time::Instant::from_std(handed_out + limit);
        match tokio::time::timeout_at(deadline, done_rx).await {
            Ok(Ok(answer)) => Invocation {
                request_id,
                outcome: answer.outcome,
                error_body: answer.error_body,
                queued,
                handed_out,
                completed: answer.completed,
            },
            Ok(Err(_)) => give_up(
                "Harness.Stopped",
                "the Runtime API server has stopped".to_owned(),
                Some(handed_out),
            ),
            Err(_) => {
                lock(&self.shared.in_flight).remove(&request_id);
                give_up(
                    "Sandbox.Timedout",
                    format!("Task timed out after {:.2} seconds", limit.as_secs_f64()),
                    Some(handed_out),
                )
            }
        }
    }
}

/// A fresh request id, shaped like Lambda's (a UUID).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn trace_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!(
        "Root=1-{epoch:08x}-{};Parent={};Sampled=0",
        &u[..24],
        &u[16..32]
    )
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Connections live in this set so that aborting the server task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Latency matters more than packet count here.
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(route(&shared, req).await) }
                    });
                    // A connection error only ends that connection.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: Value) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_reply(status: StatusCode, error_type: &str, message: &str) -> Reply {
    reply(
        status,
        json!({ "errorType": error_type, "errorMessage": message }),
    )
}

fn accepted() -> Reply {
    reply(StatusCode::ACCEPTED, json!({ "status": "OK" }))
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return error_reply(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    let method = req.method().clone();
    match (method, rest) {
        (Method::GET, "/invocation/next") => next(shared).await,
        (Method::POST, "/init/error") => init_error(shared, req).await,
        (Method::POST, rest) => {
            let Some(rest) = rest.strip_prefix("/invocation/") else {
                return error_reply(StatusCode::NOT_FOUND, "NotFound", "unknown path");
            };
            match rest.rsplit_once('/') {
                Some((id, "response")) if !id.is_empty() => {
                    let id = id.to_owned();
                    answer(shared, &id, req, false).await
                }
                Some((id, "error")) if !id.is_empty() => {
                    let id = id.to_owned();
                    answer(shared, &id, req, true).await
                }
                _ => error_reply(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
            }
        }
        _ => error_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "method not allowed",
        ),
    }
}

async fn next(shared: &Shared) -> Reply {
    let arrived = Instant::now();
    shared.first_poll.send_if_modified(|first| {
        if first.is_none() {
            *first = Some(arrived);
            true
        } else {
            false
        }
    });
    // Pollers queue on this (fair) mutex; the one holding it waits for the next job. If the
    // client goes away, hyper drops this future and `recv` loses nothing.
    let mut jobs = shared.jobs_rx.lock().await;
    let job = loop {
        let Some(job) = jobs.recv().await else {
            return error_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Harness.Stopped",
                "the Runtime API is shutting down",
            );
        };
        if !job.handed.is_closed() {
            break job;
        }
        // The invoker gave up on this one (queue timeout): skip it.
    };
    drop(jobs);

    let now = Instant::now();
    lock(&shared.in_flight).insert(job.request_id.clone(), job.done);
    let _ = job.handed.send(now);

    let deadline_ms = SystemTime::now()
        .checked_add(shared.config.timeout)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut response = Response::new(Full::new(job.body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", job.request_id);
    put("lambda-runtime-deadline-ms", deadline_ms.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        shared.function_arn.clone(),
    );
    put("lambda-runtime-trace-id", trace_id());
    response
}

/// A body, with trailers, read to the end.
struct Posted {
    headers: HeaderMap,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

async fn read_posted(req: Request<Incoming>) -> std::result::Result<Posted, Reply> {
    let (parts, incoming) = req.into_parts();
    match incoming.collect().await {
        Ok(collected) => {
            let trailers = collected.trailers().cloned();
            Ok(Posted {
                headers: parts.headers,
                body: collected.to_bytes(),
                trailers,
            })
        }
        Err(e) => Err(error_reply(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            &format!("reading the body: {e}"),
        )),
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// Reads `errorType`/`errorMessage` from an error document, falling back on the
/// `Lambda-Runtime-Function-Error-Type` header.
fn parse_error(body: &[u8], header_type: Option<&str>) -> (Outcome, Option<Value>) {
    let doc: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        doc.as_ref()
            .and_then(|d| d.get(name))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let error_type = field("errorType")
        .or_else(|| header_type.map(str::to_owned))
        .unwrap_or_else(|| "Unhandled".to_owned());
    let error_message =
        field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (
        Outcome::Error {
            error_type,
            error_message,
        },
        doc,
    )
}

async fn answer(shared: &Shared, id: &str, req: Request<Incoming>, is_error: bool) -> Reply {
    let posted = match read_posted(req).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let completed = Instant::now();
    let Some(done) = lock(&shared.in_flight).remove(id) else {
        return error_reply(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            &format!("invocation {id} is not in flight (unknown, already answered, or timed out)"),
        );
    };

    // A streamed response reports a mid-stream failure in trailers.
    let trailer_error = posted.trailers.as_ref().and_then(|t| {
        header_text(t, ERROR_TYPE_HEADER).map(|error_type| {
            let body = header_text(t, ERROR_BODY_TRAILER)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .unwrap_or_default();
            (error_type.to_owned(), body)
        })
    });

    let (outcome, error_body) = if is_error {
        parse_error(
            &posted.body,
            header_text(&posted.headers, ERROR_TYPE_HEADER),
        )
    } else if let Some((error_type, body)) = trailer_error {
        parse_error(&body, Some(&error_type))
    } else {
        let value = serde_json::from_slice(&posted.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&posted.body).into_owned()));
        (Outcome::Response(value), None)
    };
    let _ = done.send(Answer {
        outcome,
        error_body,
        completed,
    });
    accepted()
}

async fn init_error(shared: &Shared, req: Request<Incoming>) -> Reply {
    let posted = match read_posted(req).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let at = Instant::now();
    let (outcome, body) = parse_error(
        &posted.body,
        header_text(&posted.headers, ERROR_TYPE_HEADER),
    );
    if let Outcome::Error {
        error_type,
        error_message,
    } = outcome
    {
        lock(&shared.init_errors).push(InitError {
            error_type,
            error_message,
            body: body.unwrap_or(Value::Null),
            at,
        });
    }
    accepted()
}

#[cfg(test)]
mod tests;
