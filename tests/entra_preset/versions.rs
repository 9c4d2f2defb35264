//! A1. Token versions, issuers and `ver` (ENTRA-1..4).

use serde_json::Value;
use tokengate::Gate;
use tokengate::providers::entra::{EntraApi, TokenVersion};
use tokengate::testing::TestEntra;

use TokenVersion::{V1, V2};

use super::support::{Authority, accepted, fetches, gate, outcome, single, untouched};

/// ENTRA-1, ENTRA-2: both formats validate with the preset's default (both versions), each
/// with its own issuer shape: v1 `https://{sts}/{tid}/` (trailing slash) with `ver` 1.0, v2
/// `{instance}/{tid}/v2.0` with `ver` 2.0.
#[tokio::test]
async fn entra_1_2_v1_and_v2_token_formats_validate() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for (version, issuer, ver) in [
        (V1, entra.v1_issuer(tid), "1.0"),
        (V2, entra.v2_issuer(tid), "2.0"),
    ] {
        let token = entra.token(version, tid).sign();
        let claims = accepted(&gate, &token, &format!("{version:?}")).await;
        assert_eq!(claims.issuer(), issuer);
        let json: Value = claims.deserialize().unwrap();
        assert_eq!(json["ver"], ver);
    }
    assert!(entra.v1_issuer(tid).ends_with(&format!("/{tid}/")));
    assert!(entra.v2_issuer(tid).ends_with(&format!("/{tid}/v2.0")));
    assert!(!entra.v1_issuer(tid).starts_with(entra.instance()));
}

/// ENTRA-3: each token is checked against the metadata of its own version: the v1 issuer is
/// the one the tenant's v1 document names, verified with the v1 key set, and the v2 issuer
/// the v2 document's. Everything comes from the configured instance; the v1 issuer's host is
/// never asked anything.
#[tokio::test]
async fn entra_3_each_version_against_its_own_metadata() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    let v1 = entra.token(V1, tid).sign();
    let v2 = entra.token(V2, tid).sign();
    assert_eq!(outcome(&gate, &v1).await, "accepted");
    // Only the documents that could name the token's issuer: the v1 ones, once each.
    assert_eq!(fetches(&entra, tid), [1, 0, 1, 0]);
    assert_eq!(outcome(&gate, &v2).await, "accepted");
    assert_eq!(fetches(&entra, tid), [1, 1, 1, 1]);
    assert_eq!(entra.sts_requests(), 0);

    // A v1 token carrying the v2 issuer (or the reverse) is judged by the issuer it names:
    // a v2 `iss` with `ver` 1.0 and an `x5t` header still validates as a v2 token, since the
    // keys are shared; the `iss` picks the metadata, never the `ver`.
    let mixed = entra.token(V1, tid).issuer(&entra.v2_issuer(tid)).sign();
    let claims = accepted(&gate, &mixed, "v1 token with a v2 iss").await;
    assert_eq!(claims.issuer(), entra.v2_issuer(tid));
}

/// ENTRA-3: the unverified `iss` only chooses among configured metadata; it is never turned
/// into a URL. A token naming `https://evil.example/{tid}/v2.0`, another authority, or the STS
/// host with another path, makes no request there (only configured documents that could name
/// such an issuer are fetched, once) and is refused `untrusted_issuer`.
#[tokio::test]
async fn entra_3_foreign_issuer_makes_no_request() {
    let entra = Authority::shared();
    let evil = Authority::own().await;
    // A tenant of its own: other tests use the shared one's first tenant at the same time.
    let tenant = entra.add_tenant();
    let tid = tenant.as_str();
    let gate = gate(&entra, EntraApi::single_tenant(tid, TestEntra::CLIENT_ID));
    let foreign = [
        format!("https://evil.example/{tid}/v2.0"),
        format!("https://evil.example/{tid}/"),
        evil.v2_issuer(tid),
        evil.v1_issuer(tid),
        format!("{}v2.0", entra.v1_issuer(tid)),
        format!("{}.well-known/openid-configuration", entra.v1_issuer(tid)),
    ];
    for iss in &foreign {
        let token = entra.token(V2, tid).issuer(iss).sign();
        assert_eq!(outcome(&gate, &token).await, "untrusted_issuer", "{iss}");
    }
    // Nothing from the token's hosts. Only the v1 documents were fetched (once): a v1 issuer's
    // host is the cloud's STS, known only from them, so `https://evil.example/{tid}/` could have
    // been it; no v2 issuer but `{instance}/{tid}/v2.0` could, so the v2 ones were not.
    assert_eq!(fetches(&entra, tid), [1, 0, 1, 0]);
    assert_eq!(entra.sts_requests(), 0);
    assert!(untouched(&evil, tid));
    assert_eq!(evil.requests(&format!("/{tid}/v2.0")), 0);
    // The issuer of the configured tenant still validates.
    assert_eq!(
        outcome(&gate, &entra.token(V2, tid).sign()).await,
        "accepted"
    );
}

/// ENTRA-4: the accepted versions are configurable. With only v2, a v1 token is from an
/// untrusted issuer and the v1 documents are never fetched; with only v1, the reverse.
#[tokio::test]
async fn entra_4_versions_are_configurable() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let v1 = entra.token(V1, tid).sign();
    let v2 = entra.token(V2, tid).sign();

    let v2_only = gate(&entra, single(&entra).versions([TokenVersion::V2]));
    assert_eq!(outcome(&v2_only, &v2).await, "accepted");
    assert_eq!(outcome(&v2_only, &v1).await, "untrusted_issuer");
    assert_eq!(fetches(&entra, tid), [0, 1, 0, 1]);

    let v1_only = gate(&entra, single(&entra).versions([TokenVersion::V1]));
    assert_eq!(outcome(&v1_only, &v1).await, "accepted");
    assert_eq!(outcome(&v1_only, &v2).await, "untrusted_issuer");
    assert_eq!(fetches(&entra, tid), [1, 1, 1, 1]);

    let both = gate(
        &entra,
        single(&entra).versions([TokenVersion::V1, TokenVersion::V2]),
    );
    assert_eq!(outcome(&both, &v1).await, "accepted");
    assert_eq!(outcome(&both, &v2).await, "accepted");
    // Both by default; none at all is a configuration error.
    let default = gate(&entra, single(&entra));
    assert_eq!(outcome(&default, &v1).await, "accepted");
    assert_eq!(outcome(&default, &v2).await, "accepted");
    let none = Gate::builder()
        .issuer(single(&entra).versions([]))
        .build()
        .unwrap_err();
    assert!(
        none.problems().any(|p| p.contains("no token version")),
        "{none}"
    );
}
