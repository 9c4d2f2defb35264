//! A5. Issuer validation, single-tenant and multi-tenant (ENTRA-16..18, ATK-22).

use serde_json::Value;
use tokengate::Gate;
use tokengate::providers::entra::{EntraApi, TokenVersion};
use tokengate::testing::TestEntra;

use TokenVersion::{V1, V2};

use super::support::{
    Authority, accepted, any_tenant, build_problems, fetches, gate, gate_any, outcome, payload,
    single, tenants, v1_keys, v1_metadata, v2_keys, v2_metadata,
};

/// ENTRA-16: a single-tenant API accepts exactly the issuers its tenant's documents name:
/// another tenant, or any respelling of its own issuer, is `untrusted_issuer`.
#[tokio::test]
async fn entra_16_single_tenant_issuer_is_exact() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let other = entra.add_tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let own = entra.token(version, tid).sign();
        let claims = accepted(&gate, &own, "own tenant").await;
        assert_eq!(claims.issuer(), payload(&own)["iss"].as_str().unwrap());
        let token = entra.token(version, &other).sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "untrusted_issuer",
            "{version:?}"
        );
        // Another tenant's issuer with this tenant's `tid`.
        let iss = payload(&token)["iss"].as_str().unwrap().to_owned();
        let token = entra.token(version, tid).issuer(&iss).sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "untrusted_issuer",
            "{version:?} other iss, own tid"
        );
    }
    // Nothing was fetched for the other tenant; the issuer respellings are in ATK-22.
    assert_eq!(fetches(&entra, &other), [0; 4]);
}

/// ATK-22: issuer confusion, each variant of the configured tenant's issuers (signed with the
/// right key, with the right `tid`) is `untrusted_issuer`.
#[tokio::test]
async fn atk_22_issuer_confusion() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let upper = tid.to_uppercase();
    let gate = gate(&entra, single(&entra));
    let v1 = entra.v1_issuer(tid);
    let v2 = entra.v2_issuer(tid);
    let instance = entra.instance();
    let variants = [
        format!("{v2}/"),
        v1.trim_end_matches('/').to_owned(),
        format!("{v1}/"),
        v2.to_uppercase(),
        v2.replacen("http://", "HTTP://", 1),
        entra.v2_issuer(&upper),
        entra.v1_issuer(&upper),
        format!("{instance}/{tid}/v2.0/"),
        format!("{instance}/{tid}/"),
        format!("{instance}/{tid}"),
        format!("{instance}/{tid}/v1.1"),
        format!("{instance}/common/v2.0"),
        format!("{instance}/organizations/v2.0"),
        entra.v2_issuer("{tenantid}"),
        format!("{v2} "),
        format!(" {v2}"),
        format!("{v2}#"),
        format!("{v2}?x=1"),
        v2.replace("127.0.0.1", "localhost"),
        v1.replace("127.0.0.1", "localhost"),
        v2.replace("127.0.0.1", "127.0.0.01"),
        v2.replace("http://", "https://"),
        String::new(),
    ];
    for iss in variants {
        for version in [V1, V2] {
            let token = entra.token(version, tid).issuer(&iss).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "untrusted_issuer",
                "{version:?} iss {iss:?}"
            );
        }
    }
    assert_eq!(entra.sts_requests(), 0);
}

/// ENTRA-17 (multi-tenant, allowlist): tokens of the listed tenants validate, v1 and v2, each
/// against its own tenant's documents and keys (ENTRA-21: per tenant); a tenant outside the
/// list is `untrusted_issuer` and nothing is fetched for it.
#[tokio::test]
async fn entra_17_multi_tenant_allowlist() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let outsider = entra.add_tenant();
    let gate = gate(&entra, tenants(&[&a, &b]));
    for tid in [&a, &b] {
        for version in [V1, V2] {
            let claims = accepted(&gate, &entra.token(version, tid).sign(), tid).await;
            assert_eq!(claims.tenant_id(), Some(tid.as_str()));
        }
        assert_eq!(fetches(&entra, tid), [1, 1, 1, 1], "{tid}");
    }
    for version in [V1, V2] {
        let token = entra.token(version, &outsider).sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "untrusted_issuer",
            "{version:?}"
        );
    }
    assert_eq!(fetches(&entra, &outsider), [0; 4]);
}

