//! The Microsoft Entra ID preset (`tokengate::entra`), test by test after the ENTRA-* ids of
//! the requirements checklist.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
use serde_json::{Value, json};
use tokengate::providers::entra::{AuthContext, ChallengeTarget};
use tokengate::{Claims, Gate, IssuerProfile, Rejection, TokenLayer};
use tower::ServiceExt;

use tokengate_testkit::{AUDIENCE, ISSUER, jwks, ready, rs256, valid_claims};

// ---------------------------------------------------------------------------------------------
// Claims challenges (ENTRA-33..35), on tokens from a plain issuer: the helper reads `acrs` and
// `xms_cc` from any verified claims.

fn plain_gate() -> Gate {
    Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(jwks(&[rs256()])),
        )
        .build()
        .unwrap()
}

fn claims_with(extra: Value) -> Arc<Claims> {
    let mut claims = valid_claims();
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    let token = rs256().token(&claims);
    ready(plain_gate().validate(&token)).expect("valid token")
}

fn decode_claims_param(b64: &str) -> Value {
    let json = base64_simd::STANDARD
        .decode_to_vec(b64)
        .expect("padded standard base64");
    serde_json::from_slice(&json).unwrap()
}

#[test]
fn entra_35_satisfied_auth_context_passes() {
    let step_up = AuthContext::require(["c1", "c25"]).unwrap();
    assert_eq!(
        step_up.check(&claims_with(json!({"acrs": ["c25", "c1", "c3"]}))),
        Ok(())
    );
    assert_eq!(
        step_up
            .check(&claims_with(json!({"acrs": ["c1"], "xms_cc": ["cp1"]})))
            .unwrap_err()
            .code(),
        "insufficient_claims"
    );
}

#[test]
fn entra_34_no_challenge_without_cp1() {
    let step_up = AuthContext::require(["c1"]).unwrap();
    for extra in [
        json!({}),
        json!({"acrs": ["c2"]}),
        json!({"acrs": ["c2"], "xms_cc": ["cp2"]}),
        json!({"acrs": "c1x", "xms_cc": 7}),
    ] {
        let refused = step_up.check(&claims_with(extra.clone())).unwrap_err();
        assert_eq!(refused, Rejection::MissingAuthContext, "{extra}");
        assert_eq!(refused.class().status(), 403);
    }
    // `cp1` in any case, as a string or in an array, is the capability (MSAL.js sends CP1).
    for cc in [json!(["CP1"]), json!("cp1"), json!(["x", "Cp1"])] {
        let refused = step_up
            .check(&claims_with(json!({"xms_cc": cc.clone()})))
            .unwrap_err();
        assert_eq!(refused.code(), "insufficient_claims", "{cc}");
        assert_eq!(refused.class().status(), 401);
    }
}

#[test]
fn entra_33_claims_challenge_exact_format() {
    let step_up = AuthContext::require(["c1"]).unwrap();
    let refused = step_up
        .check(&claims_with(json!({"xms_cc": ["cp1"]})))
        .unwrap_err();
    let denial = tokengate::Denial::new(refused);
    let response = denial.default_response();
    assert_eq!(response.status(), 401);
    let header = response.headers()["www-authenticate"].to_str().unwrap();
    // Golden string: Microsoft's documented shape, with the claims of c1.
    assert_eq!(
        header,
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
         error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19\""
    );
    let claims = header
        .rsplit_once("claims=\"")
        .unwrap()
        .1
        .trim_end_matches('"');
    assert_eq!(
        decode_claims_param(claims),
        json!({"access_token": {"acrs": {"essential": true, "value": "c1"}}})
    );

    // Tenant-specific flows name the tenant in realm and authorization_uri; two missing
    // contexts are asked for together.
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let target = ChallengeTarget::tenant("https://login.microsoftonline.com", tenant).unwrap();
    let step_up = AuthContext::require(["c1", "c2"]).unwrap().target(target);
    let refused = step_up
        .check(&claims_with(json!({"xms_cc": ["cp1"], "acrs": ["c9"]})))
        .unwrap_err();
    let Rejection::InsufficientClaims { challenge } = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(challenge.realm(), tenant);
    assert_eq!(
        challenge.authorization_uri(),
        format!("https://login.microsoftonline.com/{tenant}/oauth2/authorize")
    );
    assert_eq!(
        decode_claims_param(challenge.claims()),
        json!({"access_token": {"acrs": {"essential": true, "values": ["c1", "c2"]}}})
    );
}

