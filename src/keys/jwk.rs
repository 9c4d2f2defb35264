//! JWK and JWKS loading with key hygiene (RFC 7517 §4-5, RFC 7518 §3, §6; RFC 8725 §3.1).

use std::fmt;

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::key::{RsaSize, curve_verification, rsa_parameters};
use super::{KeyRules, VerifyingKey, modulus};
use crate::Algorithm;
use crate::algorithm::KeyFamily;
use crate::json::{Object, StrictAny, parse_whole};
use crate::jws::MAX_KID_LEN;

/// Why one key (or a whole key set) was not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyProblem {
    kid: Option<String>,
    reason: String,
    concern: Concern,
}

/// How much a skipped key should worry whoever runs the gate: it decides how it is logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Concern {
    /// A key not meant for this: an encryption key, a key type or algorithm tokengate does not
    /// verify with or the issuer does not allow. Logged at DEBUG.
    Expected,
    /// Looks like a mistake of the key set (private or weak material, a damaged member), or a
    /// key above the configured cost limits. Logged at WARN.
    Mistake,
    /// Unusable until the issuer's configuration changes (an RSA key without `alg` while several
    /// RSA algorithms are allowed): `build()` and `warm_up()` report it.
    Configuration,
}

impl KeyProblem {
    /// A problem that looks like a mistake.
    pub(crate) fn new(kid: Option<&str>, reason: impl Into<String>) -> KeyProblem {
        KeyProblem::of(kid, reason, Concern::Mistake)
    }

    pub(crate) fn of(kid: Option<&str>, reason: impl Into<String>, concern: Concern) -> KeyProblem {
        KeyProblem {
            kid: kid.map(str::to_owned),
            reason: reason.into(),
            concern,
        }
    }

    pub(crate) fn concern(&self) -> Concern {
        self.concern
    }

    /// The key's `kid`, if it has one.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Why the key is skipped, without its `kid`.
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }
}

/// Why a key is skipped, and how much that should worry anyone.
type Skip = (String, Concern);

fn mistake(reason: impl Into<String>) -> Skip {
    (reason.into(), Concern::Mistake)
}

fn expected(reason: impl Into<String>) -> Skip {
    (reason.into(), Concern::Expected)
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kid {
            // A kid is a public identifier from the issuer's key set, not key material.
            Some(kid) => write!(f, "key {kid:?}: {}", self.reason),
            None => write!(f, "key without kid: {}", self.reason),
        }
    }
}

#[derive(Deserialize)]
struct JwkSet<'a> {
    #[serde(borrow)]
    keys: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct JwkFields {
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    // Private and symmetric members: their presence alone refuses the key.
    d: Option<IgnoredAny>,
    p: Option<IgnoredAny>,
    q: Option<IgnoredAny>,
    dp: Option<IgnoredAny>,
    dq: Option<IgnoredAny>,
    qi: Option<IgnoredAny>,
    oth: Option<IgnoredAny>,
    k: Option<IgnoredAny>,
}

impl JwkFields {
    fn has_private_members(&self) -> bool {
        [
            &self.d, &self.p, &self.q, &self.dp, &self.dq, &self.qi, &self.oth, &self.k,
        ]
        .iter()
        .any(|m| m.is_some())
    }
}

/// The provider's key rules for one key set, with the context of the metadata that named it.
#[derive(Clone, Copy, Default)]
pub(crate) struct RulesAt<'a> {
    pub(crate) rules: Option<&'a dyn KeyRules>,
    pub(crate) context: Option<&'a str>,
}

