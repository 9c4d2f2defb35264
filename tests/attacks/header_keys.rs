//! Keys offered by the token itself (ATK-08 to ATK-11): `jku`, `x5u`, an embedded `jwk`, an
//! `x5c` chain. The tokens are signed by the attacker's own keys, so trusting any of these
//! members would accept them.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::sync::OnceLock;

use aws_lc_rs::digest;
use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, Rejection};

use tokengate_testkit::{self as common, b64, valid_claims};

use crate::harness::{Good, check_all, expect, gate, header_with_kid};
use crate::key_material::OwnKey;

/// The attacker's RSA key: never published by any configured issuer.
fn attacker_rsa() -> &'static OwnKey {
    static KEY: OnceLock<OwnKey> = OnceLock::new();
    KEY.get_or_init(|| OwnKey::generate(Algorithm::RS256, "attacker-rsa"))
}

/// The attacker's P-256 key.
fn attacker_ec() -> &'static OwnKey {
    static KEY: OnceLock<OwnKey> = OnceLock::new();
    KEY.get_or_init(|| OwnKey::generate(Algorithm::ES256, "attacker-ec"))
}

/// A loopback listener that nothing should ever connect to, and a URL pointing at it.
fn trap(path: &str) -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    (listener, url)
}

/// Asserts that no connection reached the listener (RFC 8725 §3.10: no SSRF).
#[track_caller]
fn assert_no_connection(listener: &TcpListener, variant: &str) {
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Err(e) => panic!("{variant}: unexpected listener error {e}"),
        Ok((_, peer)) => panic!("{variant}: the validator connected to the URL (from {peer})"),
    }
}

/// The issuer of ATK-08..11: an RS256 and an ES256 key.
fn issuer_with_rsa_and_ec() -> Gate {
    gate(&[common::rs256(), common::key_for(Algorithm::ES256)])
}

pub(crate) fn atk_08_good() -> Vec<Good> {
    let gate = issuer_with_rsa_and_ec();
    let es256 = common::key_for(Algorithm::ES256);
    vec![
        Good::new(
            "issuer RS256 token",
            &gate,
            common::rs256().token(&valid_claims()),
        ),
        Good::new("issuer ES256 token", &gate, es256.token(&valid_claims())),
    ]
}

/// Tokens signed by the attacker's keys, each carrying `extra` header members, with the
/// attacker's own kid, the issuer's real kid, and no kid; and what each must give.
fn self_keyed_cases(extra: &dyn Fn(&OwnKey) -> Value) -> Vec<(String, String, Rejection)> {
    let mut cases = Vec::new();
    for (attacker, real_kid) in [(attacker_rsa(), "rs256-1"), (attacker_ec(), "es256-1")] {
        let alg = attacker.alg().name();
        for (kid, expected) in [
            (Some(attacker.kid()), Rejection::UnknownKey),
            (Some(real_kid), Rejection::InvalidSignature),
            (None, Rejection::InvalidSignature),
        ] {
            let mut header = header_with_kid(alg, kid);
            for (name, value) in extra(attacker).as_object().unwrap() {
                header[name] = value.clone();
            }
            let token = attacker.token_with_header(&header, &valid_claims());
            cases.push((format!("{alg} attacker key, kid {kid:?}"), token, expected));
        }
    }
    cases
}

/// Tokens signed by the attacker's own key, whose header `member` points at a trap URL on
/// loopback: each is refused, and nothing connects to the trap.
fn never_fetched(member: &str, path: &str) {
    check_all(&atk_08_good());
    let gate = issuer_with_rsa_and_ec();
    let (listener, url) = trap(path);
    for (variant, token, expected) in self_keyed_cases(&|_| json!({ member: url })) {
        expect(&gate, &token, &expected, &format!("{member}, {variant}"));
        assert_no_connection(&listener, &format!("{member}, {variant}"));
    }
}

/// ATK-08: a `jku` pointing at the attacker's JWKS is never fetched (RFC 8725 §3.10, SSRF).
#[test]
fn atk_08_jku() {
    never_fetched("jku", "/jwks");
}

/// ATK-09: an `x5u` pointing at the attacker's certificate is never fetched (RFC 8725 §3.10).
#[test]
fn atk_09_x5u() {
    never_fetched("x5u", "/cert.pem");
}

/// ATK-10: an embedded `jwk` holding the attacker's public key is never trusted
/// (CVE-2018-0114).
#[test]
fn atk_10_embedded_jwk() {
    check_all(&atk_08_good());
    let gate = issuer_with_rsa_and_ec();
    for (variant, token, expected) in self_keyed_cases(&|key| json!({"jwk": key.jwk()})) {
        expect(&gate, &token, &expected, &format!("jwk, {variant}"));
    }
    // The attacker's JWK relabelled with the issuer's kid changes nothing.
    let attacker = attacker_rsa();
    let mut jwk = attacker.jwk();
    jwk["kid"] = json!("rs256-1");
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rs256-1", "jwk": jwk});
    expect(
        &gate,
        &attacker.token_with_header(&header, &valid_claims()),
        &Rejection::InvalidSignature,
        "jwk carrying the issuer's kid",
    );
}

/// ATK-11: an `x5c` chain with the attacker's self-signed certificate is never trusted
/// (RFC 7515 §4.1.6, RFC 8725 §3.10), with or without matching thumbprints.
#[test]
fn atk_11_x5c() {
    check_all(&atk_08_good());
    let gate = issuer_with_rsa_and_ec();
    let x5c = |key: &OwnKey| {
        let cert = key.certificate();
        json!({
            "x5c": [base64_simd::STANDARD.encode_to_string(&cert)],
            "x5t#S256": b64(digest::digest(&digest::SHA256, &cert)),
        })
    };
    for (variant, token, expected) in self_keyed_cases(&x5c) {
        expect(&gate, &token, &expected, &format!("x5c, {variant}"));
    }
}
