//! ID tokens sent as access tokens, and what the preset tells the developer.

use tokengate::Rejection;
use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;

use TokenVersion::{V1, V2};

use super::support::{Authority, gate, single};

/// An Entra ID token as the authorization-code and hybrid flows issue it: no `nonce`, no
/// `scp` or `roles`, and the client nowhere but in `aud` (no `appid`, no `azp`).
fn nonce_less_id_token(entra: &Authority, version: TokenVersion) -> String {
    entra
        .token(version, entra.tenant())
        .audience(TestEntra::CLIENT_ID)
        .without_claim("appid")
        .without_claim("azp")
        .without_claim("scp")
        .without_claim("roles")
        .claim("name", "A. User")
        .sign()
}

/// An ID token without `nonce` is refused as `not_an_access_token` (not as "grants no scope
/// and no role", which sends developers looking for scopes), v1 and v2.
#[tokio::test]
async fn id_tokens_without_nonce_are_not_access_tokens() {
    let entra = Authority::shared();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let refused = gate
            .validate(&nonce_less_id_token(&entra, version))
            .await
            .unwrap_err();
        assert_eq!(refused, Rejection::NotAnAccessToken, "{version:?}");
        assert_eq!(refused.description(), "The token is not an access token.");
    }
}

/// The same under ACL authorization, where tokens without scopes or roles are accepted: an
/// ID token is still refused, while an app-only access token (with `appid` or `azp`) passes.
#[tokio::test]
async fn id_tokens_without_nonce_are_refused_under_acl_authorization() {
    let entra = Authority::shared();
    let acl = gate(&entra, single(&entra).allow_acl_authorization());
    for version in [V1, V2] {
        let refused = acl
            .validate(&nonce_less_id_token(&entra, version))
            .await
            .unwrap_err();
        assert_eq!(refused, Rejection::NotAnAccessToken, "{version:?}");
        let app_only = entra
            .token(version, entra.tenant())
            .without_claim("scp")
            .without_claim("roles")
            .sign();
        assert!(acl.validate(&app_only).await.is_ok(), "{version:?}");
    }
}
