//! `tokengate keys`: an issuer's keys, by discovery or from a URL or file, and why a key
//! would be skipped.

mod common;

use common::{Issuer, closed_port, tokengate};
use predicates::prelude::*;
use predicates::str::contains;
use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings, judge_jwks};

#[test]
fn keys_by_discovery_are_listed_with_their_algorithm() {
    let issuer = Issuer::start(&[Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]);
    tokengate()
        .args(["keys", "--issuer", issuer.issuer.issuer()])
        .assert()
        .code(0)
        .stdout(contains("discovery"))
        .stdout(contains(
            "kid test-rs256-1  kty RSA  2048 bits  alg RS256  use sig",
        ))
        .stdout(contains("crv P-256"))
        .stdout(contains("crv Ed25519"))
        .stdout(contains("used for EdDSA"))
        .stdout(contains("usable     3 of 3"));
    assert_eq!(issuer.issuer.discovery_requests(), 1);
    assert_eq!(issuer.issuer.jwks_requests(), 1);
}

/// A discovery document that names another issuer is refused by a gate, whatever its keys:
/// exit 1, saying which issuer to configure.
#[test]
fn another_issuer_in_the_discovery_document_is_refused() {
    let issuer = Issuer::start(&[Algorithm::RS256]);
    let with_slash = format!("{}/", issuer.issuer.issuer());
    tokengate()
        .args(["keys", "--issuer", &with_slash])
        .assert()
        .code(1)
        .stderr(contains("a gate refuses it"))
        .stderr(contains(format!("use --issuer {}", issuer.issuer.issuer())));
}

#[test]
fn keys_by_url_and_an_allowlist() {
    let issuer = Issuer::start(&[Algorithm::RS256, Algorithm::ES256]);
    tokengate()
        .args([
            "keys",
            "--jwks",
            &issuer.issuer.jwks_uri(),
            "--alg",
            "ES256",
        ])
        .assert()
        .code(0)
        .stdout(contains(
            "skipped: alg \"RS256\" is not allowed for this issuer",
        ))
        .stdout(contains("usable     1 of 2"));
}

/// A key set with one usable key and one of each kind of skipped key.
const MIXED: &str = r#"{"keys": [
    {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
    {"kty": "RSA", "kid": "encryption", "use": "enc", "n": "AQAB", "e": "AQAB"},
    {"kty": "OKP", "kid": "agreement", "crv": "X25519", "x": "AAAA"},
    {"kty": "EC", "kid": "wrong-alg", "crv": "P-256", "alg": "RS256", "x": "AAAA", "y": "AAAA"}
]}"#;

fn mixed_with(usable_jwk: &str) -> String {
    MIXED.replacen("\"keys\": [", &format!("\"keys\": [{usable_jwk},"), 1)
}

#[test]
fn skipped_keys_say_why() {
    let issuer = Issuer::start(&[Algorithm::ES256]);
    let set: serde_json::Value = serde_json::from_str(&issuer.issuer.jwks()).expect("JSON");
    let text = mixed_with(&set["keys"][0].to_string());
    let file = std::env::temp_dir().join(format!("tokengate-cli-keys-{}.json", std::process::id()));
    std::fs::write(&file, &text).expect("written");
    tokengate()
        .args(["keys", "--jwks", file.to_str().expect("UTF-8")])
        .assert()
        .code(0)
        .stdout(contains("skipped: symmetric (oct) keys"))
        .stdout(contains("skipped: use is \"enc\""))
        .stdout(contains("skipped: unsupported curve \"X25519\""))
        .stdout(contains("skipped: alg \"RS256\" does not fit"))
        .stdout(contains("usable     1 of 5"));
    // No usable key at all: exit 1.
    std::fs::write(&file, MIXED).expect("written");
    tokengate()
        .args(["keys", "--jwks", file.to_str().expect("UTF-8")])
        .assert()
        .code(1)
        .stdout(contains("usable     0 of 4"));
    let _ = std::fs::remove_file(file);
}

/// What `keys` reports comes from `judge_jwks`; a gate given the same set uses exactly the
/// keys it calls usable.
#[test]
fn the_verdicts_agree_with_a_gate() {
    let issuer = Issuer::start(&[Algorithm::ES256, Algorithm::RS256]);
    let set: serde_json::Value = serde_json::from_str(&issuer.issuer.jwks()).expect("JSON");
    let usable_jwks: Vec<String> = set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key.to_string())
        .collect();
    for allowed in [
        vec![Algorithm::ES256],
        vec![Algorithm::RS256, Algorithm::ES256],
    ] {
        let text = mixed_with(&usable_jwks.join(","));
        let verdicts = judge_jwks(&text, &allowed, &KeyCacheSettings::default()).expect("a set");
        let usable = verdicts.iter().filter(|v| v.is_ok()).count();
        let gate = Gate::builder()
            .issuer(
                IssuerProfile::new("https://issuer.example")
                    .audience("a")
                    .algorithms(allowed.iter().copied())
                    .jwks(text),
            )
            .build()
            .expect("a gate");
        assert_eq!(gate.key_status()[0].keys, usable, "allowed {allowed:?}");
    }
}

#[test]
fn two_keys_under_one_kid_are_both_skipped_as_a_gate_skips_them() {
    let issuer = Issuer::start(&[Algorithm::ES256]);
    issuer.issuer.add_key(Algorithm::ES256);
    let mut set: serde_json::Value = serde_json::from_str(&issuer.issuer.jwks()).expect("JSON");
    for key in set["keys"].as_array_mut().expect("keys") {
        key["kid"] = "same".into();
    }
    let text = set.to_string();
    let verdicts = judge_jwks(&text, Algorithm::ALL, &KeyCacheSettings::default()).expect("a set");
    assert_eq!(verdicts.len(), 2);
    for verdict in &verdicts {
        assert!(
            verdict
                .as_ref()
                .is_err_and(|reason| reason.contains("share this kid"))
        );
    }
    // A gate given only such keys has none to use: its build says so.
    let built = Gate::builder()
        .issuer(
            IssuerProfile::new("https://issuer.example")
                .audience("a")
                .jwks(text),
        )
        .build();
    assert!(built.is_err_and(|error| error.to_string().contains("share this kid")));
}

#[test]
fn an_unreachable_issuer_exits_2() {
    let unreachable = format!("http://127.0.0.1:{}", closed_port());
    tokengate()
        .args(["keys", "--issuer", &unreachable, "--timeout", "2"])
        .assert()
        .code(2)
        .stderr(contains("cannot fetch the discovery document"))
        .stderr(predicate::function(|err: &str| err.lines().count() == 1));
}

#[test]
fn a_source_is_required() {
    tokengate().arg("keys").assert().code(2);
}
