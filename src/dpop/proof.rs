//! Checking a DPoP proof (RFC 9449 §4.3) against the request it came with and the token it
//! presents. The order keeps a stranger's proof cheap: the key is compared by thumbprint with
//! the token's `cnf.jkt` before it is parsed, and the replay store (the caller's last step) is
//! reached only by proofs that passed everything else.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use super::keys::{ProofKeys, parse};
use super::replay::ProofId;
use super::thumbprint::thumbprint;
use crate::Algorithm;
use crate::json::{Object, StrictAny, parse_whole};
use crate::jws::{self, Signature};

/// The largest proof accepted: a proof with an RSA 4096 key is about 1.5 KB; anything much
/// larger is not parsed at all.
const MAX_PROOF_SIZE: usize = 8 * 1024;

/// The longest `jti` accepted: proof ids are random, 128 bits suffice (RFC 9449 §11.1).
const MAX_JTI_LEN: usize = 256;

/// What a proof must match: the request, the token and the gate's settings.
pub(crate) struct Expected<'a> {
    /// The request method, as sent (`htm` is compared exactly).
    pub method: &'a str,
    /// The request's target URI as the resource knows itself (scheme and authority from the
    /// configuration, never from a client's `Host`), without query and fragment.
    pub uri: &'a Url,
    /// The access token the proof presents (`ath`).
    pub token: &'a str,
    /// The thumbprint the token is bound to (`cnf.jkt`).
    pub jkt: &'a str,
    /// The algorithms proofs may use.
    pub algorithms: &'a [Algorithm],
    /// Seconds since the epoch.
    pub now: f64,
    /// How old a proof may be (by its `iat`), in seconds.
    pub max_age: f64,
    /// Clock skew allowed either way, in seconds.
    pub leeway: f64,
    /// Whether a nonce is one of the server's, where proofs must carry one.
    pub nonce: Option<&'a dyn Fn(&str) -> bool>,
    /// Keys parsed before, if the caller keeps them.
    pub keys: Option<&'a ProofKeys>,
}

/// A proof that passed every check but the replay store: its id, and how long the store must
/// keep it (as long as its `iat` keeps it acceptable).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Checked {
    pub id: ProofId,
    pub ttl: Duration,
}

/// Why a proof was refused. Each names the check; clients get `invalid_dpop_proof` with the
/// check's name in the description (`token_binding_mismatch` for another key,
/// `use_dpop_nonce` for a missing nonce).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProofError {
    /// Not a compact JWS of JSON objects, or a required member is missing or mistyped.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    Type,
    /// `alg` is not an allowed asymmetric algorithm (`none` and HMAC never are).
    Algorithm,
    /// `jwk` is not a public key usable with `alg` (private members, a symmetric key, ...).
    Key,
    /// The key is not the one the token is bound to.
    KeyMismatch,
    /// The signature does not verify.
    Signature,
    /// `htm` is not the request method.
    Method,
    /// `htu` is not the request URI.
    Uri,
    /// `iat` is outside the window.
    Time,
    /// `ath` is not the hash of the token presented.
    TokenHash,
    /// The server's nonce is missing or another.
    Nonce,
}

