//! A8. `scp` and `roles`, app-only and user tokens (ENTRA-26..30, ATK-32, ATK-35).

use http::StatusCode;
use serde_json::Value;
use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;
use tokengate::{ErrorClass, Rejection, Requirement, TokenKind};

use TokenVersion::{V1, V2};

use super::support::{
    Authority, accepted, app, call, gate, gate_requiring, outcome, payload, single,
};

/// ENTRA-26: `scp` is a space-separated string of short scope names; `roles` an array.
#[tokio::test]
async fn entra_26_scp_string_and_roles_array() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let user = entra
            .token(version, tid)
            .scp("Orders.Read  Orders.Write user_impersonation")
            .roles(["Approver"])
            .sign();
        let claims = accepted(&gate, &user, "user").await;
        assert_eq!(
            claims.scopes().collect::<Vec<_>>(),
            ["Orders.Read", "Orders.Write", "user_impersonation"]
        );
        assert_eq!(claims.roles().collect::<Vec<_>>(), ["Approver"]);

        let app = entra
            .token(version, tid)
            .app(["Orders.Read.All", "Orders.Write.All"])
            .sign();
        let claims = accepted(&gate, &app, "app").await;
        assert_eq!(claims.scopes().count(), 0);
        assert_eq!(
            claims.roles().collect::<Vec<_>>(),
            ["Orders.Read.All", "Orders.Write.All"]
        );
    }
}

/// ENTRA-27: a token with neither `scp` nor `roles` (an app-only token of any client that
/// asked) is refused with 403 `no_scope_or_role` by default, also with an empty `scp` or
/// `roles`; with `allow_acl_authorization` it passes, and the API decides.
#[tokio::test]
async fn entra_27_no_scope_or_role_is_403_unless_acl() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let instance = entra.instance();
    let strict = app(gate(&entra, single(&entra)), tid, instance);
    let acl = app(
        gate(&entra, single(&entra).allow_acl_authorization()),
        tid,
        instance,
    );
    let plain = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let bare = [
            (
                "app-only, no roles",
                entra.token(version, tid).app(Vec::<String>::new()),
            ),
            (
                "app-only, empty roles",
                entra
                    .token(version, tid)
                    .app(Vec::<String>::new())
                    .roles(Vec::<String>::new()),
            ),
            ("user, empty scp", entra.token(version, tid).scp("")),
            ("user, blank scp", entra.token(version, tid).scp("  ")),
            (
                "user, no scp",
                entra.token(version, tid).without_claim("scp"),
            ),
        ];
        for (variant, builder) in bare {
            let token = builder.sign();
            let (status, challenge) = call(&strict, "/orders", &token).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{version:?} {variant}");
            assert_eq!(
                challenge,
                r#"Bearer error="insufficient_scope", error_description="The access token grants no scope and no role.""#,
                "{version:?} {variant}"
            );
            let refused = plain.validate(&token).await.unwrap_err();
            assert_eq!(refused, Rejection::NoScopeOrRole, "{version:?} {variant}");
            assert_eq!(refused.class(), ErrorClass::InsufficientScope);

            let (status, _) = call(&acl, "/orders", &token).await;
            assert_eq!(status, StatusCode::OK, "{version:?} {variant} with ACL");
            // A route's own requirement still refuses it.
            let (status, _) = call(&acl, "/orders/write", &token).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{version:?} {variant} with ACL"
            );
        }
        let granted = entra.token(version, tid).app(["Orders.Read.All"]).sign();
        assert_eq!(call(&strict, "/orders", &granted).await.0, StatusCode::OK);
        let user = entra.token(version, tid).sign();
        assert_eq!(call(&strict, "/orders", &user).await.0, StatusCode::OK);
    }
}