/// ENTRA-17 steps 1 and 4 (single tenant and allowlist): `tid` must be present, once (no
/// `TID` beside it), a lowercase GUID, and the tenant segment of `iss`: otherwise
/// `invalid_tenant`, for v1 and v2 alike.
#[tokio::test]
async fn entra_17_tid_rules() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("allowlist", gate(&entra, tenants(&[&a, &b]))),
    ];
    let upper = a.to_uppercase();
    let braced = format!("{{{a}}}");
    let cases: [(&str, Option<Value>, Option<Value>); 9] = [
        ("tid of another listed tenant", Some(b.clone().into()), None),
        ("tid not a GUID", Some("contoso".into()), None),
        ("tid 'common'", Some("common".into()), None),
        ("tid 'organizations'", Some("organizations".into()), None),
        ("tid uppercase", Some(upper.clone().into()), None),
        ("tid in braces", Some(braced.into()), None),
        ("tid not a string", Some(serde_json::json!([a])), None),
        (
            "tid and TID",
            Some(a.clone().into()),
            Some(b.clone().into()),
        ),
        (
            "tid and Tid, same value",
            Some(a.clone().into()),
            Some(a.clone().into()),
        ),
    ];
    for (name, gate) in &gates {
        for version in [V1, V2] {
            let good = entra.token(version, &a).sign();
            assert_eq!(outcome(gate, &good).await, "accepted", "{name} {version:?}");
            for (variant, tid, twin) in &cases {
                let mut builder = entra.token(version, &a);
                if let Some(tid) = tid {
                    builder = builder.claim("tid", tid);
                }
                if let Some(twin) = twin {
                    let spelling = if variant.contains("TID") {
                        "TID"
                    } else {
                        "Tid"
                    };
                    builder = builder.claim(spelling, twin);
                }
                let expected = if *variant == "tid not a string" {
                    "malformed_claims"
                } else {
                    "invalid_tenant"
                };
                assert_eq!(
                    outcome(gate, &builder.sign()).await,
                    expected,
                    "{name} {version:?}: {variant}"
                );
            }
            let missing = entra.token(version, &a).without_claim("tid").sign();
            assert_eq!(
                outcome(gate, &missing).await,
                "invalid_tenant",
                "{name} {version:?}: tid missing"
            );
        }
    }
}

/// ENTRA-18: only `tid` names the tenant; the legacy
/// `http://schemas.microsoft.com/identity/claims/tenantid` claim does not stand in for it.
#[tokio::test]
async fn entra_18_only_tid_names_the_tenant() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    // The any-tenant key check needs `tid` to fill its templated issuer: without one, no
    // key fits (`key_issuer_mismatch`), v1 tokens included, as they are verified with the v2
    // keys, which carry `issuer`. A tenant's own keys have none: the tenant check refuses.
    let cases = [
        (gate(&entra, single(&entra)), V1, "invalid_tenant"),
        (gate(&entra, single(&entra)), V2, "invalid_tenant"),
        (gate_any(&entra), V1, "key_issuer_mismatch"),
        (gate_any(&entra), V2, "key_issuer_mismatch"),
    ];
    for (gate, version, expected) in cases {
        let token = entra
            .token(version, tid)
            .without_claim("tid")
            .claim("http://schemas.microsoft.com/identity/claims/tenantid", tid)
            .sign();
        assert_eq!(outcome(&gate, &token).await, expected, "{version:?}");
    }
}

