//! A11. National clouds (ENTRA-38, ENTRA-39).

use tokengate::providers::entra::{EntraApi, TokenVersion};
use tokengate::testing::TestEntra;

use TokenVersion::{V1, V2};

use super::support::{Authority, any_tenant, gate, gate_any, outcome, single, tenants};

/// ENTRA-38, ENTRA-39: two authorities stand for two clouds. A gate configured for one
/// refuses the other's tokens (`untrusted_issuer`), v1 and v2, in every mode, even for the
/// same tenant id; the expected issuers come from the configured cloud's own documents.
#[tokio::test]
async fn entra_39_token_from_another_cloud_is_refused() {
    let global = Authority::own().await;
    let gov = Authority::own().await;
    let tid = global.tenant().to_owned();
    let api = || EntraApi::single_tenant(&tid, TestEntra::CLIENT_ID);
    let global_gate = gate(&global, api());
    let gov_gate = gate(&gov, api());
    let gov_any = gate(&gov, any_tenant());
    for version in [V1, V2] {
        let from_global = global.token(version, &tid).sign();
        let from_gov = gov.token(version, &tid).sign();
        assert_eq!(outcome(&global_gate, &from_global).await, "accepted");
        assert_eq!(outcome(&gov_gate, &from_gov).await, "accepted");
        assert_eq!(outcome(&gov_any, &from_gov).await, "accepted");
        assert_eq!(
            outcome(&gov_gate, &from_global).await,
            "untrusted_issuer",
            "{version:?} global token, gov API"
        );
        assert_eq!(
            outcome(&gov_any, &from_global).await,
            "untrusted_issuer",
            "{version:?} global token, gov API, any tenant"
        );
        assert_eq!(
            outcome(&global_gate, &from_gov).await,
            "untrusted_issuer",
            "{version:?} gov token, global API"
        );
        // The other cloud's issuer on a token signed by this cloud's key: the key is unknown
        // there.
        let iss = match version {
            V1 => gov.v1_issuer(&tid),
            V2 => gov.v2_issuer(&tid),
        };
        let forged = global.token(version, &tid).issuer(&iss).sign();
        assert_eq!(outcome(&gov_gate, &forged).await, "unknown_key");
    }
    assert_eq!(global.sts_requests() + gov.sts_requests(), 0);
}

/// ENTRA-39: host aliases are for token acquisition only; `iss` is compared exactly. The same
/// host and port spelled `localhost` instead of `127.0.0.1` (as `login.windows.net` for
/// `login.microsoftonline.com`) is `untrusted_issuer`, in every mode.
#[tokio::test]
async fn entra_39_alias_host_in_iss_is_refused() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("any tenant", gate_any(&entra)),
    ];
    for (name, gate) in &gates {
        for version in [V1, V2] {
            let iss = match version {
                V1 => entra.v1_issuer(tid),
                V2 => entra.v2_issuer(tid),
            };
            let good = entra.token(version, tid).sign();
            assert_eq!(outcome(gate, &good).await, "accepted", "{name} {version:?}");
            for alias in [
                iss.replace("127.0.0.1", "localhost"),
                iss.replace("127.0.0.1", "LOCALHOST"),
                iss.replace("127.0.0.1", "127.1"),
                iss.replace("127.0.0.1", "[::1]"),
            ] {
                let token = entra.token(version, tid).issuer(&alias).sign();
                assert_eq!(
                    outcome(gate, &token).await,
                    "untrusted_issuer",
                    "{name} {version:?} {alias}"
                );
            }
        }
    }
}

/// ENTRA-40: Entra's metadata names its cloud instance (`"cloud_instance_name":
/// "microsoftonline.com"`). A key that names another is skipped when the key set is loaded,
/// so it verifies no token (`unknown_key`), v1 and v2, in every mode (in the any-tenant mode
/// the tenant's own set, asked then, skips it too). A key that names the same instance, and
/// keys that name none, verify as before.
#[tokio::test]
async fn entra_40_key_of_another_cloud_instance_is_refused() {
    let entra = Authority::own().await;
    let tid = entra.tenant().to_owned();
    let other_cloud = entra.cloud_instance_key("microsoftonline.us");
    let same_cloud = entra.cloud_instance_key("microsoftonline.com");
    let gates = [
        ("single", gate(&entra, single(&entra))),
        ("list", gate(&entra, tenants(&[&tid]))),
        ("any tenant", gate_any(&entra)),
    ];
    for (name, gate) in &gates {
        for version in [V1, V2] {
            let shared = entra.token(version, &tid).sign();
            assert_eq!(
                outcome(gate, &shared).await,
                "accepted",
                "{name} {version:?}"
            );
            let same = entra.token(version, &tid).key(&same_cloud).sign();
            assert_eq!(outcome(gate, &same).await, "accepted", "{name} {version:?}");
            let other = entra.token(version, &tid).key(&other_cloud).sign();
            assert_eq!(
                outcome(gate, &other).await,
                "unknown_key",
                "{name} {version:?}"
            );
        }
        // Refused when loaded: every set holds the shared keys and the same-cloud key only.
        for status in gate.key_status() {
            assert_eq!(status.keys, entra.kids().len() + 1, "{name}: {status:?}");
        }
    }
}
