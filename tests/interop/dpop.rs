//! DPoP (RFC 9449) with a real provider. The test is the client, as a client library would be:
//! its own proof key and proofs (tokengate's `DpopKey`) at oidc-provider's token endpoint,
//! which requires its server nonce (§8) and binds the token to the proof's key (`cnf.jkt`,
//! its own RFC 7638 thumbprint); then fresh proofs with that token at an API behind
//! `TokenLayer` (ATK-36; `htu` is the layer's `public_url` and the path, STD-DPOP-6).

use http::header::AUTHORIZATION;
use http::{Method, StatusCode};
use serde_json::Value;
use tokengate::testing::DpopKey;
use tokengate::{Algorithm, Dpop, DpopMode, Gate, TokenLayer};

use super::idp::Idp;
use super::support::{
    Answer, Api, DPOP_AGENT, ORDERS_SERVICE, header, key_cache, payload, profile,
};

/// The proof algorithms: every one the provider is configured to accept (server.mjs).
const PROOF_ALGORITHMS: [Algorithm; 5] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::PS256,
    Algorithm::RS256,
    Algorithm::EdDSA,
];

const ALGS: &str = "ES256 ES384 PS256 RS256 EdDSA";

const BOUND: &str = "The access token is bound to a key and is not accepted as a bearer token.";
const REPLAYED: &str = "The DPoP proof has been used before.";
const WRONG_METHOD: &str = "The DPoP proof is invalid: check htm.";
const WRONG_URI: &str = "The DPoP proof is invalid: check htu.";
const REQUIRED: &str = "The access token must be DPoP-bound and presented with the DPoP scheme.";

/// The provider, for an API that takes its DPoP-bound tokens in this mode.
fn gate(idp: &Idp, mode: DpopMode) -> Gate {
    Gate::builder()
        .issuer(profile(idp).dpop(mode))
        .dpop(Dpop::new().algorithms(PROOF_ALGORITHMS))
        .key_cache(key_cache())
        .build()
        .expect("valid gate")
}

/// An API whose clients call it at its own loopback address, over plain HTTP.
async fn api(idp: &Idp, mode: DpopMode) -> Api {
    let gate = gate(idp, mode);
    Api::serve_with(|url| TokenLayer::builder(gate).public_url(url).build().unwrap()).await
}

/// A token request of `dpop-agent` with a proof of `key`, and the provider's answer.
async fn token_request(
    idp: &Idp,
    key: &DpopKey,
    nonce: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut proof = key.proof(&Method::POST, &idp.token_endpoint);
    if let Some(nonce) = nonce {
        proof = proof.nonce(nonce);
    }
    let proof = proof.sign();
    idp.secrets().token(&proof);
    let response = idp
        .ask(&DPOP_AGENT)
        .alg(Algorithm::ES256)
        .request(&idp.http, &idp.token_endpoint)
        .header("dpop", &proof)
        .send()
        .await
        .expect("token request");
    let status = response.status();
    let nonce = response
        .headers()
        .get("dpop-nonce")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = serde_json::from_str(&response.text().await.unwrap()).expect("JSON");
    (status, body, nonce)
}

