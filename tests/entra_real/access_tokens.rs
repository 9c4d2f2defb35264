//! Valid access tokens: the normalized claims.

use serde_json::Value;
use tokengate::{Gate, Requirement, TokenKind};

use super::fixtures::{T04_CASE, T17_CASE, T18_CASE, T20_CASE};
use super::support::{at, build, entra, outcome, payload_of, validate};

/// T17: a v2 app-only (client credentials) token with application permissions in
/// `roles`, `sub` = `oid`: a [`TokenKind::App`] token that roles authorize.
#[tokio::test(flavor = "current_thread")]
async fn entra_t17_v2_app_only_roles_validates() {
    let case = &T17_CASE;
    let claims = case
        .gate()
        .validate_at(case.token(), case.at())
        .await
        .unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(
        claims.subject(),
        Some("9d16cae5-0dc7-4ccf-b500-761b0e15bf25")
    );
    assert_eq!(
        claims.tenant_id(),
        Some("41cb5478-1f8a-4a8e-a2b7-58bbc1198c52")
    );
    assert_eq!(
        claims.object_id(),
        Some("9d16cae5-0dc7-4ccf-b500-761b0e15bf25")
    );
    assert_eq!(
        claims.client_id(),
        Some("a55b004f-3e93-434f-800b-476edb7602db")
    ); // azp
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.expires_at(), at(case.exp));
    assert_eq!(claims.issued_at(), Some(at(case.iat)));
    assert_eq!(claims.not_before(), Some(at(case.iat)));
    assert_eq!(claims.token_kind(), TokenKind::App);
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(
        claims.roles().collect::<Vec<_>>(),
        [
            "dpmm.warehouse.write",
            "dpmm.inventory.read",
            "dpmm.orders.write",
            "dpmm.orders.read",
            "dpmm.inventory.write",
            "dpmm.warehouse.read",
            "dpmm.usermgmt.write",
            "dpmm.usermgmt.read",
        ]
    );
    assert!(claims.has_role("dpmm.orders.read"));
    assert!(!claims.has_role("dpmm.orders"), "roles compare whole");
    assert!(Requirement::role("dpmm.orders.read").check(&claims).is_ok());
    assert!(
        Requirement::scope("dpmm.orders.read")
            .check(&claims)
            .is_err(),
        "a role is not a scope"
    );
    // The raw claims are the token's own JSON.
    let raw: Value = serde_json::from_str(claims.json()).unwrap();
    assert_eq!(raw, payload_of(case.token()));
    assert_eq!(raw["azpacr"], "1");
}

/// T20: a v2 delegated token (`scp`, `groups`): a [`TokenKind::User`] token that its
/// scope authorizes.
#[tokio::test(flavor = "current_thread")]
async fn entra_t20_v2_delegated_scp_validates() {
    let case = &T20_CASE;
    let claims = case
        .gate()
        .validate_at(case.token(), case.at())
        .await
        .unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(
        claims.subject(),
        Some("QDOyOS0HF4cRVQN7Gb_vIW-CWu2vIPJ_nb_ypFRBm_o")
    );
    assert_eq!(
        claims.tenant_id(),
        Some("966ac572-f5b7-4bbe-aa88-c76419c0f851")
    );
    assert_eq!(
        claims.object_id(),
        Some("799a132a-93c8-427e-92f7-08cb220c879a")
    );
    assert_eq!(
        claims.client_id(),
        Some("5f28c10f-ecd5-45ef-96b8-db4311802e89")
    ); // azp
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.expires_at(), at(case.exp));
    assert_eq!(claims.issued_at(), Some(at(case.iat)));
    assert_eq!(claims.token_kind(), TokenKind::User);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["defaultaccess"]);
    assert_eq!(claims.roles().count(), 0);
    assert!(claims.has_scope("defaultaccess"));
    assert!(Requirement::scope("defaultaccess").check(&claims).is_ok());
    assert!(Requirement::role("defaultaccess").check(&claims).is_err());

    #[derive(serde::Deserialize)]
    struct Nav<'a> {
        #[serde(rename = "NAVident")]
        nav_ident: &'a str,
        groups: Vec<&'a str>,
    }
    let nav: Nav = claims.deserialize().unwrap();
    assert_eq!(nav.nav_ident, "Z993298");
    assert_eq!(nav.groups.len(), 2);
}

/// T04: a v1 token whose `aud` is `spn:<app id>` validates only when exactly that string
/// is configured; the bare app id (GUID) is another audience (no prefix tolerance).
#[test]
fn entra_t04_v1_spn_audience_matches_only_exactly() {
    let case = &T04_CASE;
    let claims = validate(&case.gate(), case.token(), case.at()).unwrap();
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(
        claims.client_id(),
        Some("bebfad57-efd7-419b-b74b-4b9dab7bd470")
    ); // appid
    assert_eq!(
        claims.tenant_id(),
        Some("268da1a1-9db4-48b9-b1fe-683250ba90cc")
    );
    assert_eq!(
        claims.object_id(),
        Some("7912fe7b-b5ab-425b-bb1f-0e83b99fca7f")
    );
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["user_impersonation"]);
    assert_eq!(claims.token_kind(), TokenKind::User);
    assert_eq!(claims.expires_at(), at(case.exp));

    let guid = case.aud.strip_prefix("spn:").unwrap();
    for other in [guid, "SPN:6514a8ca-d9e4-4155-b292-65258398f3aa"] {
        let gate = build(entra(case.iss, other, case.keys));
        assert_eq!(outcome(&gate, case.token(), case.at()), "invalid_audience");
    }
    // Both configured: accepted through the `spn:` one.
    let both = build(entra(case.iss, guid, case.keys).audience(case.aud));
    assert_eq!(outcome(&both, case.token(), case.at()), "ok");
}

/// T18 (ENTRA-27): a v1 app-only token with neither `scp` nor `roles` passes the core
/// (the Entra default-deny for such tokens is a later issue); it is an app token with no
/// scopes and no roles, so any scope or role requirement refuses it.
#[test]
fn entra_t18_v1_app_only_without_permissions_passes_core() {
    let case = &T18_CASE;
    let claims = validate(&case.gate(), case.token(), case.at()).unwrap();
    assert_eq!(claims.token_kind(), TokenKind::App, "sub = oid");
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(claims.roles().count(), 0);
    assert_eq!(
        claims.client_id(),
        Some("80df99f6-bfc9-4c47-b726-42b67cce3503")
    ); // appid
    assert_eq!(
        claims.tenant_id(),
        Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
    );
    assert_eq!(claims.subject(), claims.object_id());
    assert_eq!(claims.expires_at(), at(case.exp));
    assert!(Requirement::role("anything").check(&claims).is_err());
    let gate = Gate::builder()
        .issuer(case.profile())
        .require(Requirement::any_role(["Data.Read"]).or(Requirement::scope("user_impersonation")))
        .build()
        .unwrap();
    assert_eq!(
        outcome(&gate, case.token(), case.at()),
        "insufficient_scope"
    );
}
