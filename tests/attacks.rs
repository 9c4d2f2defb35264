//! The attack suite: one test per case of the requirements checklist (section C, ATK-01 to
//! ATK-45) that concerns the core validator, [`Gate::validate`].
//!
//! Every refusal is asserted as the exact [`Rejection`], never only `is_err()`, and every input
//! variant the checklist lists is tried (the assertion message names the variant). Where a
//! refused token has a "good sibling" (the same token without the attack, or the other side of a
//! boundary), that sibling is asserted to validate, so no refusal can come from a broken fixture.
//! The siblings are collected per test in `atk_NN_good()` functions, and
//! `every_accepted_variant_validates` re-checks all of them, including that each one is refused
//! once its signature is damaged.
//!
//! Out of scope here: ATK-36/37 (DPoP, mTLS), ATK-38 (JWKS fetching) and ATK-39/40 (the HTTP
//! layer). ATK-23 and ATK-34 run through the Entra preset against `testing::TestEntra`; ATK-43 (discovery) is in `tests/key_fetch.rs`.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{digest, hmac};
use serde_json::{Value, json};
use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection, Requirement, TokenProfile};

use tokengate_testkit::{self as common, AUDIENCE, ISSUER, TestKey, b64, ready, valid_claims};

// ---------------------------------------------------------------------------------------------
// Gates and assertions
// ---------------------------------------------------------------------------------------------

/// The default leeway (`DEFAULT_LEEWAY`), in seconds.
const L: i64 = 60;

/// A fixed "now" for boundary tests (2027-01-15), so `exp`/`nbf`/`iat` edges are exact.
const T: i64 = 1_800_000_000;

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).expect("a time after the epoch"))
}

/// The test issuer, its audience and these keys (as a JWKS).
fn profile(keys: &[&TestKey]) -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(common::jwks(keys))
}

/// The test issuer with a raw JWKS document.
fn profile_jwks(jwks: &Value) -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(jwks.to_string())
}

fn build(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .build()
        .expect("the test configuration is valid")
}

/// A gate trusting [`ISSUER`] for [`AUDIENCE`] with these keys, everything else default.
fn gate(keys: &[&TestKey]) -> Gate {
    build(profile(keys))
}

fn validate(gate: &Gate, token: &str, now: Option<i64>) -> Result<Arc<Claims>, Rejection> {
    match now {
        Some(now) => ready(gate.validate_at(token, at(now))),
        None => ready(gate.validate(token)),
    }
}

/// The stable code of the outcome, `"accepted"` for a token that validates.
fn code(gate: &Gate, token: &str) -> &'static str {
    validate(gate, token, None).map_or_else(|r| r.code(), |_| "accepted")
}

#[track_caller]
fn assert_rejection(result: Result<Arc<Claims>, Rejection>, expected: &Rejection, variant: &str) {
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
fn expect(gate: &Gate, token: &str, expected: &Rejection, variant: &str) {
    assert_rejection(validate(gate, token, None), expected, variant);
}

/// Asserts that `gate` refuses `token` at time `now` with exactly `expected`.
#[track_caller]
fn expect_at(gate: &Gate, token: &str, now: i64, expected: &Rejection, variant: &str) {
    assert_rejection(validate(gate, token, Some(now)), expected, variant);
}

fn missing(claim: &str) -> Rejection {
    Rejection::MissingClaim {
        claim: Arc::from(claim),
    }
}

/// A token that must validate: the good sibling of refused variants.
struct Good {
    variant: String,
    gate: Gate,
    token: String,
    now: Option<i64>,
}

impl Good {
    fn new(variant: impl Into<String>, gate: &Gate, token: String) -> Good {
        Good {
            variant: variant.into(),
            gate: gate.clone(),
            token,
            now: None,
        }
    }

    fn at(mut self, now: i64) -> Good {
        self.now = Some(now);
        self
    }

    /// Validates the token and checks that the claims handed out are exactly its payload.
    #[track_caller]
    fn check(&self) -> Arc<Claims> {
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
fn check_all(goods: &[Good]) {
    assert!(!goods.is_empty());
    for good in goods {
        good.check();
    }
}

// ---------------------------------------------------------------------------------------------
// Keys, claims and token surgery
// ---------------------------------------------------------------------------------------------

/// A second RS256 key of the issuer, with its own kid.
fn rs256_b() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::RS256, "rs256-2"))
}

/// The attacker's RSA key: never published by any configured issuer.
fn attacker_rsa() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::RS256, "attacker-rsa"))
}

/// The attacker's P-256 key.
fn attacker_ec() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::generate(Algorithm::ES256, "attacker-ec"))
}

/// One key per algorithm (kids `rs256-1`, `es384-1`, ...).
fn all_keys() -> Vec<&'static TestKey> {
    Algorithm::ALL.iter().map(|&a| common::key_for(a)).collect()
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

/// Claims JSON text: `base` without the `replaced` members, then `extra` raw members appended
/// verbatim (for duplicates, escapes and values serde_json cannot represent, like `1e400`).
fn raw_claims(base: &Value, replaced: &[&str], extra: &[String]) -> String {
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

fn segments(token: &str) -> [&str; 3] {
    let mut parts = token.splitn(3, '.');
    [(); 3].map(|()| parts.next().expect("three segments"))
}

fn decode(segment: &str) -> Vec<u8> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .expect("canonical base64url")
}

fn signature(token: &str) -> Vec<u8> {
    decode(segments(token)[2])
}

fn with_signature(token: &str, signature: &[u8]) -> String {
    let [h, p, _] = segments(token);
    format!("{h}.{p}.{}", b64(signature))
}

/// A compact JWS over arbitrary header and payload bytes, signed by `key`.
fn signed_bytes(key: &TestKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64(sig))
}

/// An HMAC-signed token (`HS256`, `HS384`, `HS512`), computed for real with `secret`.
fn hmac_token(alg: &str, secret: &[u8], header: &Value, claims: &Value) -> String {
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("not an HMAC algorithm: {other}"),
    };
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The order of the P-256 group.
fn p256_n() -> Vec<u8> {
    hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")
}

// A little DER, for certificates (ATK-04, ATK-11) and DER-encoded ECDSA signatures (ATK-14).

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap());
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | u8::try_from(bytes.len() - skip).unwrap());
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn der_seq(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// An unsigned INTEGER from big-endian bytes.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    let mut content = Vec::new();
    if bytes.get(start).is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(&bytes[start..]);
    der(0x02, &content)
}

/// `R || S` as the DER `ECDSA-Sig-Value` X.509 and many libraries use.
fn ecdsa_der(fixed: &[u8]) -> Vec<u8> {
    let (r, s) = fixed.split_at(fixed.len() / 2);
    der_seq(&[&der_uint(r), &der_uint(s)])
}

const OID_SHA256_WITH_RSA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
];
const OID_RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
const OID_ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_COMMON_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
const DER_NULL: &[u8] = &[0x05, 0x00];

/// The DER inside a PEM block.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64_simd::STANDARD.decode_to_vec(body).unwrap()
}

/// PKCS#1 `RSAPublicKey` DER.
fn pkcs1(key: &TestKey) -> Vec<u8> {
    let (n, e) = key.rsa_modulus_exponent();
    der_seq(&[&der_uint(&n), &der_uint(&e)])
}

/// A real self-signed X.509 v3 certificate for `key` (RS256 or ES256), as an attacker would
/// put in `x5c`.
fn self_signed_certificate(key: &TestKey) -> Vec<u8> {
    let (signature_algorithm, ecdsa) = match key.alg() {
        Algorithm::RS256 => (der_seq(&[OID_SHA256_WITH_RSA, DER_NULL]), false),
        Algorithm::ES256 => (der_seq(&[OID_ECDSA_SHA256]), true),
        other => panic!("no certificate for {other}"),
    };
    let name = der_seq(&[&der(
        0x31,
        &der_seq(&[OID_COMMON_NAME, &der(0x0c, b"issuer.example.com")]),
    )]);
    let validity = der_seq(&[&der(0x17, b"250101000000Z"), &der(0x17, b"491231235959Z")]);
    let spki = pem_der(&key.public_pem());
    let version = der(0xa0, &der_uint(&[2]));
    let tbs = der_seq(&[
        &version,
        &der_uint(&[0x1d, 0xea]),
        &signature_algorithm,
        &name,
        &validity,
        &name,
        &spki,
    ]);
    let mut sig = key.sign(&tbs);
    if ecdsa {
        sig = ecdsa_der(&sig);
    }
    let mut bits = vec![0];
    bits.extend_from_slice(&sig);
    der_seq(&[&tbs, &signature_algorithm, &der(0x03, &bits)])
}

/// A loopback listener that nothing should ever connect to, and a URL pointing at it.
fn trap(path: &str) -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    (listener, url)
}

/// Asserts that no connection reached the listener (RFC 8725 §3.10: no SSRF).
#[track_caller]
fn assert_no_connection(listener: &TcpListener, variant: &str) {
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Err(e) => panic!("{variant}: unexpected listener error {e}"),
        Ok((_, peer)) => panic!("{variant}: the validator connected to the URL (from {peer})"),
    }
}

