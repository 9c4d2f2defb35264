//! Configuration checks: every problem reported at once, key sets without usable keys, the size
//! cap, and gates shared across threads.

use std::time::Duration;

use serde_json::json;
use tokengate::{Algorithm, Gate, IssuerProfile, Requirement};
use tokengate_testkit::{AUDIENCE, ISSUER, b64, jwks, ready, rs256, valid_claims};

use super::support::{code, gate, issuer, with};

#[test]
fn build_reports_every_problem_at_once() {
    let err = Gate::builder()
        .issuer(IssuerProfile::new(" https://a/").leeway(Duration::from_secs(3600)))
        .issuer(
            IssuerProfile::new("https://b/")
                .audience("")
                .algorithms([])
                .require_claim("bad\"name")
                .max_token_age(Duration::ZERO)
                .jwks("{not json"),
        )
        .issuer(
            IssuerProfile::new("https://b/")
                .audience("x")
                .jwks(jwks(&[rs256()])),
        )
        .max_token_size(10)
        .require(Requirement::any_scope(Vec::<String>::new()))
        .build()
        .unwrap_err();
    let problems: Vec<&str> = err.problems().collect();
    let expect = [
        "surrounding whitespace",
        "no audience configured",
        "leeway",
        "no keys configured",
        "an audience is empty",
        "no algorithm allowed",
        "required claim name",
        "max_token_age is zero",
        "JWKS refused",
        "configured twice",
        "max_token_size 10 is outside",
        "no alternative",
    ];
    for needle in expect {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "no problem mentions {needle:?}: {problems:#?}"
        );
    }
    assert!(
        err.to_string()
            .starts_with("invalid tokengate configuration")
    );
    assert!(
        Gate::builder()
            .build()
            .unwrap_err()
            .problems()
            .any(|p| p == "no issuer configured")
    );
}

#[test]
fn a_key_set_without_usable_keys_is_a_configuration_error() {
    let small_rsa = {
        let mut jwk = rs256().jwk();
        let (n, _) = rs256().rsa_modulus_exponent();
        jwk["n"] = json!(b64(&n[..128])); // 1024 bits
        jwk
    };
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(json!({"keys": [small_rsa]}).to_string()),
        )
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no usable key") && text.contains("2048"),
        "{text}"
    );
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .algorithms([Algorithm::ES256])
                .public_key_pem(rs256().public_pem(), Algorithm::RS256),
        )
        .build()
        .unwrap_err();
    assert!(
        err.problems()
            .any(|p| p.contains("not an allowed algorithm")),
        "{err}"
    );
    // A refused PEM is reported once, not again as "no usable key".
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .public_key_pem("garbage", Algorithm::RS256),
        )
        .build()
        .unwrap_err();
    let problems: Vec<&str> = err.problems().collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("PEM key refused: not a PEM block"),
        "{problems:?}"
    );
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .require_claim("sub"),
        )
        .require(Requirement::all_scopes(Vec::<String>::new()))
        .build()
        .unwrap_err();
    assert!(
        err.problems()
            .any(|p| p.contains("names nothing to require")),
        "{err}"
    );
}

#[test]
fn the_size_cap_is_checked_first_and_configurable() {
    let key = rs256();
    let big = with(
        valid_claims(),
        json!({"groups": vec!["00000000-0000-0000-0000-000000000000"; 2000]}),
    );
    let token = key.token(&big);
    assert!(token.len() > 64 * 1024);
    let default = gate(issuer(&[key]));
    assert_eq!(code(&default, &token), "token_too_large");
    assert_eq!(
        code(&default, &"x".repeat(64 * 1024 + 1)),
        "token_too_large"
    );
    let large = Gate::builder()
        .issuer(issuer(&[key]))
        .max_token_size(256 * 1024)
        .build()
        .unwrap();
    assert_eq!(code(&large, &token), "accepted");
}

#[test]
fn gates_are_cheap_to_share_across_threads() {
    let key = rs256();
    let gate = gate(issuer(&[key]));
    let token = key.token(&valid_claims());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let gate = gate.clone();
            let token = token.clone();
            scope.spawn(move || {
                for _ in 0..20 {
                    assert!(ready(gate.validate(&token)).is_ok());
                }
            });
        }
    });
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Gate>();
    // The future is Send, so the HTTP layer can run it on any worker.
    fn assert_send<T: Send>(_: T) {}
    assert_send(gate.validate(&token));
}