/// A DPoP-bound token for `key`. The provider requires its nonce: the first proof gets
/// `use_dpop_nonce` with a `DPoP-Nonce` header, and a second proof carrying it gets the token.
async fn dpop_token(idp: &Idp, key: &DpopKey) -> String {
    let (status, body, nonce) = token_request(idp, key, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "use_dpop_nonce", "{body}");
    let nonce = nonce.expect("a DPoP-Nonce header with use_dpop_nonce");

    let (status, body, _) = token_request(idp, key, Some(&nonce)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = idp.ask(&DPOP_AGENT).issued(&body, "DPoP");
    assert_eq!(header(&token)["typ"], "at+jwt");
    // The provider's thumbprint of the proof's key (jose's) is tokengate's.
    assert_eq!(
        payload(&token)["cnf"]["jkt"],
        key.thumbprint(),
        "{}",
        payload(&token)
    );
    token
}

/// `GET /orders` with `Authorization: DPoP` and this proof.
async fn get_dpop(api: &Api, token: &str, proof: &str) -> Answer {
    let authorization = format!("DPoP {token}");
    api.send(
        "/orders",
        &[(AUTHORIZATION.as_str(), &authorization), ("dpop", proof)],
    )
    .await
}

/// A fresh proof of `key` for `GET /orders` of `api`, presenting `token`.
fn proof(idp: &Idp, api: &Api, key: &DpopKey, token: &str) -> String {
    let proof = key
        .proof(&Method::GET, &format!("{}/orders", api.base))
        .token(token)
        .sign();
    idp.secrets().token(&proof);
    proof
}

#[track_caller]
fn assert_refused(answer: &Answer, code: &str, challenge: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.code(), code, "{answer:?}");
    assert_eq!(answer.challenge.as_deref(), Some(challenge), "{answer:?}");
    tokengate_testkit::challenge::parse(challenge).expect("an RFC 9110 challenge");
}

/// ATK-36 with the provider's tokens, for a proof key of every algorithm both sides accept:
/// accepted with a fresh proof; refused as a bearer token (RFC 9449 §7.2), with its proof
/// replayed, and with proofs made for other requests (§4.3: `htm`, `htu`).
#[tokio::test(flavor = "multi_thread")]
async fn atk_36_dpop_bound_tokens_of_oidc_provider() {
    let idp = Idp::start().await;
    let api = api(&idp, DpopMode::Allowed).await;

    for alg in PROOF_ALGORITHMS {
        let key = DpopKey::generate(alg);
        let token = dpop_token(&idp, &key).await;

        let fresh = proof(&idp, &api, &key, &token);
        let answer = get_dpop(&api, &token, &fresh).await;
        answer.assert_ok();
        assert_eq!(answer.body, "orders of dpop-agent", "{alg:?}");

        assert_refused(
            &api.get("/orders", &token).await,
            "sender_constrained_token",
            &format!(
                r#"Bearer error="invalid_token", error_description="{BOUND}", DPoP algs="{ALGS}""#
            ),
        );
        assert_refused(
            &get_dpop(&api, &token, &fresh).await,
            "dpop_proof_replayed",
            &format!(
                r#"Bearer, DPoP error="invalid_dpop_proof", error_description="{REPLAYED}", algs="{ALGS}""#
            ),
        );
        // Proofs of the same key made for other requests: the token request, and the same
        // path at another origin (the provider's).
        let for_token_endpoint = key.proof(&Method::POST, &idp.token_endpoint).sign();
        let elsewhere = key
            .proof(&Method::GET, &format!("{}/orders", idp.issuer))
            .token(&token)
            .sign();
        for (proof, description) in [(for_token_endpoint, WRONG_METHOD), (elsewhere, WRONG_URI)] {
            idp.secrets().token(&proof);
            assert_refused(
                &get_dpop(&api, &token, &proof).await,
                "invalid_dpop_proof",
                &format!(
                    r#"Bearer, DPoP error="invalid_dpop_proof", error_description="{description}", algs="{ALGS}""#
                ),
            );
        }
    }
    idp.assert_logs_secret_free().await;
}

/// An API that takes only DPoP-bound tokens refuses the provider's bearer tokens, and takes
/// its DPoP-bound ones.
#[tokio::test(flavor = "multi_thread")]
async fn dpop_required_refuses_the_providers_bearer_tokens() {
    let idp = Idp::start().await;
    let api = api(&idp, DpopMode::Required).await;

    let bearer = idp.ask(&ORDERS_SERVICE).send().await;
    assert_refused(
        &api.get("/orders", &bearer).await,
        "dpop_required",
        &format!(r#"DPoP error="invalid_token", error_description="{REQUIRED}", algs="{ALGS}""#),
    );
    let key = DpopKey::generate(Algorithm::ES256);
    let token = dpop_token(&idp, &key).await;
    get_dpop(&api, &token, &proof(&idp, &api, &key, &token))
        .await
        .assert_ok();
    idp.assert_logs_secret_free().await;
}
