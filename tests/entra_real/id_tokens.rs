//! ID tokens and unsigned tokens.

use serde_json::json;
use tokengate::{IssuerProfile, Rejection};
use tokengate_testkit::{jwks, rs256};

use super::fixtures::{K01, N01_CASE, T05_CASE, T13_CASE};
use super::support::{
    KRIMP, NGTF, build, change_payload, entra, header_of, jwks_keys, jwks_of, k08_as_entra,
    outcome, payload_of, validate,
};

/// T05 (ATK-32): a real v1 ID token (it has a `nonce`) is not an access token, though its
/// signature is Microsoft's.
#[test]
fn entra_t05_atk32_id_token_is_not_an_access_token() {
    let case = &T05_CASE;
    assert_eq!(payload_of(case.token())["nonce"], "eDBXVqk40ng5BarS");
    assert_eq!(
        validate(&case.gate(), case.token(), case.at()).unwrap_err(),
        Rejection::NotAnAccessToken
    );
    // The signature is valid: allowing `nonce` (the Keycloak < 24 setting) lets it through,
    // and the nonce was the only reason for the refusal.
    let lenient = build(case.profile().allow_nonce_claim());
    let claims = validate(&lenient, case.token(), case.at()).unwrap();
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(
        claims.subject(),
        Some("1JMdzOxJyWeCoc5QsYvDPcoZtqhuWIZxgmHnCzQTXaQ")
    );
    // And a forged copy is caught by the signature, before any claim is looked at.
    let forged = change_payload(case.token(), "robot 1", "robot 2");
    assert_eq!(outcome(&lenient, &forged, case.at()), "invalid_signature");
    assert_eq!(
        outcome(&case.gate(), &forged, case.at()),
        "invalid_signature"
    );
}

/// T13: the 2014 ID token whose header names its key only by `x5t` (no `kid`).
///
/// K08, the key file it was published with, cannot be loaded verbatim (see
/// `key_hygiene_k08_verbatim_is_refused`); these tests use K08's two keys as Entra publishes
/// keys: no `alg`, no `key_ops`, base64url moduli (`k08_as_entra`).
///
/// STD-JWS-3: tokengate never selects keys by `x5t`. ATK-44: without a `kid` and with two RSA
/// keys, the token must name its key: `missing_key_id`, although `x5t` matches exactly one.
#[test]
fn entra_t13_atk44_no_kid_two_keys_is_missing_key_id() {
    let case = &T13_CASE;
    assert_eq!(
        header_of(case.token()),
        json!({"typ": "JWT", "alg": "RS256", "x5t": KRIMP}),
        "x5t only"
    );
    // K08's two keys as Entra publishes keys (see `k08_as_entra`).
    let both = jwks_of([k08_as_entra(NGTF), k08_as_entra(KRIMP)]);
    let gate = build(entra(case.iss, case.aud, &both));
    assert_eq!(
        validate(&gate, case.token(), case.at()).unwrap_err(),
        Rejection::MissingKeyId
    );
    // The same with the matching key among real Entra signing keys (K01's two).
    let mut keys = jwks_keys(K01);
    keys.push(k08_as_entra(KRIMP));
    let gate = build(entra(case.iss, case.aud, &jwks_of(keys)));
    assert_eq!(outcome(&gate, case.token(), case.at()), "missing_key_id");
}

/// T13 with a key set holding only its key: the one RS256 key is selected without a
/// `kid`, the signature verifies, and the claims decide: the token has a `nonce` and a
/// `c_hash` (a hybrid-flow ID token), so it is `not_an_access_token` (ATK-32), even with
/// `allow_nonce_claim`, which does not excuse `c_hash`.
#[test]
fn entra_t13_atk32_single_key_gets_past_key_selection() {
    let case = &T13_CASE;
    let payload = payload_of(case.token());
    assert!(payload["nonce"].is_string() && payload["c_hash"].is_string());

    let only = jwks_of([k08_as_entra(KRIMP)]);
    let gate = build(entra(case.iss, case.aud, &only));
    assert_eq!(
        validate(&gate, case.token(), case.at()).unwrap_err(),
        Rejection::NotAnAccessToken
    );
    let lenient = build(entra(case.iss, case.aud, &only).allow_nonce_claim());
    assert_eq!(
        outcome(&lenient, case.token(), case.at()),
        "not_an_access_token"
    );

    // Claim rejections come only after the signature verified: a one-character forgery of
    // the same token is refused for its signature instead, so the real one did verify.
    let forged = change_payload(case.token(), "\"Bob\"", "\"Rob\"");
    assert_eq!(outcome(&gate, &forged, case.at()), "invalid_signature");

    // With the other K08 key only, the single RS256 key is tried and does not verify.
    let other = jwks_of([k08_as_entra(NGTF)]);
    let gate = build(entra(case.iss, case.aud, &other));
    assert_eq!(outcome(&gate, case.token(), case.at()), "invalid_signature");
}

/// N01: a real Entra ID token re-served with `alg: none` and no signature.
#[test]
fn entra_n01_alg_none_is_unsupported_algorithm() {
    let case = &N01_CASE;
    assert_eq!(header_of(case.token())["alg"], "none");
    assert!(case.token().ends_with('.'), "empty signature");
    assert_eq!(
        validate(&case.gate(), case.token(), case.at()).unwrap_err(),
        Rejection::UnsupportedAlgorithm
    );
    // Even for an issuer that allows every algorithm tokengate knows.
    let gate = build(
        IssuerProfile::new(case.iss)
            .audience(case.aud)
            .jwks(jwks(&[rs256()])),
    );
    assert_eq!(
        outcome(&gate, case.token(), case.at()),
        "unsupported_algorithm"
    );
}
