//! ID tokens.

use serde_json::json;
use tokengate::Rejection;

use super::entra_host::EntraHost;
use super::fixtures::{T05_CASE, T13_CASE};
use super::support::{KRIMP, NGTF, check, k08_as_entra};

/// T05 (ATK-32): a real v1 ID token (implicit flow, `nonce`) for a client id configured as
/// the API's: its issuer is learned, its signature verifies with K06, and the first claim
/// check refuses it as `not_an_access_token` (a `nonce`).
#[tokio::test(flavor = "current_thread")]
async fn atk_32_t05_v1_id_token_is_not_an_access_token() {
    let case = &T05_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api());
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::NotAnAccessToken
    );
    // Even for an API that authorizes by ACL (the ID token has no `scp` or `roles` either).
    let acl = host.gate(case.api().allow_acl_authorization());
    assert_eq!(check(&acl, case).await, "not_an_access_token");
}

/// T13 (ATK-32, ATK-44): the 2014 v1 ID token whose header names its key by `x5t` only.
///
/// With both K08 keys in the tenant's key set (as Entra publishes keys), the pipeline stops
/// before the claims: a token without `kid` facing two RSA keys is `missing_key_id`
/// (tokengate never selects keys by `x5t`); a refresh does not change that (the cooldown
/// holds it to the set just fetched). That is the code the pipeline gives first, so it is
/// asserted here instead of `not_an_access_token`.
///
/// With only its own key in the set, the one RS256 key is selected, the signature verifies,
/// and the claims refuse it as `not_an_access_token` (`nonce`, `c_hash`).
#[tokio::test(flavor = "current_thread")]
async fn atk_32_44_t13_v1_id_token_without_kid() {
    let case = &T13_CASE;
    let both = json!({"keys": [k08_as_entra(NGTF), k08_as_entra(KRIMP)]}).to_string();
    let host = EntraHost::start(&[(case.tid, both.as_str())]).await;
    let gate = host.gate(case.api());
    gate.warm_up().await.unwrap();
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::MissingKeyId
    );

    let only = json!({"keys": [k08_as_entra(KRIMP)]}).to_string();
    let host = EntraHost::start(&[(case.tid, only.as_str())]).await;
    let gate = host.gate(case.api());
    assert_eq!(check(&gate, case).await, "not_an_access_token");
}
