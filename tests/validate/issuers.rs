//! Issuers, their algorithm allowlists and audiences.

use serde_json::json;
use tokengate::{Algorithm, Gate, IssuerProfile, Rejection};
use tokengate_testkit::{AUDIENCE, ISSUER, jwks, key_for, rs256, valid_claims};

use super::support::{code, gate, issuer, validate, with};

#[test]
fn issuers_are_matched_exactly_and_keys_stay_with_their_issuer() {
    let x = key_for(Algorithm::ES256);
    let y = key_for(Algorithm::ES384);
    let gate = Gate::builder()
        .issuer(issuer(&[x]))
        .issuer(
            IssuerProfile::new("https://accounts.example.org")
                .alternate_issuer("accounts.example.org")
                .audience(AUDIENCE)
                .jwks(jwks(&[y])),
        )
        .build()
        .unwrap();
    assert_eq!(code(&gate, &x.token(&valid_claims())), "accepted");
    for iss in ["https://accounts.example.org", "accounts.example.org"] {
        assert_eq!(
            code(&gate, &y.token(&with(valid_claims(), json!({"iss": iss})))),
            "accepted",
            "{iss}"
        );
        // X's key does not speak for Y (RFC 8725 §3.8).
        assert_eq!(
            code(&gate, &x.token(&with(valid_claims(), json!({"iss": iss})))),
            "unknown_key",
            "{iss}"
        );
    }
    for iss in [
        "https://issuer.example.com",
        "HTTPS://issuer.example.com/",
        "https://issuer.example.com//",
    ] {
        assert_eq!(
            code(&gate, &x.token(&with(valid_claims(), json!({"iss": iss})))),
            "untrusted_issuer",
            "{iss}"
        );
    }
    let err = validate(&gate, &x.token(&with(valid_claims(), json!({"iss": null})))).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "iss".into()
        }
    );
}

#[test]
fn the_algorithm_allowlist_is_per_issuer() {
    let key = rs256();
    let gate = gate(issuer(&[key]).algorithms([Algorithm::RS256]));
    assert_eq!(code(&gate, &key.token(&valid_claims())), "accepted");
    let ps = key_for(Algorithm::PS256);
    let gate = gate_with_two(&[Algorithm::RS256]);
    assert_eq!(
        code(&gate, &ps.token(&valid_claims())),
        "unsupported_algorithm"
    );

    fn gate_with_two(algs: &[Algorithm]) -> Gate {
        let profile = IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .algorithms(algs.iter().copied())
            .jwks(jwks(&[rs256()]));
        Gate::builder().issuer(profile).build().unwrap()
    }
}

#[test]
fn audiences_match_exactly_any_of_them() {
    let key = rs256();
    let gate =
        gate(issuer(&[key]).audiences(["api://second", "6e74172b-be56-4843-9ff4-e66a39bb12e3"]));
    for aud in [
        json!(AUDIENCE),
        json!("api://second"),
        json!(["other", AUDIENCE]),
        json!(["6e74172b-be56-4843-9ff4-e66a39bb12e3"]),
    ] {
        assert_eq!(
            code(
                &gate,
                &key.token(&with(valid_claims(), json!({"aud": aud})))
            ),
            "accepted",
            "{aud}"
        );
    }
    for aud in [
        json!("api://orders/"),
        json!("API://ORDERS"),
        json!("api://order"),
        json!([]),
        json!(["other"]),
    ] {
        assert_eq!(
            code(
                &gate,
                &key.token(&with(valid_claims(), json!({"aud": aud})))
            ),
            "invalid_audience",
            "{aud}"
        );
    }
    let missing = validate(
        &gate,
        &key.token(&with(valid_claims(), json!({"aud": null}))),
    )
    .unwrap_err();
    assert_eq!(
        missing,
        Rejection::MissingClaim {
            claim: "aud".into()
        }
    );
}
