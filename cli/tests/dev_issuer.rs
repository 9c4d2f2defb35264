//! `tokengate dev-issuer`: a development issuer in a child process, whose tokens `verify`
//! accepts.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{post, tokengate};
use predicates::str::contains;

/// The running issuer; killed when dropped.
struct DevIssuer {
    child: Child,
    url: String,
}

impl DevIssuer {
    fn start() -> DevIssuer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tokengate"))
            .args(["dev-issuer", "--port", "0", "--alg", "ES256"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("it starts");
        // Its stdout is closed after the first line, as a script that only wants the URL
        // would: the issuer must keep serving.
        let stdout = child.stdout.take().expect("its stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("a first line");
        DevIssuer {
            child,
            url: first.trim().to_owned(),
        }
    }
}

impl Drop for DevIssuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_minted_token_is_accepted_by_verify() {
    let issuer = DevIssuer::start();
    assert!(
        issuer.url.starts_with("http://127.0.0.1:"),
        "{:?}",
        issuer.url
    );
    let (status, token) = post(
        &format!("{}/mint", issuer.url),
        "application/json",
        r#"{"sub": "alice", "roles": ["admin"]}"#,
    );
    assert_eq!(status, 200, "{token}");
    tokengate()
        .args([
            "verify",
            "--issuer",
            &issuer.url,
            "--audience",
            "api://tokengate-test",
        ])
        .args(["--role", "admin", "-"])
        .write_stdin(token)
        .assert()
        .code(0)
        .stdout(contains("alice"));
}

#[test]
fn the_token_endpoint_issues_client_credentials_tokens() {
    let issuer = DevIssuer::start();
    let (status, body) = post(
        &format!("{}/token", issuer.url),
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials&client_id=reports&scope=orders.read",
    );
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["token_type"], "Bearer");
    let token = answer["access_token"].as_str().expect("a token");
    tokengate()
        .args([
            "verify",
            "--issuer",
            &issuer.url,
            "--audience",
            "api://tokengate-test",
        ])
        .args(["--scope", "orders.read", token])
        .assert()
        .code(0)
        .stdout(contains("client     reports"));
    let (status, _) = post(
        &format!("{}/token", issuer.url),
        "application/x-www-form-urlencoded",
        "grant_type=password&username=a&password=b",
    );
    assert_eq!(status, 400);
}

#[test]
fn only_loopback_is_accepted() {
    tokengate()
        .args(["dev-issuer", "--port", "0", "--bind", "0.0.0.0"])
        .assert()
        .code(2)
        .stderr(contains("127.0.0.1 only"));
}

#[test]
fn the_banner_says_development_only() {
    let mut issuer = DevIssuer::start();
    // The banner is written before the first line of stdout, which `start` has read.
    let _ = issuer.child.kill();
    let mut stderr = String::new();
    let mut pipe = issuer.child.stderr.take().expect("its stderr");
    std::io::Read::read_to_string(&mut pipe, &mut stderr).expect("its stderr");
    assert!(stderr.contains("NOT FOR PRODUCTION"), "{stderr}");
}

#[test]
fn a_taken_port_exits_2() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener
        .local_addr()
        .expect("its address")
        .port()
        .to_string();
    tokengate()
        .args(["dev-issuer", "--port", &port])
        .assert()
        .code(2)
        .stderr(contains("choose another --port"));
}
