//! HTTP requests to local servers (moto's control API, the Runtime API in tests), with
//! hyper's client: one connection per request, no TLS, no redirects, a timeout on the whole
//! exchange; enough for `http://127.0.0.1:PORT/...`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::HeaderMap;
use hyper::http::uri::{Scheme, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};

/// A response read to the end.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| Error::json("response body", e))
    }

    /// A header's value as text, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request and reads the whole response, failing after `timeout`.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
    timeout: Duration,
) -> Result<Response> {
    let body = body.into();
    match tokio::time::timeout(timeout, send(method, url, headers, body)).await {
        Ok(result) => result,
        Err(_) => Err(Error::HttpTimeout {
            method: method.to_owned(),
            url: url.to_owned(),
            timeout,
        }),
    }
}

/// `GET url` with a timeout.
pub async fn get(url: &str, timeout: Duration) -> Result<Response> {
    request("GET", url, &[], Bytes::new(), timeout).await
}

/// `POST url` with a body and a timeout.
pub async fn post(url: &str, body: impl Into<Bytes>, timeout: Duration) -> Result<Response> {
    request("POST", url, &[], body, timeout).await
}

async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Bytes) -> Result<Response> {
    let fail = |message: String| Error::Http {
        method: method.to_owned(),
        url: url.to_owned(),
        message,
    };
    let uri: Uri = url.parse().map_err(|e| fail(format!("URL: {e}")))?;
    if uri.scheme() != Some(&Scheme::HTTP) {
        return Err(fail("only http:// URLs are supported".into()));
    }
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    // No idle connections kept: each request opens its own, so a server that was restarted
    // or stopped in between is seen as it is now.
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| fail(format!("build request: {e}")))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| fail(format!("send: {}", error_chain(&e))))?;
    let (parts, incoming) = response.into_parts();
    let body = incoming
        .collect()
        .await
        .map_err(|e| fail(format!("read body: {e}")))?
        .to_bytes();
    Ok(Response {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// An error with its causes (the client's own says only "client error (Connect)").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_what_it_does_not_speak() {
        for (url, why) in [
            ("https://127.0.0.1:1/", "only http:// URLs"),
            ("not a url", "URL"),
        ] {
            let error = get(url, Duration::from_secs(1)).await.unwrap_err();
            assert!(
                matches!(&error, Error::Http { message, .. } if message.contains(why)),
                "{url}: {error}"
            );
        }
    }
}
