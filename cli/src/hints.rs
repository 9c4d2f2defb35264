//! What to do about a refused token, from its decoded (untrusted) content: the mistakes people
//! make most, said in one line each. The token belongs to whoever runs the command, so its
//! claims may be named; the token itself never is.

use std::time::SystemTime;

use serde_json::Value;

use crate::decode::{Shape, decode};
use crate::kind::{Kind, audiences, kind};
use crate::show;

/// Hints for a token refused with `code` by a gate configured for `issuer` and `audiences`.
pub fn hints(
    token: &str,
    code: &str,
    issuer: &str,
    configured: &[String],
    now: SystemTime,
) -> Vec<String> {
    let Ok(Shape::Jws { header, claims, .. }) = decode(token) else {
        return Vec::new();
    };
    let mut hints = Vec::new();
    match kind(&header, &claims) {
        Kind::GraphToken => hints.push(
            "this is a Microsoft Graph token (aud Graph, or a header nonce): only Graph can \
             verify it; ask for a token for your API (scope api://{client-id}/.default)"
                .into(),
        ),
        Kind::IdToken => hints.push(
            "this is an ID token (nonce, at_hash or a provider's marker): it tells the client \
             who signed in; send the access token issued for your API instead"
                .into(),
        ),
        Kind::RefreshToken => {
            hints.push("this is a refresh token: send the access token instead".into());
        }
        Kind::DpopProof => {
            hints.push("this is a DPoP proof, not a token: send the access token".into());
        }
        _ => {}
    }
    let iss = claims.get("iss").and_then(Value::as_str);
    match (code, iss) {
        ("untrusted_issuer", Some(iss))
            if iss != issuer && iss.trim_end_matches('/') == issuer.trim_end_matches('/') =>
        {
            hints.push(format!(
                "the token's iss {iss:?} and --issuer {issuer:?} differ only by a trailing \
                 slash; issuers are compared exactly: use --issuer {iss}"
            ));
        }
        ("untrusted_issuer", Some(iss)) => {
            hints.push(format!("the token's iss is {iss:?}, not {issuer:?}"));
        }
        ("invalid_audience", _) => hints.push(format!(
            "the token's aud is [{}]; accepted: [{}]",
            audiences(&claims).join(", "),
            configured.join(", ")
        )),
        ("token_expired" | "token_not_yet_valid" | "issued_in_future", _) => {
            let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
            hints.push(format!(
                "exp is {}; --at TIME validates at another time",
                show::timestamp(exp, now)
            ));
        }
        ("insufficient_scope", _) => {
            let granted: Vec<String> = ["scope", "scp", "roles"]
                .iter()
                .filter_map(|name| Some(format!("{name} {}", show::value(claims.get(*name)?))))
                .collect();
            hints.push(format!(
                "the token has {}",
                if granted.is_empty() {
                    "no scope, scp or roles claim".to_owned()
                } else {
                    granted.join(", ")
                }
            ));
        }
        ("unknown_key", _) => hints.push(
            "no key of the issuer has the token's kid: a token of another issuer or \
             environment, or keys rotated; `tokengate keys --issuer URL` lists them"
                .into(),
        ),
        ("keys_unavailable", _) => hints.push(
            "check that the issuer's discovery document and key set are reachable from here \
             (`tokengate keys --issuer URL`), or give --jwks FILE"
                .into(),
        ),
        _ => {}
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unsigned token with these header and claims (hints never look at signatures).
    fn token(header: &str, claims: &str) -> String {
        let b64 = |text: &str| base64_simd::URL_SAFE_NO_PAD.encode_to_string(text);
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    #[test]
    fn a_trailing_slash_is_named() {
        let t = token(r#"{"alg":"RS256"}"#, r#"{"iss":"https://a.example/"}"#);
        let hints = hints(
            &t,
            "untrusted_issuer",
            "https://a.example",
            &[],
            SystemTime::now(),
        );
        assert!(hints[0].contains("trailing slash"), "{hints:?}");
        let hints = hints_for_other_issuer();
        assert!(!hints[0].contains("trailing slash"), "{hints:?}");
    }

    fn hints_for_other_issuer() -> Vec<String> {
        let t = token(r#"{"alg":"RS256"}"#, r#"{"iss":"https://b.example/"}"#);
        hints(
            &t,
            "untrusted_issuer",
            "https://a.example",
            &[],
            SystemTime::now(),
        )
    }

    #[test]
    fn graph_and_id_tokens_are_named() {
        let graph = token(
            r#"{"alg":"RS256","nonce":"x"}"#,
            r#"{"aud":"00000003-0000-0000-c000-000000000000"}"#,
        );
        let found = hints(
            &graph,
            "unsupported_token_format",
            "x",
            &[],
            SystemTime::now(),
        );
        assert!(found[0].contains("Microsoft Graph"), "{found:?}");
        let id = token(r#"{"alg":"RS256"}"#, r#"{"nonce":"n","aud":"a"}"#);
        let found = hints(&id, "not_an_access_token", "x", &[], SystemTime::now());
        assert!(found[0].contains("ID token"), "{found:?}");
    }
}