/// ENTRA-17 (any tenant): the issuer is the template with the token's `tid`, and each key's
/// own templated `issuer` must give the token's `iss` with that `tid` (step 3). A v2 token
/// whose `tid` is not its `iss` tenant is refused by the key check (`key_issuer_mismatch`);
/// `tid` + `TID` by the tenant check. v1 tokens are verified with the v2 keys, whose issuer
/// with the token's `tid` may also be that tenant's v2 issuer (a v1 token's `iss` never is):
/// a shared key's template fits any `tid`, so they fall to the tenant check
/// (`invalid_tenant`), unless `tid` is missing and there is nothing to fill the template with
/// (`key_issuer_mismatch`, as v2).
#[tokio::test]
async fn entra_17_any_tenant_tid_rules() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let gate = gate_any(&entra);
    let upper = a.to_uppercase();
    let tids: [(&str, Option<&str>); 5] = [
        ("another tenant", Some(&b)),
        ("not a GUID", Some("contoso")),
        ("common", Some("common")),
        ("uppercase", Some(&upper)),
        ("missing", None),
    ];
    for (variant, tid) in tids {
        let v1 = match tid {
            Some(_) => "invalid_tenant",
            None => "key_issuer_mismatch",
        };
        for (version, expected) in [(V2, "key_issuer_mismatch"), (V1, v1)] {
            let mut builder = entra.token(version, &a);
            builder = match tid {
                Some(tid) => builder.claim("tid", tid),
                None => builder.without_claim("tid"),
            };
            assert_eq!(
                outcome(&gate, &builder.sign()).await,
                expected,
                "{version:?}: tid {variant}"
            );
        }
    }
    for version in [V1, V2] {
        let twin = entra.token(version, &a).claim("TID", &b).sign();
        assert_eq!(
            outcome(&gate, &twin).await,
            "invalid_tenant",
            "{version:?}: tid and TID"
        );
        let good = entra.token(version, &a).sign();
        assert_eq!(outcome(&gate, &good).await, "accepted", "{version:?}");
    }
}

/// ENTRA-17 step 3: a key that belongs to another tenant cannot sign for an organization
/// tenant. The personal-account (consumers) tenant's own key, which Entra publishes in
/// `common` with its literal issuer, is not in the key sets the preset reads for an org
/// tenant (the tenant's own, or `organizations`): refused `unknown_key`, in every mode. A
/// shared key, whose templated `issuer` is filled with another `tid` than `iss` names, is
/// refused `key_issuer_mismatch`.
#[tokio::test]
async fn entra_17_key_of_another_tenant_is_refused() {
    let entra = Authority::shared();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let msa_kid = entra.tenant_key(TestEntra::CONSUMERS_TENANT);
    let b_kid = entra.tenant_key(&b);
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("allowlist", gate(&entra, tenants(&[&a, &b]))),
        ("any tenant", gate_any(&entra)),
    ];
    for (name, gate) in &gates {
        assert_eq!(
            outcome(gate, &entra.token(V2, &a).sign()).await,
            "accepted",
            "{name}"
        );
        for kid in [&msa_kid, &b_kid] {
            let token = entra.token(V2, &a).key(kid).sign();
            assert_eq!(outcome(gate, &token).await, "unknown_key", "{name}");
        }
    }
    // In the allowlist, B's own key signs B's tokens (its literal issuer is B's).
    let allowlist = &gates[1].1;
    let token = entra.token(V2, &b).key(&b_kid).sign();
    assert_eq!(outcome(allowlist, &token).await, "accepted");
    // Any tenant: A's issuer with B's tid, signed with a shared (templated) key.
    let any = &gates[2].1;
    let token = entra.token(V2, &a).claim("tid", &b).sign();
    assert_eq!(outcome(any, &token).await, "key_issuer_mismatch");
}

