//! The Runtime API emulator driven with plain HTTP, the way a runtime client uses it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use harness::http::{self, Response};
use harness::{Outcome, RuntimeApi, RuntimeApiConfig};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const T: Duration = Duration::from_secs(5);

fn url(api: &RuntimeApi, path: &str) -> String {
    format!("{}/2018-06-01/runtime{path}", api.base_url())
}

async fn next(api: &RuntimeApi) -> harness::Result<Response> {
    http::get(&url(api, "/invocation/next"), T).await
}

fn request_id(response: &Response) -> String {
    response
        .header("lambda-runtime-aws-request-id")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn hands_out_an_event_and_collects_the_response() -> TestResult {
    // GIVEN a Runtime API and one queued event
    let api = Arc::new(RuntimeApi::start().await?);
    assert!(api.first_poll().is_none());
    let invoker = {
        let api = Arc::clone(&api);
        tokio::spawn(async move { api.invoke(json!({"id": "e-1", "detail": {}})).await })
    };

    // WHEN a runtime client polls and answers
    let before_poll = Instant::now();
    let event = next(&api).await?;
    assert_eq!(event.status, 200);
    assert_eq!(event.json()?, json!({"id": "e-1", "detail": {}}));
    let id = request_id(&event);
    assert_eq!(id.len(), 36, "request id should be a UUID: {id}");
    let deadline: u128 = event
        .header("lambda-runtime-deadline-ms")
        .unwrap_or_default()
        .parse()?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    assert!(
        deadline > now_ms + 25_000 && deadline <= now_ms + 30_000,
        "deadline {deadline} vs now {now_ms}"
    );
    assert_eq!(
        event.header("lambda-runtime-invoked-function-arn"),
        Some(api.function_arn())
    );
    assert!(
        event
            .header("lambda-runtime-trace-id")
            .is_some_and(|t| t.starts_with("Root=1-"))
    );
    assert_eq!(event.header("content-type"), Some("application/json"));

    let answered = http::post(
        &url(&api, &format!("/invocation/{id}/response")),
        r#"{"outcome":"written"}"#,
        T,
    )
    .await?;

    // THEN the invoker gets the response with ordered timings
    assert_eq!(answered.status, 202);
    let invocation = invoker.await?;
    assert_eq!(invocation.request_id, id);
    assert_eq!(
        invocation.outcome,
        Outcome::Response(json!({"outcome": "written"}))
    );
    assert!(invocation.queued <= invocation.handed_out);
    assert!(invocation.handed_out <= invocation.completed);
    let first_poll = api.first_poll().ok_or("first poll not recorded")?;
    assert!(first_poll >= before_poll && first_poll <= invocation.handed_out);
    assert_eq!(api.in_flight(), 0);

    // AND a second answer to the same invocation is refused
    let again = http::post(&url(&api, &format!("/invocation/{id}/response")), "{}", T).await?;
    assert_eq!(again.status, 400);
    Ok(())
}

#[tokio::test]
async fn function_errors_take_the_type_from_the_body_then_the_header() -> TestResult {
    let api = Arc::new(RuntimeApi::start().await?);
    for (body, header, expected_type, expected_message) in [
        (
            r#"{"errorType":"InvalidEvent","errorMessage":"event e-2: no detail","stackTrace":[]}"#,
            Some("unhandled"),
            "InvalidEvent",
            "event e-2: no detail",
        ),
        (
            "not json at all",
            Some("Runtime.Crash"),
            "Runtime.Crash",
            "not json at all",
        ),
        (r#"{"errorMessage":"m"}"#, None, "Unhandled", "m"),
    ] {
        let invoker = {
            let api = Arc::clone(&api);
            tokio::spawn(async move { api.invoke(json!({"id": "e-2"})).await })
        };
        let id = request_id(&next(&api).await?);
        let headers: Vec<(&str, &str)> = header
            .map(|h| vec![("Lambda-Runtime-Function-Error-Type", h)])
            .unwrap_or_default();
        let posted = http::request(
            "POST",
            &url(&api, &format!("/invocation/{id}/error")),
            &headers,
            body,
            T,
        )
        .await?;
        assert_eq!(posted.status, 202);
        let invocation = invoker.await?;
        assert_eq!(
            invocation.outcome,
            Outcome::Error {
                error_type: expected_type.into(),
                error_message: expected_message.into()
            }
        );
        assert_eq!(invocation.error_type(), Some(expected_type));
    }
    Ok(())
}

/// Writes a raw HTTP/1.1 request and returns the status line of the answer.
async fn raw_request(api: &RuntimeApi, request: &str) -> Result<String, std::io::Error> {
    let mut stream = TcpStream::connect(api.socket_addr()).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(T, stream.read(&mut buf))
        .await
        .map_err(|_| std::io::Error::other("no answer"))??;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn chunked_and_streamed_answers_are_accepted() -> TestResult {
    let api = Arc::new(RuntimeApi::start().await?);

    // A chunked response body, as awslambdaric may send it.
    let invoker = {
        let api = Arc::clone(&api);
        tokio::spawn(async move { api.invoke(json!({"n": 1})).await })
    };
    let id = request_id(&next(&api).await?);
    let status = raw_request(
        &api,
        &format!(
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
             Lambda-Runtime-Function-Response-Mode: streaming\r\n\
             Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n\
             5\r\n{{\"ok\"\r\n6\r\n:true}}\r\n0\r\n\r\n"
        ),
    )
    .await?;
    assert!(status.contains("202"), "{status}");
    assert_eq!(
        invoker.await?.outcome,
        Outcome::Response(json!({"ok": true}))
    );

    // A streamed response that fails midway reports the error in trailers.
    let invoker = {
        let api = Arc::clone(&api);
        tokio::spawn(async move { api.invoke(json!({"n": 2})).await })
    };
    let id = request_id(&next(&api).await?);
    let error_body = base64_encode(br#"{"errorType":"StreamError","errorMessage":"cut"}"#);
    let status = raw_request(
        &api,
        &format!(
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
             Lambda-Runtime-Function-Response-Mode: streaming\r\n\
             Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\
             Transfer-Encoding: chunked\r\n\r\n\
             3\r\nabc\r\n0\r\n\
             Lambda-Runtime-Function-Error-Type: StreamError\r\n\
             Lambda-Runtime-Function-Error-Body: {error_body}\r\n\r\n"
        ),
    )
    .await?;
    assert!(status.contains("202"), "{status}");
    assert_eq!(
        invoker.await?.outcome,
        Outcome::Error {
            error_type: "StreamError".into(),
            error_message: "cut".into()
        }
    );

    // A chunked error document.
    let invoker = {
        let api = Arc::clone(&api);
        tokio::spawn(async move { api.invoke(json!({"n": 3})).await })
    };
    let id = request_id(&next(&api).await?);
    let doc = r#"{"errorType":"E","errorMessage":"chunked"}"#;
    let status = raw_request(
        &api,
        &format!(
            "POST /2018-06-01/runtime/invocation/{id}/error HTTP/1.1\r\nHost: x\r\n\
             Lambda-Runtime-Function-Error-Type: E\r\nTransfer-Encoding: chunked\r\n\r\n\
             {:x}\r\n{doc}\r\n0\r\n\r\n",
            doc.len()
        ),
    )
    .await?;
    assert!(status.contains("202"), "{status}");
    assert_eq!(invoker.await?.error_type(), Some("E"));
    Ok(())
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn init_errors_are_recorded() -> TestResult {
    let api = RuntimeApi::start().await?;
    let posted = http::request(
        "POST",
        &url(&api, "/init/error"),
        &[("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")],
        r#"{"errorType":"Runtime.ImportModuleError","errorMessage":"No module named 'handler'"}"#,
        T,
    )
    .await?;
    assert_eq!(posted.status, 202);
    let errors = api.init_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error_type, "Runtime.ImportModuleError");
    assert_eq!(errors[0].error_message, "No module named 'handler'");

    let unknown = http::get(&format!("{}/2018-06-01/other", api.base_url()), T).await?;
    assert_eq!(unknown.status, 404);
    Ok(())
}

#[tokio::test]
async fn each_event_goes_to_exactly_one_of_many_pollers() -> TestResult {
    // GIVEN four runtime clients polling the same API
    let api = Arc::new(RuntimeApi::start().await?);
    let mut pollers = Vec::new();
    for worker in 0..4u32 {
        let api = Arc::clone(&api);
        pollers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let Ok(event) = next(&api).await else { break };
                let id = request_id(&event);
                let Ok(body) = event.json() else { break };
                if body == json!("stop") {
                    let _ = http::post(&url(&api, &format!("/invocation/{id}/response")), "{}", T)
                        .await;
                    break;
                }
                seen.push(id.clone());
                let answer = json!({"worker": worker, "n": body["n"]}).to_string();
                if http::post(&url(&api, &format!("/invocation/{id}/response")), answer, T)
                    .await
                    .is_err()
                {
                    break;
                }
            }
            seen
        }));
    }

    // WHEN 200 events are invoked at once
    let invokers: Vec<_> = (0..200)
        .map(|n| {
            let api = Arc::clone(&api);
            tokio::spawn(async move { api.invoke(json!({"n": n})).await })
        })
        .collect();
    let mut answered = Vec::new();
    for invoker in invokers {
        answered.push(invoker.await?);
    }
    for _ in 0..4 {
        api.invoke(json!("stop")).await;
    }

    // THEN each is answered once, by one worker, with its own payload
    let mut handed: Vec<String> = Vec::new();
    for poller in pollers {
        handed.extend(poller.await?);
    }
    assert_eq!(handed.len(), 200);
    let unique: HashSet<&String> = handed.iter().collect();
    assert_eq!(unique.len(), 200, "an event was handed out twice");
    let mut workers = HashSet::new();
    for (n, invocation) in answered.iter().enumerate() {
        let response = invocation.response().ok_or("error outcome")?;
        assert_eq!(response["n"], json!(n));
        workers.insert(response["worker"].as_u64());
        assert!(unique.contains(&invocation.request_id));
    }
    assert!(workers.len() > 1, "only one worker got events: {workers:?}");
    Ok(())
}

#[tokio::test]
async fn unanswered_events_time_out_like_lambda() -> TestResult {
    let api = Arc::new(
        RuntimeApi::start_with(RuntimeApiConfig {
            timeout: Duration::from_millis(300),
            ..RuntimeApiConfig::default()
        })
        .await?,
    );
    let invoker = {
        let api = Arc::clone(&api);
        tokio::spawn(async move { api.invoke(json!({})).await })
    };
    let id = request_id(&next(&api).await?);
    let invocation = invoker.await?;
    assert_eq!(invocation.error_type(), Some("Sandbox.Timedout"));
    assert!(invocation.duration() >= Duration::from_millis(300));
    // Bounded: the timeout fires rather than waiting for an answer that never comes.
    assert!(invocation.duration() < Duration::from_secs(30));
    // A late answer is refused.
    let late = http::post(&url(&api, &format!("/invocation/{id}/response")), "{}", T).await?;
    assert_eq!(late.status, 400);
    Ok(())
}

#[tokio::test]
async fn events_nobody_takes_are_given_up_and_never_handed_out() -> TestResult {
    let api = RuntimeApi::start_with(RuntimeApiConfig {
        queue_timeout: Some(Duration::from_millis(100)),
        ..RuntimeApiConfig::default()
    })
    .await?;
    let invocation = api.invoke(json!({"abandoned": true})).await;
    assert_eq!(invocation.error_type(), Some("Harness.NotPickedUp"));
    // A poller arriving later waits for new work instead of getting the abandoned event.
    let late = http::get(&url(&api, "/invocation/next"), Duration::from_millis(300)).await;
    assert!(
        matches!(late, Err(harness::Error::HttpTimeout { .. })),
        "{late:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_poller_that_hangs_up_loses_no_event() -> TestResult {
    // GIVEN a poller that sends /next and then disconnects (a killed process)
    let api = Arc::new(RuntimeApi::start().await?);
    {
        let mut stream = TcpStream::connect(api.socket_addr()).await?;
        stream
            .write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            .await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    // WHEN a live poller comes and an event is invoked
    let poller = {
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            let event = next(&api).await?;
            let id = request_id(&event);
            http::post(
                &url(&api, &format!("/invocation/{id}/response")),
                "\"ok\"",
                T,
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let invocation = tokio::time::timeout(T, api.invoke(json!({}))).await?;

    // THEN the live poller gets it
    assert_eq!(invocation.outcome, Outcome::Response(json!("ok")));
    poller.await??;
    Ok(())
}

/// The emulator's own cost per invocation, measured with a keep-alive client that answers at
/// once (like a runtime client with an empty handler). Printed for the benchmark notes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_round_trips_on_one_connection_each_answer_their_own_event() -> TestResult {
    let api = Arc::new(RuntimeApi::start().await?);
    let stream = TcpStream::connect(api.socket_addr()).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let runtime_client = tokio::spawn(async move {
        loop {
            let request = hyper::Request::get("/2018-06-01/runtime/invocation/next")
                .header("host", "runtime")
                .body(Full::new(Bytes::new()))?;
            let response = sender.send_request(request).await?;
            let id = response
                .headers()
                .get("lambda-runtime-aws-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = response.into_body().collect().await?.to_bytes();
            let stop = body.as_ref() == b"\"stop\"";
            let request =
                hyper::Request::post(format!("/2018-06-01/runtime/invocation/{id}/response"))
                    .header("host", "runtime")
                    .body(Full::new(body))?;
            sender
                .send_request(request)
                .await?
                .into_body()
                .collect()
                .await?;
            if stop {
                return Ok::<(), Box<dyn std::error::Error + Send + Sync>>(());
            }
        }
    });

    let n = 2000;
    let mut totals = Vec::with_capacity(n);
    let mut handler = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let invocation = api.invoke(json!({"i": i})).await;
        assert_eq!(invocation.response(), Some(&json!({"i": i})));
        totals.push(invocation.completed - invocation.queued);
        handler.push(invocation.duration());
    }
    let wall = started.elapsed();
    api.invoke(Value::String("stop".into())).await;
    runtime_client
        .await?
        .map_err(|e| -> Box<dyn std::error::Error> { e.to_string().into() })?;
    totals.sort();
    handler.sort();
    let p50 = totals[n / 2];
    let p99 = totals[n * 99 / 100];
    println!(
        "runtime api round trip over {n} invocations: mean {:?}, p50 {p50:?}, p99 {p99:?}; \
         hand-out to answer p50 {:?}",
        wall / u32::try_from(n)?,
        handler[n / 2]
    );
    // The overhead is reported, not asserted: `make bench` is where time is judged.
    Ok(())
}
