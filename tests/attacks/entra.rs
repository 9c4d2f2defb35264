//! The Entra preset against `testing::TestEntra` (ATK-23, ATK-34): multi-tenant `tid` rules,
//! and app-only tokens without permissions.

use std::time::Duration;

use tokengate::{Gate, Rejection};

use crate::harness::assert_rejection;

/// A gate with the Entra preset for `api`, against `entra` (an Entra-shaped authority on
/// loopback), for ATK-23 and ATK-34.
fn entra_preset_gate(
    entra: &tokengate::testing::TestEntra,
    api: tokengate::providers::entra::EntraApi,
) -> Gate {
    Gate::builder()
        .issuer(api.instance(entra.instance()))
        .key_cache(
            tokengate::KeyCacheSettings::default()
                .allow_http_loopback()
                .cooldown(Duration::from_secs(1)),
        )
        .build()
        .expect("the test configuration is valid")
}

/// The stable code of the outcome, `"accepted"` for a token that validates (with a runtime, for
/// keys from the network).
async fn entra_code(gate: &Gate, token: &str) -> &'static str {
    gate.validate(token)
        .await
        .map_or_else(|r| r.code(), |_| "accepted")
}

/// ATK-23: Entra multi-tenant `tid` rules (ENTRA-17), through the Entra preset: a tenant
/// allowlist, and the any-tenant mode (the templated `organizations`/`common` issuers, where
/// each key's templated `issuer` filled with `tid` must give `iss`).
#[tokio::test]
async fn atk_23_multi_tenant_tid() {
    use tokengate::providers::entra::EntraApi;
    use tokengate::providers::entra::TokenVersion;
    use tokengate::testing::TestEntra;

    let entra = TestEntra::start().await.unwrap();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let outsider = entra.add_tenant();
    let msa_kid = entra.tenant_key(TestEntra::CONSUMERS_TENANT);
    let allowlist = entra_preset_gate(
        &entra,
        EntraApi::multi_tenant(TestEntra::CLIENT_ID).tenants([a.as_str(), b.as_str()]),
    );
    let any = entra_preset_gate(
        &entra,
        EntraApi::multi_tenant(TestEntra::CLIENT_ID).any_tenant(),
    );
    let gates = [("allowlist", &allowlist), ("any tenant", &any)];

    for version in [TokenVersion::V1, TokenVersion::V2] {
        // Good siblings: the listed tenants' tokens.
        for (mode, gate) in gates {
            for tid in [&a, &b] {
                let token = entra.token(version, tid).sign();
                assert_eq!(
                    entra_code(gate, &token).await,
                    "accepted",
                    "{mode} {version:?}: tenant {tid}"
                );
            }
        }
        // `tid` variants on A's token (A's `iss`). In the any-tenant mode a v2 key's
        // templated issuer filled with a wrong `tid` is not the token's `iss`, so the key
        // check refuses first. v1 tokens are verified with the same v2 keys, whose issuer
        // may also be the v2 issuer of the token's `tid` (which a shared key's template always
        // gives), and the tenant check refuses. Without `tid`, no key fits in either version.
        let key_or_tenant = match version {
            TokenVersion::V2 => Rejection::KeyIssuerMismatch,
            TokenVersion::V1 => Rejection::InvalidTenant,
        };
        let upper = a.to_uppercase();
        let cases = [
            (
                "tid of another tenant",
                Some(b.as_str()),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid not a GUID",
                Some("contoso"),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid 'common'",
                Some("common"),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid uppercase",
                Some(upper.as_str()),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid and TID",
                Some(a.as_str()),
                Some(b.as_str()),
                Rejection::InvalidTenant,
                Rejection::InvalidTenant,
            ),
            (
                "tid missing",
                None,
                None,
                Rejection::InvalidTenant,
                Rejection::KeyIssuerMismatch,
            ),
        ];
        for (variant, tid, twin, in_allowlist, in_any) in cases {
            let mut builder = entra.token(version, &a);
            builder = match tid {
                Some(tid) => builder.claim("tid", tid),
                None => builder.without_claim("tid"),
            };
            if let Some(twin) = twin {
                builder = builder.claim("TID", twin);
            }
            let token = builder.sign();
            for (mode, gate, expected) in [
                ("allowlist", &allowlist, &in_allowlist),
                ("any tenant", &any, &in_any),
            ] {
                assert_rejection(
                    gate.validate(&token).await,
                    expected,
                    &format!("{mode} {version:?}: {variant}"),
                );
            }
        }

        // A tenant outside the allowlist (the any-tenant mode takes it, by design).
        let token = entra.token(version, &outsider).sign();
        assert_rejection(
            allowlist.validate(&token).await,
            &Rejection::UntrustedIssuer,
            &format!("{version:?}: tenant outside the allowlist"),
        );
        assert_eq!(entra_code(&any, &token).await, "accepted");
    }

    // A key whose JWKS `issuer` is tenant-specific, the personal-account (MSA) tenant's, used
    // for an organization tenant's token: the key sets the preset reads for organization
    // tenants (the tenant's own, `organizations`) do not serve it.
    let token = entra.token(TokenVersion::V2, &a).key(&msa_kid).sign();
    for (mode, gate) in gates {
        assert_rejection(
            gate.validate(&token).await,
            &Rejection::UnknownKey,
            &format!("{mode}: MSA tenant key for an org token"),
        );
    }
    // The MSA tenant's own tokens are not "any work or school tenant".
    let token = entra.token(TokenVersion::V2, "consumers").sign();
    assert_rejection(
        any.validate(&token).await,
        &Rejection::TenantNotAccepted,
        "any tenant: consumers tenant token",
    );
}