/// Loads every usable key of a JWKS document. A document that is not a JWKS, or holds more
/// than `max_keys` entries, is an error; a key that is not usable is reported and skipped, so
/// one odd key cannot take the others down.
pub(crate) fn parse_jwks(
    json: &str,
    allowed: &[Algorithm],
    max_keys: usize,
    rules: RulesAt<'_>,
) -> Result<(Vec<VerifyingKey>, Vec<KeyProblem>), String> {
    let Object(set): Object<JwkSet<'_>> = parse_whole(json, std::marker::PhantomData)
        .map_err(|e| format!("not a JWK Set document ({})", e.classify_name()))?;
    if set.keys.len() > max_keys {
        return Err(format!(
            "{} keys, more than the {max_keys} allowed",
            set.keys.len()
        ));
    }
    let mut keys = Vec::with_capacity(set.keys.len());
    let mut problems = Vec::new();
    for raw in set.keys {
        match parse_jwk(raw.get(), allowed, rules) {
            Ok(key) => keys.push(key),
            Err(problem) => problems.push(problem),
        }
    }
    Ok((keys, problems))
}

/// Loads one JWK, bound to exactly one algorithm from `allowed`, and judged by the provider's
/// key rules, if any.
pub(crate) fn parse_jwk(
    json: &str,
    allowed: &[Algorithm],
    rules: RulesAt<'_>,
) -> Result<VerifyingKey, KeyProblem> {
    if parse_whole(json, StrictAny).is_err() {
        return Err(KeyProblem::new(
            None,
            "not a JSON object without duplicate members",
        ));
    }
    let Object(fields): Object<JwkFields> = serde_json::from_str(json)
        .map_err(|_| KeyProblem::new(None, "a JWK member has the wrong type"))?;
    let kid = fields.kid.as_deref();
    let fail = |reason: &str| KeyProblem::new(kid, reason);
    let skip = |(reason, concern): Skip| KeyProblem::of(kid, reason, concern);

    if kid.is_some_and(|k| k.len() > MAX_KID_LEN) {
        return Err(KeyProblem::new(None, "kid is longer than 256 bytes"));
    }
    let kty = fields.kty.as_deref().ok_or_else(|| fail("no kty"))?;
    if kty == "oct" {
        return Err(fail("symmetric (oct) keys are never used to verify tokens"));
    }
    if fields.has_private_members() {
        return Err(fail("contains private key material"));
    }
    check_usage(&fields).map_err(skip)?;
    let tag = match rules.rules {
        Some(provider) => provider
            .key_tag(json, rules.context)
            .map_err(|reason| fail(&reason))?,
        None => None,
    };

    let alg = choose_algorithm(kty, &fields, allowed).map_err(skip)?;
    let key = match alg.family() {
        KeyFamily::Rsa => {
            let n = member(&fields.n, "n").map_err(|r| fail(&r))?;
            let e = member(&fields.e, "e").map_err(|r| fail(&r))?;
            let (key, size) = rsa_key(&n, &e, alg).map_err(|r| fail(&r))?;
            let kid = fields.kid.map(String::into_boxed_str);
            return Ok(VerifyingKey::new(kid, alg, key, tag).with_rsa_size(size));
        }
        KeyFamily::Ec(_) => {
            let x = member(&fields.x, "x").map_err(|r| fail(&r))?;
            let y = member(&fields.y, "y").map_err(|r| fail(&r))?;
            ec_key(&x, &y, alg).map_err(|r| fail(&r))?
        }
        KeyFamily::Okp(_) => {
            let x = member(&fields.x, "x").map_err(|r| fail(&r))?;
            ed25519_key(&x).map_err(|r| fail(&r))?
        }
    };
    Ok(VerifyingKey::new(
        fields.kid.map(String::into_boxed_str),
        alg,
        key,
        tag,
    ))
}

fn member(value: &Option<String>, name: &str) -> Result<Vec<u8>, String> {
    let text = value.as_deref().ok_or_else(|| format!("no {name}"))?;
    // Key members are base64url; the `=` padding some publishers add is tolerated (it cannot
    // change which key it is), non-canonical trailing bits are not.
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(text.trim_end_matches('='))
        .map_err(|_| format!("{name} is not base64url"))
}

