//! Glewlwyd's access tokens as they are: RFC 9068 `at+jwt`, `nbf` and its own `type` claim,
//! RS256 and EdDSA signatures.

use http::StatusCode;
use serde_json::json;
use tokengate::TokenProfile;

use super::api::{Api, BAD_SIGNATURE};
use super::gate::{gate, loopback_keys, profile};
use super::provider::{ED25519_KID, EDGE_WORKER, Glewlwyd, ORDERS, ORDERS_SERVICE, RSA_KID};
use tokengate_testkit::token_parts::{altered_signature, header, payload};

/// Glewlwyd's tokens carry every claim RFC 9068 §2.2 requires, and `typ: at+jwt`: the strict
/// profile takes them.
#[tokio::test(flavor = "multi_thread")]
async fn at_jwt_tokens_pass_the_strict_rfc9068_profile() {
    let glewlwyd = Glewlwyd::start().await;
    let strict = gate(
        profile(&glewlwyd).token_profile(TokenProfile::Rfc9068),
        loopback_keys(),
    );
    let api = Api::serve(strict).await;
    for client in [&ORDERS_SERVICE, &EDGE_WORKER] {
        let token = glewlwyd.token(client).send().await;
        assert_eq!(header(&token)["typ"], "at+jwt");
        let claims = payload(&token);
        for name in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
            assert!(claims.get(name).is_some(), "no {name} in {claims}");
        }
        api.get("/orders", &token).await.assert_ok();
    }
    glewlwyd.assert_logs_secret_free().await;
}

/// Besides the RFC 9068 claims Glewlwyd writes `nbf` (equal to `iat`) and a non-standard
/// `type: access_token`; neither stops a token, and the handler reads the client and the
/// scopes from the claims tokengate normalizes.
#[tokio::test(flavor = "multi_thread")]
async fn nbf_and_extra_claims_are_accepted_and_read() {
    let glewlwyd = Glewlwyd::start().await;
    let api = Api::serve(gate(profile(&glewlwyd), loopback_keys())).await;
    let token = glewlwyd
        .token(&ORDERS_SERVICE)
        .scope("orders.read orders.write")
        .send()
        .await;
    let claims = payload(&token);
    assert_eq!(claims["type"], "access_token");
    assert_eq!(claims["client_id"], ORDERS_SERVICE.id);
    assert!(claims["nbf"].is_u64(), "no nbf in {claims}");

    let answer = api.get("/orders", &token).await;
    answer.assert_ok();
    assert_eq!(
        answer.json(),
        json!({
            "issuer": glewlwyd.issuer,
            "subject": ORDERS_SERVICE.id,
            "client_id": ORDERS_SERVICE.id,
            "audiences": [ORDERS],
            "scopes": ["orders.read", "orders.write"],
            "not_before": claims["nbf"],
            "issued_at": claims["iat"],
            "type": "access_token",
        })
    );
    glewlwyd.assert_logs_secret_free().await;
}

/// Glewlwyd publishes Ed25519 keys as OKP JWKs; the client whose `sign_kid` names one gets
/// EdDSA tokens, verified beside the RS256 ones from the same key set.
#[tokio::test(flavor = "multi_thread")]
async fn ed25519_keys_verify_eddsa_tokens() {
    let glewlwyd = Glewlwyd::start().await;
    let published = glewlwyd.jwks().await.text().await.unwrap();
    let published: serde_json::Value = serde_json::from_str(&published).unwrap();
    let okp = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == ED25519_KID)
        .expect("the Ed25519 key published");
    assert_eq!(
        (&okp["kty"], &okp["crv"], &okp["alg"]),
        (&json!("OKP"), &json!("Ed25519"), &json!("EdDSA"))
    );
    assert!(okp.get("d").is_none(), "a private key published");

    let gate = gate(profile(&glewlwyd), loopback_keys());
    let api = Api::serve(gate.clone()).await;
    let eddsa = glewlwyd.token(&EDGE_WORKER).send().await;
    assert_eq!(header(&eddsa)["alg"], "EdDSA");
    assert_eq!(header(&eddsa)["kid"], ED25519_KID);
    let answer = api.get("/orders", &eddsa).await;
    answer.assert_ok();
    assert_eq!(answer.json()["client_id"], EDGE_WORKER.id);

    let rs256 = glewlwyd.token(&ORDERS_SERVICE).send().await;
    assert_eq!(header(&rs256)["kid"], RSA_KID);
    api.get("/orders", &rs256).await.assert_ok();
    assert_eq!(gate.key_status()[0].keys, 2);

    // The signature is checked, not only the key found.
    let forged = altered_signature(&eddsa);
    glewlwyd.secrets().token(&forged);
    api.get("/orders", &forged).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        BAD_SIGNATURE,
    );
    glewlwyd.assert_logs_secret_free().await;
}