/// ENTRA-17: personal Microsoft accounts are not "any work or school tenant": tokens of the
/// consumers tenant are refused `tenant_not_accepted` in the any-tenant mode, v1 and v2: the
/// tenant is well formed and matches the issuer, so `invalid_tenant` would mislead.
#[tokio::test]
async fn entra_17_consumers_tenant_refused_in_any_tenant_mode() {
    let entra = Authority::shared();
    let gate = gate_any(&entra);
    for version in [V1, V2] {
        let token = entra.token(version, "consumers").sign();
        assert_eq!(
            payload(&token)["tid"],
            TestEntra::CONSUMERS_TENANT,
            "fixture"
        );
        assert_eq!(
            outcome(&gate, &token).await,
            "tenant_not_accepted",
            "{version:?}"
        );
    }
}

/// ENTRA-17 step 3, ATK-23, for v1 tokens in the any-tenant mode: a key that only the
/// personal-account (consumers) tenant uses must not sign an organization tenant's token.
/// `TestEntra` serves tenant keys in `common`'s key sets, as Entra does, v1 (without `issuer`)
/// and v2 (with the tenant's literal issuer). The preset verifies v1 tokens with the v2
/// `common` set, where a key must be one the v2 issuer of the token's tenant may use: the
/// consumers key's issuer is the consumers tenant's, so it is refused.
#[tokio::test]
async fn entra_17_v1_any_tenant_refuses_consumers_tenant_key() {
    let entra = Authority::own().await;
    let tid = entra.add_tenant();
    let msa_kid = entra.tenant_key(TestEntra::CONSUMERS_TENANT);
    let gate = gate_any(&entra);
    assert_eq!(
        outcome(&gate, &entra.token(V1, &tid).sign()).await,
        "accepted"
    );
    let token = entra.token(V1, &tid).key(&msa_kid).sign();
    assert_eq!(outcome(&gate, &token).await, "key_issuer_mismatch");
}

/// ENTRA-17: a v1 token under the any-tenant mode is matched against the v1 template of the
/// `common` v1 document (`https://{sts}/{tenantid}/`). It is verified with the keys the v2
/// `common` document names: the same keys as the v1 set, but with the `issuer` members the
/// key-issuer check (step 3) needs, which the v1 set lacks.
#[tokio::test]
async fn entra_17_v1_token_under_any_tenant_uses_the_v1_template() {
    let entra = Authority::own().await;
    let tid = entra.add_tenant();
    let gate = gate(&entra, any_tenant().versions([TokenVersion::V1]));
    let token = entra.token(V1, &tid).sign();
    let claims = accepted(&gate, &token, "v1 any tenant").await;
    assert_eq!(claims.issuer(), entra.v1_issuer(&tid));
    assert_eq!(claims.tenant_id(), Some(tid.as_str()));
    // The issuer template from the v1 document, the keys from the v2 one: each fetched once,
    // the v1 key set not at all.
    assert_eq!(entra.requests(&v1_metadata("common")), 1);
    assert_eq!(entra.requests(&v2_metadata("common")), 1);
    assert_eq!(entra.requests(&v2_keys("common")), 1);
    assert_eq!(entra.requests(&v1_keys("common")), 0);
    assert_eq!(entra.requests(&v2_metadata("organizations")), 0);
    // The v2 issuer of the same tenant is not a v1-only API's.
    let v2 = entra.token(V2, &tid).sign();
    assert_eq!(outcome(&gate, &v2).await, "untrusted_issuer");
}

