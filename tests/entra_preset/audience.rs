//! A2. Audience (ENTRA-5..7, ATK-21).

use serde_json::Value;
use tokengate::providers::entra::{EntraApi, TokenVersion};
use tokengate::testing::TestEntra;

use TokenVersion::{V1, V2};

use super::support::{Authority, build_problems, gate, outcome, single};

/// ENTRA-5, ENTRA-6: the client id and `api://{client id}` are the API's own identifiers, for
/// v1 and v2 tokens alike; a token for any other resource is refused `invalid_audience`.
#[tokio::test]
async fn entra_5_6_client_id_and_api_uri_audiences() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let api_uri = format!("api://{}", TestEntra::CLIENT_ID);
    for version in [V1, V2] {
        for aud in [TestEntra::CLIENT_ID, api_uri.as_str()] {
            let token = entra.token(version, tid).audience(aud).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "accepted",
                "{version:?} {aud}"
            );
        }
        for aud in [
            TestEntra::CALLER_ID,
            "api://orders",
            "https://api.contoso.com/orders",
            "6F1E3C2A-9B4D-4E7F-8A15-2C3D4E5F6A7B",
        ] {
            let token = entra.token(version, tid).audience(aud).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "invalid_audience",
                "{version:?} {aud}"
            );
        }
    }
}

/// ENTRA-6, ENTRA-7: App ID URIs are accepted once configured, exactly; the trailing-slash
/// variant only with `accept_audience_trailing_slash`, and nothing else ever: no prefix, no
/// case folding, no trimming.
#[tokio::test]
async fn entra_7_app_id_uris_and_trailing_slash() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let token = |aud: &str| entra.token(V1, tid).audience(aud).sign();

    let plain = gate(&entra, single(&entra));
    let with_uris = gate(
        &entra,
        single(&entra)
            .app_id_uri("api://x")
            .app_id_uri("https://api.contoso.com/orders"),
    );
    let tolerant = gate(
        &entra,
        single(&entra)
            .app_id_uri("api://x")
            .app_id_uri("https://api.contoso.com/orders")
            .accept_audience_trailing_slash(),
    );
    for aud in ["api://x", "https://api.contoso.com/orders"] {
        assert_eq!(
            outcome(&plain, &token(aud)).await,
            "invalid_audience",
            "{aud}"
        );
        assert_eq!(outcome(&with_uris, &token(aud)).await, "accepted", "{aud}");
        assert_eq!(outcome(&tolerant, &token(aud)).await, "accepted", "{aud}");
    }
    for aud in ["api://x/", "https://api.contoso.com/orders/"] {
        assert_eq!(
            outcome(&with_uris, &token(aud)).await,
            "invalid_audience",
            "{aud} without the tolerance"
        );
        assert_eq!(outcome(&tolerant, &token(aud)).await, "accepted", "{aud}");
    }
    for aud in [
        "api://x.evil",
        "api://",
        "API://X",
        "api://X",
        "api://x ",
        " api://x",
        "api://xx",
        "api://x//",
        "api://x/y",
        "https://api.contoso.com/orders/x",
        "https://API.contoso.com/orders",
    ] {
        assert_eq!(
            outcome(&tolerant, &token(aud)).await,
            "invalid_audience",
            "{aud:?}"
        );
    }
    // The client id stays accepted beside App ID URIs; `api://{client id}` is an App ID URI
    // too, so its slash variant follows the tolerance (ENTRA-6).
    assert_eq!(
        outcome(&tolerant, &token(TestEntra::CLIENT_ID)).await,
        "accepted"
    );
    let default_uri = format!("api://{}/", TestEntra::CLIENT_ID);
    assert_eq!(outcome(&tolerant, &token(&default_uri)).await, "accepted");
    assert_eq!(
        outcome(&with_uris, &token(&default_uri)).await,
        "invalid_audience"
    );
    let client_slash = format!("{}/", TestEntra::CLIENT_ID);
    assert_eq!(
        outcome(&tolerant, &token(&client_slash)).await,
        "invalid_audience"
    );
}

/// ENTRA-6: "The application ID URI value must not end with a slash"; App ID URIs that are
/// empty, end with `/` or carry surrounding whitespace are configuration errors.
#[test]
fn entra_6_malformed_app_id_uris_are_refused_at_build() {
    for uri in ["", "api://x/", "api://x ", " api://x"] {
        let problems = build_problems(
            EntraApi::single_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47", TestEntra::CLIENT_ID)
                .app_id_uri(uri),
        );
        assert!(problems.contains("App ID URI"), "{uri:?}: {problems}");
    }
}

/// ATK-21: audience confusion through the preset: arrays with ours plus others pass, arrays
/// of others, Graph's audiences and wrong types do not.
#[tokio::test]
async fn atk_21_audience_confusion() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra).app_id_uri("api://x"));
    let with_aud = |aud: Value| entra.token(V2, tid).claim("aud", aud).sign();
    let cases = [
        (
            serde_json::json!([TestEntra::CLIENT_ID, "https://other.example"]),
            "accepted",
        ),
        (
            serde_json::json!(["https://other.example", "api://x"]),
            "accepted",
        ),
        (serde_json::json!([]), "invalid_audience"),
        (
            serde_json::json!(["api://x.evil", "API://X"]),
            "invalid_audience",
        ),
        (
            serde_json::json!("https://graph.microsoft.com"),
            "invalid_audience",
        ),
        (
            serde_json::json!("00000003-0000-0000-c000-000000000000"),
            "invalid_audience",
        ),
        (serde_json::json!([123]), "malformed_claims"),
        (serde_json::json!([["api://x"]]), "malformed_claims"),
    ];
    for (aud, expected) in cases {
        assert_eq!(
            outcome(&gate, &with_aud(aud.clone())).await,
            expected,
            "{aud}"
        );
    }
    let no_aud = entra.token(V2, tid).without_claim("aud").sign();
    assert_eq!(outcome(&gate, &no_aud).await, "missing_claim");
}
