//! What every attack module uses: gates, exact-rejection assertions, good siblings ([`Good`]),
//! claims and token surgery.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use serde_json::{Value, json};
use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection, TokenProfile};

use tokengate_testkit::{self as common, AUDIENCE, ISSUER, TestKey, b64, ready};

// ---------------------------------------------------------------------------------------------
// Gates and assertions
// ---------------------------------------------------------------------------------------------

/// The default leeway (`DEFAULT_LEEWAY`), in seconds.
pub(crate) const L: i64 = 60;

/// A fixed "now" for boundary tests (2027-01-15), so `exp`/`nbf`/`iat` edges are exact.
pub(crate) const T: i64 = 1_800_000_000;

/// An Entra-style tenant and another one (ATK-22, ATK-29).
pub(crate) const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub(crate) const OTHER_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).expect("a time after the epoch"))
}

/// The test issuer, its audience and these keys (as a JWKS).
pub(crate) fn profile(keys: &[&TestKey]) -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(common::jwks(keys))
}

/// The test issuer with a raw JWKS document.
pub(crate) fn profile_jwks(jwks: &Value) -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(jwks.to_string())
}

pub(crate) fn build(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .build()
        .expect("the test configuration is valid")
}

/// A gate trusting [`ISSUER`] for [`AUDIENCE`] with these keys, everything else default.
pub(crate) fn gate(keys: &[&TestKey]) -> Gate {
    build(profile(keys))
}

pub(crate) fn gate_for(key: &TestKey) -> Gate {
    gate(&[key])
}

pub(crate) fn validate(
    gate: &Gate,
    token: &str,
    now: Option<i64>,
) -> Result<Arc<Claims>, Rejection> {
    match now {
        Some(now) => ready(gate.validate_at(token, at(now))),
        None => ready(gate.validate(token)),
    }
}

/// The stable code of the outcome, `"accepted"` for a token that validates.
pub(crate) fn code(gate: &Gate, token: &str) -> &'static str {
    validate(gate, token, None).map_or_else(|r| r.code(), |_| "accepted")
}

#[track_caller]
pub(crate) fn assert_rejection(
    result: Result<Arc<Claims>, Rejection>,
    expected: &Rejection,
    variant: &str,
) {
    match result {
        Ok(_) => panic!("{variant}: accepted, expected `{}`", expected.code()),
        Err(got) => assert_eq!(
            &got,
            expected,
            "{variant}: expected `{}`, got `{}`",
            expected.code(),
            got.code()
        ),
    }
}

/// Asserts that `gate` refuses `token` (now) with exactly `expected`.
#[track_caller]
pub(crate) fn expect(gate: &Gate, token: &str, expected: &Rejection, variant: &str) {
    assert_rejection(validate(gate, token, None), expected, variant);
}

/// Asserts that `gate` refuses `token` at time `now` with exactly `expected`.
#[track_caller]
pub(crate) fn expect_at(gate: &Gate, token: &str, now: i64, expected: &Rejection, variant: &str) {
    assert_rejection(validate(gate, token, Some(now)), expected, variant);
}

pub(crate) fn missing(claim: &str) -> Rejection {
    Rejection::MissingClaim {
        claim: Arc::from(claim),
    }
}

/// A token that must validate: the good sibling of refused variants.
pub(crate) struct Good {
    pub(crate) variant: String,
    pub(crate) gate: Gate,
    pub(crate) token: String,
    pub(crate) now: Option<i64>,
}

impl Good {
    pub(crate) fn new(variant: impl Into<String>, gate: &Gate, token: String) -> Good {
        Good {
            variant: variant.into(),
            gate: gate.clone(),
            token,
            now: None,
        }
    }

    pub(crate) fn at(mut self, now: i64) -> Good {
        self.now = Some(now);
        self
    }

