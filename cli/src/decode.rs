//! Decoding a token without trusting it: the JOSE header and claims of a compact JWS, or what
//! else the text looks like. Nothing is verified here.

use serde_json::{Map, Value};

use crate::fail::Failure;

/// What a token's text is.
pub enum Shape {
    /// A compact JWS: header, claims, and the signature's length in bytes.
    Jws {
        header: Map<String, Value>,
        claims: Map<String, Value>,
        signature_bytes: usize,
    },
    /// A compact JWE (five segments): only its header is readable.
    Jwe { header: Map<String, Value> },
    /// No dots: an opaque token (a refresh token, or an access token only its issuer's
    /// introspection endpoint can read).
    Opaque { length: usize },
}

/// A base64url segment, padding tolerated, decoded.
fn segment(text: &str, what: &str) -> Result<Vec<u8>, Failure> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(text.trim_end_matches('='))
        .map_err(|_| {
            Failure::undecided(format!(
                "the {what} is not base64url: copy the whole token, without quotes or line breaks"
            ))
        })
}

/// A base64url segment holding a JSON object.
fn object(text: &str, what: &str) -> Result<Map<String, Value>, Failure> {
    let bytes = segment(text, what)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Failure::undecided(format!(
            "the {what} is not a JSON object: this is not a JWT"
        ))),
    }
}

/// Decodes a token's text.
pub fn decode(token: &str) -> Result<Shape, Failure> {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [header, claims, signature] => Ok(Shape::Jws {
            header: object(header, "header")?,
            claims: object(claims, "payload")?,
            signature_bytes: segment(signature, "signature")?.len(),
        }),
        [header, _, _, _, _] => Ok(Shape::Jwe {
            header: object(header, "header")?,
        }),
        [_] if token
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') =>
        {
            Ok(Shape::Opaque {
                length: token.len(),
            })
        }
        _ => Err(Failure::undecided(format!(
            "not a token: {} dot-separated parts (a JWT has 3, a JWE 5); copy the whole token",
            parts.len()
        ))),
    }
}