#[derive(Deserialize)]
struct HeaderMembers<'a> {
    #[serde(borrow)]
    typ: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    alg: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    jwk: Option<&'a RawValue>,
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ClaimMembers {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<f64>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// Checks `proof` against `expected`: everything RFC 9449 §4.3 asks but `jti` uniqueness,
/// which the caller asks its replay store with the returned id.
pub(crate) fn check(proof: &str, expected: &Expected<'_>) -> Result<Checked, ProofError> {
    if proof.len() > MAX_PROOF_SIZE {
        return Err(ProofError::Malformed);
    }
    let segments = jws::split(proof).map_err(|_| ProofError::Malformed)?;
    let header_text = jws::decode_text(segments.header).map_err(|_| ProofError::Malformed)?;
    // Duplicate members anywhere are refused, as in tokens.
    parse_whole(&header_text, StrictAny).map_err(|_| ProofError::Malformed)?;
    let Object(header): Object<HeaderMembers<'_>> =
        serde_json::from_str(&header_text).map_err(|_| ProofError::Malformed)?;
    if header.crit.is_some() {
        return Err(ProofError::Malformed);
    }
    let typ = header.typ.ok_or(ProofError::Type)?;
    if !typ.eq_ignore_ascii_case("dpop+jwt") {
        return Err(ProofError::Type);
    }
    let alg = header
        .alg
        .as_deref()
        .and_then(Algorithm::from_name)
        .filter(|alg| expected.algorithms.contains(alg))
        .ok_or(ProofError::Algorithm)?;
    let jwk = header.jwk.ok_or(ProofError::Key)?.get();
    // The bound key's thumbprint first: a proof with any other key costs one hash.
    let jkt = thumbprint(jwk).ok_or(ProofError::Key)?;
    if jkt != expected.jkt {
        return Err(ProofError::KeyMismatch);
    }
    let key = match expected.keys {
        Some(keys) => keys.get(jwk, alg)?,
        None => std::sync::Arc::new(parse(jwk, alg)?),
    };
    let signature = Signature::decode(segments.signature).map_err(|_| ProofError::Signature)?;
    if !key.verify(segments.signing_input, signature.as_bytes()) {
        return Err(ProofError::Signature);
    }

    let payload = jws::decode_text(segments.payload).map_err(|_| ProofError::Malformed)?;
    parse_whole(&payload, StrictAny).map_err(|_| ProofError::Malformed)?;
    let Object(claims): Object<ClaimMembers> =
        serde_json::from_str(&payload).map_err(|_| ProofError::Malformed)?;
    let jti = claims.jti.ok_or(ProofError::Malformed)?;
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(ProofError::Malformed);
    }
    if claims.htm.ok_or(ProofError::Malformed)? != expected.method {
        return Err(ProofError::Method);
    }
    let htu = claims.htu.ok_or(ProofError::Malformed)?;
    if !same_resource(&htu, expected.uri) {
        return Err(ProofError::Uri);
    }
    let iat = claims.iat.ok_or(ProofError::Malformed)?;
    let (oldest, newest) = (
        expected.now - expected.max_age - expected.leeway,
        expected.now + expected.leeway,
    );
    if !iat.is_finite() || iat < oldest || iat > newest {
        return Err(ProofError::Time);
    }
    let ath = claims.ath.ok_or(ProofError::TokenHash)?;
    if ath != token_hash(expected.token) {
        return Err(ProofError::TokenHash);
    }
    if let Some(accepts) = expected.nonce
        && !claims.nonce.as_deref().is_some_and(accepts)
    {
        return Err(ProofError::Nonce);
    }
    // Kept until the proof's own `iat` makes it too old to pass anyway.
    let ttl = Duration::from_secs_f64((iat - oldest).clamp(0.0, 86_400.0) + 1.0);
    Ok(Checked {
        id: ProofId::new(&jkt, &jti),
        ttl,
    })
}

/// RFC 9449 §4.2: `ath`, the base64url SHA-256 of the access token's ASCII text.
pub(crate) fn token_hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(digest.as_ref())
}

/// Whether `htu` names `uri` (RFC 9449 §4.3 step 9): both parsed and normalized as URLs
/// (RFC 3986 §6.2.2-6.2.3: scheme and host case, default ports, dot segments, percent-encoding
/// case), query and fragment ignored.
fn same_resource(htu: &str, uri: &Url) -> bool {
    let Ok(htu) = Url::parse(htu) else {
        return false;
    };
    htu.scheme() == uri.scheme()
        && htu.host_str() == uri.host_str()
        && htu.port_or_known_default() == uri.port_or_known_default()
        && htu.username().is_empty()
        && htu.password().is_none()
        && normalized_path(htu.path()) == normalized_path(uri.path())
}

/// A path with percent-encodings of unreserved characters decoded and the others upper-case,
/// as RFC 3986 §6.2.2.2 normalizes them.
fn normalized_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            let byte = high * 16 + low;
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push('%');
                out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
                out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            }
            i += 3;
            continue;
        }
        out.push(char::from(bytes[i]));
        i += 1;
    }
    out
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests;