const BASE64URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A lenient base64url decoder that ignores the unused trailing bits, to show that two
/// encodings denote the same bytes.
fn lenient_decode(segment: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in segment.bytes() {
        let value = BASE64URL_ALPHABET.iter().position(|&a| a == c).unwrap();
        acc = (acc << 6) | u32::try_from(value).unwrap();
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}

/// The same segment with a non-zero unused trailing bit (same bytes, non-canonical text);
/// `None` when the segment's length leaves no unused bits.
fn dirty_trailing_bits(segment: &str) -> Option<String> {
    if !matches!(segment.len() % 4, 2 | 3) {
        return None;
    }
    let last = *segment.as_bytes().last()?;
    let value = BASE64URL_ALPHABET.iter().position(|&c| c == last)?;
    assert_eq!(
        value & 1,
        0,
        "a canonical last character has zero unused bits"
    );
    let dirty = format!(
        "{}{}",
        &segment[..segment.len() - 1],
        char::from(BASE64URL_ALPHABET[value | 1])
    );
    assert_eq!(lenient_decode(&dirty), lenient_decode(segment));
    Some(dirty)
}

/// Pads JSON text with trailing spaces until its base64url form has unused trailing bits.
fn with_trailing_bits(json: &str) -> String {
    let mut text = json.to_owned();
    while text.len().is_multiple_of(3) {
        text.push(' ');
    }
    text
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

fn entra_v2_issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

fn entra_v1_issuer() -> String {
    format!("https://sts.windows.net/{TENANT}/")
}

/// A single-tenant Entra-style issuer (v2 issuer, v1 issuer as an alternate), RS256 only.
fn entra_gate() -> Gate {
    build(
        IssuerProfile::new(entra_v2_issuer())
            .alternate_issuer(entra_v1_issuer())
            .audience(AUDIENCE)
            .algorithms([Algorithm::RS256])
            .jwks(json!({"keys": [common::rs256().jwk_without_alg()]}).to_string()),
    )
}

// ---------------------------------------------------------------------------------------------
// ATK-01 .. ATK-03: the `alg` header
// ---------------------------------------------------------------------------------------------

fn atk_01_good() -> Vec<Good> {
    let key = common::rs256();
    vec![Good::new(
        "RS256 token of the same key",
        &gate(&[key]),
        key.token(&valid_claims()),
    )]
}

/// ATK-01: `alg: none` is never accepted (RFC 7518 §3.6, RFC 8725 §2.1/§3.2, RFC 9068 §4): not
/// with an empty signature, a junk one, or the issuer key's real signature over the header.
#[test]
fn atk_01_alg_none() {
    check_all(&atk_01_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    for header in [
        json!({"alg": "none"}),
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "none", "typ": "JWT", "kid": key.kid()}),
    ] {
        let input = format!("{}.{}", b64(header.to_string()), b64(&claims));
        let variants = [
            ("empty signature", format!("{input}.")),
            ("junk signature", format!("{input}.{}", b64("junk"))),
            (
                "issuer key's signature",
                key.token_raw(&header.to_string(), &claims),
            ),
        ];
        for (name, token) in variants {
            expect(
                &gate,
                &token,
                &Rejection::UnsupportedAlgorithm,
                &format!("{header} with {name}"),
            );
        }
    }
}

fn atk_02_good() -> Vec<Good> {
    let key = common::rs256();
    let escaped = format!(
        r#"{{"alg":"RS\u0032\u0035\u0036","typ":"JWT","kid":"{}"}}"#,
        key.kid()
    );
    vec![Good::new(
        "alg RS256 spelled with escapes",
        &gate(&[key]),
        key.token_raw(&escaped, &valid_claims().to_string()),
    )]
}

/// ATK-02: `alg` is case-sensitive (RFC 7515 §4.1.1); spellings of `none` are unknown names.
/// JSON escapes are decoded first, so `"n\u006fne"` is `none` and `"RS\u0032\u0035\u0036"` is
/// `RS256`.
#[test]
fn atk_02_alg_none_variants() {
    check_all(&atk_02_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    for alg in [
        r#""None""#,
        r#""NONE""#,
        r#""nOnE""#,
        r#""none ""#,
        r#"" none""#,
        r#""n\u006fne""#,
        r#""\u006eone""#,
        r#""none\u0000""#,
    ] {
        let header = format!(r#"{{"alg":{alg},"typ":"JWT","kid":"{}"}}"#, key.kid());
        let empty = format!("{}.{}.", b64(&header), b64(&claims));
        expect(
            &gate,
            &empty,
            &Rejection::UnsupportedAlgorithm,
            &format!("alg {alg}, empty signature"),
        );
        expect(
            &gate,
            &key.token_raw(&header, &claims),
            &Rejection::UnsupportedAlgorithm,
            &format!("alg {alg}, signed"),
        );
    }
}

fn atk_03_good() -> Vec<Good> {
    let key = common::rs256();
    let header = format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#, key.kid());
    let token = key.token_raw(&header, &valid_claims().to_string());
    vec![Good::new("alg RS256", &gate(&[key]), token)]
}

/// ATK-03: `alg` missing, empty, `null`, a number, an array (RFC 7515 §4.1.1: required string).
#[test]
fn atk_03_alg_missing_or_not_a_string() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    check_all(&atk_03_good());
    let cases = [
        ("missing", None, Rejection::MalformedHeader),
        ("empty", Some(r#""""#), Rejection::UnsupportedAlgorithm),
        ("null", Some("null"), Rejection::MalformedHeader),
        ("a number", Some("256"), Rejection::MalformedHeader),
        ("a float", Some("1.0"), Rejection::MalformedHeader),
        ("a boolean", Some("true"), Rejection::MalformedHeader),
        ("an array", Some(r#"["RS256"]"#), Rejection::MalformedHeader),
        (
            "an object",
            Some(r#"{"name":"RS256"}"#),
            Rejection::MalformedHeader,
        ),
    ];
    for (variant, alg, expected) in cases {
        let header = match alg {
            Some(alg) => format!(r#"{{"alg":{alg},"typ":"JWT","kid":"{}"}}"#, key.kid()),
            None => format!(r#"{{"typ":"JWT","kid":"{}"}}"#, key.kid()),
        };
        expect(
            &gate,
            &key.token_raw(&header, &claims),
            &expected,
            &format!("alg {variant}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ATK-04 .. ATK-07: algorithm and key confusion
// ---------------------------------------------------------------------------------------------

fn atk_04_good() -> Vec<Good> {
    let rsa = common::rs256();
    let any_alg = gate(&[rsa, common::key_for(Algorithm::ES256)]);
    let rs256_only = build(profile(&[rsa]).algorithms([Algorithm::RS256]));
    vec![
        Good::new(
            "RS256, default algorithms",
            &any_alg,
            rsa.token(&valid_claims()),
        ),
        Good::new("RS256, RS256 only", &rs256_only, rsa.token(&valid_claims())),
    ]
}

/// ATK-04: `HS256` keyed with the issuer's public key (CVE-2015-9235, CVE-2022-29217; RFC 8725
/// §2.1/§3.1). The HMACs are real, over every form of the public key an attacker could try;
/// HMAC cannot be expressed in tokengate, so every one is `unsupported_algorithm`.
#[test]
fn atk_04_hs256_with_public_key() {
    let rsa = common::rs256();
    let ec = common::key_for(Algorithm::ES256);
    let goods = atk_04_good();
    check_all(&goods);
    let (any_alg, rs256_only) = (&goods[0].gate, &goods[1].gate);

    let rsa_pem = rsa.public_pem();
    let rsa_spki = pem_der(&rsa_pem);
    let rsa_pkcs1 = pkcs1(rsa);
    let (n, _) = rsa.rsa_modulus_exponent();
    let cert = self_signed_certificate(rsa);
    let ec_pem = ec.public_pem();
    let ec_spki = pem_der(&ec_pem);
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("RSA PEM (SPKI)", rsa_pem.clone().into_bytes()),
        (
            "RSA PEM without final newline",
            rsa_pem.trim_end().as_bytes().to_vec(),
        ),
        (
            "RSA PEM with CRLF",
            rsa_pem.replace('\n', "\r\n").into_bytes(),
        ),
        ("RSA DER (SPKI)", rsa_spki),
        ("RSA PKCS#1 DER", rsa_pkcs1.clone()),
        (
            "RSA PKCS#1 PEM",
            common::pem("RSA PUBLIC KEY", &rsa_pkcs1).into_bytes(),
        ),
        ("RSA JWK JSON", rsa.jwk().to_string().into_bytes()),
        (
            "RSA JWK JSON without alg",
            rsa.jwk_without_alg().to_string().into_bytes(),
        ),
        ("RSA n bytes", n.clone()),
        ("RSA n base64url", b64(&n).into_bytes()),
        ("RSA x5c certificate DER", cert.clone()),
        (
            "RSA x5c certificate base64",
            base64_simd::STANDARD.encode_to_string(&cert).into_bytes(),
        ),
        (
            "RSA certificate PEM",
            common::pem("CERTIFICATE", &cert).into_bytes(),
        ),
        ("EC PEM (SPKI)", ec_pem.into_bytes()),
        ("EC DER (SPKI)", ec_spki.clone()),
        ("EC point", ec_spki[ec_spki.len() - 65..].to_vec()),
        ("EC JWK JSON", ec.jwk().to_string().into_bytes()),
    ];
    for (form, secret) in &forms {
        for alg in ["HS256", "HS384", "HS512"] {
            for kid in [Some(rsa.kid()), Some(ec.kid()), None] {
                let mut header = json!({"alg": alg, "typ": "JWT"});
                if let Some(kid) = kid {
                    header["kid"] = json!(kid);
                }
                let token = hmac_token(alg, secret, &header, &valid_claims());
                let variant = format!("{alg} keyed with {form}, kid {kid:?}");
                expect(any_alg, &token, &Rejection::UnsupportedAlgorithm, &variant);
                expect(
                    rs256_only,
                    &token,
                    &Rejection::UnsupportedAlgorithm,
                    &variant,
                );
            }
        }
    }
}

fn relabelled(key: &TestKey, alg: &str) -> Value {
    let mut jwk = key.jwk();
    jwk["alg"] = json!(alg);
    jwk
}

fn atk_05_good() -> Vec<Good> {
    let mut goods = Vec::new();
    // The same genuine tokens verify when the key is published honestly: the mismatch below is
    // the only reason they are refused.
    for alg in [
        Algorithm::PS256,
        Algorithm::RS512,
        Algorithm::PS384,
        Algorithm::RS256,
    ] {
        let key = common::key_for(alg);
        let gate = build(profile_jwks(&json!({"keys": [key.jwk()]})));
        goods.push(Good::new(
            format!("{alg} token, key published as {alg}"),
            &gate,
            key.token(&valid_claims()),
        ));
    }
    let es256 = common::key_for(Algorithm::ES256);
    goods.push(Good::new(
        "ES256 token, ES256 key",
        &gate(&[es256]),
        es256.token(&valid_claims()),
    ));
    let rsa = common::rs256();
    let entra = build(
        IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .algorithms([Algorithm::RS256])
            .jwks(json!({"keys": [rsa.jwk_without_alg()]}).to_string()),
    );
    goods.push(Good::new(
        "RS256 token, alg-less key, RS256 only",
        &entra,
        rsa.token(&valid_claims()),
    ));
    goods
}

/// ATK-05: within-family confusion. Each key is bound to exactly one algorithm (RFC 8725 §3.1,
/// RFC 7517 §4.4): a token whose `alg` differs from its key's is refused before verification,
/// even when the signature is genuine for the algorithm it names.
#[test]
fn atk_05_key_algorithm_confusion() {
    check_all(&atk_05_good());
    let cases = [
        (Algorithm::PS256, "RS256"),
        (Algorithm::RS512, "RS256"),
        (Algorithm::PS384, "RS384"),
        (Algorithm::RS256, "PS256"),
    ];
    for (token_alg, published) in cases {
        // The key material signs genuinely with `token_alg`; its JWK says `published`.
        let key = common::key_for(token_alg);
        let gate = build(profile_jwks(&json!({"keys": [relabelled(key, published)]})));
        expect(
            &gate,
            &key.token(&valid_claims()),
            &Rejection::KeyAlgorithmMismatch,
            &format!("{token_alg} token, key published with alg {published}"),
        );
    }

    let es256 = common::key_for(Algorithm::ES256);
    let gate = gate(&[es256]);
    for alg in ["ES384", "ES512", "EdDSA", "RS256", "PS256"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": es256.kid()});
        expect(
            &gate,
            &es256.token_with_header(&header, &valid_claims()),
            &Rejection::KeyAlgorithmMismatch,
            &format!("{alg} token naming the ES256 key"),
        );
    }

    // An alg-less RSA key (as Entra publishes them) on an issuer allowing only RS256 is bound to
    // RS256; PS256 and RS384 are not even allowed for the issuer.
    let rsa = common::rs256();
    let entra = build(
        IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .algorithms([Algorithm::RS256])
            .jwks(json!({"keys": [rsa.jwk_without_alg()]}).to_string()),
    );
    for alg in [Algorithm::PS256, Algorithm::RS384] {
        let signer = common::key_for(alg);
        let header = json!({"alg": alg.name(), "typ": "JWT", "kid": rsa.kid()});
        expect(
            &entra,
            &signer.token_with_header(&header, &valid_claims()),
            &Rejection::UnsupportedAlgorithm,
            &format!("{alg} token, alg-less RSA key, issuer allows RS256 only"),
        );
    }
}

fn atk_06_good() -> Vec<Good> {
    let rsa = common::rs256();
    let oct = json!({"kty": "oct", "kid": "hmac-1", "alg": "HS256", "k": b64("a-secret")});
    let gate = build(profile_jwks(&json!({"keys": [oct, rsa.jwk()]})));
    vec![Good::new(
        "RS256 token next to an oct key",
        &gate,
        rsa.token(&valid_claims()),
    )]
}

/// ATK-06: an `oct` (symmetric) key in the JWKS is never loaded (STD-JWK-1), so neither an
/// HS256 token nor an RS256 token can select it.
#[test]
fn atk_06_symmetric_key_in_jwks() {
    let rsa = common::rs256();
    let secret = b"a-very-secret-hmac-key-32-bytes!";
    let oct =
        json!({"kty": "oct", "kid": "hmac-1", "alg": "HS256", "use": "sig", "k": b64(secret)});
    let oct_without_alg = json!({"kty": "oct", "kid": "hmac-2", "k": b64(secret)});

    // Another usable key exists: the build succeeds, the oct keys are skipped.
    let gate = build(profile_jwks(
        &json!({"keys": [oct.clone(), oct_without_alg, rsa.jwk()]}),
    ));
    check_all(&atk_06_good());
    for kid in [Some("hmac-1"), Some("hmac-2"), Some("rs256-1"), None] {
        let mut header = json!({"alg": "HS256", "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        expect(
            &gate,
            &hmac_token("HS256", secret, &header, &valid_claims()),
            &Rejection::UnsupportedAlgorithm,
            &format!("HS256 with the oct secret, kid {kid:?}"),
        );
    }
    for kid in ["hmac-1", "hmac-2"] {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        expect(
            &gate,
            &rsa.token_with_header(&header, &valid_claims()),
            &Rejection::UnknownKey,
            &format!("RS256 token selecting the oct key {kid}"),
        );
    }

    // A JWKS with only an oct key is a configuration error that says why.
    let error = Gate::builder()
        .issuer(profile_jwks(&json!({"keys": [oct]})))
        .build()
        .unwrap_err();
    assert!(
        error.problems().any(|p| p.contains("oct")),
        "the problems should mention the oct key: {error}"
    );
}

fn atk_07_good() -> Vec<Good> {
    let key = common::rs256();
    vec![Good::new(
        "the real kid",
        &gate(&[key]),
        key.token(&valid_claims()),
    )]
}

/// ATK-07: hostile `kid` values are opaque strings compared exactly (RFC 7515 §4.1.4, RFC 8725
/// §3.10). The tokens are signed by the issuer's real key, so a lookalike that selected it
/// would be accepted: `unknown_key` proves it did not.
#[test]
fn atk_07_hostile_kid() {
    let key = common::rs256();
    let gate = gate(&[key]);
    check_all(&atk_07_good());
    let token_with_kid = |kid: &str| {
        key.token_with_header(
            &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
            &valid_claims(),
        )
    };
    let hostile = [
        "../../../../dev/null",
        "/proc/sys/kernel/randomize_va_space",
        "' OR '1'='1",
        "rs256-1' --",
        "$(id)",
        "`id`",
        "%s%s%s%n",
        "http://127.0.0.1/jwks",
        "file:///etc/passwd",
        "\0",
        "rs256-1\0",
        "rs256-1\n",
        "\u{1b}[31m",
        // Lookalikes of the real kid "rs256-1".
        "RS256-1",
        "rs256-1 ",
        " rs256-1",
        "rs256_1",
        "rs256\u{2010}1",
        "r\u{0455}256-1",
        "rs256-\u{ff11}",
        "rs256-1\u{200b}",
        "",
    ];
    for kid in hostile {
        expect(
            &gate,
            &token_with_kid(kid),
            &Rejection::UnknownKey,
            &format!("kid {kid:?}"),
        );
    }
    let longest = "k".repeat(256);
    expect(
        &gate,
        &token_with_kid(&longest),
        &Rejection::UnknownKey,
        "kid of 256 bytes",
    );
    expect(
        &gate,
        &token_with_kid(&"k".repeat(257)),
        &Rejection::MalformedHeader,
        "kid of 257 bytes",
    );
    let huge = token_with_kid(&"k".repeat(64 * 1024));
    expect(
        &gate,
        &huge,
        &Rejection::TokenTooLarge,
        "kid of 64 KiB, default size cap",
    );
    let roomy = Gate::builder()
        .issuer(profile(&[key]))
        .max_token_size(1 << 20)
        .build()
        .unwrap();
    expect(
        &roomy,
        &huge,
        &Rejection::MalformedHeader,
        "kid of 64 KiB, 1 MiB size cap",
    );
}

// ---------------------------------------------------------------------------------------------
// ATK-08 .. ATK-11: keys offered by the token itself
// ---------------------------------------------------------------------------------------------

/// The issuer of ATK-08..11: an RS256 and an ES256 key.
fn issuer_with_rsa_and_ec() -> Gate {
    gate(&[common::rs256(), common::key_for(Algorithm::ES256)])
}

fn atk_08_good() -> Vec<Good> {
    let gate = issuer_with_rsa_and_ec();
    let es256 = common::key_for(Algorithm::ES256);
    vec![
        Good::new(
            "issuer RS256 token",
            &gate,
            common::rs256().token(&valid_claims()),
        ),
        Good::new("issuer ES256 token", &gate, es256.token(&valid_claims())),
    ]
}

/// Tokens signed by the attacker's keys, each carrying `extra` header members, with the
/// attacker's own kid, the issuer's real kid, and no kid; and what each must give.
fn self_keyed_cases(extra: &dyn Fn(&TestKey) -> Value) -> Vec<(String, String, Rejection)> {
    let mut cases = Vec::new();
    for (attacker, real_kid) in [(attacker_rsa(), "rs256-1"), (attacker_ec(), "es256-1")] {
        let alg = attacker.alg().name();
        for (kid, expected) in [
            (Some(attacker.kid()), Rejection::UnknownKey),
            (Some(real_kid), Rejection::InvalidSignature),
            (None, Rejection::InvalidSignature),
        ] {
            let mut header = json!({"alg": alg, "typ": "JWT"});
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            for (name, value) in extra(attacker).as_object().unwrap() {
                header[name] = value.clone();
            }
            let token = attacker.token_with_header(&header, &valid_claims());
            cases.push((format!("{alg} attacker key, kid {kid:?}"), token, expected));
        }
    }
    cases
}

/// Tokens signed by the attacker's own key, whose header `member` points at a trap URL on
/// loopback: each is refused, and nothing connects to the trap.
fn never_fetched(member: &str, path: &str) {
    check_all(&atk_08_good());
    let gate = issuer_with_rsa_and_ec();
    let (listener, url) = trap(path);
    for (variant, token, expected) in self_keyed_cases(&|_| json!({ member: url })) {
        expect(&gate, &token, &expected, &format!("{member}, {variant}"));
        assert_no_connection(&listener, &format!("{member}, {variant}"));
    }
}

/// ATK-08: a `jku` pointing at the attacker's JWKS is never fetched (RFC 8725 §3.10, SSRF).
#[test]
fn atk_08_jku() {
    never_fetched("jku", "/jwks");
}

/// ATK-09: an `x5u` pointing at the attacker's certificate is never fetched (RFC 8725 §3.10).
#[test]
fn atk_09_x5u() {
    never_fetched("x5u", "/cert.pem");
}

/// ATK-10: an embedded `jwk` holding the attacker's public key is never trusted
/// (CVE-2018-0114).
#[test]
fn atk_10_embedded_jwk() {
    check_all(&atk_08_good());
    let gate = issuer_with_rsa_and_ec();
    for (variant, token, expected) in self_keyed_cases(&|key| json!({"jwk": key.jwk()})) {
        expect(&gate, &token, &expected, &format!("jwk, {variant}"));
    }
    // The attacker's JWK relabelled with the issuer's kid changes nothing.
    let attacker = attacker_rsa();
    let mut jwk = attacker.jwk();
    jwk["kid"] = json!("rs256-1");
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rs256-1", "jwk": jwk});
    expect(
        &gate,
        &attacker.token_with_header(&header, &valid_claims()),
        &Rejection::InvalidSignature,
        "jwk carrying the issuer's kid",
    );
}

/// ATK-11: an `x5c` chain with the attacker's self-signed certificate is never trusted
/// (RFC 7515 §4.1.6, RFC 8725 §3.10), with or without matching thumbprints.
#[test]
fn atk_11_x5c() {
    check_all(&atk_08_good());
    let gate = issuer_with_rsa_and_ec();
    let x5c = |key: &TestKey| {
        let cert = self_signed_certificate(key);
        json!({
            "x5c": [base64_simd::STANDARD.encode_to_string(&cert)],
            "x5t#S256": b64(digest::digest(&digest::SHA256, &cert)),
        })
    };
    for (variant, token, expected) in self_keyed_cases(&x5c) {
        expect(&gate, &token, &expected, &format!("x5c, {variant}"));
    }
}

// ---------------------------------------------------------------------------------------------
// ATK-12 .. ATK-17: header extensions and signatures
// ---------------------------------------------------------------------------------------------

fn atk_12_good() -> Vec<Good> {
    // An unknown header parameter that is not critical is ignored (RFC 7515 §4).
    let key = common::rs256();
    let header = format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":"{}","x-unknown":true}}"#,
        key.kid()
    );
    let token = key.token_raw(&header, &valid_claims().to_string());
    vec![Good::new("x-unknown without crit", &gate(&[key]), token)]
}

/// ATK-12: any `crit` header is refused: no extension is understood (RFC 7515 §4.1.11).
#[test]
fn atk_12_crit() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims().to_string();
    let base = format!(r#""alg":"RS256","typ":"JWT","kid":"{}""#, key.kid());
    check_all(&atk_12_good());
    for crit in [
        r#""crit":["x-unknown"],"x-unknown":true"#,
        r#""crit":[]"#,
        r#""crit":["alg"]"#,
        r#""crit":["kid","typ"]"#,
        r#""crit":["exp"]"#,
        r#""crit":["x-unknown","x-unknown"],"x-unknown":1"#,
        r#""crit":["b64"],"b64":false"#,
        r#""crit":"x-unknown","x-unknown":true"#,
        r#""crit":{"x-unknown":true}"#,
        r#""crit":null"#,
        r#""crit":1"#,
        r#""crit":[1]"#,
        r#""\u0063rit":["x-unknown"],"x-unknown":true"#,
    ] {
        let header = format!("{{{base},{crit}}}");
        expect(
            &gate,
            &key.token_raw(&header, &claims),
            &Rejection::UnsupportedCriticalHeader,
            crit,
        );
    }
}

fn atk_13_good() -> Vec<Good> {
    let keys = all_keys();
    let gate = gate(&keys);
    keys.iter()
        .map(|key| {
            Good::new(
                format!("{} token", key.alg()),
                &gate,
                key.token(&valid_claims()),
            )
        })
        .collect()
}

/// ATK-13: an empty signature segment (`h.p.`) never verifies (CVE-2020-28042).
#[test]
fn atk_13_empty_signature() {
    check_all(&atk_13_good());
    let gate = gate(&all_keys());
    for key in all_keys() {
        let token = with_signature(&key.token(&valid_claims()), b"");
        assert!(token.ends_with('.'));
        expect(
            &gate,
            &token,
            &Rejection::InvalidSignature,
            &format!("{} with an empty signature", key.alg()),
        );
    }
    // HS256 with an empty signature: HMAC is never expressible.
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "rs256-1"});
    let token = format!(
        "{}.{}.",
        b64(header.to_string()),
        b64(valid_claims().to_string())
    );
    expect(
        &gate,
        &token,
        &Rejection::UnsupportedAlgorithm,
        "HS256 with an empty signature",
    );
}

fn atk_14_good() -> Vec<Good> {
    let key = common::rs256();
    // About one signature in 256 starts with a zero byte.
    let token = (0..100_000)
        .map(|i| key.token(&with(valid_claims(), "n", json!(i))))
        .find(|token| signature(token)[0] == 0)
        .expect("a signature with a leading zero byte");
    vec![Good::new(
        "RS256 signature with a leading zero byte",
        &gate(&[key]),
        token,
    )]
}

/// ATK-14: signatures of the wrong length or encoding (RFC 7518 §3.4: ECDSA is fixed-length
/// `R || S`; RSA signatures are exactly the modulus length).
#[test]
fn atk_14_signature_length() {
    let goods = atk_13_good();
    check_all(&goods);
    // The siblings are in the order of `all_keys()`.
    for (key, good) in all_keys().into_iter().zip(&goods) {
        let (gate, token) = (&good.gate, &good.token);
        let sig = signature(token);
        let len = sig.len();
        let mut variants: Vec<(String, Vec<u8>)> = vec![
            (format!("truncated to {}", len - 1), sig[..len - 1].to_vec()),
            (
                format!("{} bytes, zero appended", len + 1),
                [&sig[..], &[0]].concat(),
            ),
            (
                format!("{} bytes, zero prepended", len + 1),
                [&[0], &sig[..]].concat(),
            ),
            ("twice".into(), sig.repeat(2)),
            ("half".into(), sig[..len / 2].to_vec()),
            ("one byte".into(), sig[..1].to_vec()),
            ("all zero".into(), vec![0; len]),
            ("all 0xff".into(), vec![0xff; len]),
        ];
        if matches!(
            key.alg(),
            Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512
        ) {
            variants.push(("DER-encoded".into(), ecdsa_der(&sig)));
        }
        for (variant, bad) in variants {
            expect(
                gate,
                &with_signature(token, &bad),
                &Rejection::InvalidSignature,
                &format!("{} signature {variant}", key.alg()),
            );
        }
        // Longer than any signature tokengate can verify: not even decoded.
        for segment in ["A".repeat(1368), "A".repeat(4000)] {
            let [h, p, _] = segments(token);
            expect(
                gate,
                &format!("{h}.{p}.{segment}"),
                &Rejection::InvalidSignature,
                &format!(
                    "{} signature segment of {} characters",
                    key.alg(),
                    segment.len()
                ),
            );
        }
    }
    // A genuine RS256 signature whose first byte is zero, with that byte stripped: the same
    // integer, but RFC 8017 §8.2.2 requires exactly the modulus length.
    let goods = atk_14_good();
    check_all(&goods);
    let token = &goods[0].token;
    expect(
        &goods[0].gate,
        &with_signature(token, &signature(token)[1..]),
        &Rejection::InvalidSignature,
        "RS256 signature with its leading zero byte stripped",
    );
}

/// ATK-15: "psychic signatures" (CVE-2022-21449): ECDSA with `r` or `s` zero or equal to the
/// group order `n` must fail.
#[test]
fn atk_15_psychic_signature() {
    check_all(&atk_13_good());
    let key = common::key_for(Algorithm::ES256);
    let gate = gate(&[key]);
    let token = key.token(&valid_claims());
    let sig = signature(&token);
    let (r, s) = sig.split_at(32);
    let n = p256_n();
    let zero = [0u8; 32];
    let mut one = [0u8; 32];
    one[31] = 1;
    let variants: [(&str, &[u8], &[u8]); 8] = [
        ("r = s = 0", &zero, &zero),
        ("r = n, s = n", &n, &n),
        ("r = 0, s = 1", &zero, &one),
        ("r = 1, s = 0", &one, &zero),
        ("r = n, genuine s", &n, s),
        ("genuine r, s = n", r, &n),
        ("r = 0, genuine s", &zero, s),
        ("genuine r, s = 0", r, &zero),
    ];
    for (variant, r, s) in variants {
        let bad = [r, s].concat();
        assert_eq!(bad.len(), 64);
        expect(
            &gate,
            &with_signature(&token, &bad),
            &Rejection::InvalidSignature,
            variant,
        );
    }
    // The same for P-384 and P-521, with r = s = 0.
    for alg in [Algorithm::ES384, Algorithm::ES512] {
        let key = common::key_for(alg);
        let token = key.token(&valid_claims());
        let zeros = vec![0; signature(&token).len()];
        expect(
            &gate_for(key),
            &with_signature(&token, &zeros),
            &Rejection::InvalidSignature,
            &format!("{alg} r = s = 0"),
        );
    }
}

fn gate_for(key: &TestKey) -> Gate {
    gate(&[key])
}

fn atk_16_good() -> Vec<Good> {
    let mut goods = Vec::new();
    for key in [common::rs256(), common::key_for(Algorithm::ES256)] {
        let gate = gate_for(key);
        let a = with(valid_claims(), "sub", json!("alice"));
        let b = with(
            with(valid_claims(), "sub", json!("bob")),
            "roles",
            json!(["admin"]),
        );
        goods.push(Good::new(
            format!("{} token A", key.alg()),
            &gate,
            key.token(&a),
        ));
        goods.push(Good::new(
            format!("{} token B", key.alg()),
            &gate,
            key.token(&b),
        ));
    }
    goods
}

/// ATK-16: signature transplants between two valid tokens of the same key (RFC 7515 §5.2).
#[test]
fn atk_16_signature_transplant() {
    let goods = atk_16_good();
    check_all(&goods);
    // Pairs of siblings: tokens A and B of one key.
    for pair in goods.chunks(2) {
        let (gate, a_and_b) = (
            &pair[0].gate,
            format!("{} and {}", pair[0].variant, pair[1].variant),
        );
        let [ah, ap, asig] = segments(&pair[0].token);
        let [bh, bp, bsig] = segments(&pair[1].token);
        let variants = [
            (
                "A's header and payload, B's signature",
                format!("{ah}.{ap}.{bsig}"),
            ),
            (
                "A's header, B's payload, A's signature",
                format!("{ah}.{bp}.{asig}"),
            ),
            (
                "B's header, B's payload, A's signature",
                format!("{bh}.{bp}.{asig}"),
            ),
        ];
        for (variant, token) in variants {
            expect(
                gate,
                &token,
                &Rejection::InvalidSignature,
                &format!("{a_and_b}: {variant}"),
            );
        }
    }
}

fn atk_17_claims() -> Value {
    with(valid_claims(), "roles", json!(["user"]))
}

fn atk_17_good() -> Vec<Good> {
    let key = common::rs256();
    vec![Good::new(
        "the original token",
        &gate(&[key]),
        key.token(&atk_17_claims()),
    )]
}

/// ATK-17: one byte changed anywhere the JSON stays valid, original signature kept
/// (RFC 7515 §5.2). Flips inside `iss` are left out: the unverified `iss` only chooses among the
/// configured issuers, so changing it gives `untrusted_issuer` first (by design).
#[test]
fn atk_17_payload_byte_flip() {
    let goods = atk_17_good();
    check_all(&goods);
    let (gate, token) = (&goods[0].gate, &goods[0].token);
    let claims = atk_17_claims();
    let [h, p, s] = segments(token);
    let payload = String::from_utf8(decode(p)).unwrap();
    let reencoded = |text: &str| format!("{h}.{}.{s}", b64(text));

    // The classic: "role":"user" becomes "admin".
    let admin = payload.replace(r#"["user"]"#, r#"["admin"]"#);
    assert_ne!(admin, payload);
    expect(
        gate,
        &reencoded(&admin),
        &Rejection::InvalidSignature,
        "roles user -> admin",
    );

    // Every single-bit flip of every character of every string value except `iss`.
    let mut flips = 0;
    for name in ["sub", "aud", "scope", "roles"] {
        let value = claims[name].to_string();
        let start = payload.find(&value).unwrap();
        // Inside the quotes only.
        for i in start + 1..start + value.len() - 1 {
            let byte = payload.as_bytes()[i];
            if byte == b'"' || byte == b'\\' {
                continue;
            }
            let flipped = byte ^ 0x01;
            if !(0x20..0x7f).contains(&flipped) || flipped == b'"' || flipped == b'\\' {
                continue;
            }
            let mut bytes = payload.clone().into_bytes();
            bytes[i] = flipped;
            let text = String::from_utf8(bytes).unwrap();
            flips += 1;
            expect(
                gate,
                &reencoded(&text),
                &Rejection::InvalidSignature,
                &format!(
                    "{name}: byte {i} {:?} -> {:?}",
                    char::from(byte),
                    char::from(flipped)
                ),
            );
        }
    }
    assert!(flips > 30, "only {flips} flips tried");

    // A digit of `exp`, keeping it in the future.
    let exp = claims["exp"].to_string();
    let last = if exp.ends_with('9') { '8' } else { '9' };
    let later = format!("{}{last}", &exp[..exp.len() - 1]);
    let text = payload.replace(&exp, &later);
    expect(
        gate,
        &reencoded(&text),
        &Rejection::InvalidSignature,
        "exp: last digit changed",
    );

    // One header byte: `typ` JWT -> jWT (still an accepted type).
    let header = String::from_utf8(decode(h)).unwrap();
    let flipped_header = header.replace(r#""JWT""#, r#""jWT""#);
    assert_ne!(flipped_header, header);
    expect(
        gate,
        &format!("{}.{p}.{s}", b64(&flipped_header)),
        &Rejection::InvalidSignature,
        "header typ JWT -> jWT",
    );

    // One bit of the signature, first and last byte.
    let sig = signature(token);
    for i in [0, sig.len() - 1] {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        expect(
            gate,
            &with_signature(token, &bad),
            &Rejection::InvalidSignature,
            &format!("signature byte {i} flipped"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ATK-18 .. ATK-22: claims
// ---------------------------------------------------------------------------------------------

fn atk_18_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let exp_claims = |exp: i64| {
        with(
            without(common::valid_claims_at(T), "nbf"),
            "exp",
            json!(exp),
        )
    };
    vec![
        Good::new(
            "exp = now - L + 1",
            &gate,
            key.token(&exp_claims(T - L + 1)),
        )
        .at(T),
        Good::new("exp = now + 1", &gate, key.token(&exp_claims(T + 1))).at(T),
        Good::new(
            "exp far ahead",
            &gate,
            key.token(&common::valid_claims_at(T)),
        )
        .at(T),
    ]
}

/// Raw `exp`/`nbf`/`iat` values of the wrong type or out of range (RFC 7519 §2 NumericDate).
const BAD_NUMERIC_DATES: [&str; 9] = [
    r#""1999999999""#,
    "true",
    "null",
    "1e400",
    "-1",
    "{}",
    "[1999999999]",
    r#""""#,
    "1e300",
];

/// ATK-18: `exp` with leeway L = 60 s (RFC 7519 §4.1.4): `now >= exp + L` is expired.
#[test]
fn atk_18_exp() {
    check_all(&atk_18_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let exp_claims = |exp: i64| {
        with(
            without(common::valid_claims_at(T), "nbf"),
            "exp",
            json!(exp),
        )
    };
    for (variant, exp) in [
        ("exp = now - L - 1", T - L - 1),
        ("exp = now - L", T - L),
        ("exp long ago", 1),
    ] {
        expect_at(
            &gate,
            &key.token(&exp_claims(exp)),
            T,
            &Rejection::TokenExpired,
            variant,
        );
    }
    // The same token on either side of its expiry.
    let token = key.token(&exp_claims(T - L + 1));
    expect_at(
        &gate,
        &token,
        T + 1,
        &Rejection::TokenExpired,
        "exp = now - L + 1, one second later",
    );

    let no_exp = without(common::valid_claims_at(T), "exp");
    expect_at(
        &gate,
        &key.token(&no_exp),
        T,
        &missing("exp"),
        "exp missing",
    );
    let result = validate(&gate, &key.token(&no_exp), Some(T));
    assert!(
        matches!(&result, Err(Rejection::MissingClaim { claim }) if &**claim == "exp"),
        "exp missing: {:?}",
        result.map(|_| ())
    );
    assert_eq!(result.unwrap_err().code(), "missing_claim");

    for value in BAD_NUMERIC_DATES {
        let text = raw_claims(
            &common::valid_claims_at(T),
            &["exp"],
            &[format!(r#""exp":{value}"#)],
        );
        expect_at(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            T,
            &Rejection::MalformedClaims,
            &format!("exp {value}"),
        );
    }
}

fn atk_19_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let nbf_claims = |nbf: i64| with(common::valid_claims_at(T), "nbf", json!(nbf));
    vec![
        Good::new(
            "nbf = now + L - 1",
            &gate,
            key.token(&nbf_claims(T + L - 1)),
        )
        .at(T),
        Good::new("nbf = now + L", &gate, key.token(&nbf_claims(T + L))).at(T),
        Good::new(
            "nbf absent",
            &gate,
            key.token(&without(common::valid_claims_at(T), "nbf")),
        )
        .at(T),
    ]
}

/// ATK-19: `nbf` with leeway (RFC 7519 §4.1.5): `now < nbf - L` is not yet valid.
#[test]
fn atk_19_nbf() {
    check_all(&atk_19_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let nbf_claims = |nbf: i64| with(common::valid_claims_at(T), "nbf", json!(nbf));
    for (variant, nbf) in [
        ("nbf = now + L + 1", T + L + 1),
        ("nbf = now + 1 day", T + 86_400),
    ] {
        expect_at(
            &gate,
            &key.token(&nbf_claims(nbf)),
            T,
            &Rejection::TokenNotYetValid,
            variant,
        );
    }
    for value in BAD_NUMERIC_DATES {
        let text = raw_claims(
            &common::valid_claims_at(T),
            &["nbf"],
            &[format!(r#""nbf":{value}"#)],
        );
        expect_at(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            T,
            &Rejection::MalformedClaims,
            &format!("nbf {value}"),
        );
    }
}

fn rfc9068_claims(now: i64) -> Value {
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

fn rfc9068_gate(key: &TestKey) -> Gate {
    build(profile(&[key]).token_profile(TokenProfile::Rfc9068))
}

fn at_jwt_header(key: &TestKey, typ: &str) -> Value {
    json!({"alg": key.alg().name(), "typ": typ, "kid": key.kid()})
}

fn atk_20_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let iat_claims = |iat: i64| with(common::valid_claims_at(T), "iat", json!(iat));
    vec![
        Good::new("iat = now + L", &gate, key.token(&iat_claims(T + L))).at(T),
        Good::new("iat = now", &gate, key.token(&iat_claims(T))).at(T),
        Good::new(
            "iat absent, JWT profile",
            &gate,
            key.token(&without(common::valid_claims_at(T), "iat")),
        )
        .at(T),
        Good::new(
            "RFC 9068 token with iat",
            &rfc9068_gate(key),
            key.token_with_header(&at_jwt_header(key, "at+jwt"), &rfc9068_claims(T)),
        )
        .at(T),
    ]
}

/// ATK-20: `iat` in the future beyond leeway; `iat` required under RFC 9068 (§2.2).
#[test]
fn atk_20_iat() {
    check_all(&atk_20_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let iat_claims = |iat: i64| with(common::valid_claims_at(T), "iat", json!(iat));
    for (variant, iat) in [
        ("iat = now + L + 60", T + L + 60),
        ("iat = now + L + 1", T + L + 1),
    ] {
        expect_at(
            &gate,
            &key.token(&iat_claims(iat)),
            T,
            &Rejection::IssuedInFuture,
            variant,
        );
    }
    for value in BAD_NUMERIC_DATES {
        let text = raw_claims(
            &common::valid_claims_at(T),
            &["iat"],
            &[format!(r#""iat":{value}"#)],
        );
        expect_at(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            T,
            &Rejection::MalformedClaims,
            &format!("iat {value}"),
        );
    }
    let strict = rfc9068_gate(key);
    let token = key.token_with_header(
        &at_jwt_header(key, "at+jwt"),
        &without(rfc9068_claims(T), "iat"),
    );
    expect_at(
        &strict,
        &token,
        T,
        &missing("iat"),
        "iat missing, RFC 9068 profile",
    );
}

fn atk_21_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    [
        json!(AUDIENCE),
        json!([AUDIENCE]),
        json!(["https://other.example.com", AUDIENCE]),
        json!([AUDIENCE, "https://issuer.example.com/userinfo"]),
    ]
    .into_iter()
    .map(|aud| {
        Good::new(
            format!("aud {aud}"),
            &gate,
            key.token(&with(valid_claims(), "aud", aud)),
        )
    })
    .collect()
}

/// ATK-21: audience confusion (RFC 7519 §4.1.3, RFC 8725 §3.9): exact string equality only; an
/// array holding ours among others is accepted. The trailing-slash tolerance is an Entra-preset
/// option (ENTRA-7), off in the core.
#[test]
fn atk_21_audience_confusion() {
    check_all(&atk_21_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    expect(
        &gate,
        &key.token(&without(valid_claims(), "aud")),
        &missing("aud"),
        "aud missing",
    );
    let not_ours = [
        "[]",
        r#""API://ORDERS""#,
        r#""api://Orders""#,
        r#""api://orders.evil""#,
        r#""api://orderss""#,
        r#""api://order""#,
        r#""api://""#,
        r#""api://orders ""#,
        r#"" api://orders""#,
        r#""api://orders/""#,
        r#""api://orders\u0000""#,
        r#""""#,
        r#""https://graph.microsoft.com""#,
        r#""00000003-0000-0000-c000-000000000000""#,
        r#"["api://orders.evil","https://graph.microsoft.com"]"#,
    ];
    let wrong_type = [
        "[123]",
        r#"[["api://orders"]]"#,
        r#"["api://orders",1]"#,
        "123",
        "true",
        r#"{"aud":"api://orders"}"#,
    ];
    let cases = (not_ours.iter().map(|aud| (aud, Rejection::InvalidAudience))).chain(
        wrong_type
            .iter()
            .map(|aud| (aud, Rejection::MalformedClaims)),
    );
    for (aud, expected) in cases {
        let text = raw_claims(&valid_claims(), &["aud"], &[format!(r#""aud":{aud}"#)]);
        expect(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            &expected,
            &format!("aud {aud}"),
        );
    }
}

fn atk_22_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = entra_gate();
    [entra_v2_issuer(), entra_v1_issuer()]
        .into_iter()
        .map(|iss| {
            Good::new(
                format!("iss {iss}"),
                &gate,
                key.token(&with(valid_claims(), "iss", json!(iss))),
            )
        })
        .collect()
}

/// ATK-22: issuer confusion (OIDC Discovery §4.3, RFC 9068 §4): `iss` is compared exactly, with
/// no normalization of case, slashes, hosts or tenants. The tokens are signed by the issuer's
/// real key, so only the `iss` comparison refuses them.
#[test]
fn atk_22_issuer_confusion() {
    check_all(&atk_22_good());
    let key = common::rs256();
    let gate = entra_gate();
    let v2 = entra_v2_issuer();
    let upper = TENANT.to_uppercase();
    let host = "login.microsoftonline.com";
    let variants = [
        format!("https://{host}/{TENANT}/v2.0/"), // trailing slash added
        format!("https://sts.windows.net/{TENANT}"), // v1 trailing slash removed
        format!("HTTPS://LOGIN.MICROSOFTONLINE.COM/{TENANT}/v2.0"),
        format!("https://LOGIN.microsoftonline.com/{TENANT}/v2.0"),
        format!("https://{host}/{upper}/v2.0"), // uppercase tenant GUID
        format!("https://{host}/{OTHER_TENANT}/v2.0"), // another tenant
        format!("https://sts.windows.net/{OTHER_TENANT}/"),
        format!("https://login.windows.net/{TENANT}/v2.0"), // alias host
        format!("https://{host}/common/v2.0"),
        format!("https://{host}/{{tenantid}}/v2.0"), // the template itself
        format!("http://{host}/{TENANT}/v2.0"),
        format!("https://{host}:443/{TENANT}/v2.0"),
        format!("{v2} "),
        format!("{v2}#"),
        format!("{v2}\0"),
        format!("https://{host}/"),
        String::new(),
    ];
    for iss in variants {
        expect(
            &gate,
            &key.token(&with(valid_claims(), "iss", json!(iss))),
            &Rejection::UntrustedIssuer,
            &format!("iss {iss:?}"),
        );
    }
}

/// A gate with the Entra preset for `api`, against `entra` (an Entra-shaped authority on
/// loopback), for ATK-23 and ATK-34.
fn entra_preset_gate(
    entra: &tokengate::testing::TestEntra,
    api: tokengate::providers::entra::EntraApi,
) -> Gate {
    Gate::builder()
        .issuer(api.instance(entra.instance()))
        .key_cache(
            tokengate::KeyCacheSettings::default()
                .allow_http_loopback()
                .cooldown(Duration::from_secs(1)),
        )
        .build()
        .expect("the test configuration is valid")
}

/// The stable code of the outcome, `"accepted"` for a token that validates (with a runtime, for
/// keys from the network).
async fn entra_code(gate: &Gate, token: &str) -> &'static str {
    gate.validate(token)
        .await
        .map_or_else(|r| r.code(), |_| "accepted")
}

/// ATK-23: Entra multi-tenant `tid` rules (ENTRA-17), through the Entra preset: a tenant
/// allowlist, and the any-tenant mode (the templated `organizations`/`common` issuers, where
/// each key's templated `issuer` filled with `tid` must give `iss`).
#[tokio::test]
async fn atk_23_multi_tenant_tid() {
    use tokengate::providers::entra::EntraApi;
    use tokengate::providers::entra::TokenVersion;
    use tokengate::testing::TestEntra;

    let entra = TestEntra::start().await.unwrap();
    let a = entra.tenant().to_owned();
    let b = entra.add_tenant();
    let outsider = entra.add_tenant();
    let msa_kid = entra.tenant_key(TestEntra::CONSUMERS_TENANT);
    let allowlist = entra_preset_gate(
        &entra,
        EntraApi::multi_tenant(TestEntra::CLIENT_ID).tenants([a.as_str(), b.as_str()]),
    );
    let any = entra_preset_gate(
        &entra,
        EntraApi::multi_tenant(TestEntra::CLIENT_ID).any_tenant(),
    );
    let gates = [("allowlist", &allowlist), ("any tenant", &any)];

    for version in [TokenVersion::V1, TokenVersion::V2] {
        // Good siblings: the listed tenants' tokens.
        for (mode, gate) in gates {
            for tid in [&a, &b] {
                let token = entra.token(version, tid).sign();
                assert_eq!(
                    entra_code(gate, &token).await,
                    "accepted",
                    "{mode} {version:?}: tenant {tid}"
                );
            }
        }
        // `tid` variants on A's token (A's `iss`). In the any-tenant mode a v2 key's
        // templated issuer filled with a wrong `tid` is not the token's `iss`, so the key
        // check refuses first. v1 tokens are verified with the same v2 keys, whose issuer
        // may also be the v2 issuer of the token's `tid` (which a shared key's template always
        // gives), and the tenant check refuses. Without `tid`, no key fits in either version.
        let key_or_tenant = match version {
            TokenVersion::V2 => Rejection::KeyIssuerMismatch,
            TokenVersion::V1 => Rejection::InvalidTenant,
        };
        let upper = a.to_uppercase();
        let cases = [
            (
                "tid of another tenant",
                Some(b.as_str()),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid not a GUID",
                Some("contoso"),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid 'common'",
                Some("common"),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid uppercase",
                Some(upper.as_str()),
                None,
                Rejection::InvalidTenant,
                key_or_tenant.clone(),
            ),
            (
                "tid and TID",
                Some(a.as_str()),
                Some(b.as_str()),
                Rejection::InvalidTenant,
                Rejection::InvalidTenant,
            ),
            (
                "tid missing",
                None,
                None,
                Rejection::InvalidTenant,
                Rejection::KeyIssuerMismatch,
            ),
        ];
        for (variant, tid, twin, in_allowlist, in_any) in cases {
            let mut builder = entra.token(version, &a);
            builder = match tid {
                Some(tid) => builder.claim("tid", tid),
                None => builder.without_claim("tid"),
            };
            if let Some(twin) = twin {
                builder = builder.claim("TID", twin);
            }
            let token = builder.sign();
            for (mode, gate, expected) in [
                ("allowlist", &allowlist, &in_allowlist),
                ("any tenant", &any, &in_any),
            ] {
                assert_rejection(
                    gate.validate(&token).await,
                    expected,
                    &format!("{mode} {version:?}: {variant}"),
                );
            }
        }

        // A tenant outside the allowlist (the any-tenant mode takes it, by design).
        let token = entra.token(version, &outsider).sign();
        assert_rejection(
            allowlist.validate(&token).await,
            &Rejection::UntrustedIssuer,
            &format!("{version:?}: tenant outside the allowlist"),
        );
        assert_eq!(entra_code(&any, &token).await, "accepted");
    }

    // A key whose JWKS `issuer` is tenant-specific, the personal-account (MSA) tenant's, used
    // for an organization tenant's token: the key sets the preset reads for organization
    // tenants (the tenant's own, `organizations`) do not serve it.
    let token = entra.token(TokenVersion::V2, &a).key(&msa_kid).sign();
    for (mode, gate) in gates {
        assert_rejection(
            gate.validate(&token).await,
            &Rejection::UnknownKey,
            &format!("{mode}: MSA tenant key for an org token"),
        );
    }
    // The MSA tenant's own tokens are not "any work or school tenant".
    let token = entra.token(TokenVersion::V2, "consumers").sign();
    assert_rejection(
        any.validate(&token).await,
        &Rejection::InvalidTenant,
        "any tenant: consumers tenant token",
    );
}

/// A second configured issuer (ATK-24).
const ISSUER_Y: &str = "https://other-issuer.example.com/";

/// Two issuers: [`ISSUER`] with the RS256 test key (kid `rs256-1`), [`ISSUER_Y`] with `y_key`.
fn two_issuers(y_key: &TestKey) -> Gate {
    Gate::builder()
        .issuer(profile(&[common::rs256()]))
        .issuer(
            IssuerProfile::new(ISSUER_Y)
                .audience(AUDIENCE)
                .jwks(common::jwks(&[y_key])),
        )
        .build()
        .unwrap()
}

fn atk_24_good() -> Vec<Good> {
    let x_key = common::rs256();
    let y_claims = with(valid_claims(), "iss", json!(ISSUER_Y));
    let gate = two_issuers(rs256_b());
    // Y's other key carries the same kid as X's (`rs256-1`).
    let colliding = two_issuers(common::key_for(Algorithm::RS256));
    vec![
        Good::new("X's token at X", &gate, x_key.token(&valid_claims())),
        Good::new("Y's token at Y", &gate, rs256_b().token(&y_claims)),
        Good::new(
            "X's token at X, Y has a key with X's kid",
            &colliding,
            x_key.token(&valid_claims()),
        ),
        Good::new(
            "Y's token at Y, Y's key has X's kid",
            &colliding,
            common::key_for(Algorithm::RS256).token(&y_claims),
        ),
    ]
}

/// ATK-24: cross-issuer key reuse (RFC 8725 §3.8): keys are scoped to their issuer, so X's
/// token re-labelled `iss: Y` (re-signed by X, kid of X) finds no key at Y.
#[test]
fn atk_24_cross_issuer_key() {
    check_all(&atk_24_good());
    let x_key = common::rs256();
    let relabelled = with(valid_claims(), "iss", json!(ISSUER_Y));
    let gate = two_issuers(rs256_b());
    expect(
        &gate,
        &x_key.token(&relabelled),
        &Rejection::UnknownKey,
        "X's token re-labelled iss Y, kid of X",
    );
    // Without a kid, Y's only RS256 key is tried, and X's signature does not verify with it.
    let no_kid = json!({"alg": "RS256", "typ": "JWT"});
    expect(
        &gate,
        &x_key.token_with_header(&no_kid, &relabelled),
        &Rejection::InvalidSignature,
        "X's token re-labelled iss Y, no kid",
    );
    // Y publishing a key under the same kid as X's does not make X's key Y's.
    assert_eq!(common::key_for(Algorithm::RS256).kid(), x_key.kid());
    expect(
        &two_issuers(common::key_for(Algorithm::RS256)),
        &x_key.token(&relabelled),
        &Rejection::InvalidSignature,
        "X's token re-labelled iss Y, Y has another key with X's kid",
    );
}

// ---------------------------------------------------------------------------------------------
// ATK-25 .. ATK-31: token shape
// ---------------------------------------------------------------------------------------------

fn atk_25_good() -> Vec<Good> {
    let key = common::rs256();
    let roomy = Gate::builder()
        .issuer(profile(&[key]))
        .max_token_size(4 << 20)
        .build()
        .unwrap();
    vec![
        Good::new(
            "ordinary token, default cap",
            &gate(&[key]),
            key.token(&valid_claims()),
        ),
        Good::new(
            "ordinary token, 4 MiB cap",
            &roomy,
            key.token(&valid_claims()),
        ),
    ]
}

/// ATK-25: size and complexity bombs (CVE-2025-30204, CVE-2024-21319). With the default 64 KiB
/// cap, the large ones are refused before any decoding; with the cap raised to 4 MiB each is
/// still refused, with a specific code and without panicking or overflowing the stack. No
/// timing assertions.
#[test]
fn atk_25_size_bombs() {
    let key = common::rs256();
    let goods = atk_25_good();
    check_all(&goods);
    let (default, roomy) = (&goods[0].gate, &goods[1].gate);
    let header = key.header().to_string();
    let claims = valid_claims();
    let nested = |depth: usize| {
        raw_claims(
            &claims,
            &[],
            &[format!(r#""x":{}{}"#, "[".repeat(depth), "]".repeat(depth))],
        )
    };
    let mut many = raw_claims(&claims, &[], &[]);
    many.pop();
    for i in 0..100_000 {
        many.push_str(&format!(r#","c{i}":0"#));
    }
    // The last member repeats the first: refusing it needs the whole duplicate check.
    many.push_str(r#","c0":0}"#);
    let big_number = raw_claims(
        &claims,
        &["exp"],
        &[format!(r#""exp":{}"#, "9".repeat(100_000))],
    );
    let big_kid = json!({"alg": "RS256", "typ": "JWT", "kid": "k".repeat(100_000)}).to_string();

    // (variant, token, code with the default cap, code with a 4 MiB cap)
    let cases = [
        (
            "1 MiB header",
            format!(
                "{}.{}.{}",
                "A".repeat(1 << 20),
                b64(claims.to_string()),
                b64("sig")
            ),
            Rejection::TokenTooLarge,
            Rejection::MalformedHeader,
        ),
        (
            "10^6 dots",
            ".".repeat(1_000_000),
            Rejection::TokenTooLarge,
            Rejection::MalformedToken,
        ),
        (
            // About 27 KB: under the default cap, so decoded, and refused by the nesting limit.
            "10,000 nested arrays",
            key.token_raw(&header, &nested(10_000)),
            Rejection::MalformedClaims,
            Rejection::MalformedClaims,
        ),
        (
            "100,000 nested arrays",
            key.token_raw(&header, &nested(100_000)),
            Rejection::TokenTooLarge,
            Rejection::MalformedClaims,
        ),
        (
            "100 KB number",
            key.token_raw(&header, &big_number),
            Rejection::TokenTooLarge,
            Rejection::MalformedClaims,
        ),
        (
            "100,000 claims",
            key.token_raw(&header, &many),
            Rejection::TokenTooLarge,
            Rejection::MalformedClaims,
        ),
        (
            "100 KB kid",
            key.token_raw(&big_kid, &claims.to_string()),
            Rejection::TokenTooLarge,
            Rejection::MalformedHeader,
        ),
    ];
    for (variant, token, with_default, with_roomy) in cases {
        assert!(token.len() < 4 << 20, "{variant}: {} bytes", token.len());
        expect(
            default,
            &token,
            &with_default,
            &format!("{variant}, 64 KiB cap"),
        );
        expect(roomy, &token, &with_roomy, &format!("{variant}, 4 MiB cap"));
    }
}

/// ATK-26: the JWS JSON serializations are not JWTs (RFC 7519 §1/§7.2; CVE-2022-39227).
#[test]
fn atk_26_json_serialization() {
    let goods = atk_01_good();
    check_all(&goods);
    let (gate, token) = (&goods[0].gate, &goods[0].token);
    let [h, p, s] = segments(token);
    let forged = b64(with(valid_claims(), "sub", json!("admin")).to_string());
    let general =
        json!({"payload": p, "signatures": [{"protected": h, "signature": s}]}).to_string();
    let flattened = json!({"payload": p, "protected": h, "signature": s}).to_string();
    let two_dots =
        json!({"payload": p, "protected": h, "header": {"kid": "a.b.c"}, "signature": s})
            .to_string();
    // python-jwt's confusion: the compact prefix `h.p.` as a member name (two dots).
    let mixed =
        format!(r#"{{"{h}.{p}.":"","protected":"{h}","payload":"{forged}","signature":"{s}"}}"#);
    let variants = [
        ("general", general),
        ("flattened", flattened.clone()),
        ("flattened, two dots", two_dots),
        ("compact prefix as a member name", mixed),
        ("flattened after a space", format!(" {flattened}")),
        ("flattened after a newline", format!("\n{flattened}")),
    ];
    for (variant, text) in variants {
        if variant.contains("two dots") || variant.contains("prefix") {
            assert_eq!(text.matches('.').count(), 2, "{variant}");
        }
        expect(gate, &text, &Rejection::UnsupportedTokenFormat, variant);
    }
}

/// ATK-27: a JWE is refused by its shape, without decrypting or inflating anything (RFC 7519
/// §7.2; CVE-2024-28176, CVE-2024-28122).
#[test]
fn atk_27_jwe() {
    let key = common::rs256();
    let gate = gate(&[key]);
    check_all(&atk_01_good());
    let segment = |len: usize| b64(vec![0x5a; len]);
    let jwe = |header: &Value, encrypted_key: &str| {
        format!(
            "{}.{encrypted_key}.{}.{}.{}",
            b64(header.to_string()),
            segment(12),
            segment(4096),
            segment(16)
        )
    };
    let oaep = json!({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": key.kid()});
    let deflate = json!({"alg": "RSA-OAEP-256", "enc": "A128GCM", "zip": "DEF", "kid": key.kid()});
    let direct = json!({"alg": "dir", "enc": "A128GCM", "zip": "DEF"});
    let variants = [
        ("RSA-OAEP to the RS's key", jwe(&oaep, &segment(256))),
        ("zip DEF", jwe(&deflate, &segment(256))),
        ("dir, empty encrypted key", jwe(&direct, "")),
        (
            "JWE header on three segments",
            format!("{}.{}.{}", b64(oaep.to_string()), segment(64), segment(16)),
        ),
        (
            "zip DEF on a signed JWS",
            key.token_with_header(
                &json!({"alg": "RS256", "typ": "JWT", "kid": key.kid(), "zip": "DEF"}),
                &valid_claims(),
            ),
        ),
    ];
    for (variant, token) in variants {
        expect(&gate, &token, &Rejection::UnsupportedTokenFormat, variant);
    }
}

/// ATK-28: nested JWTs (`cty: JWT`) are not supported (RFC 8725 §3.3/§3.11).
#[test]
fn atk_28_nested_jwt() {
    check_all(&atk_01_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let inner_signed = key.token(&valid_claims());
    let inner_unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none"}).to_string()),
        b64(valid_claims().to_string())
    );
    for cty in ["JWT", "jwt", "application/jwt", "at+jwt"] {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid(), "cty": cty});
        let variants = [
            ("a signed inner token", inner_signed.clone()),
            ("an unsigned inner token", inner_unsigned.clone()),
            ("JSON claims", valid_claims().to_string()),
        ];
        for (inner, payload) in variants {
            expect(
                &gate,
                &key.token_raw(&header.to_string(), &payload),
                &Rejection::UnsupportedTokenFormat,
                &format!("cty {cty} around {inner}"),
            );
        }
    }
}

fn atk_29_good() -> Vec<Good> {
    let key = common::rs256();
    let text = raw_claims(&valid_claims(), &[], &[]);
    let token = key.token_raw(&key.header().to_string(), &text);
    vec![Good::new("no duplicates", &gate(&[key]), token)]
}

/// ATK-29: duplicate JSON member names, in either order and through escapes (RFC 7515 §4,
/// RFC 7519 §4), signed correctly so that only the duplicate is wrong.
#[test]
fn atk_29_duplicate_members() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims();
    check_all(&atk_29_good());
    let kid = key.kid();
    let headers = [
        format!(r#"{{"alg":"RS256","alg":"RS256","typ":"JWT","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}","alg":"RS256"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}","alg":"none"}}"#),
        format!(r#"{{"alg":"RS256","\u0061lg":"HS256","typ":"JWT","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"attacker","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}","kid":"attacker"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","typ":"dpop+jwt","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}","jwk":{{"kty":"RSA","kty":"oct"}}}}"#),
    ];
    for header in headers {
        expect(
            &gate,
            &key.token_raw(&header, &raw_claims(&claims, &[], &[])),
            &Rejection::MalformedHeader,
            &format!("header {header}"),
        );
    }
    let exp = claims["exp"].clone();
    let pairs: [(&str, Value, Value); 5] = [
        ("aud", json!(AUDIENCE), json!("api://attacker")),
        ("iss", json!(ISSUER), json!("https://attacker.example/")),
        ("exp", json!(1), exp),
        ("sub", json!("user-1"), json!("admin")),
        ("tid", json!(TENANT), json!(OTHER_TENANT)),
    ];
    for (name, first, second) in pairs {
        for (a, b) in [(&first, &second), (&second, &first)] {
            for spelled in [format!(r#""{name}""#), escaped_name(name)] {
                let members = [format!(r#""{name}":{a}"#), format!("{spelled}:{b}")];
                let text = raw_claims(&claims, &[name], &members);
                expect(
                    &gate,
                    &key.token_raw(&key.header().to_string(), &text),
                    &Rejection::MalformedClaims,
                    &format!("claims {}", members.join(",")),
                );
            }
        }
    }
    // Duplicates nested inside a claim value.
    let nested = raw_claims(&claims, &[], &[r#""cnf":{"jkt":"a","jkt":"b"}"#.to_owned()]);
    expect(
        &gate,
        &key.token_raw(&key.header().to_string(), &nested),
        &Rejection::MalformedClaims,
        "cnf.jkt twice",
    );
}

/// `"aud"` spelled with its first letter as a JSON escape: `"\u0061ud"`.
fn escaped_name(name: &str) -> String {
    let first = name.chars().next().unwrap();
    format!(r#""\u{:04x}{}""#, u32::from(first), &name[1..])
}

fn atk_30_good() -> Vec<Good> {
    let key = common::rs256();
    // Header and payload texts whose encodings have unused trailing bits and contain both `-`
    // and `_` (runs of `?` and `>` encode to `_` and `-` at any alignment).
    let header = with_trailing_bits(&format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":"{}","x":"??????>>>>>>"}}"#,
        key.kid()
    ));
    // The signature is random-looking: vary a claim until it has both characters too.
    let token = (0..)
        .map(|i| {
            let claims = with(valid_claims(), "x", json!("??????>>>>>>"));
            let claims = with_trailing_bits(&with(claims, "n", json!(i)).to_string());
            key.token_raw(&header, &claims)
        })
        .find(|token| {
            let s = segments(token)[2];
            s.contains('-') && s.contains('_')
        })
        .unwrap();
    vec![Good::new("canonical token", &gate(&[key]), token)]
}

/// ATK-30: non-canonical base64url (RFC 7515 §2, §5.2): padding, the standard alphabet,
/// whitespace, non-zero trailing bits, an empty header segment.
#[test]
fn atk_30_non_canonical_base64url() {
    let goods = atk_30_good();
    check_all(&goods);
    let (gate, token) = (&goods[0].gate, &goods[0].token);
    let [h, p, s] = segments(token);
    for segment in [h, p, s] {
        assert!(segment.contains('-') && segment.contains('_'), "{segment}");
        assert!(matches!(segment.len() % 4, 2 | 3), "{segment}");
    }
    let pad = |segment: &str| {
        let n = (4 - segment.len() % 4) % 4;
        format!("{segment}{}", "=".repeat(n))
    };
    let standard = |segment: &str| segment.replace('-', "+").replace('_', "/");
    let mut variants = Vec::new();
    for (name, index) in [("header", 0), ("payload", 1), ("signature", 2)] {
        let rebuild = |new: String| {
            let mut parts = [h.to_owned(), p.to_owned(), s.to_owned()];
            parts[index] = new;
            parts.join(".")
        };
        let segment = [h, p, s][index];
        let mid = segment.len() / 2;
        variants.push((format!("{name} padded"), rebuild(pad(segment))));
        variants.push((
            format!("{name} with one extra ="),
            rebuild(format!("{segment}=")),
        ));
        variants.push((
            format!("{name} in the standard alphabet"),
            rebuild(standard(segment)),
        ));
        for (ws, label) in [
            (" ", "space"),
            ("\n", "newline"),
            ("\r\n", "CRLF"),
            ("\t", "tab"),
        ] {
            variants.push((
                format!("{name} with an embedded {label}"),
                rebuild(format!("{}{ws}{}", &segment[..mid], &segment[mid..])),
            ));
        }
        variants.push((
            format!("{name} with non-zero trailing bits"),
            rebuild(dirty_trailing_bits(segment).expect("the segment has unused bits")),
        ));
    }
    variants.push(("trailing newline".into(), format!("{token}\n")));
    variants.push(("leading space".into(), format!(" {token}")));
    variants.push(("empty header".into(), format!(".{p}.{s}")));
    for (variant, bad) in variants {
        expect(gate, &bad, &Rejection::MalformedToken, &variant);
    }
}

fn atk_31_good() -> Vec<Good> {
    let key = common::rs256();
    let (header, claims) = (key.header().to_string(), valid_claims().to_string());
    let token = signed_bytes(key, header.as_bytes(), claims.as_bytes());
    vec![Good::new("UTF-8 JSON objects", &gate(&[key]), token)]
}

/// `text` as UTF-16 code units in this byte order, after `bom`.
fn utf16(text: &str, bom: &[u8], order: fn(u16) -> [u8; 2]) -> Vec<u8> {
    let mut bytes = bom.to_vec();
    bytes.extend(text.encode_utf16().flat_map(order));
    bytes
}

/// Valid UTF-8 that is not exactly one JSON object: the JSON stage refuses it.
fn not_json_objects(json: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("an array", format!("[{json}]").into_bytes()),
        ("a string", br#""RS256""#.to_vec()),
        ("a number", b"256".to_vec()),
        ("null", b"null".to_vec()),
        ("two objects", format!("{json}{{}}").into_bytes()),
        (
            "with a UTF-8 BOM",
            [b"\xef\xbb\xbf", json.as_bytes()].concat(),
        ),
        ("UTF-16LE", utf16(json, &[], u16::to_le_bytes)),
        ("UTF-16BE", utf16(json, &[], u16::to_be_bytes)),
    ]
}

/// Not UTF-8 at all: refused before any JSON parsing (RFC 8725 §3.7).
fn not_utf8(json: &str) -> Vec<(&'static str, Vec<u8>)> {
    // Inside the first string value.
    let i = json.find(r#"":""#).unwrap() + 3;
    let insert = |bytes: &[u8]| [&json.as_bytes()[..i], bytes, &json.as_bytes()[i..]].concat();
    vec![
        (
            "UTF-16LE with BOM",
            utf16(json, &[0xff, 0xfe], u16::to_le_bytes),
        ),
        (
            "UTF-16BE with BOM",
            utf16(json, &[0xfe, 0xff], u16::to_be_bytes),
        ),
        ("with byte 0xff", insert(&[0xff])),
        ("with Latin-1 é", insert(&[0xe9])),
        ("with an overlong '/'", insert(&[0xc0, 0xaf])),
        (
            "with a UTF-8-encoded surrogate",
            insert(&[0xed, 0xa0, 0x80]),
        ),
        ("with a truncated sequence", insert(&[0xe2, 0x82])),
    ]
}

/// ATK-31: header or payload that is not a UTF-8 JSON object (RFC 7519 §7.2, RFC 8725 §3.7).
/// Invalid UTF-8 is `malformed_token` (the segment does not decode to text); valid UTF-8 that
/// is not one JSON object is `malformed_header` or `malformed_claims`.
#[test]
fn atk_31_not_a_json_object() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let header = key.header().to_string();
    let claims = valid_claims().to_string();
    let token = |header: &[u8], claims: &[u8]| signed_bytes(key, header, claims);
    check_all(&atk_31_good());
    for (variant, bytes) in not_json_objects(&header) {
        let bad = token(&bytes, claims.as_bytes());
        expect(
            &gate,
            &bad,
            &Rejection::MalformedHeader,
            &format!("header {variant}"),
        );
    }
    for (variant, bytes) in not_json_objects(&claims) {
        let bad = token(header.as_bytes(), &bytes);
        expect(
            &gate,
            &bad,
            &Rejection::MalformedClaims,
            &format!("payload {variant}"),
        );
    }
    for (variant, bytes) in not_utf8(&header) {
        let bad = token(&bytes, claims.as_bytes());
        expect(
            &gate,
            &bad,
            &Rejection::MalformedToken,
            &format!("header {variant}"),
        );
    }
    for (variant, bytes) in not_utf8(&claims) {
        let bad = token(header.as_bytes(), &bytes);
        expect(
            &gate,
            &bad,
            &Rejection::MalformedToken,
            &format!("payload {variant}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ATK-32 .. ATK-35: kinds of tokens, scopes
// ---------------------------------------------------------------------------------------------

fn atk_32_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = gate(&[key]);
    let strict = rfc9068_gate(key);
    let lenient = build(profile(&[key]).allow_nonce_claim());
    let mut goods: Vec<Good> = [None, Some("JWT"), Some("at+jwt"), Some("application/jwt")]
        .into_iter()
        .map(|typ| {
            let mut header = json!({"alg": "RS256", "kid": key.kid()});
            if let Some(typ) = typ {
                header["typ"] = json!(typ);
            }
            Good::new(
                format!("JWT profile, typ {typ:?}"),
                &gate,
                key.token_with_header(&header, &valid_claims()),
            )
        })
        .collect();
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
    ] {
        goods.push(
            Good::new(
                format!("RFC 9068 profile, typ {typ}"),
                &strict,
                key.token_with_header(&at_jwt_header(key, typ), &rfc9068_claims(T)),
            )
            .at(T),
        );
    }
    goods.push(Good::new(
        "Cognito token_use access",
        &gate,
        key.token(&with(valid_claims(), "token_use", json!("access"))),
    ));
    goods.push(Good::new(
        "nonce with allow_nonce_claim",
        &lenient,
        key.token(&with(valid_claims(), "nonce", json!("n-0S6_WzA2Mj"))),
    ));
    goods
}

/// ATK-32: type confusion (RFC 8725 §2.8/§3.11/§3.12, RFC 9068 §4): ID tokens, logout and
/// security-event tokens are not access tokens, even with our audience (one app registration
/// shared by an SPA and its API); foreign `typ` values are refused in every profile; RFC 9068
/// mode requires `at+jwt`, compared case-insensitively.
#[test]
fn atk_32_token_type_confusion() {
    check_all(&atk_32_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let id_token = |extra: Value| {
        let mut claims = without(valid_claims(), "scope");
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        key.token(&claims)
    };
    let others = [
        ("ID token with nonce", json!({"nonce": "n-0S6_WzA2Mj"})),
        (
            "ID token with at_hash",
            json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}),
        ),
        (
            "ID token with c_hash",
            json!({"c_hash": "LDktKdoQak3Pk0cnXxCltA"}),
        ),
        (
            "ID token with s_hash",
            json!({"s_hash": "LDktKdoQak3Pk0cnXxCltA"}),
        ),
        (
            "ID token with nonce and at_hash",
            json!({"nonce": "n", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "auth_time": 1}),
        ),
        (
            "logout token",
            json!({"events": {"http://schemas.openid.net/event/backchannel-logout": {}}, "sid": "08a5019c"}),
        ),
        (
            "security event token",
            json!({"events": {"urn:example:event": {"x": 1}}, "jti": "j"}),
        ),
        ("Cognito ID token", json!({"token_use": "id"})),
        ("token_use refresh", json!({"token_use": "refresh"})),
        ("token_use Access", json!({"token_use": "Access"})),
    ];
    for (variant, extra) in others {
        expect(
            &gate,
            &id_token(extra),
            &Rejection::NotAnAccessToken,
            variant,
        );
    }
    // The markers cannot hide behind JSON escapes.
    for member in [
        r#""\u006eonce":"n""#,
        r#""at\u005fhash":"x""#,
        r#""ev\u0065nts":{}"#,
    ] {
        let text = raw_claims(&valid_claims(), &[], &[member.to_owned()]);
        expect(
            &gate,
            &key.token_raw(&key.header().to_string(), &text),
            &Rejection::NotAnAccessToken,
            &format!("escaped marker {member}"),
        );
    }
    let strict = rfc9068_gate(key);
    for typ in [
        "dpop+jwt",
        "secevent+jwt",
        "logout+jwt",
        "id_token+jwt",
        "application/dpop+jwt",
        "JWE",
        "JOSE",
        "",
        "at+jwt ",
    ] {
        let header = at_jwt_header(key, typ);
        expect(
            &gate,
            &key.token_with_header(&header, &valid_claims()),
            &Rejection::InvalidTokenType,
            &format!("JWT profile, typ {typ:?}"),
        );
        expect_at(
            &strict,
            &key.token_with_header(&header, &rfc9068_claims(T)),
            T,
            &Rejection::InvalidTokenType,
            &format!("RFC 9068 profile, typ {typ:?}"),
        );
    }
    for typ in [Some("JWT"), Some("jwt"), Some("application/jwt"), None] {
        let mut header = json!({"alg": "RS256", "kid": key.kid()});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        expect_at(
            &strict,
            &key.token_with_header(&header, &rfc9068_claims(T)),
            T,
            &Rejection::InvalidTokenType,
            &format!("RFC 9068 profile, typ {typ:?}"),
        );
    }
    // allow_nonce_claim tolerates a nonce (old Keycloak), never the ID-token hashes.
    let lenient = build(profile(&[key]).allow_nonce_claim());
    for (variant, extra) in [
        ("at_hash", json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"})),
        (
            "nonce and at_hash",
            json!({"nonce": "n", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}),
        ),
        ("c_hash", json!({"c_hash": "LDktKdoQak3Pk0cnXxCltA"})),
        ("logout events", json!({"events": {}})),
    ] {
        expect(
            &lenient,
            &id_token(extra),
            &Rejection::NotAnAccessToken,
            &format!("allow_nonce_claim, {variant}"),
        );
    }
}

/// ATK-33: a Microsoft Graph token (header `nonce`): its signature covers a transformed nonce
/// and can never verify as-is, so it is refused as a format, whatever its audience.
#[test]
fn atk_33_graph_token() {
    check_all(&atk_01_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let header = json!({
        "typ": "JWT", "nonce": "AQABAAAAAAD--DLA3VO7QrddgJg7WevrK9bOSF0",
        "alg": "RS256", "x5t": "nOo3ZDrODXEK1jKWhXslHR_KXEg", "kid": key.kid(),
    });
    for aud in [
        "https://graph.microsoft.com",
        "00000003-0000-0000-c000-000000000000",
        AUDIENCE,
    ] {
        let claims = with(
            with(valid_claims(), "aud", json!(aud)),
            "scp",
            json!("User.Read"),
        );
        expect(
            &gate,
            &key.token_with_header(&header, &claims),
            &Rejection::UnsupportedTokenFormat,
            &format!("Graph token, aud {aud}"),
        );
    }
    let escaped = format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":"{}","\u006eonce":"x"}}"#,
        key.kid()
    );
    expect(
        &gate,
        &key.token_raw(&escaped, &valid_claims().to_string()),
        &Rejection::UnsupportedTokenFormat,
        "header nonce spelled with an escape",
    );
}

/// ATK-34: an Entra app-only token with neither `scp` nor `roles` is refused with 403 by
/// default (ENTRA-27), through the Entra preset; with ACL authorization it passes.
#[tokio::test]
async fn atk_34_app_only_without_permissions() {
    use tokengate::providers::entra::EntraApi;
    use tokengate::providers::entra::TokenVersion;
    use tokengate::testing::TestEntra;
    use tokengate::{ErrorClass, TokenKind};

    let entra = TestEntra::start().await.unwrap();
    let tid = entra.tenant();
    let api = || EntraApi::single_tenant(tid, TestEntra::CLIENT_ID);
    let gate = entra_preset_gate(&entra, api());
    let acl = entra_preset_gate(&entra, api().allow_acl_authorization());
    for version in [TokenVersion::V1, TokenVersion::V2] {
        // `idtyp: app`, `sub == oid`, no `scp`, no `roles`.
        let bare = entra.token(version, tid).app(Vec::<String>::new()).sign();
        let refused = gate.validate(&bare).await;
        assert_rejection(
            refused.clone(),
            &Rejection::NoScopeOrRole,
            &format!("{version:?}: app-only token without scp or roles"),
        );
        let refused = refused.unwrap_err();
        assert_eq!(refused.class(), ErrorClass::InsufficientScope);
        assert_eq!(refused.class().error_code(), Some("insufficient_scope"));
        assert_eq!(refused.class().status(), 403);
        for (variant, token) in [
            (
                "empty roles",
                entra
                    .token(version, tid)
                    .app(Vec::<String>::new())
                    .roles(Vec::<String>::new())
                    .sign(),
            ),
            (
                "roles with an empty string",
                entra.token(version, tid).app([""]).sign(),
            ),
            (
                "empty scp",
                entra
                    .token(version, tid)
                    .app(Vec::<String>::new())
                    .scp("")
                    .sign(),
            ),
        ] {
            assert_rejection(
                gate.validate(&token).await,
                &Rejection::NoScopeOrRole,
                &format!("{version:?}: {variant}"),
            );
        }

        // Good siblings: the same token with a role, or at an API that authorizes by ACL.
        let granted = entra.token(version, tid).app(["Orders.Read.All"]).sign();
        let claims = gate
            .validate(&granted)
            .await
            .expect("app-only token with a role");
        assert_eq!(claims.token_kind(), TokenKind::App);
        let claims = acl.validate(&bare).await.expect("ACL authorization");
        assert_eq!(claims.token_kind(), TokenKind::App);
        assert_eq!(claims.roles().count() + claims.scopes().count(), 0);
    }
}

fn atk_35_good() -> Vec<Good> {
    let key = common::rs256();
    let gate = build(profile(&[key]));
    let requiring = Gate::builder()
        .issuer(profile(&[key]))
        .require(Requirement::scope("files.read"))
        .build()
        .unwrap();
    let mut goods = Vec::new();
    for scp in [
        json!("files.read"),
        json!("openid files.read"),
        json!(["files.read"]),
    ] {
        goods.push(Good::new(
            format!("scp {scp}, gate requiring files.read"),
            &requiring,
            key.token(&with(without(valid_claims(), "scope"), "scp", scp)),
        ));
    }
    goods.push(Good::new(
        "scope with a double space",
        &gate,
        key.token(&with(valid_claims(), "scope", json!("a  b"))),
    ));
    goods
}

/// ATK-35: scopes compare as whole, case-sensitive tokens (ENTRA-28, RFC 6749 §3.3);
/// `insufficient_scope` (RFC 6750 §3.1) names the requirement.
#[test]
fn atk_35_scope_tricks() {
    let goods = atk_35_good();
    check_all(&goods);
    let key = common::rs256();
    let gate = build(profile(&[key]));
    let required = Requirement::scope("files.read");
    let requiring = Gate::builder()
        .issuer(profile(&[key]))
        .require(required.clone())
        .build()
        .unwrap();
    let insufficient = Rejection::InsufficientScope {
        scopes: Arc::from([Box::from("files.read")]),
    };
    let grants = [
        ("scp", json!("files.read.all")),
        ("scp", json!("xfiles.read")),
        ("scp", json!("Files.Read")),
        ("scp", json!("files.rea")),
        ("scp", json!("files.read.all xfiles.read")),
        ("scp", json!("files.readfiles.write")),
        ("scp", json!(["files.read.all"])),
        ("scp", json!("")),
        ("scope", json!("files.read.all")),
        ("roles", json!(["files.read"])),
    ];
    for (claim, value) in grants {
        let variant = format!("{claim} {value}");
        let claims = with(without(valid_claims(), "scope"), claim, value);
        let token = key.token(&claims);
        let verified = validate(&gate, &token, None)
            .unwrap_or_else(|r| panic!("{variant}: refused with `{}`", r.code()));
        let refused = Rejection::from(required.check(&verified).unwrap_err());
        assert_eq!(refused, insufficient, "{variant}: Requirement::check");
        assert_eq!(refused.code(), "insufficient_scope");
        assert_eq!(
            refused.required_scopes().collect::<Vec<_>>(),
            ["files.read"]
        );
        expect(
            &requiring,
            &token,
            &insufficient,
            &format!("{variant}, GateBuilder::require"),
        );
    }
    // The accepted siblings meet the requirement through `check` too.
    for good in &goods[..3] {
        required.check(&good.check()).unwrap();
    }
    // "a  b" grants exactly a and b.
    let double_space = goods[3].check();
    assert_eq!(double_space.scopes().collect::<Vec<_>>(), ["a", "b"]);
    Requirement::all_scopes(["a", "b"])
        .check(&double_space)
        .unwrap();
    assert!(
        Requirement::scope("").check(&double_space).is_err(),
        "an empty scope is never granted"
    );
    // RFC 9068 §2.2.3: `scope` must be a string there; the JWT profile accepts an array.
    let strict = rfc9068_gate(key);
    let array = with(rfc9068_claims(T), "scope", json!(["files.read"]));
    expect_at(
        &strict,
        &key.token_with_header(&at_jwt_header(key, "at+jwt"), &array),
        T,
        &Rejection::MalformedClaims,
        "RFC 9068 profile, scope an array",
    );
}

// ---------------------------------------------------------------------------------------------
// ATK-41 .. ATK-45: keys and required claims
// ---------------------------------------------------------------------------------------------

/// A 1024-bit RSA modulus. It need not be a real key: it is refused on its size before any
/// arithmetic, and aws-lc-rs cannot generate RSA-1024 keys.
fn modulus_1024() -> Vec<u8> {
    let mut n = vec![0x5a; 128];
    n[0] = 0xc3;
    n[127] |= 1;
    n
}

fn jwk_1024() -> Value {
    json!({"kty": "RSA", "kid": "rsa-1024", "alg": "RS256", "use": "sig",
           "n": b64(modulus_1024()), "e": "AQAB"})
}

fn atk_41_good() -> Vec<Good> {
    let rsa = common::rs256();
    let gate = build(profile_jwks(&json!({"keys": [jwk_1024(), rsa.jwk()]})));
    vec![Good::new(
        "RS256 token next to the RSA-1024 key",
        &gate,
        rsa.token(&valid_claims()),
    )]
}

/// ATK-41 (and RFC 8725 §3.4): a published Ed25519 key of small order, here the identity
/// point, for which the signature R = identity, S = 0 verifies every message. The key is
/// refused, so the universal forgery gets nowhere.
#[test]
fn atk_41_small_order_ed25519_key() {
    let identity = [[1u8].as_slice(), &[0; 31]].concat();
    let weak = json!({"kty": "OKP", "crv": "Ed25519", "kid": "weak", "x": common::b64(&identity)});
    let error = Gate::builder()
        .issuer(profile_jwks(&json!({"keys": [weak.clone()]})))
        .build()
        .unwrap_err();
    assert!(
        error.problems().any(|p| p.contains("small-order")),
        "the problems should name the small-order key: {error}"
    );
    let ed = common::key_for(Algorithm::EdDSA);
    let gate = build(profile_jwks(&json!({"keys": [weak, ed.jwk()]})));
    let claims = with(valid_claims(), "roles", json!(["admin"]));
    let input = format!(
        "{}.{}",
        common::b64(json!({"alg": "EdDSA", "kid": "weak"}).to_string()),
        common::b64(claims.to_string())
    );
    let forged = format!("{input}.{}", common::b64([identity, vec![0; 32]].concat()));
    expect(
        &gate,
        &forged,
        &Rejection::UnknownKey,
        "identity key, R = identity, S = 0",
    );
    // The honest key beside it still works.
    let honest = ed.token(&valid_claims());
    assert!(
        validate(&gate, &honest, None).is_ok(),
        "the honest Ed25519 key"
    );
}

/// ATK-41: RSA keys under 2048 bits (RFC 7518 §3.3) and HMAC on an asymmetric issuer.
#[test]
fn atk_41_weak_keys() {
    let rsa = common::rs256();
    let n = modulus_1024();
    let error = Gate::builder()
        .issuer(profile_jwks(&json!({"keys": [jwk_1024()]})))
        .build()
        .unwrap_err();
    assert!(
        error.problems().any(|p| p.contains("2048")),
        "the problems should mention the 2048-bit minimum: {error}"
    );
    // The same modulus as PEM (SPKI and PKCS#1).
    let pkcs1 = der_seq(&[&der_uint(&n), &der_uint(&[1, 0, 1])]);
    let algorithm = der_seq(&[OID_RSA_ENCRYPTION, DER_NULL]);
    let spki = der_seq(&[&algorithm, &der(0x03, &[&[0][..], &pkcs1].concat())]);
    for (label, der) in [("PUBLIC KEY", spki), ("RSA PUBLIC KEY", pkcs1)] {
        let error = Gate::builder()
            .issuer(
                IssuerProfile::new(ISSUER)
                    .audience(AUDIENCE)
                    .public_key_pem(common::pem(label, &der), Algorithm::RS256),
            )
            .build()
            .unwrap_err();
        assert!(
            error.problems().any(|p| p.contains("2048")),
            "{label} PEM: the problems should mention the 2048-bit minimum: {error}"
        );
    }
    let goods = atk_41_good();
    check_all(&goods);
    let gate = &goods[0].gate;
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-1024"});
    expect(
        gate,
        &rsa.token_with_header(&header, &valid_claims()),
        &Rejection::UnknownKey,
        "token naming the skipped RSA-1024 key",
    );
    for kid in ["rsa-1024", "rs256-1"] {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
        expect(
            gate,
            &hmac_token(
                "HS256",
                b"0123456789abcdef0123456789abcdef",
                &header,
                &valid_claims(),
            ),
            &Rejection::UnsupportedAlgorithm,
            &format!("HS256 token, kid {kid}"),
        );
    }
}

fn atk_42_good() -> Vec<Good> {
    let rsa = common::rs256();
    let es256 = common::key_for(Algorithm::ES256);
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "enc-1"});
    [
        json!({"use": "sig"}),
        json!({"key_ops": ["verify"]}),
        json!({"use": "sig", "key_ops": ["verify"]}),
    ]
    .into_iter()
    .map(|usage| {
        let gate = build(profile_jwks(
            &json!({"keys": [usage_jwk(&usage), es256.jwk()]}),
        ));
        Good::new(
            format!("key with {usage}"),
            &gate,
            rsa.token_with_header(&header, &valid_claims()),
        )
    })
    .collect()
}

/// The RS256 test key's JWK under kid `enc-1`, with these usage members.
fn usage_jwk(usage: &Value) -> Value {
    let mut jwk = common::rs256().jwk();
    jwk["kid"] = json!("enc-1");
    jwk.as_object_mut().unwrap().remove("use");
    for (name, value) in usage.as_object().unwrap() {
        jwk[name] = value.clone();
    }
    jwk
}

/// ATK-42: keys meant for encryption, or whose `key_ops` lack `verify`, are skipped
/// (RFC 7517 §4.2/§4.3). The tokens are signed with that very key material.
#[test]
fn atk_42_key_use() {
    check_all(&atk_42_good());
    let rsa = common::rs256();
    let es256 = common::key_for(Algorithm::ES256);
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "enc-1"});
    for usage in [
        json!({"use": "enc"}),
        json!({"use": "enc", "key_ops": ["verify"]}),
        json!({"use": "sig", "key_ops": ["encrypt"]}),
        json!({"key_ops": ["encrypt"]}),
        json!({"key_ops": ["sign"]}),
        json!({"key_ops": ["wrapKey", "unwrapKey"]}),
        json!({"key_ops": []}),
        json!({"key_ops": ["verify", "verify"]}),
    ] {
        let gate = build(profile_jwks(
            &json!({"keys": [usage_jwk(&usage), es256.jwk()]}),
        ));
        expect(
            &gate,
            &rsa.token_with_header(&header, &valid_claims()),
            &Rejection::UnknownKey,
            &format!("key with {usage}"),
        );
    }
}

// ATK-38 (JWKS floods, slow, huge and redirecting key endpoints) and ATK-43 (a discovery
// document naming another issuer) need a provider on the network: they are in
// tests/key_fetch.rs, against real sockets.

fn atk_44_good() -> Vec<Good> {
    let rsa = common::rs256();
    let es256 = common::key_for(Algorithm::ES256);
    let no_kid = |key: &TestKey| {
        key.token_with_header(
            &json!({"alg": key.alg().name(), "typ": "JWT"}),
            &valid_claims(),
        )
    };
    let one = gate(&[rsa]);
    let mixed = gate(&[rsa, es256]);
    let two = gate(&[rsa, rs256_b()]);
    vec![
        Good::new("no kid, exactly one key", &one, no_kid(rsa)),
        Good::new("no kid, one RS256 key among others", &mixed, no_kid(rsa)),
        Good::new("no kid, one ES256 key among others", &mixed, no_kid(es256)),
        Good::new(
            "kid given, two RS256 keys",
            &two,
            rsa.token(&valid_claims()),
        ),
        Good::new(
            "second key by kid, two RS256 keys",
            &two,
            rs256_b().token(&valid_claims()),
        ),
    ]
}

/// ATK-44: a token without `kid` when the issuer has several keys for its algorithm
/// (ENTRA-22: no trying every key).
#[test]
fn atk_44_missing_kid() {
    check_all(&atk_44_good());
    let rsa = common::rs256();
    let no_kid = json!({"alg": "RS256", "typ": "JWT"});
    let two = gate(&[rsa, rs256_b()]);
    for key in [rsa, rs256_b()] {
        expect(
            &two,
            &key.token_with_header(&no_kid, &valid_claims()),
            &Rejection::MissingKeyId,
            &format!("no kid, two RS256 keys, signed by {}", key.kid()),
        );
    }
    let three = gate(&[rsa, rs256_b(), common::key_for(Algorithm::ES256)]);
    expect(
        &three,
        &rsa.token_with_header(&no_kid, &valid_claims()),
        &Rejection::MissingKeyId,
        "no kid, two RS256 keys and an ES256 key",
    );
    // The only key is bound to another algorithm.
    let one = gate(&[rsa]);
    let ps256 = common::key_for(Algorithm::PS256);
    expect(
        &one,
        &ps256.token_with_header(&json!({"alg": "PS256", "typ": "JWT"}), &valid_claims()),
        &Rejection::KeyAlgorithmMismatch,
        "no kid, PS256 token, the only key is RS256",
    );
}

fn keycloak_claims() -> Value {
    let now = common::now();
    json!({
        "exp": now + 300, "iat": now - 10, "jti": "onrtac:1d4e",
        "iss": ISSUER, "sub": "f:1b2c:user", "typ": "Bearer", "azp": "web-app",
        "sid": "0a1b", "scope": "openid profile email",
        "realm_access": {"roles": ["default-roles-demo", "offline_access"]},
    })
}

fn atk_45_good() -> Vec<Good> {
    let key = common::rs256();
    let token = key.token(&with(keycloak_claims(), "aud", json!(AUDIENCE)));
    vec![Good::new(
        "Keycloak-style token with our audience",
        &gate(&[key]),
        token,
    )]
}

/// ATK-45: a Keycloak-style token without `aud` (no audience mapper) is refused when an
/// audience is configured (RFC 8725 §3.9).
#[test]
fn atk_45_missing_aud() {
    let key = common::rs256();
    let gate = gate(&[key]);
    check_all(&atk_45_good());
    let result = validate(&gate, &key.token(&keycloak_claims()), None);
    assert!(
        matches!(&result, Err(Rejection::MissingClaim { claim }) if &**claim == "aud"),
        "no aud: {:?}",
        result.map(|_| ())
    );
    expect(
        &gate,
        &key.token(&keycloak_claims()),
        &missing("aud"),
        "no aud",
    );
    expect(
        &gate,
        &key.token(&with(keycloak_claims(), "aud", json!("account"))),
        &Rejection::InvalidAudience,
        "Keycloak's default aud `account`",
    );
}

// ---------------------------------------------------------------------------------------------
// The suite itself
// ---------------------------------------------------------------------------------------------

/// Every accepted sibling of this file really validates (and hands out exactly its payload),
/// and the same token with one signature bit flipped is refused with `invalid_signature`: the
/// boundary tests cannot pass because a gate accepts or refuses everything.
#[test]
fn every_accepted_variant_validates() {
    let groups = [
        atk_01_good(),
        atk_02_good(),
        atk_03_good(),
        atk_04_good(),
        atk_05_good(),
        atk_06_good(),
        atk_07_good(),
        atk_08_good(),
        atk_12_good(),
        atk_13_good(),
        atk_14_good(),
        atk_16_good(),
        atk_17_good(),
        atk_18_good(),
        atk_19_good(),
        atk_20_good(),
        atk_21_good(),
        atk_22_good(),
        atk_24_good(),
        atk_25_good(),
        atk_29_good(),
        atk_30_good(),
        atk_31_good(),
        atk_32_good(),
        atk_35_good(),
        atk_41_good(),
        atk_42_good(),
        atk_44_good(),
        atk_45_good(),
    ];
    let mut count = 0;
    for good in groups.iter().flatten() {
        good.check();
        let mut sig = signature(&good.token);
        sig[0] ^= 0x01;
        let damaged = with_signature(&good.token, &sig);
        assert_rejection(
            validate(&good.gate, &damaged, good.now),
            &Rejection::InvalidSignature,
            &format!("{}, signature damaged", good.variant),
        );
        count += 1;
    }
    assert!(count >= 80, "only {count} accepted variants");
}

/// The assertion helpers fail when they should, so no test here can pass vacuously.
#[test]
fn assertion_helpers_can_fail() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let good = key.token(&valid_claims());
    let bad = with_signature(&good, b"");
    assert_eq!(code(&gate, &good), "accepted");
    assert_eq!(code(&gate, &bad), "invalid_signature");
    let fails = |f: &dyn Fn()| catch_unwind(AssertUnwindSafe(f)).is_err();
    assert!(fails(&|| expect(
        &gate,
        &good,
        &Rejection::InvalidSignature,
        "accepted token"
    )));
    assert!(fails(&|| expect(
        &gate,
        &bad,
        &Rejection::MalformedToken,
        "wrong code"
    )));
    assert!(fails(&|| expect(
        &gate,
        &good.replace("eyJ", "eyK"),
        &missing("exp"),
        "other claim"
    )));
    assert!(fails(&|| {
        Good::new("refused token", &gate, bad.clone()).check();
    }));
    assert!(!fails(&|| expect(
        &gate,
        &bad,
        &Rejection::InvalidSignature,
        "right code"
    )));
    assert!(!fails(&|| {
        Good::new("accepted token", &gate, good.clone()).check();
    }));
    // MissingClaim compares its claim name, not only its code.
    assert!(fails(&|| {
        expect(
            &gate,
            &key.token(&without(valid_claims(), "aud")),
            &missing("exp"),
            "claim name",
        );
    }));
}

/// ATK-36 (first case) and ATK-37: a key-bound token (DPoP `cnf.jkt`, mTLS `cnf.x5t#S256`)
/// presented as a plain bearer token. Until sender-constrained tokens are supported, any `cnf`
/// refuses the token, whatever its value; without `cnf` the same token is accepted.
#[test]
fn atk_36_37_key_bound_token_as_bearer() {
    let key = common::rs256();
    let gate = gate(&[key]);
    assert!(validate(&gate, &key.token(&valid_claims()), None).is_ok());
    for cnf in [
        json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({}),
        json!(null),
    ] {
        let token = key.token(&with(valid_claims(), "cnf", cnf.clone()));
        expect(
            &gate,
            &token,
            &Rejection::SenderConstrainedToken,
            &format!("cnf {cnf}"),
        );
    }
}
