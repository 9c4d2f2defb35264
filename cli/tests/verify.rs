//! `tokengate verify`: the library's validation against a test issuer in this process.

mod common;

use common::{Issuer, closed_port, tokengate};
use predicates::prelude::*;
use predicates::str::contains;
use tokengate::Algorithm;

fn verify(issuer: &Issuer) -> assert_cmd::Command {
    let mut command = tokengate();
    command.args([
        "verify",
        "--issuer",
        issuer.issuer.issuer(),
        "--audience",
        issuer.issuer.audience(),
        "--timeout",
        "5",
    ]);
    command
}

#[test]
fn a_good_token_is_valid_and_never_echoed() {
    let issuer = Issuer::start(&[Algorithm::ES256]);
    let token = issuer
        .issuer
        .token()
        .subject("alice")
        .scope("orders.read")
        .sign();
    let signature = token.rsplit('.').next().expect("three parts");
    verify(&issuer)
        .args(["--scope", "orders.read", &token])
        .assert()
        .code(0)
        .stdout(contains("valid"))
        .stdout(contains("alice"))
        .stdout(contains(signature).not())
        .stderr(contains(signature).not());
}

#[test]
fn stdin_is_read_for_a_dash() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let token = issuer.issuer.token().sign();
    verify(&issuer)
        .arg("-")
        .write_stdin(format!("{token}\n"))
        .assert()
        .code(0)
        .stdout(contains("valid"));
}

#[test]
fn bad_tokens_are_refused_with_their_code() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let cases = [
        (issuer.issuer.token().expired().sign(), "token_expired"),
        (issuer.issuer.token().tampered().sign(), "invalid_signature"),
        (
            issuer.issuer.token().audience("api://other").sign(),
            "invalid_audience",
        ),
        (
            issuer.issuer.token().without_claim("exp").sign(),
            "missing_claim",
        ),
    ];
    for (token, code) in cases {
        verify(&issuer)
            .arg(&token)
            .assert()
            .code(1)
            .stdout(contains(format!("refused: {code}")))
            .stdout(contains("description"));
    }
}

#[test]
fn a_missing_scope_or_role_is_insufficient_scope() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let token = issuer
        .issuer
        .token()
        .scope("orders.read")
        .roles(["clerk"])
        .sign();
    verify(&issuer)
        .args(["--scope", "orders.write", &token])
        .assert()
        .code(1)
        .stdout(contains("insufficient_scope"))
        .stdout(contains("HTTP 403"))
        .stdout(contains("scope orders.read"));
    verify(&issuer)
        .args(["--role", "clerk", "--scope", "orders.read", &token])
        .assert()
        .code(0);
}

#[test]
fn the_three_common_mistakes_get_hints() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let slash = format!("{}/", issuer.issuer.issuer());
    let token = issuer.issuer.token().sign();
    tokengate()
        .args([
            "verify",
            "--issuer",
            &slash,
            "--audience",
            issuer.issuer.audience(),
            &token,
        ])
        .assert()
        .code(1)
        .stdout(contains("untrusted_issuer"))
        .stdout(contains("trailing slash"));

    let id_token = issuer
        .issuer
        .token()
        .without_header("typ")
        .claim("nonce", "n-0S6_WzA2Mj")
        .sign();
    verify(&issuer)
        .arg(&id_token)
        .assert()
        .code(1)
        .stdout(contains("not_an_access_token"))
        .stdout(contains("ID token"));

    let graph = issuer
        .issuer
        .token()
        .header("nonce", "AQABAAAAAAD")
        .audience("00000003-0000-0000-c000-000000000000")
        .sign();
    verify(&issuer)
        .arg(&graph)
        .assert()
        .code(1)
        .stdout(contains("Microsoft Graph"));
}

#[test]
fn at_validates_at_another_time() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let token = issuer.issuer.token().sign();
    verify(&issuer)
        .args(["--at", "2099-01-01T00:00:00Z", &token])
        .assert()
        .code(1)
        .stdout(contains("token_expired"));
    verify(&issuer)
        .args(["--at", "next tuesday", &token])
        .assert()
        .code(2)
        .stderr(contains("RFC 3339"));
}

