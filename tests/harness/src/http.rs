//! A minimal HTTP/1.1 client for local servers (moto's control API, the Runtime API in tests).
//!
//! One connection per request, no TLS, no redirects: enough for `http://127.0.0.1:PORT/...`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{HOST, HeaderMap, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

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

/// Splits `http://host:port/path?query` into (`host:port`, `/path?query`).
pub fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("http://")?;
    match rest.find('/') {
        Some(i) => Some((&rest[..i], &rest[i..])),
        None => Some((rest, "/")),
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
    let (authority, path) = split_url(url)
        .ok_or_else(|| fail("only http://host:port/path URLs are supported".into()))?;
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| fail(format!("connect: {e}")))?;
    stream
        .set_nodelay(true)
        .map_err(|e| fail(format!("set TCP_NODELAY: {e}")))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| fail(format!("handshake: {e}")))?;
    let driver = tokio::spawn(async move {
        // The connection ends when the response is read or the peer goes away; either way
        // the request future below reports what happened.
        let _ = connection.await;
    });

    let mut builder = Request::builder().method(method).uri(path);
    let host = HeaderValue::from_str(authority).map_err(|e| fail(format!("host header: {e}")))?;
    if let Some(h) = builder.headers_mut() {
        h.insert(HOST, host);
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| fail(format!("header name {name}: {e}")))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| fail(format!("header value: {e}")))?;
            h.append(name, value);
        }
    }
    let request = builder
        .body(Full::new(body))
        .map_err(|e| fail(format!("build request: {e}")))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| fail(format!("send: {e}")))?;
    let (parts, incoming) = response.into_parts();
    let body = incoming
        .collect()
        .await
        .map_err(|e| fail(format!("read body: {e}")))?
        .to_bytes();
    driver.abort();
    Ok(Response {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("http://127.0.0.1:5000/moto-api/reset"),
            Some(("127.0.0.1:5000", "/moto-api/reset"))
        );
        assert_eq!(
            split_url("http://127.0.0.1:5000"),
            Some(("127.0.0.1:5000", "/"))
        );
        assert_eq!(split_url("https://example.com/"), None);
    }
}