    /// Validates the token and checks that the claims handed out are exactly its payload.
    #[track_caller]
    pub(crate) fn check(&self) -> Arc<Claims> {
        let claims = validate(&self.gate, &self.token, self.now).unwrap_or_else(|r| {
            panic!(
                "{}: refused with `{}`, expected acceptance",
                self.variant,
                r.code()
            )
        });
        let payload = String::from_utf8(decode(segments(&self.token)[1])).unwrap();
        assert_eq!(claims.json(), payload, "{}: claims differ", self.variant);
        claims
    }
}

#[track_caller]
pub(crate) fn check_all(goods: &[Good]) {
    assert!(!goods.is_empty());
    for good in goods {
        good.check();
    }
}

// ---------------------------------------------------------------------------------------------
// Keys, claims and token surgery
// ---------------------------------------------------------------------------------------------

/// A second RS256 key of the issuer, with its own kid.
pub(crate) fn rs256_b() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::RS256, "rs256-2"))
}

/// One key per algorithm (kids `rs256-1`, `es384-1`, ...).
pub(crate) fn all_keys() -> Vec<&'static TestKey> {
    Algorithm::ALL.iter().map(|&a| common::key_for(a)).collect()
}

pub(crate) fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

pub(crate) fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

/// Claims JSON text: `base` without the `replaced` members, then `extra` raw members appended
/// verbatim (for duplicates, escapes and values serde_json cannot represent, like `1e400`).
pub(crate) fn raw_claims(base: &Value, replaced: &[&str], extra: &[String]) -> String {
    let mut members: Vec<String> = base
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| !replaced.contains(&name.as_str()))
        .map(|(name, value)| format!("{}:{value}", json!(name)))
        .collect();
    members.extend(extra.iter().cloned());
    format!("{{{}}}", members.join(","))
}

pub(crate) fn segments(token: &str) -> [&str; 3] {
    let mut parts = token.splitn(3, '.');
    [(); 3].map(|()| parts.next().expect("three segments"))
}

pub(crate) fn decode(segment: &str) -> Vec<u8> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .expect("canonical base64url")
}

pub(crate) fn signature(token: &str) -> Vec<u8> {
    decode(segments(token)[2])
}

pub(crate) fn with_signature(token: &str, signature: &[u8]) -> String {
    let [h, p, _] = segments(token);
    format!("{h}.{p}.{}", b64(signature))
}

/// A compact JWS over arbitrary header and payload bytes, signed by `key`.
pub(crate) fn signed_bytes(key: &TestKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64(sig))
}

/// The HMAC functions of `HS256`, `HS384` and `HS512`, by those names.
pub(crate) const HMACS: [&str; 3] = ["HS256", "HS384", "HS512"];

/// A token with this `header` (its `alg` may name any algorithm) whose signature is a real
/// HMAC over the signing input with `mac` (`HS256`, `HS384` or `HS512`), keyed with `secret`.
pub(crate) fn hmac_token(mac: &str, secret: &[u8], header: &Value, claims: &Value) -> String {
    let algorithm = match mac {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("not an HMAC algorithm: {other}"),
    };
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// A header naming `alg`, with this `kid` or none.
pub(crate) fn header_with_kid(alg: &str, kid: Option<&str>) -> Value {
    let mut header = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    header
}

// ---------------------------------------------------------------------------------------------
// RFC 9068 tokens (ATK-20, ATK-32, ATK-35)
// ---------------------------------------------------------------------------------------------

pub(crate) fn rfc9068_claims(now: i64) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "client_id": "web-app",
        "jti": "2f6c1e4a-9d1b-4a56-8f0a-3b1c5d7e9f01",
        "iat": now - 10,
        "exp": now + 600,
        "scope": "orders.read",
    })
}

pub(crate) fn rfc9068_gate(key: &TestKey) -> Gate {
    build(profile(&[key]).token_profile(TokenProfile::Rfc9068))
}

pub(crate) fn at_jwt_header(key: &TestKey, typ: &str) -> Value {
    json!({"alg": key.alg().name(), "typ": typ, "kid": key.kid()})
}