#[test]
fn keys_from_a_file_or_a_url() {
    let issuer = Issuer::start(&[Algorithm::EdDSA]);
    let dir = std::env::temp_dir().join(format!("tokengate-cli-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join("jwks.json");
    std::fs::write(&file, issuer.issuer.jwks()).expect("written");
    let token = issuer.issuer.token().sign();
    issuer.issuer.set_outage(true); // the file is enough
    verify(&issuer)
        .args(["--jwks", file.to_str().expect("UTF-8"), &token])
        .assert()
        .code(0);
    issuer.issuer.set_outage(false);
    verify(&issuer)
        .args(["--jwks", &issuer.issuer.jwks_uri(), &token])
        .assert()
        .code(0);
    assert_eq!(
        issuer.issuer.discovery_requests(),
        0,
        "a key set URL needs no discovery"
    );
    verify(&issuer)
        .args(["--jwks", "/no/such/file.json", &token])
        .assert()
        .code(2)
        .stderr(contains("cannot read --jwks"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unreachable_issuer_is_undecided() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let unreachable = format!("http://127.0.0.1:{}", closed_port());
    let token = issuer.issuer.token().claim("iss", &unreachable).sign();
    tokengate()
        .args([
            "verify",
            "--issuer",
            &unreachable,
            "--audience",
            issuer.issuer.audience(),
        ])
        .args(["--timeout", "2", &token])
        .assert()
        .code(2)
        .stdout(contains("keys_unavailable"));
}

#[test]
fn an_issuer_in_an_outage_is_undecided() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let token = issuer.issuer.token().sign();
    issuer.issuer.set_outage(true);
    verify(&issuer)
        .arg(&token)
        .assert()
        .code(2)
        .stdout(contains("could not decide: keys_unavailable"))
        .stdout(contains("503"));
}

#[test]
fn bad_arguments_exit_2_in_one_line() {
    let cases: [&[&str]; 4] = [
        &[
            "verify",
            "--issuer",
            "https://a.example",
            "--audience",
            "x",
            "--preset",
            "nope",
            "t.t.t",
        ],
        &[
            "verify",
            "--issuer",
            "https://a.example",
            "--audience",
            "x",
            "--timeout",
            "0",
            "t.t.t",
        ],
        &["verify", "--issuer", "https://a.example", "t.t.t"],
        &[
            "verify",
            "--issuer",
            "https://a.example",
            "--audience",
            "x",
            "--preset",
            "keycloak",
            "t",
        ],
    ];
    for args in cases {
        tokengate()
            .args(args)
            .assert()
            .code(2)
            .stderr(contains("panicked").not());
    }
}

#[test]
fn what_the_library_logs_is_shown() {
    let issuer = Issuer::start(&[Algorithm::ES256]);
    let token = issuer.issuer.token().sign();
    let upper = issuer.issuer.issuer().replace("http://", "HTTP://");
    tokengate()
        .args([
            "verify",
            "--issuer",
            &upper,
            "--audience",
            issuer.issuer.audience(),
            &token,
        ])
        .assert()
        .code(1)
        .stdout(contains(
            "library      a token was refused as untrusted_issuer",
        ))
        .stdout(contains("letter case"));

    // A key set with a shared secret in it: the gate skips the key and says so.
    let mut set: serde_json::Value = serde_json::from_str(&issuer.issuer.jwks()).expect("JSON");
    let keys = set["keys"].as_array_mut().expect("keys");
    keys.push(serde_json::json!({"kty": "oct", "kid": "secret", "k": "c2VjcmV0"}));
    let file =
        std::env::temp_dir().join(format!("tokengate-cli-notes-{}.json", std::process::id()));
    std::fs::write(&file, set.to_string()).expect("written");
    verify(&issuer)
        .args(["--jwks", file.to_str().expect("UTF-8"), &token])
        .assert()
        .code(0)
        .stdout(contains("key skipped"))
        .stdout(contains("symmetric"));
    let _ = std::fs::remove_file(file);
}
