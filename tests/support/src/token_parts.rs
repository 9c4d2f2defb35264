//! Tokens looked at without validating them, and tampered with.

use serde_json::Value;

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a compact JWS");
    let bytes = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("a JSON object")
}

/// The decoded JOSE header of a compact JWS.
pub fn header(token: &str) -> Value {
    decode_part(token, 0)
}

/// The decoded claims of a compact JWS.
pub fn payload(token: &str) -> Value {
    decode_part(token, 1)
}

/// `token` with one character of its signature changed: still well-formed, no longer valid.
pub fn altered_signature(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("a compact JWS");
    let mut signature = signature.as_bytes().to_vec();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == b'A' {
        b'B'
    } else {
        b'A'
    };
    format!("{signed}.{}", String::from_utf8(signature).unwrap())
}
