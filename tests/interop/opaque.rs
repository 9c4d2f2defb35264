//! Opaque access tokens (RFC 7662 introspection) with a real provider: oidc-provider issues
//! opaque tokens for the inventory API (`accessTokenFormat: 'opaque'`), and tokengate, as that
//! API's resource server, asks the introspection endpoint it finds by discovery, authenticated
//! as each of the API's clients (client_secret_basic, client_secret_post, private_key_jwt).
//! The answer is held to a JWT's contract (STD-7662-3), a revoked token passes until its cached
//! answer is older than `max_age` (STD-7662-4), and a provider that cannot answer is 503,
//! never acceptance (STD-7662-5).

use std::time::{Duration, SystemTime};

use http::StatusCode;
use serde_json::{Value, json};
use tokengate::{Algorithm, ErrorClass, Introspection, IssuerProfile};
use tokengate_testkit::capture;

use super::resource_server::{
    ClientKey, INVENTORY, INVENTORY_API, INVENTORY_API_POST, INVENTORY_API_SIGNED, gate,
    introspection, profile, start,
};
use super::support::{Api, ORDERS, ORDERS_SERVICE, insufficient, key_cache};

const INACTIVE: &str =
    r#"Bearer error="invalid_token", error_description="The access token is not active.""#;

/// STD-7662-3: an opaque token is accepted with the claims of the provider's answer, found at
/// the endpoint its discovery document names; the answer is then reused.
#[tokio::test(flavor = "multi_thread")]
async fn std_7662_3_opaque_tokens_are_accepted_with_their_claims() {
    let key = ClientKey::generate("inventory-key-1");
    let idp = start(&key).await;
    let token = idp.inventory_token().await;

    // What oidc-provider answers for a client-credentials token: `iss`, the resource as a
    // single-string `aud`, `client_id` (the client the token was issued to), `token_type`
    // `Bearer`, `exp`, `iat`, `scope`, and the extra claims; no `sub` (no end-user) and no `jti`
    // (the token is its own id).
    let answer = idp.introspect_as(&INVENTORY_API, &token).await;
    let marker = answer["marker"].as_str().expect("a marker").to_owned();
    idp.secrets().add(&marker);
    for (name, expected) in [
        ("active", json!(true)),
        ("iss", json!(idp.issuer)),
        ("aud", json!(INVENTORY)),
        ("client_id", json!(ORDERS_SERVICE.id)),
        ("token_type", json!("Bearer")),
        ("scope", json!("inventory.read inventory.write")),
        ("tenant", json!("tenant-7")),
    ] {
        assert_eq!(answer[name], expected, "{name} in {answer}");
    }
    let (exp, iat) = (
        answer["exp"].as_i64().unwrap(),
        answer["iat"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 300);
    for absent in ["sub", "jti", "nbf", "cnf"] {
        assert!(answer.get(absent).is_none(), "{absent} in {answer}");
    }
    let before = idp.stats().await;

    let gate = gate(profile(&idp, introspection(&INVENTORY_API)));
    let claims = gate.validate(&token).await.expect("an active token");
    assert_eq!(claims.issuer(), idp.issuer);
    assert_eq!(claims.subject(), None);
    assert_eq!(claims.client_id(), Some(ORDERS_SERVICE.id));
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [INVENTORY]);
    assert_eq!(
        claims.scopes().collect::<Vec<_>>(),
        ["inventory.read", "inventory.write"]
    );
    assert_eq!(claims.roles().collect::<Vec<_>>(), ["orders.admin"]);
    assert_eq!(
        claims.claim::<String>("tenant").unwrap().as_deref(),
        Some("tenant-7")
    );
    assert_eq!(claims.claim::<String>("marker").unwrap(), Some(marker));
    assert_eq!(
        claims.expires_at(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(exp as u64)
    );

    // Reused: one introspection call, and the endpoint was found once, by discovery.
    gate.validate(&token).await.expect("the cached answer");
    let after = idp.stats().await;
    assert_eq!(after.introspection - before.introspection, 1, "{after:?}");
    assert_eq!(after.discovery - before.discovery, 1, "{after:?}");
    idp.assert_logs_secret_free().await;
}

/// STD-7662-4: revoked at the provider, a token still passes on its cached answer until that
/// answer is older than `max_age`, then the provider's `active: false` refuses it.
#[tokio::test(flavor = "multi_thread")]
async fn std_7662_4_a_revoked_token_passes_until_max_age() {
    let key = ClientKey::generate("inventory-key-1");
    let idp = start(&key).await;
    let max_age = Duration::from_secs(30);
    let gate = gate(profile(
        &idp,
        introspection(&INVENTORY_API).max_age(max_age),
    ));
    let token = idp.inventory_token().await;
    let now = SystemTime::now();
    gate.validate_at(&token, now).await.expect("active");

    idp.revoke(&ORDERS_SERVICE, &token).await;
    assert_eq!(
        idp.introspect_as(&INVENTORY_API, &token).await,
        json!({"active": false})
    );
    gate.validate_at(&token, now)
        .await
        .expect("the cached answer, within max_age");
    let refused = gate
        .validate_at(&token, now + max_age + Duration::from_secs(1))
        .await
        .expect_err("revoked");
    assert_eq!(refused.code(), "token_inactive");
    idp.assert_logs_secret_free().await;
}

/// RFC 9701: a resource server registered with `introspection_signed_response_alg` (ES256)
/// that asks with `Accept: application/token-introspection+jwt` gets its answer as a JWT: header
/// `typ` token-introspection+jwt and the `kid` of the provider's ES256 key, `iss` the issuer,
/// `aud` the resource server's client id (not the token's audience, which stays inside), `iat`
/// now, no `exp`, and the plain answer in `token_introspection`. tokengate's `.jwt_answers()`
/// opens it with the keys from the provider's `jwks_uri`: the token is accepted with the same
/// claims as from a plain answer, and once revoked it is refused after `max_age`, again on a
/// signed answer (`active: false` inside it).
#[tokio::test(flavor = "multi_thread")]
async fn rfc_9701_signed_answers_are_opened() {
    let key = ClientKey::generate("inventory-key-1");
    let idp = start(&key).await;
    let token = idp.inventory_token().await;

    let jwt = idp.introspect_jwt_as(&INVENTORY_API_SIGNED, &token).await;
    let segments: Vec<&str> = jwt.split('.').collect();
    assert_eq!(segments.len(), 3, "a compact JWS");
    idp.secrets().add(segments[2]);
    let decode = |segment: &str| -> Value {
        let bytes = base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(segment)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    let (header, payload) = (decode(segments[0]), decode(segments[1]));
    assert_eq!(
        header,
        json!({
            "alg": "ES256",
            "typ": "token-introspection+jwt",
            "kid": idp.key(Algorithm::ES256).kid,
        })
    );
    let now = SystemTime::now();
    let unix = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let iat = payload["iat"].as_i64().expect("iat");
    assert!((iat - unix).abs() <= 5, "iat {iat}, now {unix}");
    assert_eq!(payload["iss"], json!(idp.issuer));
    assert_eq!(payload["aud"], json!(INVENTORY_API_SIGNED.id));
    for absent in ["exp", "sub", "jti"] {
        assert!(
            payload.get(absent).is_none(),
            "{absent} in the signed answer"
        );
    }
    let inner = &payload["token_introspection"];
    let marker = inner["marker"].as_str().expect("a marker").to_owned();
    idp.secrets().add(&marker);
    for (name, expected) in [
        ("active", json!(true)),
        ("iss", json!(idp.issuer)),
        ("aud", json!(INVENTORY)),
        ("client_id", json!(ORDERS_SERVICE.id)),
        ("scope", json!("inventory.read inventory.write")),
    ] {
        assert_eq!(inner[name], expected, "{name} in token_introspection");
    }

    let max_age = Duration::from_secs(30);
    let gate = gate(profile(
        &idp,
        introspection(&INVENTORY_API_SIGNED)
            .jwt_answers()
            .max_age(max_age),
    ));
    let before = idp.stats().await;
    let claims = gate
        .validate_at(&token, now)
        .await
        .expect("an active token");
    assert_eq!(claims.issuer(), idp.issuer);
    assert_eq!(claims.client_id(), Some(ORDERS_SERVICE.id));
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [INVENTORY]);
    assert_eq!(
        claims.scopes().collect::<Vec<_>>(),
        ["inventory.read", "inventory.write"]
    );
    assert_eq!(claims.claim::<String>("marker").unwrap(), Some(marker));
    let after = idp.stats().await;
    assert_eq!(after.introspection - before.introspection, 1, "{after:?}");
    assert_eq!(
        after.introspection_jwt - before.introspection_jwt,
        1,
        "{after:?}"
    );

    idp.revoke(&ORDERS_SERVICE, &token).await;
    let revoked = idp.introspect_jwt_as(&INVENTORY_API_SIGNED, &token).await;
    let revoked = decode(revoked.split('.').nth(1).expect("a payload"));
    assert_eq!(revoked["token_introspection"], json!({"active": false}));
    gate.validate_at(&token, now)
        .await
        .expect("the cached answer, within max_age");
    let before = idp.stats().await;
    let refused = gate
        .validate_at(&token, now + max_age + Duration::from_secs(1))
        .await
        .expect_err("revoked");
    assert_eq!(refused.code(), "token_inactive");
    let after = idp.stats().await;
    assert_eq!(
        after.introspection_jwt - before.introspection_jwt,
        1,
        "{after:?}"
    );
    idp.assert_logs_secret_free().await;
}

/// STD-7662-3: `active: true` is not "for this API". The provider's answers always carry the
/// resource as `aud`, so an API is matched by its audience; `client_id` names the client the
/// token was issued to, never the resource server, and `client_ids` cannot stand in for an
/// audience (a token with `aud` is judged by `aud` alone). A token asked for no resource has no
/// `aud` at all, and the provider tells the resource server nothing about it.
#[tokio::test(flavor = "multi_thread")]
async fn std_7662_3_tokens_for_another_api_are_refused() {
    let key = ClientKey::generate("inventory-key-1");
    let idp = start(&key).await;
    let token = idp.inventory_token().await;
    let issuer = || IssuerProfile::new(&idp.issuer).discover();

    // The orders API, with the inventory API's credentials (the provider answers), expecting
    // its own audience.
    let orders = gate(
        issuer()
            .audience(ORDERS)
            .introspection(introspection(&INVENTORY_API)),
    );
    let refused = orders
        .validate(&token)
        .await
        .expect_err("for the inventory API");
    assert_eq!(refused.code(), "invalid_audience");
    // Client ids: the issuing client's, or the resource server's own.
    for client_id in [ORDERS_SERVICE.id, INVENTORY_API.id] {
        let gate = gate(
            issuer()
                .client_ids([client_id])
                .introspection(introspection(&INVENTORY_API)),
        );
        let refused = gate.validate(&token).await.expect_err("aud decides");
        assert_eq!(refused.code(), "invalid_audience", "{client_id}");
    }

    // No resource: an opaque token without `aud`, which the provider's policy keeps from the
    // inventory API (`active: false`).
    let unbound = idp.ask(&ORDERS_SERVICE).resource("").send_opaque().await;
    assert_eq!(
        idp.introspect_as(&INVENTORY_API, &unbound).await,
        json!({"active": false})
    );
    let inventory = gate(profile(&idp, introspection(&INVENTORY_API)));
    let refused = inventory.validate(&unbound).await.expect_err("no audience");
    assert_eq!(refused.code(), "token_inactive");
    inventory
        .validate(&token)
        .await
        .expect("the inventory API's token");

    // An API that does not introspect sends an opaque token nowhere.
    let before = idp.stats().await;
    let local = super::support::gate(super::support::profile(&idp), key_cache());
    let refused = local.validate(&token).await.expect_err("not a JWS");
    assert_eq!(refused.code(), "malformed_token");
    assert_eq!(idp.stats().await.introspection, before.introspection);
    idp.assert_logs_secret_free().await;
}

/// Every client authentication method of RFC 7662 §2.1 the provider offers. Credentials it
/// refuses are our configuration's fault, not the token's: 503 (`introspection_unavailable`)
/// and an ERROR; a client that is not the token's resource server learns nothing
/// (`active: false`: `token_inactive`).
#[tokio::test(flavor = "multi_thread")]
async fn each_client_authentication_method() {
    let key = ClientKey::generate("inventory-key-1");
    let idp = start(&key).await;
    let token = idp.inventory_token().await;

    // private_key_jwt: the assertion's `aud` is the introspection endpoint (tokengate's
    // choice); oidc-provider accepts it, the issuer, or its token endpoint.
    for settings in [
        introspection(&INVENTORY_API),
        introspection(&INVENTORY_API_POST),
        key.introspection(),
    ] {
        let method = format!("{settings:?}");
        let claims = gate(profile(&idp, settings))
            .validate(&token)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        assert_eq!(claims.client_id(), Some(ORDERS_SERVICE.id), "{method}");
    }

    let stranger = ClientKey::generate("inventory-key-1");
    for settings in [
        Introspection::client_secret_basic(INVENTORY_API.id, "wrong-secret-1f2e3d4c5b6a"),
        Introspection::client_secret_post(INVENTORY_API_POST.id, "wrong-secret-1f2e3d4c5b6a"),
        stranger.introspection(),
    ] {
        let method = format!("{settings:?}");
        let refused = gate(profile(&idp, settings))
            .validate(&token)
            .await
            .expect_err("our credentials are refused");
        assert_eq!(refused.code(), "introspection_unavailable", "{method}");
        assert_eq!(refused.class(), ErrorClass::TemporarilyUnavailable);
    }
    let errors = capture::global()
        .text()
        .lines()
        .filter(|line| {
            line.contains(" ERROR ")
                && line.contains("refused our client credentials")
                && line.contains(&format!("issuer={} status=401", idp.issuer))
        })
        .count();
    assert_eq!(errors, 3, "one ERROR per refusal");

    // The client the token was issued to is not a resource server of the inventory API.
    let refused = gate(profile(&idp, introspection(&ORDERS_SERVICE)))
        .validate(&token)
        .await
        .expect_err("not for orders-service to know");
    assert_eq!(refused.code(), "token_inactive");
    idp.assert_logs_secret_free().await;
}

/// STD-7662-5: with the provider gone, a token never seen is 503, never accepted; a cached
/// answer is reused until `max_age`, as it would be if the provider were up.
#[tokio::test(flavor = "multi_thread")]
async fn std_7662_5_the_provider_down_is_503() {
    let key = ClientKey::generate("inventory-key-1");
    let mut idp = start(&key).await;
    let gate = gate(profile(&idp, introspection(&INVENTORY_API)));
    let (seen, unseen) = (idp.inventory_token().await, idp.inventory_token().await);
    gate.validate(&seen).await.expect("active");
    idp.assert_logs_secret_free().await;

    idp.stop();
    let refused = gate.validate(&unseen).await.expect_err("no answer");
    assert_eq!(refused.code(), "introspection_unavailable");
    assert_eq!(refused.class(), ErrorClass::TemporarilyUnavailable);
    gate.validate(&seen).await.expect("the cached answer");
    capture::assert_secret_free(&idp.secrets(), &[]);
}

/// Through the layer: an opaque token reaches the handler, with its scopes enforced per
/// route; revoked, it is refused (401 with the RFC 6750 challenge) once `max_age` has passed;
/// with the provider down, a new token gets 503 with `Retry-After` and no challenge.
#[tokio::test(flavor = "multi_thread")]
async fn opaque_tokens_through_the_api() {
    let key = ClientKey::generate("inventory-key-1");
    let mut idp = start(&key).await;
    let max_age = Duration::from_secs(1);
    let settings = introspection(&INVENTORY_API_POST).max_age(max_age);
    let api = Api::serve(gate(profile(&idp, settings))).await;

    let token = idp.inventory_token().await;
    let answer = api.get("/orders", &token).await;
    answer.assert_ok();
    assert_eq!(answer.body, "orders of orders-service");
    api.get("/orders/write", &token).await.assert_refused(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &insufficient("orders.write"),
    );

    idp.revoke(&ORDERS_SERVICE, &token).await;
    tokio::time::sleep(max_age + Duration::from_millis(100)).await;
    api.get("/orders", &token).await.assert_refused(
        StatusCode::UNAUTHORIZED,
        "token_inactive",
        INACTIVE,
    );

    let unseen = idp.inventory_token().await;
    idp.assert_logs_secret_free().await;
    idp.stop();
    let answer = api.get("/orders", &unseen).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.code(), "introspection_unavailable");
    assert_eq!(answer.challenge, None);
    assert_eq!(answer.retry_after.as_deref(), Some("2"));
    capture::assert_secret_free(&idp.secrets(), &[]);
}
