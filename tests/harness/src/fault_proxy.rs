//! A fault-injecting HTTP proxy between a function and the local AWS API, for the fault tests.
//!
//! It listens on loopback only and forwards each request to the upstream (moto) with hyper,
//! except those its [`Schedule`] picks: the Nth request of one operation (the
//! `X-Amz-Target` header, e.g. `PutItem`) gets the fault the schedule names — a throttling
//! answer, a 500, an answer cut off mid-body, an answer held back past the SDK's attempt
//! timeout, or no answer at all. The schedule counts requests, so a run is reproducible: the
//! same schedule injects the same faults into the same number of requests.
//!
//! It is bounded: it accepts at most [`Limits::max_connections`] connections and stops by
//! itself after [`Limits::lifetime`] (or when dropped), closing every connection it holds.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::error::{Error, Result};

/// DynamoDB's JSON protocol content type, for the error answers the proxy makes up.
const AMZ_JSON: &str = "application/x-amz-json-1.0";
/// DynamoDB's namespace for error `__type`s.
const ERROR_NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810";

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Forwarded, answered as the upstream answers.
    Pass,
    /// HTTP 400 `ThrottlingException`, not forwarded.
    Throttling,
    /// HTTP 400 `ProvisionedThroughputExceededException`, not forwarded.
    ThroughputExceeded,
    /// HTTP 500 `InternalServerError`, not forwarded.
    ServerError,
    /// Forwarded (the write happens), then the answer's headers and half its body are sent and
    /// the connection is reset.
    ResetMidResponse,
    /// Forwarded (the write happens), and the answer is held back this long before it is sent.
    Delay(Duration),
    /// Never answered: the connection is held until the client gives up or the proxy stops.
    Stall,
}

impl Fault {
    /// The made-up answer for the faults that never reach the upstream.
    fn error_answer(self) -> Option<(StatusCode, &'static str, &'static str)> {
        match self {
            Fault::Throttling => Some((
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            )),
            Fault::ThroughputExceeded => Some((
                StatusCode::BAD_REQUEST,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
            )),
            Fault::ServerError => Some((
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Internal server error",
            )),
            _ => None,
        }
    }
}

/// Which requests get which fault. Requests of `operation` are numbered from 1 in the order
/// they arrive; other operations always pass.
#[derive(Debug, Clone)]
pub struct Schedule {
    operation: String,
    every: usize,
    cycle: Vec<Fault>,
    stall: Range<usize>,
}

impl Schedule {
    /// Every request of `operation` passes (until [`Schedule::every`] or
    /// [`Schedule::stall`] say otherwise).
    pub fn on(operation: impl Into<String>) -> Self {
        Self {
            operation: operation.into(),
            every: 0,
            cycle: Vec::new(),
            stall: 0..0,
        }
    }

    /// Every `n`th request gets the next fault of `faults`, in turn.
    pub fn every(mut self, n: usize, faults: &[Fault]) -> Self {
        self.every = n;
        self.cycle = faults.to_vec();
        self
    }

    /// Requests numbered in `requests` all stall: the upstream looks dead for that stretch.
    pub fn stall(mut self, requests: Range<usize>) -> Self {
        self.stall = requests;
        self
    }

    /// The fault for request number `n` (from 1) of the operation.
    pub fn fault(&self, n: usize) -> Fault {
        if self.stall.contains(&n) {
            return Fault::Stall;
        }
        if self.every == 0 || self.cycle.is_empty() || !n.is_multiple_of(self.every) {
            return Fault::Pass;
        }
        self.cycle[(n / self.every - 1) % self.cycle.len()]
    }

    /// The faults the schedule injects into the first `requests` requests, in order.
    pub fn planned(&self, requests: usize) -> Vec<Fault> {
        (1..=requests)
            .map(|n| self.fault(n))
            .filter(|f| *f != Fault::Pass)
            .collect()
    }
}

/// How long and how much the proxy serves before it stops by itself.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From start to stop: every connection is closed then.
    pub lifetime: Duration,
    /// Connections accepted; later ones are refused.
    pub max_connections: usize,
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The operation named by `X-Amz-Target` (empty when none).
    pub operation: String,
    /// Its number among requests of the scheduled operation (0 for other operations).
    pub number: usize,
    pub fault: Fault,
}

struct State {
    upstream: SocketAddr,
    schedule: Schedule,
    counter: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
}

