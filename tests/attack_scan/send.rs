//! Sending: each case to `/scan/{family}/{case}` (a span of that name wraps its handling, and
//! handler runs are counted by it), with reqwest or as raw bytes on a TCP connection, a few at
//! a time.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::CONTENT_TYPE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::requests::{App, Case, Wire};
use crate::world::Env;

/// Requests in flight at once, per family.
const CONCURRENCY: usize = 16;

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Sends every case, at most [`CONCURRENCY`] at once; the answers in the order of the cases.
pub async fn send_all(
    env: &'static Env,
    tag: &'static str,
    cases: Arc<Vec<Case>>,
) -> Vec<Result<Answer, String>> {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut running = JoinSet::new();
    for index in 0..cases.len() {
        let (permits, cases) = (Arc::clone(&permits), Arc::clone(&cases));
        running.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let answer = send(env, &format!("{tag}/{index}"), &cases[index].wire).await;
            (index, answer)
        });
    }
    let mut answers: Vec<_> = (0..cases.len()).map(|_| None).collect();
    while let Some(done) = running.join_next().await {
        let (index, answer) = done.unwrap();
        answers[index] = Some(answer);
    }
    answers.into_iter().map(Option::unwrap).collect()
}

/// `/scan` or `/scan/scoped` (no query) with `tag` (`family/case`) put in.
fn tagged(path: &str, tag: &str) -> String {
    match path.strip_suffix("/scoped") {
        Some(base) => format!("{base}/{tag}/scoped"),
        None => format!("{path}/{tag}"),
    }
}

/// The request line's path (origin or absolute form) with `tag` put in; the rest untouched.
fn tagged_raw(bytes: &[u8], tag: &str) -> Vec<u8> {
    let line = &bytes[..bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len())];
    let mut start = line
        .iter()
        .position(|&b| b == b' ')
        .expect("a request line")
        + 1;
    if line[start..].starts_with(b"http://") {
        start += 7 + line[start + 7..].iter().position(|&b| b == b'/').unwrap();
    }
    let end = start
        + line[start..]
            .iter()
            .position(|&b| b == b'?' || b == b' ')
            .unwrap();
    let path = std::str::from_utf8(&line[start..end]).unwrap();
    [&bytes[..start], tagged(path, tag).as_bytes(), &bytes[end..]].concat()
}

async fn send(env: &Env, tag: &str, wire: &Wire) -> Result<Answer, String> {
    let addr = |app: &App| match app {
        App::Header => env.header_app,
        App::Cookie => env.cookie_app,
    };
    match wire {
        Wire::Http {
            app,
            path,
            headers,
            form,
        } => {
            let (path, query) = path.split_at(path.find('?').unwrap_or(path.len()));
            let url = format!("http://{}{}{query}", addr(app), tagged(path, tag));
            let mut request = match form {
                Some(form) => env
                    .client
                    .post(url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.clone()),
                None => env.client.get(url),
            };
            for (name, value) in headers {
                let name =
                    http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
                let value = http::HeaderValue::from_bytes(value).map_err(|e| e.to_string())?;
                request = request.header(name, value);
            }
            let response = request.send().await.map_err(|e| format!("reqwest: {e}"))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
            Ok(Answer {
                status,
                headers,
                body,
            })
        }
        Wire::Raw { app, bytes } => {
            let mut stream = TcpStream::connect(addr(app))
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream
                .write_all(&tagged_raw(bytes, tag))
                .await
                .map_err(|e| format!("write: {e}"))?;
            let mut out = Vec::new();
            tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut out))
                .await
                .map_err(|_| "no answer within 20 s".to_owned())?
                .map_err(|e| format!("read: {e}"))?;
            parse_http1(&out)
        }
    }
}

/// An HTTP/1.1 response with a `Content-Length` body (all these servers send one).
fn parse_http1(bytes: &[u8]) -> Result<Answer, String> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no response head in {} bytes", bytes.len()))?;
    let head = std::str::from_utf8(&bytes[..end]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("status line {status_line:?}"))?;
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or("a header line without ':'")?;
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?,
            http::HeaderValue::from_str(value.trim()).map_err(|e| e.to_string())?,
        );
    }
    let body = bytes[end + 4..].to_vec();
    if let Some(length) = headers.get("content-length") {
        let length: usize = length.to_str().unwrap_or_default().parse().unwrap_or(0);
        if body.len() != length {
            return Err(format!(
                "body of {} bytes, content-length {length}",
                body.len()
            ));
        }
    } else if headers.contains_key("transfer-encoding") {
        return Err("a chunked answer".to_owned());
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}
