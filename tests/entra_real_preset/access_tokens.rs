//! Valid access tokens.

use std::time::SystemTime;

use tokengate::{Gate, Rejection, Requirement, TokenKind};

use super::entra_host::EntraHost;
use super::fixtures::{GLOBAL_HOST, T04_CASE, T17_CASE, T18_CASE, T20_CASE};
use super::support::{
    assert_only_instance_fetched, check, key_paths, metadata_paths, outcome, payload_of,
};

/// T17 (ENTRA-2, ENTRA-3, ENTRA-29): a v2 app-only token with `roles`, from tenant
/// 41cb5478-..., through `EntraApi::single_tenant(tid, aud)`: the gate learns the v2 issuer
/// `https://login.microsoftonline.com/{tid}/v2.0` from the tenant's v2 document, verifies with
/// the key set that document names (K01), and the token is an app token (`sub` = `oid`).
#[tokio::test(flavor = "current_thread")]
async fn entra_2_3_29_t17_v2_app_only_roles_validates() {
    let case = &T17_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api());
    gate.warm_up()
        .await
        .expect("both tenant documents accepted");
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();

    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.tenant_id(), Some(case.tid));
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.client_id(), Some(case.aud), "azp: the app itself");
    assert_eq!(claims.subject(), claims.object_id());
    assert_eq!(claims.token_kind(), TokenKind::App);
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(claims.roles().count(), 8);
    assert!(claims.has_role("dpmm.orders.read"));
    assert!(
        Requirement::any_scope(["dpmm.orders.read"])
            .or(Requirement::any_role(["dpmm.orders.read"]))
            .check(&claims)
            .is_ok()
    );
    assert_eq!(payload_of(case.token())["ver"], "2.0");

    // Both of the tenant's documents and their key sets came from the instance; nothing
    // from anywhere else.
    let requests = host.requests();
    for path in metadata_paths(case.tid).iter().chain(&key_paths(case.tid)) {
        assert!(requests.contains(path), "{path} in {requests:?}");
    }
    assert_only_instance_fetched(&host, GLOBAL_HOST);

    // The fixed clock is what lets it through.
    assert_eq!(
        outcome(&gate.validate_at(case.token(), SystemTime::now()).await),
        "token_expired"
    );
}

/// T20 (ENTRA-2, ENTRA-29): a v2 delegated token (`scp`), verified with the real v2 key set
/// (K14, whose keys carry `issuer` `https://login.microsoftonline.com/{tenantid}/v2.0`): a
/// user token its scope authorizes.
#[tokio::test(flavor = "current_thread")]
async fn entra_2_29_t20_v2_delegated_scp_validates() {
    let case = &T20_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api());
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.tenant_id(), Some(case.tid));
    assert_eq!(
        claims.client_id(),
        Some("5f28c10f-ecd5-45ef-96b8-db4311802e89"),
        "azp: the client, not the API"
    );
    assert_eq!(claims.token_kind(), TokenKind::User);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["defaultaccess"]);
    assert_eq!(claims.roles().count(), 0);
    assert!(Requirement::scope("defaultaccess").check(&claims).is_ok());
    assert_only_instance_fetched(&host, GLOBAL_HOST);
}

/// T18 (ENTRA-2, ENTRA-27, ENTRA-29): a v1 app-only token from the Microsoft tenant with
/// neither `scp` nor `roles`. Its issuer `https://sts.windows.net/{tid}/` is learned from the
/// tenant's v1 document (the v1 issuer rule accepts it), its key (K02) has no `alg` and is
/// bound to RS256; then the preset refuses it with 403 `no_scope_or_role`, unless the API
/// authorizes by ACL.
#[tokio::test(flavor = "current_thread")]
async fn entra_27_t18_v1_app_only_without_scp_or_roles_is_403_unless_acl() {
    let case = &T18_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;

    let gate = host.gate(case.api());
    let refused = gate.validate_at(case.token(), case.at()).await.unwrap_err();
    assert_eq!(refused, Rejection::NoScopeOrRole);
    assert_eq!(refused.code(), "no_scope_or_role");
    assert_eq!(refused.class().status(), 403);

    let acl = host.gate(case.api().allow_acl_authorization());
    let claims = acl.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(payload_of(case.token())["ver"], "1.0");
    assert_eq!(claims.token_kind(), TokenKind::App, "sub = oid");
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(claims.roles().count(), 0);
    assert_eq!(
        claims.client_id(),
        Some("80df99f6-bfc9-4c47-b726-42b67cce3503"),
        "appid"
    );
    // With ACL authorization on, any scope or role requirement still refuses it.
    assert!(Requirement::any_role(["Data.Read"]).check(&claims).is_err());
    assert_only_instance_fetched(&host, GLOBAL_HOST);
}

/// T04 (ENTRA-6): a v1 delegated token whose `aud` is `spn:{client id}`. The preset's
/// default audiences (the client id and `api://{client id}`) do not include it: refused
/// `invalid_audience`. `app_id_uri` accepts `spn:...` (it refuses only empty values, values
/// with surrounding whitespace and values ending in `/`), and with it configured the token
/// validates: exact match, no prefix or scheme tolerance.
#[tokio::test(flavor = "current_thread")]
async fn entra_6_t04_v1_spn_audience_only_when_configured() {
    let case = &T04_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;

    let gate = host.gate(case.api());
    assert_eq!(check(&gate, case).await, "invalid_audience");

    let gate = host.gate(case.api().app_id_uri(case.aud));
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["user_impersonation"]);
    assert_eq!(claims.token_kind(), TokenKind::User);

    // Other spellings are other audiences.
    for other in [
        "SPN:6514a8ca-d9e4-4155-b292-65258398f3aa",
        "spn:6514a8ca-d9e4-4155-b292-65258398f3a",
    ] {
        let gate = host.gate(case.api().app_id_uri(other));
        assert_eq!(check(&gate, case).await, "invalid_audience", "{other}");
    }
    // And the configuration check refuses a trailing slash.
    let refused = Gate::builder()
        .issuer(case.api().app_id_uri(format!("{}/", case.aud)))
        .http_client(host.client())
        .build()
        .unwrap_err();
    assert!(
        refused.to_string().contains("ends with a slash"),
        "{refused}"
    );
}
