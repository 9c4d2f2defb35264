//! `tokengate inspect`: decoding without trust, from an argument or stdin.

mod common;

use common::{jwt, tokengate};
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn an_access_token_is_shown_with_relative_times() {
    let token = jwt(
        r#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#,
        r#"{"iss":"https://login.example.com/","aud":"api://orders","sub":"alice","exp":4102444800}"#,
    );
    tokengate()
        .args(["inspect", &token])
        .assert()
        .code(0)
        .stdout(contains("access token (RFC 9068"))
        .stdout(contains("alice"))
        .stdout(contains("2100-01-01T00:00:00Z, in "))
        .stdout(contains("warnings").not());
}

/// A token's claims (and member names) may hold terminal escapes: shown, never obeyed.
#[test]
fn control_characters_are_escaped() {
    let token = jwt(
        r#"{"alg":"ES256","kid":"k1"}"#,
        r#"{"sub":"ali\u001b[2Jce","\u001b[31mx":"y\r"}"#,
    );
    tokengate()
        .args(["inspect", &token])
        .assert()
        .code(0)
        .stdout(contains("ali\\u{1b}[2Jce"))
        .stdout(contains("\\u{1b}[31mx"))
        .stdout(contains("\u{1b}").not())
        .stdout(contains("\r").not());
}

#[test]
fn stdin_is_read_for_a_dash_and_a_bearer_prefix_is_dropped() {
    let token = jwt(
        r#"{"alg":"RS256","kid":"k"}"#,
        r#"{"nonce":"n","aud":"client"}"#,
    );
    tokengate()
        .args(["inspect", "-"])
        .write_stdin(format!("Bearer {token}\n"))
        .assert()
        .code(0)
        .stdout(contains("ID token"));
}

#[test]
fn risky_tokens_get_each_warning() {
    let token = jwt(
        r#"{"alg":"HS256","x5t":"abc"}"#,
        r#"{"exp":1000,"nbf":4102444800}"#,
    );
    tokengate()
        .args(["inspect", &token])
        .assert()
        .code(0)
        .stdout(contains("expired"))
        .stdout(contains("not yet valid"))
        .stdout(contains("no aud"))
        .stdout(contains("HMAC"))
        .stdout(contains("x5t only"));
    let unsigned = jwt(r#"{"alg":"none"}"#, r#"{"aud":"a","exp":4102444800}"#);
    tokengate()
        .args(["inspect", &unsigned])
        .assert()
        .code(0)
        .stdout(contains("alg none"))
        .stdout(contains("no kid"));
}

#[test]
fn other_kinds_are_named() {
    let cases = [
        (
            r#"{"alg":"ES256","typ":"dpop+jwt"}"#,
            r#"{"htm":"GET"}"#,
            "DPoP proof",
        ),
        (
            r#"{"alg":"RS256","nonce":"x","kid":"k"}"#,
            r#"{"aud":"00000003-0000-0000-c000-000000000000"}"#,
            "Microsoft Graph",
        ),
        (
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"events":{"http://schemas.openid.net/event/backchannel-logout":{}}}"#,
            "logout token",
        ),
        (
            r#"{"alg":"HS256"}"#,
            r#"{"typ":"Refresh"}"#,
            "refresh token",
        ),
        (
            r#"{"alg":"RS256"}"#,
            r#"{"scp":"User.Read"}"#,
            "provider's own shape",
        ),
    ];
    for (header, claims, kind) in cases {
        tokengate()
            .args(["inspect", &jwt(header, claims)])
            .assert()
            .code(0)
            .stdout(contains(kind));
    }
    tokengate()
        .args(["inspect", "2YotnFZFEjr1zCsicMWpAA"])
        .assert()
        .code(0)
        .stdout(contains("opaque token"));
    let jwe = format!(
        "{}.a.b.c.d",
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)
    );
    tokengate()
        .args(["inspect", &jwe])
        .assert()
        .code(0)
        .stdout(contains("encrypted token (JWE)"));
}

#[test]
fn json_output_holds_header_claims_and_warnings() {
    let token = jwt(r#"{"alg":"RS256","kid":"k"}"#, r#"{"sub":"bob"}"#);
    let output = tokengate()
        .args(["inspect", "--json", &token])
        .output()
        .expect("it runs");
    assert_eq!(output.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["claims"]["sub"], "bob");
    assert_eq!(value["header"]["kid"], "k");
    assert!(value["warnings"].as_array().is_some_and(|w| !w.is_empty()));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    for input in ["not-a.token", "a.b.c", "", "   "] {
        tokengate()
            .args(["inspect", "-"])
            .write_stdin(input)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("error: "))
            .stderr(predicate::function(|err: &str| err.lines().count() == 1))
            .stderr(contains("panicked").not());
    }
}

#[test]
fn help_shows_an_example_for_every_command() {
    for command in ["inspect", "verify", "keys", "bench", "dev-issuer"] {
        tokengate()
            .args([command, "--help"])
            .assert()
            .code(0)
            .stdout(contains("Example"))
            .stdout(contains(format!("tokengate {command}")));
    }
}