#[tokio::test]
async fn entra_35_step_up_as_a_route_layer() {
    let step_up = AuthContext::require(["c1"]).unwrap();
    let app = Router::new()
        .route("/pay", get(|| async { "paid" }))
        .route_layer(step_up.layer())
        .layer(TokenLayer::new(plain_gate()));
    let send = |extra: Value| {
        let mut claims = valid_claims();
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        let token = rs256().token(&claims);
        let app = app.clone();
        async move {
            let request = Request::get("/pay")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            app.oneshot(request).await.unwrap()
        }
    };
    assert_eq!(send(json!({"acrs": ["c1"]})).await.status(), 200);
    let challenged = send(json!({"xms_cc": ["cp1"]})).await;
    assert_eq!(challenged.status(), 401);
    assert!(
        challenged.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"insufficient_claims\"")
    );
    let refused = send(json!({})).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", error_description=\"The access token does not satisfy the required authentication context.\""
    );
}

#[test]
fn entra_35_auth_context_ids_are_checked() {
    let refused = AuthContext::require(["c1", "acr1", "c100", "c"]).unwrap_err();
    let problems: Vec<&str> = refused.problems().collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| p.contains("is not an authentication context id")),
        "{problems:?}"
    );
    assert!(AuthContext::require(Vec::<String>::new()).is_err());
    assert!(AuthContext::require(["c1", "c99"]).is_ok());
    // What a challenge cannot quote is refused too.
    assert!(ChallengeTarget::tenant("https://login.microsoftonline.com", "a\"b").is_err());
}

// ---------------------------------------------------------------------------------------------
// The preset against an Entra-shaped authority on loopback (`testing::TestEntra`).

mod preset {
    use std::time::Duration;

    use tokengate::providers::entra::{EntraApi, TokenVersion};
    use tokengate::testing::TestEntra;
    use tokengate::{Gate, KeyCacheSettings};

    pub(super) fn gate(entra: &TestEntra, api: EntraApi) -> Gate {
        Gate::builder()
            .issuer(api.instance(entra.instance()))
            .key_cache(
                KeyCacheSettings::default()
                    .allow_http_loopback()
                    .cooldown(Duration::from_secs(1)),
            )
            .build()
            .unwrap()
    }

    pub(super) fn single(entra: &TestEntra) -> EntraApi {
        EntraApi::single_tenant(entra.tenant(), TestEntra::CLIENT_ID)
    }

    #[tokio::test]
    async fn entra_3_both_versions_each_against_its_metadata() {
        let entra = TestEntra::start().await.unwrap();
        let gate = gate(&entra, single(&entra));
        let v1 = entra.token(TokenVersion::V1, entra.tenant()).user().sign();
        let v2 = entra.token(TokenVersion::V2, entra.tenant()).user().sign();
        let claims = gate.validate(&v1).await.expect("v1 token");
        assert_eq!(claims.issuer(), entra.v1_issuer(entra.tenant()));
        let claims = gate.validate(&v2).await.expect("v2 token");
        assert_eq!(claims.issuer(), entra.v2_issuer(entra.tenant()));
        assert_eq!(claims.tenant_id(), Some(entra.tenant()));

        let v2_only = gate_with_versions(&entra, [TokenVersion::V2]);
        assert!(v2_only.validate(&v2).await.is_ok());
        assert_eq!(
            v2_only.validate(&v1).await.unwrap_err().code(),
            "untrusted_issuer"
        );
    }

    fn gate_with_versions(
        entra: &TestEntra,
        versions: impl IntoIterator<Item = TokenVersion>,
    ) -> Gate {
        gate(entra, single(entra).versions(versions))
    }
}