/// `use` absent or `sig`; `key_ops` absent or naming `verify`, and nothing but signature
/// operations, each once (RFC 7517 §4.2-4.3: the two must agree, and unrelated operations
/// should not share a key). An encryption key is expected in a key set; other values are not.
fn check_usage(fields: &JwkFields) -> Result<(), Skip> {
    if let Some(use_) = &fields.use_
        && use_ != "sig"
    {
        let reason = format!("use is {}, not \"sig\"", quoted(use_));
        return Err(match use_.as_str() {
            "enc" => expected(reason),
            _ => mistake(reason),
        });
    }
    if let Some(ops) = &fields.key_ops {
        let (mut sign, mut verify) = (0, 0);
        let mut other = None;
        for op in ops {
            match op.as_str() {
                "sign" => sign += 1,
                "verify" => verify += 1,
                op => other = other.or(Some(op)),
            }
        }
        if let Some(op) = other {
            let reason = format!("key_ops includes {}", quoted(op));
            // An encryption key says so; a key that mixes uses is a mistake.
            return Err(if sign + verify == 0 {
                expected(reason)
            } else {
                mistake(reason)
            });
        }
        if sign > 1 || verify > 1 {
            return Err(mistake("key_ops repeats a value"));
        }
        if verify == 0 {
            return Err(mistake("key_ops does not include \"verify\""));
        }
    }
    Ok(())
}

/// A value from a key set, quoted and cut short: messages are logged, and the value is not
/// ours to bound.
pub(crate) fn quoted(value: &str) -> String {
    const LIMIT: usize = 32;
    match value.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{:?}...", &value[..end]),
        None => format!("{value:?}"),
    }
}