/// ENTRA-17 step 5 and the preset's other rules: no silent "every tenant", no `common` as a
/// tenant, a GUID client id; every problem is reported at build, before any request.
#[test]
fn entra_17_configuration_errors() {
    let client = TestEntra::CLIENT_ID;
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let cases: Vec<(&str, EntraApi, &str)> = vec![
        (
            "multi-tenant without tenants",
            EntraApi::multi_tenant(client),
            "must name the tenants",
        ),
        (
            "any_tenant with tenants",
            EntraApi::multi_tenant(client)
                .tenants([tenant])
                .any_tenant(),
            "exclude each other",
        ),
        (
            "any_tenant on a single-tenant API",
            EntraApi::single_tenant(tenant, client).any_tenant(),
            "any_tenant is for multi-tenant APIs",
        ),
        (
            "common as the tenant",
            EntraApi::single_tenant("common", client),
            "are not tenants",
        ),
        (
            "organizations in the list",
            EntraApi::multi_tenant(client).tenants([tenant, "organizations"]),
            "are not tenants",
        ),
        (
            "Consumers in the list",
            EntraApi::multi_tenant(client).tenants(["Consumers"]),
            "are not tenants",
        ),
        (
            "uppercase tenant id",
            EntraApi::single_tenant(tenant.to_uppercase(), client),
            "lowercase GUID",
        ),
        (
            "empty tenant",
            EntraApi::single_tenant("", client),
            "not tenants",
        ),
        (
            "client id not a GUID",
            EntraApi::single_tenant(tenant, "orders-api"),
            "is not an application (client) id GUID",
        ),
        (
            "client id as an App ID URI",
            EntraApi::single_tenant(tenant, format!("api://{client}")),
            "is not an application (client) id GUID",
        ),
        (
            "instance with a path",
            EntraApi::single_tenant(tenant, client)
                .instance("https://login.microsoftonline.com/common"),
            "is not an authority host URL",
        ),
        (
            "instance not a URL",
            EntraApi::single_tenant(tenant, client).instance("login.microsoftonline.com"),
            "is not an authority host URL",
        ),
    ];
    for (variant, api, expected) in cases {
        let problems = build_problems(api);
        assert!(problems.contains(expected), "{variant}: {problems}");
    }
    // Accepted: a tenant list, a verified domain, any tenant.
    for api in [
        EntraApi::multi_tenant(client).tenants([tenant, "contoso.onmicrosoft.com"]),
        EntraApi::multi_tenant(client).any_tenant(),
        EntraApi::single_tenant("contoso.onmicrosoft.com", client),
    ] {
        assert!(Gate::builder().issuer(api).build().is_ok());
    }
}

/// ENTRA-17, availability: one tenant whose metadata cannot be had (a mistyped domain) holds up
/// only the tokens it could have issued; tokens of the healthy tenant pass from the first
/// request, and tokens naming foreign issuers get 401, not 503.
#[tokio::test]
async fn entra_17_a_failing_tenant_does_not_hold_up_others() {
    let entra = Authority::shared();
    let good = entra.add_tenant();
    let gate = gate(
        &entra,
        EntraApi::multi_tenant(TestEntra::CLIENT_ID)
            .tenants([good.as_str(), "missing.example.com"])
            .versions([TokenVersion::V2]),
    );
    assert_eq!(
        outcome(&gate, &entra.token(V2, &good).sign()).await,
        "accepted"
    );
    for iss in ["https://evil.example/x", "https://evil.example/x/v2.0"] {
        let token = entra.token(V2, &good).issuer(iss).sign();
        assert_eq!(outcome(&gate, &token).await, "untrusted_issuer", "{iss}");
    }
    // Another tenant's v2 token could be the misconfigured domain's: that stays unknowable
    // while its metadata fails, so the answer is 503, not a false 401.
    let other = entra.add_tenant();
    assert_eq!(
        outcome(&gate, &entra.token(V2, &other).sign()).await,
        "keys_unavailable"
    );
}

/// Two configurations of the same tenant and version would both claim its tokens: refused at
/// build.
#[test]
fn entra_17_the_same_tenant_twice_is_a_configuration_error() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let refused = Gate::builder()
        .issuer(EntraApi::single_tenant(tenant, TestEntra::CLIENT_ID))
        .issuer(EntraApi::single_tenant(tenant, TestEntra::CALLER_ID))
        .build()
        .unwrap_err();
    assert!(
        refused.to_string().contains("configured twice"),
        "{refused}"
    );
}