/// ENTRA-28: `any_scope(..).or(any_role(..))`: a delegated token passes with one of the
/// scopes, an app-only token with one of the roles; otherwise 403 `insufficient_scope`, naming
/// the scopes to request. Whole tokens only: no substring, prefix or case folding, and a role
/// does not count as a scope of the same name.
#[tokio::test]
async fn entra_28_scope_or_role_requirement() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let requirement =
        Requirement::any_scope(["Orders.Write"]).or(Requirement::any_role(["Orders.Admin"]));
    let api = app(gate(&entra, single(&entra)), tid, entra.instance());
    let gate_level = gate_requiring(&entra, single(&entra), requirement.clone());
    let plain = gate(&entra, single(&entra));
    let refused_challenge = r#"Bearer error="insufficient_scope", error_description="The access token does not grant the required scope or role.", scope="Orders.Write""#;
    for version in [V1, V2] {
        let passing = [
            (
                "scope",
                entra.token(version, tid).scp("Orders.Read Orders.Write"),
            ),
            ("role", entra.token(version, tid).app(["Orders.Admin"])),
            (
                "user with the role",
                entra.token(version, tid).roles(["Orders.Admin"]),
            ),
        ];
        for (variant, builder) in passing {
            let token = builder.sign();
            assert_eq!(
                call(&api, "/orders/write", &token).await,
                (StatusCode::OK, String::new()),
                "{version:?} {variant}"
            );
            assert_eq!(outcome(&gate_level, &token).await, "accepted", "{variant}");
        }
        let refused = [
            ("other scope", entra.token(version, tid).scp("Orders.Read")),
            (
                "longer scope",
                entra.token(version, tid).scp("Orders.Write.All"),
            ),
            (
                "prefixed scope",
                entra.token(version, tid).scp("xOrders.Write"),
            ),
            (
                "scope in other case",
                entra.token(version, tid).scp("orders.write"),
            ),
            (
                "fully qualified scope",
                entra
                    .token(version, tid)
                    .scp(&format!("api://{}/Orders.Write", TestEntra::CLIENT_ID)),
            ),
            (
                "comma-joined scopes",
                entra.token(version, tid).scp("Orders.Read,Orders.Write"),
            ),
            (
                "role named like the scope",
                entra.token(version, tid).app(["Orders.Write"]),
            ),
            (
                "scope named like the role",
                entra.token(version, tid).scp("Orders.Admin"),
            ),
            (
                "longer role",
                entra.token(version, tid).app(["Orders.Admin.All"]),
            ),
            (
                "role in other case",
                entra.token(version, tid).app(["orders.admin"]),
            ),
        ];
        for (variant, builder) in refused {
            let token = builder.sign();
            assert_eq!(
                call(&api, "/orders/write", &token).await,
                (StatusCode::FORBIDDEN, refused_challenge.to_owned()),
                "{version:?} {variant}"
            );
            assert_eq!(
                outcome(&gate_level, &token).await,
                "insufficient_scope",
                "{version:?} {variant}"
            );
            let claims = plain.validate(&token).await.unwrap();
            assert_eq!(
                Rejection::from(requirement.check(&claims).unwrap_err()).code(),
                "insufficient_scope"
            );
        }
    }
}

/// ATK-35: scope tricks through the preset: required `files.read`; `files.read.all` and
/// `xfiles.read` deny, a double space parses to the two scopes.
#[tokio::test]
async fn atk_35_scope_tricks() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate_requiring(&entra, single(&entra), Requirement::scope("files.read"));
    for (scp, expected) in [
        ("files.read", "accepted"),
        ("openid  files.read", "accepted"),
        ("files.read.all", "insufficient_scope"),
        ("xfiles.read", "insufficient_scope"),
        ("files", "insufficient_scope"),
        ("Files.Read", "insufficient_scope"),
        ("files.read\u{a0}", "insufficient_scope"),
    ] {
        let token = entra.token(V2, tid).scp(scp).sign();
        assert_eq!(outcome(&gate, &token).await, expected, "scp {scp:?}");
    }
    let plain = self::gate(&entra, single(&entra));
    let token = entra.token(V2, tid).scp("a  b").sign();
    let claims = accepted(&plain, &token, "double space").await;
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["a", "b"]);
}

/// ATK-35: Entra's `scp` is always a space-separated string; under the Entra preset an `scp`
/// array is a claim of the wrong type ("profile-dependent reject").
#[tokio::test]
async fn atk_35_scp_array_refused_by_the_entra_preset() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate_requiring(&entra, single(&entra), Requirement::scope("files.read"));
    let token = entra.token(V2, tid).claim("scp", ["files.read"]).sign();
    assert_eq!(outcome(&gate, &token).await, "malformed_claims");
}

