//! A7. Microsoft Graph tokens (ENTRA-23..25, ATK-33).

use serde_json::Value;
use tokengate::Rejection;
use tokengate::providers::entra::TokenVersion;

use TokenVersion::{V1, V2};

use super::support::{Authority, gate, outcome, single};

/// ENTRA-23: a header `nonce` marks a Microsoft Graph token, whose signature cannot verify:
/// refused `unsupported_token_format` before anything else, whatever its audience.
#[tokio::test]
async fn entra_23_graph_header_nonce_is_unsupported() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        for nonce in [Value::from("AQABAAAAAAD"), Value::from(""), Value::from(1)] {
            let token = entra.token(version, tid).header("nonce", &nonce).sign();
            assert_eq!(
                outcome(&gate, &token).await,
                "unsupported_token_format",
                "{version:?} nonce {nonce}"
            );
        }
    }
}

/// ENTRA-24, ENTRA-25: tokens for Microsoft Graph (`aud` its GUID or URL) are refused
/// `invalid_audience`, with the generic description only.
#[tokio::test]
async fn entra_24_25_graph_audience_is_invalid() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        for aud in [
            "00000003-0000-0000-c000-000000000000",
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
            // Azure AD Graph, retired but still requested by old clients.
            "00000002-0000-0000-c000-000000000000",
            "https://graph.windows.net",
            "https://graph.windows.net/",
        ] {
            let token = entra.token(version, tid).audience(aud).sign();
            let refused = gate.validate(&token).await.unwrap_err();
            assert_eq!(refused, Rejection::InvalidAudience, "{version:?} {aud}");
            assert_eq!(
                refused.description(),
                "The access token is not meant for this resource."
            );
        }
    }
}

/// ATK-33: a Microsoft Graph token as Entra issues it (header `nonce`, `aud` Graph, `scp`
/// `User.Read`), sent to the API: refused, as an unsupported format.
#[tokio::test]
async fn atk_33_graph_token() {
    let entra = Authority::shared();
    let tid = entra.tenant();
    let gate = gate(&entra, single(&entra));
    for version in [V1, V2] {
        let token = entra
            .token(version, tid)
            .header("nonce", "mpTp1Yd0sVr3wVp9cYwVUvG0yZqQHfKk0nE6rC7u2oE")
            .audience("00000003-0000-0000-c000-000000000000")
            .scp("User.Read openid profile email")
            .sign();
        assert_eq!(
            outcome(&gate, &token).await,
            "unsupported_token_format",
            "{version:?}"
        );
    }
}
