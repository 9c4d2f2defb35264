//! A9. Lifetimes and claims challenges (ENTRA-31..35).

use std::time::Duration;

use http::StatusCode;
use tokengate::providers::entra::TokenVersion;

use TokenVersion::{V1, V2};

use super::support::{
    Authority, T, app, build_problems, call, gate, outcome, outcome_at, single, times,
};

/// ENTRA-31: a CAE token living 28 h validates through its whole life: the preset sets no
/// maximum token age.
#[tokio::test]
async fn entra_31_cae_28_hour_token_validates() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let hour = 3600;
    for version in [V1, V2] {
        let token = times(entra.token(version, tid), T, T, T + 28 * hour).sign();
        for now in [T, T + hour, T + 20 * hour, T + 27 * hour, T + 28 * hour - 1] {
            assert_eq!(
                outcome_at(&gate, &token, now).await,
                "accepted",
                "{version:?} at +{} s",
                now - T
            );
        }
        assert_eq!(
            outcome_at(&gate, &token, T + 28 * hour + 300).await,
            "token_expired"
        );
        // And now, with the real clock.
        let token = entra
            .token(version, tid)
            .expires_in(Duration::from_secs(28 * 3600))
            .sign();
        assert_eq!(outcome(&gate, &token).await, "accepted");
    }
}

/// ENTRA-33, ENTRA-34, ENTRA-35: step-up with authentication contexts on a preset gate: a
/// token whose `acrs` has the context passes; a `cp1` client (any case) without it gets the
/// claims challenge, 401 `insufficient_claims`, tenant-specific; another client a plain 403.
#[tokio::test]
async fn entra_33_35_claims_challenge_through_the_preset() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let api = app(gate(&entra, single(&entra)), tid, entra.instance());
    for version in [V1, V2] {
        let ok = entra.token(version, tid).claim("acrs", ["c1"]).sign();
        assert_eq!(call(&api, "/pay", &ok).await.0, StatusCode::OK);

        for cc in [serde_json::json!(["cp1"]), serde_json::json!(["CP1"])] {
            let token = entra
                .token(version, tid)
                .claim("acrs", ["c2"])
                .claim("xms_cc", &cc)
                .sign();
            let (status, challenge) = call(&api, "/pay", &token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{cc}");
            assert_eq!(
                challenge,
                format!(
                    "Bearer realm=\"{tid}\", authorization_uri=\"{}/{tid}/oauth2/authorize\", \
                     error=\"insufficient_claims\", claims=\"{}\"",
                    entra.instance(),
                    base64_simd::STANDARD.encode_to_string(
                        r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#
                    )
                )
            );
        }
        let no_cp1 = entra.token(version, tid).claim("xms_cc", ["cp2"]).sign();
        let (status, challenge) = call(&api, "/pay", &no_cp1).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
    }
}

/// ENTRA-37: the preset's leeway is 300 s, as Microsoft's: `exp` 299 s ago passes, 300 or 301
/// s ago does not; `nbf` and `iat` alike. It is configurable, up to 10 minutes.
#[tokio::test]
async fn entra_37_leeway_300_seconds_and_configurable() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let default = gate(&entra, single(&entra));
    let short = gate(&entra, single(&entra).leeway(Duration::from_secs(60)));
    for version in [V1, V2] {
        let token =
            |iat: u64, nbf: u64, exp: u64| times(entra.token(version, tid), iat, nbf, exp).sign();
        let cases = [
            // (gate, token, expected)
            (&default, token(T - 3600, T - 3600, T - 299), "accepted"),
            (
                &default,
                token(T - 3600, T - 3600, T - 300),
                "token_expired",
            ),
            (
                &default,
                token(T - 3600, T - 3600, T - 301),
                "token_expired",
            ),
            (&default, token(T, T + 299, T + 3600), "accepted"),
            (&default, token(T, T + 301, T + 3600), "token_not_yet_valid"),
            (&default, token(T + 299, T, T + 3600), "accepted"),
            (&default, token(T + 301, T, T + 3600), "issued_in_future"),
            (&short, token(T - 3600, T - 3600, T - 59), "accepted"),
            (&short, token(T - 3600, T - 3600, T - 61), "token_expired"),
            (&short, token(T - 3600, T - 3600, T - 299), "token_expired"),
            (&short, token(T, T + 61, T + 3600), "token_not_yet_valid"),
        ];
        for (i, (gate, token, expected)) in cases.iter().enumerate() {
            assert_eq!(
                outcome_at(gate, token, T).await,
                *expected,
                "{version:?} case {i}"
            );
        }
    }
    let problems = build_problems(
        single(&entra)
            .instance(entra.instance())
            .leeway(Duration::from_secs(601)),
    );
    assert!(problems.contains("leeway"), "{problems}");
}