/// ENTRA-29: app-only detection: `idtyp` first (authoritative), then `oid == sub`; a token
/// with `scp` is a user's; otherwise unknown.
#[tokio::test]
async fn entra_29_token_kind() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let cases = [
            (
                "idtyp app",
                entra.token(version, tid).app(["R"]),
                TokenKind::App,
            ),
            (
                "oid == sub, no idtyp",
                entra.token(version, tid).app(["R"]).without_claim("idtyp"),
                TokenKind::App,
            ),
            (
                "delegated",
                entra.token(version, tid).roles(["R"]),
                TokenKind::User,
            ),
            (
                "idtyp user",
                entra.token(version, tid).claim("idtyp", "user"),
                TokenKind::User,
            ),
            (
                "idtyp app wins over scp",
                entra.token(version, tid).claim("idtyp", "app"),
                TokenKind::App,
            ),
            (
                "idtyp user wins over oid == sub",
                entra.token(version, tid).app(["R"]).claim("idtyp", "user"),
                TokenKind::User,
            ),
            (
                "roles only, sub != oid, no idtyp",
                entra.token(version, tid).without_claim("scp").roles(["R"]),
                TokenKind::Unknown,
            ),
        ];
        for (variant, builder, kind) in cases {
            let claims = accepted(&gate, &builder.sign(), variant).await;
            assert_eq!(claims.token_kind(), kind, "{version:?} {variant}");
        }
    }
}

/// ENTRA-30: the normalized authorization data: scopes, roles, token kind, client id (`azp`
/// in v2, `appid` in v1), tenant id, object id and subject.
#[tokio::test]
async fn entra_30_normalized_claims() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let caller = "11111111-2222-4333-8444-555555555555";
    for version in [V1, V2] {
        let token = entra
            .token(version, tid)
            .caller(caller)
            .scp("Orders.Read")
            .roles(["Approver"])
            .sign();
        let expected = payload(&token);
        let claims = accepted(&gate, &token, "user").await;
        assert_eq!(claims.client_id(), Some(caller), "{version:?}");
        assert_eq!(claims.tenant_id(), Some(tid));
        assert_eq!(claims.object_id(), expected["oid"].as_str());
        assert_eq!(claims.subject(), expected["sub"].as_str());
        assert_ne!(claims.subject(), claims.object_id());
        assert_eq!(claims.scopes().collect::<Vec<_>>(), ["Orders.Read"]);
        assert_eq!(claims.roles().collect::<Vec<_>>(), ["Approver"]);
        assert_eq!(claims.token_kind(), TokenKind::User);
        let json: Value = serde_json::from_str(claims.json()).unwrap();
        assert_eq!(json, expected, "the claims are the token's, unchanged");
    }
}

/// ATK-32: an ID token (or another kind of JWT) presented as an access token: refused even
/// when its `aud` is the API's client id (SPA and API sharing a registration).
#[tokio::test]
async fn atk_32_id_token_is_not_an_access_token() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra).allow_acl_authorization());
    for version in [V1, V2] {
        let id_token = || entra.token(version, tid).without_claim("scp");
        for (variant, builder) in [
            ("nonce", id_token().claim("nonce", "n-0S6_WzA2Mj")),
            (
                "at_hash",
                id_token().claim("at_hash", "77QmUPtjPfzWtF2AnpK9RQ"),
            ),
            (
                "c_hash",
                id_token().claim("c_hash", "LDktKdoQak3Pk0cnXxCltA"),
            ),
        ] {
            assert_eq!(
                outcome(&gate, &builder.sign()).await,
                "not_an_access_token",
                "{version:?} {variant}"
            );
        }
        for typ in ["dpop+jwt", "secevent+jwt", "logout+jwt", "id_token+jwt"] {
            let token = entra.token(version, tid).header("typ", typ).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "invalid_token_type",
                "{version:?} typ {typ}"
            );
        }
        // Entra's own `typ` is JWT, accepted.
        let token = entra.token(version, tid).header("typ", "JWT").sign();
        assert_eq!(outcome(&gate, &token).await, "accepted");
    }
}
