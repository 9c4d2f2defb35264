//! HMAC, emulated in test code: tokengate never verifies HMAC, yet the HMAC vectors exercise
//! its own steps.

use aws_lc_rs::hmac;
use serde::Deserialize;

use crate::Algorithm;
use crate::error::Rejection;
use crate::jws::{self, BASE64URL, HeaderText, Signature};
use crate::keys::{RulesAt, parse_jwk};

/// A symmetric JWK, as far as the HMAC emulation needs it.
#[derive(Deserialize)]
pub(super) struct OctJwk {
    pub(super) kty: String,
    k: String,
    alg: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct HmacHeader {
    alg: String,
    kid: Option<String>,
}

/// tokengate never verifies HMAC (RFC 8725 §3.1), so the HMAC vectors cannot run through
/// [`jws_outcome`]. They mostly target strict base64url and token structure, which are the
/// crate's own steps: this runs those (split, header/payload/signature decoding) and checks
/// the MAC in test code, in the same order as [`jws_outcome`].
pub(super) fn hmac_outcome(token: &str, key: &OctJwk) -> Result<(), Rejection> {
    let segments = jws::split(token)?;
    let header_text = HeaderText::decode(segments.header)?;
    // `Header::parse` refuses every HS* name, so `alg` is read with plain serde_json.
    let header: HmacHeader =
        serde_json::from_str(header_text.as_str()).map_err(|_| Rejection::MalformedHeader)?;
    jws::decode_text(segments.payload)?;
    let digest = match header.alg.as_str() {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        _ => return Err(Rejection::UnsupportedAlgorithm),
    };
    let signature = Signature::decode(segments.signature)?;
    // The same key-selection rules `KeySet::select` applies to asymmetric keys.
    if header.kid.is_some() && header.kid != key.kid {
        return Err(Rejection::UnknownKey);
    }
    if key.alg.as_deref().is_some_and(|alg| alg != header.alg) {
        return Err(Rejection::KeyAlgorithmMismatch);
    }
    let secret = BASE64URL
        .decode_to_vec(&key.k)
        .expect("oct key k is base64url");
    hmac::verify(
        &hmac::Key::new(digest, &secret),
        segments.signing_input,
        signature.as_bytes(),
    )
    .map_err(|_| Rejection::InvalidSignature)
}

/// tokengate refuses every symmetric key at load time, by design.
pub(super) fn assert_oct_refused(jwk: &str) {
    let problem = parse_jwk(jwk, Algorithm::ALL, RulesAt::default())
        .expect_err("an oct key must be refused")
        .to_string();
    assert!(problem.contains("symmetric (oct)"), "{problem}");
}
