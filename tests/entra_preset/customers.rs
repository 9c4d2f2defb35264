//! Personal Microsoft accounts, Entra External ID and Azure AD B2C: the presets for
//! consumer-facing APIs.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokengate::providers::entra::{AzureAdB2c, EntraApi, EntraExternalId, TokenVersion};
use tokengate::testing::TestEntra;
use tokengate::{Gate, KeyCacheSettings};
use tokengate_testkit::provider::Provider;
use tokengate_testkit::{jwks, rs256};

use TokenVersion::{V1, V2};

use super::support::{Authority, build_problems, gate, outcome};

/// Personal accounts: v2 tokens of the consumer tenant pass; an organization's tokens, and v1
/// tokens, do not.
#[tokio::test]
async fn personal_accounts_accept_consumer_tenant_tokens_only() {
    let entra = Authority::shared();
    let gate = gate(&entra, EntraApi::personal_accounts(TestEntra::CLIENT_ID));
    let consumer = entra.token(V2, "consumers").sign();
    assert_eq!(outcome(&gate, &consumer).await, "accepted");
    let claims = gate.validate(&consumer).await.unwrap();
    assert_eq!(claims.tenant_id(), Some(TestEntra::CONSUMERS_TENANT));
    let organization = entra.token(V2, entra.tenant()).sign();
    assert_eq!(outcome(&gate, &organization).await, "untrusted_issuer");
    let v1 = entra.token(V1, "consumers").sign();
    assert_eq!(outcome(&gate, &v1).await, "untrusted_issuer");
}

/// Client ids are compared exactly, as Microsoft compares audiences: an upper-case GUID in
/// the configuration is a mistake reported by `build()`, never silently lower-cased.
#[test]
fn client_ids_are_exact() {
    let upper = TestEntra::CLIENT_ID.to_ascii_uppercase();
    let problems = build_problems(EntraApi::single_tenant(
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        upper,
    ));
    assert!(problems.contains("write it in lowercase"), "{problems}");
    let problems =
        build_problems(EntraApi::personal_accounts(TestEntra::CLIENT_ID).versions([V1, V2]));
    assert!(problems.contains("v2 tokens only"), "{problems}");
}

/// External ID: the tenant's v2 metadata names the issuer (`{authority}/{tid}/v2.0` here);
/// Entra's rules then apply: `tid`, `azp`, a scope or role.
#[tokio::test]
async fn external_id_tokens_follow_the_entra_rules() {
    let entra = Authority::shared();
    let tenant = entra.tenant().to_owned();
    let external =
        EntraExternalId::new("unused", &tenant, TestEntra::CLIENT_ID).authority(entra.instance());
    let gate = Gate::builder()
        .issuer(external)
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .build()
        .unwrap();
    assert_eq!(
        outcome(&gate, &entra.token(V2, &tenant).sign()).await,
        "accepted"
    );
    let id_token = entra
        .token(V2, &tenant)
        .without_claim("azp")
        .without_claim("appid")
        .sign();
    assert_eq!(outcome(&gate, &id_token).await, "not_an_access_token");
    let nothing = entra
        .token(V2, &tenant)
        .without_claim("scp")
        .without_claim("roles")
        .sign();
    assert_eq!(outcome(&gate, &nothing).await, "no_scope_or_role");
    let other_tenant = Authority::shared();
    let foreign = other_tenant.token(V2, other_tenant.tenant()).sign();
    assert_eq!(outcome(&gate, &foreign).await, "untrusted_issuer");
    let problems = build_problems(EntraExternalId::new(
        "x",
        "not-a-guid",
        TestEntra::CLIENT_ID,
    ));
    assert!(problems.contains("not a lowercase GUID"), "{problems}");
}

const B2C_TENANT: &str = "4c2d5a1e-8b3f-4e6a-9c7d-1e2f3a4b5c6d";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A B2C user flow's access token, as Microsoft documents one: `ver` 1.0 despite the `/v2.0/`
/// issuer, `tfp`, `scp`, `azp`, a `nonce`, and no `tid`.
fn b2c_claims(iss: &str) -> serde_json::Value {
    let now = now();
    json!({
        "iss": iss, "aud": TestEntra::CLIENT_ID, "sub": "5f1c", "oid": "5f1c",
        "ver": "1.0", "tfp": "B2C_1_signupsignin", "scp": "orders.read", "azp": "a1b2",
        "nonce": "defaultNonce", "iat": now, "nbf": now, "exp": now + 3600,
    })
}

/// B2C: the user flow's metadata (per policy) names the issuer, with its trailing slash;
/// tokens of that issuer pass, a `nonce` included; the slash-less issuer does not.
#[tokio::test]
async fn b2c_user_flow_tokens_are_accepted_at_the_issuer_its_metadata_names() {
    let key = rs256();
    let provider = Provider::start(jwks(&[key])).await;
    let iss = format!("{}/{B2C_TENANT}/v2.0/", provider.base);
    provider.set(|state| {
        state.issuer = Some(iss.clone());
        state.discovery_anywhere = true;
    });
    let flow = AzureAdB2c::new(
        "unused.b2clogin.com",
        "contoso.onmicrosoft.com",
        "B2C_1_signupsignin",
        TestEntra::CLIENT_ID,
    )
    .authority(provider.base.as_str());
    let gate = Gate::builder()
        .issuer(flow)
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .build()
        .unwrap();
    let token = key.token(&b2c_claims(&iss));
    let claims = gate.validate(&token).await.unwrap();
    assert!(claims.has_scope("orders.read"));
    assert_eq!(claims.tenant_id(), None);
    assert_eq!(
        provider.hits(
            "/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0/.well-known/openid-configuration"
        ),
        1,
        "the user flow's own metadata"
    );
    let slashless = key.token(&b2c_claims(iss.trim_end_matches('/')));
    assert_eq!(outcome(&gate, &slashless).await, "untrusted_issuer");
    let mut other_app = b2c_claims(&iss);
    other_app["aud"] = json!("0f0f0f0f-0000-4000-8000-000000000000");
    assert_eq!(
        outcome(&gate, &key.token(&other_app)).await,
        "invalid_audience"
    );
}

/// B2C metadata naming an issuer of another shape or host is refused: its keys are never used.
#[tokio::test]
async fn b2c_metadata_naming_another_issuer_is_refused() {
    let key = rs256();
    let provider = Provider::start(jwks(&[key])).await;
    let wrong = "https://login.microsoftonline.com/4c2d5a1e-8b3f-4e6a-9c7d-1e2f3a4b5c6d/v2.0/";
    provider.set(|state| {
        state.issuer = Some(wrong.to_owned());
        state.discovery_anywhere = true;
    });
    let flow = AzureAdB2c::new(
        "x.b2clogin.com",
        "contoso.onmicrosoft.com",
        "B2C_1_a",
        TestEntra::CLIENT_ID,
    )
    .authority(provider.base.as_str());
    let gate = Gate::builder()
        .issuer(flow)
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .build()
        .unwrap();
    assert!(gate.warm_up().await.is_err());
    let token = key.token(&b2c_claims(wrong));
    assert_ne!(outcome(&gate, &token).await, "accepted");
}
