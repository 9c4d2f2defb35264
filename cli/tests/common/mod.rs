//! What the CLI tests share: the binary, a test issuer on a runtime that outlives each call,
//! and a small HTTP client for the development issuer's endpoints.

#![allow(dead_code)] // each test file uses a part

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use assert_cmd::Command;
use tokengate::Algorithm;
use tokengate::testing::TestIssuer;

/// The `tokengate` binary, with a hang guard: no test waits on it for more than 60 s.
pub fn tokengate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokengate"));
    command.timeout(Duration::from_secs(60));
    command
}

/// A test issuer served by a runtime of its own, which keeps serving while the test runs the
/// binary (blocking) on its own thread.
pub struct Issuer {
    pub issuer: TestIssuer,
    // Dropped after the issuer: its server runs here.
    _runtime: tokio::runtime::Runtime,
}

impl Issuer {
    pub fn start(algorithms: &[Algorithm]) -> Issuer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let issuer = runtime
            .block_on(TestIssuer::with_algorithms(algorithms.iter().copied()))
            .expect("a test issuer");
        Issuer {
            issuer,
            _runtime: runtime,
        }
    }
}

/// An unsigned-looking JWT with this header and these claims (for `inspect`, which never
/// checks signatures).
pub fn jwt(header: &str, claims: &str) -> String {
    let b64 = |text: &str| base64_simd::URL_SAFE_NO_PAD.encode_to_string(text);
    format!("{}.{}.c2lnbmF0dXJl", b64(header), b64(claims))
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// `POST`s `body` to `url` (`http://127.0.0.1:PORT/path`); the status and the body.
pub fn post(url: &str, content_type: &str, body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream = TcpStream::connect(authority).expect("the issuer listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("the request is sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}