/// The one algorithm this key may verify: its own `alg`, or for keys without one, the single
/// algorithm the issuer allows for this key type and curve. An RSA key without `alg` under an
/// allowlist holding every RSA algorithm (the default) verifies RS256, what such keys are
/// published for (Microsoft Entra ID, for one); a narrower list must hold exactly one RSA
/// algorithm for them.
fn choose_algorithm(
    kty: &str,
    fields: &JwkFields,
    allowed: &[Algorithm],
) -> Result<Algorithm, Skip> {
    let fits = |alg: Algorithm| match (alg.family(), kty) {
        (KeyFamily::Rsa, "RSA") => true,
        (KeyFamily::Ec(crv), "EC") | (KeyFamily::Okp(crv), "OKP") => {
            fields.crv.as_deref() == Some(crv)
        }
        _ => false,
    };
    if !matches!(kty, "RSA" | "EC" | "OKP") {
        return Err(expected(format!("unsupported kty {}", quoted(kty))));
    }
    if kty != "RSA" {
        match fields.crv.as_deref() {
            None => return Err(mistake("no crv")),
            Some(crv) if !Algorithm::ALL.iter().any(|a| fits(*a)) => {
                // X25519 and friends: key agreement, not signatures.
                return Err(expected(format!(
                    "unsupported curve {} for kty {kty}",
                    quoted(crv)
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(name) = &fields.alg {
        let alg = Algorithm::from_name(name).ok_or_else(|| {
            // RSA-OAEP, ECDH-ES and the like: an encryption key without `use`.
            expected(format!(
                "alg {} is not a supported signature algorithm",
                quoted(name)
            ))
        })?;
        if !fits(alg) {
            return Err(mistake(format!(
                "alg {name:?} does not fit this key's type or curve"
            )));
        }
        if !allowed.contains(&alg) {
            return Err(expected(format!(
                "alg {name:?} is not allowed for this issuer"
            )));
        }
        return Ok(alg);
    }
    let candidates: Vec<Algorithm> = allowed.iter().copied().filter(|a| fits(*a)).collect();
    let every_rsa = Algorithm::ALL
        .iter()
        .filter(|a| a.family() == KeyFamily::Rsa)
        .all(|a| candidates.contains(a));
    match candidates.as_slice() {
        [alg] => Ok(*alg),
        [] => Err(expected(
            "no algorithm allowed for this issuer fits this key",
        )),
        _ if kty == "RSA" && every_rsa => Ok(Algorithm::RS256),
        _ => Err((
            "the key has no alg and the issuer allows several RSA algorithms, but not all of \
             them; allow exactly one RSA algorithm (for example RS256), or all of them for \
             RS256"
                .into(),
            Concern::Configuration,
        )),
    }
}

/// An RSA public key within the absolute limits (2048 to 8192 bits, an odd exponent from 3 to
/// 2^32 - 1, no trivially factorable modulus), with its size for the configured
/// [`KeyLimits`](super::KeyLimits).
pub(super) fn rsa_key(
    n: &[u8],
    e: &[u8],
    alg: Algorithm,
) -> Result<(ParsedPublicKey, RsaSize), String> {
    // Leading zero octets are not canonical (RFC 7518 §6.3.1.1) but do not change the value.
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    let Some(&top) = n.first() else {
        return Err("RSA modulus is zero".into());
    };
    let bits = n.len() * 8 - top.leading_zeros() as usize;
    if bits < 2048 {
        return Err(format!(
            "RSA modulus has {bits} bits; at least 2048 are required"
        ));
    }
    if bits > 8192 {
        return Err(format!(
            "RSA modulus has {bits} bits; at most 8192 are supported"
        ));
    }
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    if e.len() > 4 || e == [1] || !odd {
        return Err("RSA public exponent is not an odd number between 3 and 2^32".into());
    }
    if let Some(weakness) = modulus::weakness(n) {
        return Err(weakness.into());
    }
    let params = rsa_parameters(alg).ok_or("not an RSA algorithm")?;
    let exponent = e.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b));
    let key = RsaPublicKeyComponents { n, e }
        .to_parsed_public_key(params)
        .map_err(|_| "RSA key rejected".to_owned())?;
    Ok((key, RsaSize { bits, exponent }))
}

fn ec_key(x: &[u8], y: &[u8], alg: Algorithm) -> Result<ParsedPublicKey, String> {
    let size = match alg {
        Algorithm::ES256 => 32,
        Algorithm::ES384 => 48,
        Algorithm::ES512 => 66,
        _ => return Err("not an EC algorithm".into()),
    };
    // RFC 7518 §6.2.1.2-3: each coordinate is exactly the curve's size.
    if x.len() != size || y.len() != size {
        return Err(format!("EC coordinates must be {size} bytes each"));
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    let params = curve_verification(alg).ok_or("not an EC algorithm")?;
    ParsedPublicKey::new(params, &point).map_err(|_| "EC point is not on the curve".to_owned())
}

/// The `y` encodings (sign bit cleared) of the eight points of small order on Ed25519: 0, 1,
/// p - 1 and the two of order 8. With such a key, one fixed signature verifies every message.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

#[cfg(test)]
pub(super) const SMALL_ORDER_Y_FOR_TESTS: [[u8; 32]; 5] = SMALL_ORDER_Y;

/// An Ed25519 public key: 32 bytes, a canonical encoding (y < p), not of small order
/// (RFC 8725 §3.4: validate cryptographic inputs).
pub(super) fn ed25519_key(x: &[u8]) -> Result<ParsedPublicKey, String> {
    let Ok(point) = <[u8; 32]>::try_from(x) else {
        return Err("Ed25519 public key is not 32 bytes".into());
    };
    let mut y = point;
    y[31] &= 0x7f;
    // y >= p = 2^255 - 19: the top byte 0x7f, the middle all 0xff, the low byte >= 0xed.
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed;
    if non_canonical || SMALL_ORDER_Y.contains(&y) {
        return Err("Ed25519 public key is a small-order or non-canonical point".into());
    }
    let params = curve_verification(Algorithm::EdDSA).ok_or("no EdDSA parameters")?;
    ParsedPublicKey::new(params, point).map_err(|_| "Ed25519 public key rejected".to_owned())
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "JSON syntax error",
            serde_json::error::Category::Data => "unexpected JSON structure",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}
