//! JWK thumbprints (RFC 7638): the SHA-256 of a public key's required members in a canonical
//! JSON form, base64url-encoded. A DPoP-bound token names its key by this value (`cnf.jkt`,
//! RFC 9449 §6.1), so the proof's key is compared by it before it is parsed.

use serde::Deserialize;

use crate::json::Object;

/// The members a thumbprint covers (RFC 7638 §3.2); others are ignored.
#[derive(Deserialize)]
struct Members {
    kty: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding; `None` when the
/// JWK is not an object of a key type with its required members (RSA, EC, OKP).
pub(crate) fn thumbprint(jwk: &str) -> Option<String> {
    let Object(m): Object<Members> = serde_json::from_str(jwk).ok()?;
    // Members in lexicographic order, no whitespace; each value as a JSON string.
    let canonical = match m.kty.as_deref()? {
        "RSA" => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            string(m.e.as_deref()?),
            string(m.n.as_deref()?)
        ),
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            string(m.crv.as_deref()?),
            string(m.x.as_deref()?),
            string(m.y.as_deref()?)
        ),
        "OKP" => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            string(m.crv.as_deref()?),
            string(m.x.as_deref()?)
        ),
        _ => return None,
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    Some(base64_simd::URL_SAFE_NO_PAD.encode_to_string(digest.as_ref()))
}

/// `value` as a JSON string, escaped as serde_json writes it.
fn string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1's example key and thumbprint.
    #[test]
    fn rfc7638_example() {
        let jwk = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
        assert_eq!(
            thumbprint(jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    /// The EC and OKP forms: the same key with other members, in any order, has the same
    /// thumbprint; another key, or another curve name, does not.
    #[test]
    fn ec_and_okp_members_only() {
        let ec = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
        let reordered = r#"{"y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"sig","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","crv":"P-256","kty":"EC","kid":"k"}"#;
        assert_eq!(thumbprint(ec), thumbprint(reordered));
        assert!(thumbprint(ec).is_some());
        let other_curve = ec.replace("P-256", "P-384");
        assert_ne!(thumbprint(ec), thumbprint(&other_curve));
        let okp =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        // RFC 8037 Appendix A.3.
        assert_eq!(
            thumbprint(okp).as_deref(),
            Some("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        );
    }

    #[test]
    fn incomplete_or_unknown_keys_have_none() {
        for jwk in [
            r#"{"kty":"RSA","n":"AQAB"}"#,
            r#"{"kty":"EC","crv":"P-256","x":"AA"}"#,
            r#"{"kty":"oct","k":"AA"}"#,
            r#"{"n":"AQAB","e":"AQAB"}"#,
            r#"["RSA","AQAB","AQAB"]"#,
            r#"{"kty":"RSA","n":1,"e":"AQAB"}"#,
            "not json",
        ] {
            assert_eq!(thumbprint(jwk), None, "{jwk}");
        }
    }
}