/// The running proxy. Dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.state.upstream)
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts the proxy on `127.0.0.1:<free port>` in front of `upstream` (a loopback address).
    pub async fn start(upstream: SocketAddr, schedule: Schedule, limits: Limits) -> Result<Self> {
        if !upstream.ip().is_loopback() {
            return Err(Error::Setup(format!(
                "the fault proxy forwards to loopback only, not {upstream}"
            )));
        }
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::io("binding the fault proxy to 127.0.0.1:0", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the fault proxy's address", e))?;
        let state = Arc::new(State {
            upstream,
            schedule,
            counter: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(serve(listener, Arc::clone(&state), limits));
        Ok(Self { addr, state, task })
    }

    /// `http://127.0.0.1:<port>`, the value for the function's `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The faults injected so far, in order.
    pub fn injected(&self) -> Vec<Fault> {
        self.seen()
            .into_iter()
            .map(|s| s.fault)
            .filter(|f| *f != Fault::Pass)
            .collect()
    }

    /// Whether it has stopped (its lifetime is over).
    pub fn is_stopped(&self) -> bool {
        self.task.is_finished()
    }
}

async fn serve(listener: TcpListener, state: Arc<State>, limits: Limits) {
    // Connections live in this set: when the lifetime ends, dropping it closes them all.
    let mut connections = JoinSet::new();
    let stop = tokio::time::sleep(limits.lifetime);
    tokio::pin!(stop);
    let mut accepted = 0;
    loop {
        tokio::select! {
            () = &mut stop => return,
            incoming = listener.accept(), if accepted < limits.max_connections => {
                let Ok((stream, _)) = incoming else { continue };
                accepted += 1;
                // A closed connection ends with a reset rather than a FIN, so an answer cut
                // off mid-body reaches the client as a reset connection.
                let _ = stream.set_zero_linger();
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { handle(&state, request).await }
                    });
                    // A connection error (the client gave up, a reset) ends that connection.
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

type ProxyBody = BoxBody<Bytes, std::io::Error>;

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(body.into())
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// The operation a DynamoDB JSON request names: `DynamoDB_20120810.PutItem` → `PutItem`.
fn operation_of(request: &Request<Incoming>) -> String {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or_default()
        .to_owned()
}

async fn handle(
    state: &State,
    request: Request<Incoming>,
) -> std::result::Result<Response<ProxyBody>, Infallible> {
    let operation = operation_of(&request);
    let (number, fault) = if operation == state.schedule.operation {
        let n = state.counter.fetch_add(1, Ordering::SeqCst) + 1;
        (n, state.schedule.fault(n))
    } else {
        (0, Fault::Pass)
    };
    state
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen {
            operation,
            number,
            fault,
        });

    if let Some((status, error_type, message)) = fault.error_answer() {
        let body = serde_json::json!({
            "__type": format!("{ERROR_NAMESPACE}#{error_type}"),
            "message": message,
        });
        return Ok(full(status, AMZ_JSON, body.to_string()));
    }
    if fault == Fault::Stall {
        // Bounded by the proxy's lifetime: the connection task is dropped when it ends.
        std::future::pending::<()>().await;
    }

    let upstream = match forward(state.upstream, request).await {
        Ok(response) => response,
        Err(message) => {
            return Ok(full(
                StatusCode::BAD_GATEWAY,
                "text/plain",
                format!("fault proxy: upstream {}: {message}", state.upstream),
            ));
        }
    };
    let (parts, body) = upstream.into_parts();
    match fault {
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            Ok(Response::from_parts(
                parts,
                Full::new(body)
                    .map_err(|never: Infallible| match never {})
                    .boxed(),
            ))
        }
        Fault::ResetMidResponse => {
            // The headers promise the whole body; half of it comes, then an error ends the
            // body, which makes hyper drop the connection (reset: zero linger).
            let half = body.slice(..body.len() / 2);
            let frames = futures_util::stream::iter([
                Ok(Frame::data(half)),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fault proxy: connection reset mid-response",
                )),
            ]);
            let mut response = Response::from_parts(parts, StreamBody::new(frames).boxed());
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            Ok(response)
        }
        _ => Ok(Response::from_parts(
            parts,
            Full::new(body)
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )),
    }
}

/// Sends `request` to `upstream` on a connection of its own and reads the whole answer.
async fn forward(
    upstream: SocketAddr,
    request: Request<Incoming>,
) -> std::result::Result<Response<Bytes>, String> {
    let (mut parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the request: {e}"))?
        .to_bytes();
    if let Ok(host) = HeaderValue::from_str(&upstream.to_string()) {
        parts.headers.insert(HOST, host);
    }
    let stream = TcpStream::connect(upstream)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let driver = tokio::spawn(connection);
    let answer = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(|e| format!("sending: {e}"));
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            driver.abort();
            return Err(e);
        }
    };
    let (parts, body) = answer.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    driver.abort();
    Ok(Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_a_cycle_of_every_nth_request_and_a_stall_window() {
        let schedule = Schedule::on("PutItem")
            .every(3, &[Fault::Throttling, Fault::ServerError])
            .stall(10..12);
        let faults: Vec<Fault> = (1..=13).map(|n| schedule.fault(n)).collect();
        use Fault::*;
        assert_eq!(
            faults,
            [
                Pass,
                Pass,
                Throttling,
                Pass,
                Pass,
                ServerError,
                Pass,
                Pass,
                Throttling,
                Stall,
                Stall,
                ServerError,
                Pass
            ]
        );
        assert_eq!(schedule.planned(6), [Throttling, ServerError]);
        assert_eq!(Schedule::on("PutItem").fault(3), Pass);
    }
}
