//! Negative variants of a real token (T20).

use tokengate::Rejection;

use super::fixtures::{K01, K02, K06, K14, T20_CASE};
use super::support::{
    at, build, change_payload, entra, header_of, jwks_keys, jwks_of, outcome, validate,
};

/// Expiry with the default 60 s leeway: `now >= exp + 60` is expired.
#[test]
fn entra_t20_expiry_leeway_boundary() {
    let case = &T20_CASE;
    let gate = case.gate();
    let token = case.token();
    assert_eq!(outcome(&gate, token, at(case.exp)), "ok");
    assert_eq!(outcome(&gate, token, at(case.exp + 59)), "ok");
    assert_eq!(outcome(&gate, token, at(case.exp + 60)), "token_expired");
    assert_eq!(outcome(&gate, token, at(case.exp + 61)), "token_expired");
    // And at the other end: `nbf` (= `iat`) with the same leeway.
    assert_eq!(outcome(&gate, token, at(case.iat - 60)), "ok");
    assert_eq!(
        outcome(&gate, token, at(case.iat - 61)),
        "token_not_yet_valid"
    );
}

#[test]
fn entra_t20_wrong_audience() {
    let case = &T20_CASE;
    for aud in [
        "5f28c10f-ecd5-45ef-96b8-db4311802e89", // the client (azp), not the API
        "api://bff62dcb-88dc-4a13-9e26-1cbffb96ec64", // the App ID URI form
        "BFF62DCB-88DC-4A13-9E26-1CBFFB96EC64", // case differs
        "bff62dcb-88dc-4a13-9e26-1cbffb96ec6",  // a prefix
    ] {
        let gate = build(entra(case.iss, aud, case.keys));
        assert_eq!(
            validate(&gate, case.token(), case.at()).unwrap_err(),
            Rejection::InvalidAudience,
            "{aud}"
        );
    }
}

/// Issuers match exactly: the same tenant's v1 issuer, or the v2 issuer with a trailing slash,
/// is another issuer.
#[test]
fn entra_t20_issuer_must_match_exactly() {
    let case = &T20_CASE;
    let v1 = "https://sts.windows.net/966ac572-f5b7-4bbe-aa88-c76419c0f851/";
    let slash = format!("{}/", case.iss);
    let common_template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    for iss in [v1, slash.as_str(), common_template] {
        let gate = build(entra(iss, case.aud, case.keys));
        assert_eq!(
            validate(&gate, case.token(), case.at()).unwrap_err(),
            Rejection::UntrustedIssuer,
            "{iss}"
        );
    }
}

/// The right token against another real Entra key set: its `kid` is not there.
#[test]
fn entra_t20_wrong_key_file_is_unknown_key() {
    let case = &T20_CASE;
    for jwks in [K01, K02, K06] {
        let gate = build(entra(case.iss, case.aud, jwks));
        assert_eq!(
            validate(&gate, case.token(), case.at()).unwrap_err(),
            Rejection::UnknownKey
        );
    }
    // K14 without the signing key: the nine others are no substitute.
    let kid = header_of(case.token())["kid"].clone();
    let rest = jwks_of(jwks_keys(K14).into_iter().filter(|k| k["kid"] != kid));
    let gate = build(entra(case.iss, case.aud, &rest));
    assert_eq!(outcome(&gate, case.token(), case.at()), "unknown_key");
}

/// One payload character changed (`NAVident` Z993298 to Z993299), still valid JSON and
/// base64url, with Microsoft's signature kept.
#[test]
fn entra_t20_one_changed_payload_character_is_invalid_signature() {
    let case = &T20_CASE;
    let gate = case.gate();
    let forged = change_payload(
        case.token(),
        "\"NAVident\":\"Z993298\"",
        "\"NAVident\":\"Z993299\"",
    );
    assert_eq!(
        validate(&gate, &forged, case.at()).unwrap_err(),
        Rejection::InvalidSignature
    );
    // Elevating the scope the same way: refused for the signature, not for the claims.
    let elevated = change_payload(case.token(), "\"defaultaccess\"", "\"defaultaccesS\"");
    assert_eq!(outcome(&gate, &elevated, case.at()), "invalid_signature");
    assert_eq!(outcome(&gate, case.token(), case.at()), "ok");
}
