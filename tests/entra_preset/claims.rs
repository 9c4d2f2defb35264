//! A3. Claims (ENTRA-8..10).

use tokengate::TokenKind;
use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;

use TokenVersion::{V1, V2};

use super::support::{Authority, accepted, gate, single, tenants};

/// ENTRA-8: unknown claims are ignored and optional claims are never required.
#[tokio::test]
async fn entra_8_unknown_claims_ignored_optional_claims_not_required() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let mut builder = entra
            .token(version, tid)
            .claim("xms_new_claim", serde_json::json!({"a": [1, 2]}))
            .claim("future", "value");
        for optional in [
            "aio",
            "rh",
            "uti",
            "name",
            "preferred_username",
            "unique_name",
            "upn",
            "acr",
            "amr",
            "azpacr",
            "appidacr",
            "ver",
            "nbf",
            "iat",
        ] {
            builder = builder.without_claim(optional);
        }
        // The client claim of the other version is not required either.
        let other_client = if version == V1 { "azp" } else { "appid" };
        builder = builder.without_claim(other_client);
        let claims = accepted(&gate, &builder.sign(), &format!("{version:?}")).await;
        assert!(claims.client_id().is_some());
        assert_eq!(claims.issued_at(), None);
    }
}

/// ENTRA-9, ENTRA-10: the principal is `tid` + `oid` (or `sub`), exposed normalized; the
/// mutable names (`email`, `preferred_username`, `upn`, `unique_name`, `name`) feed none of
/// the normalized accessors. The same `oid` and `sub` in two tenants are two principals.
#[tokio::test]
async fn entra_9_10_tenant_and_object_ids_are_the_principal() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let gate = gate(&entra, tenants(&[&a, &b]));
    let oid = "00000000-0000-4000-8000-00000000a11c";
    let sub = "pairwise-subject-of-alice";
    let mut principals = Vec::new();
    for tid in [&a, &b] {
        for version in [V1, V2] {
            let token = entra
                .token(version, tid)
                .claim("oid", oid)
                .claim("sub", sub)
                .claim("email", "admin@contoso.com")
                .claim("preferred_username", "admin@contoso.com")
                .claim("upn", "admin@contoso.com")
                .claim("unique_name", "admin@contoso.com")
                .claim("name", "Administrator")
                .sign();
            let claims = accepted(&gate, &token, &format!("{tid} {version:?}")).await;
            assert_eq!(claims.tenant_id(), Some(tid.as_str()));
            assert_eq!(claims.object_id(), Some(oid));
            assert_eq!(claims.subject(), Some(sub));
            assert_eq!(claims.client_id(), Some(TestEntra::CALLER_ID));
            assert_eq!(claims.token_kind(), TokenKind::User);
            principals.push((
                claims.tenant_id().unwrap().to_owned(),
                claims.object_id().unwrap().to_owned(),
            ));
        }
    }
    principals.dedup();
    assert_eq!(
        principals.len(),
        2,
        "one principal per tenant: {principals:?}"
    );
}