/// ATK-34: an Entra app-only token with neither `scp` nor `roles` is refused with 403 by
/// default (ENTRA-27), through the Entra preset; with ACL authorization it passes.
#[tokio::test]
async fn atk_34_app_only_without_permissions() {
    use tokengate::providers::entra::EntraApi;
    use tokengate::providers::entra::TokenVersion;
    use tokengate::testing::TestEntra;
    use tokengate::{ErrorClass, TokenKind};

    let entra = TestEntra::start().await.unwrap();
    let tid = entra.tenant();
    let api = || EntraApi::single_tenant(tid, TestEntra::CLIENT_ID);
    let gate = entra_preset_gate(&entra, api());
    let acl = entra_preset_gate(&entra, api().allow_acl_authorization());
    for version in [TokenVersion::V1, TokenVersion::V2] {
        // `idtyp: app`, `sub == oid`, no `scp`, no `roles`.
        let bare = entra.token(version, tid).app(Vec::<String>::new()).sign();
        let refused = gate.validate(&bare).await;
        assert_rejection(
            refused.clone(),
            &Rejection::NoScopeOrRole,
            &format!("{version:?}: app-only token without scp or roles"),
        );
        let refused = refused.unwrap_err();
        assert_eq!(refused.class(), ErrorClass::InsufficientScope);
        assert_eq!(refused.class().error_code(), Some("insufficient_scope"));
        assert_eq!(refused.class().status(), 403);
        for (variant, token) in [
            (
                "empty roles",
                entra
                    .token(version, tid)
                    .app(Vec::<String>::new())
                    .roles(Vec::<String>::new())
                    .sign(),
            ),
            (
                "roles with an empty string",
                entra.token(version, tid).app([""]).sign(),
            ),
            (
                "empty scp",
                entra
                    .token(version, tid)
                    .app(Vec::<String>::new())
                    .scp("")
                    .sign(),
            ),
        ] {
            assert_rejection(
                gate.validate(&token).await,
                &Rejection::NoScopeOrRole,
                &format!("{version:?}: {variant}"),
            );
        }

        // Good siblings: the same token with a role, or at an API that authorizes by ACL.
        let granted = entra.token(version, tid).app(["Orders.Read.All"]).sign();
        let claims = gate
            .validate(&granted)
            .await
            .expect("app-only token with a role");
        assert_eq!(claims.token_kind(), TokenKind::App);
        let claims = acl.validate(&bare).await.expect("ACL authorization");
        assert_eq!(claims.token_kind(), TokenKind::App);
        assert_eq!(claims.roles().count() + claims.scopes().count(), 0);
    }
}
