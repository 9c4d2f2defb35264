//! Property tests: whatever arrives as a token or as a key set, tokengate neither panics nor
//! accepts what it should not, and every refusal carries a documented code.
//!
//! Keys are generated once per test binary (`rs256()`, `key_for(ES256)` of the testkit); only
//! the re-signing properties sign per case. Failing cases are not persisted to disk: proptest
//! prints the minimal failing input, which belongs in a named regression test.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Map, Number, Value, json};
use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection};

use tokengate_testkit::{
    AUDIENCE, ISSUER, TestKey, b64, jwks, key_for, now, ready, rs256, valid_claims,
};

// ---------------------------------------------------------------------------------------------
// The gate, its keys and the known-good tokens.

/// Every code in the table of `Rejection` (src/error.rs).
const DOCUMENTED: [&str; 22] = [
    "token_too_large",
    "unsupported_token_format",
    "malformed_token",
    "malformed_header",
    "malformed_claims",
    "unsupported_algorithm",
    "unsupported_critical_header",
    "invalid_token_type",
    "not_an_access_token",
    "untrusted_issuer",
    "missing_key_id",
    "unknown_key",
    "key_algorithm_mismatch",
    "invalid_signature",
    "missing_claim",
    "invalid_audience",
    "token_expired",
    "token_not_yet_valid",
    "issued_in_future",
    "token_too_old",
    "insufficient_scope",
    "keys_unavailable",
];

/// The refusals that can come before the signature is verified: parsing, issuer, algorithm,
/// type, key selection and the signature itself. "Claim-level rejections ... are only produced
/// for tokens whose signature verified" (`Rejection`); `missing_claim` only for `iss`, which
/// picks the issuer before any key.
const BEFORE_SIGNATURE: [&str; 13] = [
    "token_too_large",
    "unsupported_token_format",
    "malformed_token",
    "malformed_header",
    "malformed_claims",
    "unsupported_algorithm",
    "unsupported_critical_header",
    "invalid_token_type",
    "untrusted_issuer",
    "missing_key_id",
    "unknown_key",
    "key_algorithm_mismatch",
    "invalid_signature",
];

/// The ES256 key (kid `es256-1`), generated once with the others of `key_for`.
fn es256() -> &'static TestKey {
    key_for(Algorithm::ES256)
}

/// One issuer with an RS256 and an ES256 key, every algorithm allowed, the default 60 s leeway.
fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| {
        Gate::builder()
            .issuer(
                IssuerProfile::new(ISSUER)
                    .audience(AUDIENCE)
                    .jwks(jwks(&[rs256(), es256()])),
            )
            .build()
            .unwrap()
    })
}

/// An RS256 and an ES256 token with `valid_claims()`, valid for a day from first use (so that
/// long `PROPTEST_CASES` runs do not outlive them).
fn good_tokens() -> &'static [String; 2] {
    static TOKENS: OnceLock<[String; 2]> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let mut claims = valid_claims();
        claims["exp"] = json!(now() + 86_400);
        [rs256().token(&claims), es256().token(&claims)]
    })
}

fn validate(token: &str) -> Result<Arc<Claims>, Rejection> {
    ready(gate().validate(token))
}

/// `cases` per property, unless `PROPTEST_CASES` asks for another number (for a longer local
/// run: `PROPTEST_CASES=20000 cargo test --release --test properties`).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

/// A refusal of a token that carries no valid signature: documented, and not a claim-level
/// code (which would mean a signature verified).
fn assert_unsigned_refusal(result: &Result<Arc<Claims>, Rejection>) -> Result<(), TestCaseError> {
    let Err(rejection) = result else {
        return Err(TestCaseError::fail("accepted"));
    };
    let code = rejection.code();
    prop_assert!(DOCUMENTED.contains(&code), "undocumented code {code}");
    let before_signature = match rejection {
        Rejection::MissingClaim { claim } => &**claim == "iss",
        _ => BEFORE_SIGNATURE.contains(&code),
    };
    prop_assert!(
        before_signature,
        "{code} ({rejection:?}) for a token without a valid signature"
    );
    Ok(())
}

/// The known-good tokens pass, so the properties below are not vacuous.
#[test]
fn good_tokens_validate() {
    for token in good_tokens() {
        let claims = validate(token).unwrap();
        assert_eq!(claims.issuer(), ISSUER);
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Arbitrary input.

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

proptest! {
    #![proptest_config(config(512))]

    /// Arbitrary bytes, read as lossy UTF-8.
    #[test]
    fn arbitrary_bytes_never_validate(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let text = String::from_utf8_lossy(&bytes);
        assert_unsigned_refusal(&validate(&text))?;
    }

    /// Arbitrary Unicode strings, control characters included.
    #[test]
    fn arbitrary_strings_never_validate(
        chars in proptest::collection::vec(any::<char>(), 0..3000)
    ) {
        let text: String = chars.into_iter().collect();
        assert_unsigned_refusal(&validate(&text))?;
    }

    /// Arbitrary strings with dots and prefixes of a good token (the whole token included), so
    /// they pass the segment checks more often. Only the untouched good token may validate.
    #[test]
    fn arbitrary_strings_around_dots_never_validate(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(".".to_owned()),
                "\\PC{0,40}",
                any::<Index>().prop_map(|i| {
                    let token = &good_tokens()[0];
                    token[..i.index(token.len() + 1)].to_owned()
                }),
            ],
            0..12,
        )
    ) {
        let text = parts.concat();
        let result = validate(&text);
        if good_tokens().contains(&text) {
            prop_assert!(result.is_ok());
        } else {
            assert_unsigned_refusal(&result)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The base64url alphabet and dots: input that reaches the decoders.

fn b64url_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(B64URL), 0..max)
        .prop_map(|bytes| String::from_utf8(bytes).unwrap())
}

/// A header segment: base64url of a JOSE header with an arbitrary `alg`, `kid` and `typ`.
fn header_segment() -> impl Strategy<Value = String> {
    let algs = proptest::sample::select(vec![
        "RS256", "RS256", "ES256", "ES256", "PS256", "EdDSA", "none", "HS256", "", "rs256",
    ]);
    let kids = proptest::sample::select(vec!["rs256-1", "es256-1", "other", ""]);
    let typs = proptest::sample::select(vec!["JWT", "at+jwt", "dpop+jwt", ""]);
    (algs, proptest::option::of(kids), proptest::option::of(typs)).prop_map(|(alg, kid, typ)| {
        let mut header = json!({ "alg": alg });
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        b64(header.to_string())
    })
}

/// A payload segment: base64url of claims for this or another issuer, or of other JSON.
fn payload_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(b64(
            json!({"iss": ISSUER, "aud": AUDIENCE, "exp": 4_102_444_800_u64}).to_string()
        )),
        1 => Just(b64(json!({"iss": "https://other.example/"}).to_string())),
        1 => Just(b64(json!({"aud": AUDIENCE}).to_string())),
        1 => arbitrary_json().prop_map(|v| b64(v.to_string())),
    ]
}

/// A segment that decodes: base64url of arbitrary bytes, of JSON-looking text, of a header
/// or of claims.
fn decodable_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(b64),
        "[{}\\[\\]\":,a-z0-9 ]{0,80}".prop_map(b64),
        header_segment(),
        payload_segment(),
    ]
}

/// Three segments that each decode: reaches the issuer, key and signature stages.
fn three_segments() -> impl Strategy<Value = Vec<String>> {
    let signature = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(b64),
        Just(b64([7u8; 64])),
        Just(b64([7u8; 256])),
        b64url_string(400),
    ];
    (header_segment(), payload_segment(), signature).prop_map(|(h, p, s)| vec![h, p, s])
}

fn segment_lists() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        proptest::collection::vec(prop_oneof![b64url_string(400), decodable_segment()], 1..7),
        three_segments(),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    /// Any string over `[A-Za-z0-9_-.]`.
    #[test]
    fn base64url_alphabet_with_dots_never_validates(
        chars in proptest::collection::vec(
            prop_oneof![9 => proptest::sample::select(B64URL), 1 => Just(b'.')],
            0..2048,
        )
    ) {
        let text = String::from_utf8(chars).unwrap();
        assert_unsigned_refusal(&validate(&text))?;
    }

    /// One to six segments of the alphabet, or of base64url that decodes to text, headers
    /// and claims; or a header, claims and a signature that all decode.
    #[test]
    fn base64url_segments_never_validate(segments in segment_lists()) {
        let text = segments.join(".");
        assert_unsigned_refusal(&validate(&text))?;
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Mutations of a valid token.

/// A position in a sequence of any length: `len * raw / 2^64`, so it shrinks towards the start.
#[derive(Clone, Copy, Debug)]
struct Index(u64);

impl Index {
    const FIRST: Index = Index(0);
    const LAST: Index = Index(u64::MAX);

    /// The position that resolves to `at` in a sequence of `len`.
    fn at(at: usize, len: usize) -> Index {
        Index((((at as u128) << 64).div_ceil(len as u128)) as u64)
    }

    fn index(self, len: usize) -> usize {
        ((u128::from(self.0) * len as u128) >> 64) as usize
    }
}

impl Arbitrary for Index {
    type Parameters = ();
    type Strategy = proptest::strategy::Map<proptest::num::u64::Any, fn(u64) -> Index>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        any::<u64>().prop_map(Index)
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace one character by a base64url character (perhaps the same one).
    Flip(Index, u8),
    /// Delete up to `len` characters from a position.
    Delete(Index, usize),
    /// Insert characters at a position.
    Insert(Index, Vec<u8>),
    /// Swap the case of one character (a no-op for digits, `-`, `_` and `.`).
    ChangeCase(Index),
    /// Truncate the whole token.
    Truncate(Index),
    DuplicateSegment(Index),
    SwapSegments(Index, Index),
    DropSegment(Index),
    TruncateSegment(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let inserted = proptest::collection::vec(
        prop_oneof![
            8 => proptest::sample::select(B64URL),
            1 => proptest::sample::select(b".=+/ \n\t\0{\"\\%".to_vec()),
        ],
        1..8,
    );
    prop_oneof![
        4 => (any::<Index>(), proptest::sample::select(B64URL))
            .prop_map(|(i, c)| Mutation::Flip(i, c)),
        2 => (any::<Index>(), 1..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        2 => (any::<Index>(), inserted).prop_map(|(i, s)| Mutation::Insert(i, s)),
        2 => any::<Index>().prop_map(Mutation::ChangeCase),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => any::<Index>().prop_map(Mutation::DuplicateSegment),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::SwapSegments(i, j)),
        1 => any::<Index>().prop_map(Mutation::DropSegment),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::TruncateSegment(i, j)),
    ]
}

/// Applies a mutation to an ASCII token; the result stays ASCII.
fn apply(token: &str, mutation: &Mutation) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let segments = || -> Vec<Vec<u8>> { token.split('.').map(|s| s.as_bytes().to_vec()).collect() };
    let join = |parts: Vec<Vec<u8>>| parts.join(&b'.');
    let out = match mutation {
        Mutation::Flip(i, c) => {
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                bytes[at] = *c;
            }
            bytes
        }
        Mutation::Delete(i, n) => {
            let at = i.index(bytes.len() + 1);
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
            bytes
        }
        Mutation::Insert(i, text) => {
            let at = i.index(bytes.len() + 1);
            bytes.splice(at..at, text.iter().copied());
            bytes
        }
        Mutation::ChangeCase(i) => {
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                let c = bytes[at];
                bytes[at] = if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
            }
            bytes
        }
        Mutation::Truncate(i) => {
            bytes.truncate(i.index(bytes.len() + 1));
            bytes
        }
        Mutation::DuplicateSegment(i) => {
            let mut parts = segments();
            let at = i.index(parts.len());
            let copy = parts[at].clone();
            parts.insert(at, copy);
            join(parts)
        }
        Mutation::SwapSegments(i, j) => {
            let mut parts = segments();
            let (a, b) = (i.index(parts.len()), j.index(parts.len()));
            parts.swap(a, b);
            join(parts)
        }
        Mutation::DropSegment(i) => {
            let mut parts = segments();
            let at = i.index(parts.len());
            parts.remove(at);
            join(parts)
        }
        Mutation::TruncateSegment(i, j) => {
            let mut parts = segments();
            let at = i.index(parts.len());
            let keep = j.index(parts[at].len() + 1);
            parts[at].truncate(keep);
            join(parts)
        }
    };
    String::from_utf8(out).expect("mutations keep tokens ASCII")
}

proptest! {
    #![proptest_config(config(512))]

    /// One to three mutations of a valid RS256 or ES256 token: refused, with a code from before
    /// the signature, unless the token came out byte-identical (then it must still validate).
    #[test]
    fn mutated_tokens_never_validate(
        which in 0..2usize,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let original = &good_tokens()[which];
        let mutated = mutations.iter().fold(original.clone(), |token, m| apply(&token, m));
        let result = validate(&mutated);
        if mutated == *original {
            prop_assert!(result.is_ok(), "an unchanged token was refused: {:?}", result.err());
        } else {
            assert_unsigned_refusal(&result)?;
        }
    }
}

/// Every kind of mutation, once by hand, with the expected code.
#[test]
fn mutation_examples() {
    let token = &good_tokens()[0];
    let (first, last) = (Index::FIRST, Index::LAST);
    let len = token.len();
    let (header, payload, signature) = (Index::at(0, 3), Index::at(1, 3), Index::at(2, 3));
    let header_len = token.find('.').unwrap();
    let cases = [
        // 341 characters cannot be base64url; 340 decode to 255 bytes, which cannot verify.
        (
            Mutation::Truncate(Index::at(len - 1, len + 1)),
            "malformed_token",
        ),
        (
            Mutation::Truncate(Index::at(len - 2, len + 1)),
            "invalid_signature",
        ),
        (Mutation::DropSegment(signature), "malformed_token"),
        (Mutation::DropSegment(payload), "malformed_token"),
        (Mutation::DuplicateSegment(payload), "malformed_token"),
        (Mutation::SwapSegments(header, payload), "malformed_header"),
        (
            Mutation::TruncateSegment(payload, first),
            "unsupported_token_format",
        ),
        (Mutation::TruncateSegment(header, first), "malformed_token"),
        (Mutation::Insert(first, b"=".to_vec()), "malformed_token"),
        (
            Mutation::Insert(Index::at(len, len + 1), b"AAAA".to_vec()),
            "invalid_signature",
        ),
        (
            Mutation::Delete(Index::at(header_len, len + 1), 1),
            "malformed_token",
        ),
    ];
    for (m, expected) in cases {
        let mutated = apply(token, &m);
        let code = validate(&mutated).unwrap_err().code();
        assert_eq!(code, expected, "{m:?}");
    }
    // Byte-identical results are recognised as such.
    assert_eq!(apply(token, &Mutation::SwapSegments(first, first)), *token);
    let dot = token.find('.').unwrap();
    let at = Index::at(dot, token.len());
    assert_eq!(at.index(token.len()), dot);
    assert_eq!(apply(token, &Mutation::ChangeCase(at)), *token);
    // The last signature character carries unused bits: any other character there is refused
    // (non-canonical base64url or a different signature), never decoded to the same bytes.
    let tail = token.as_bytes()[token.len() - 1];
    for &c in B64URL.iter().filter(|&&c| c != tail) {
        let mutated = apply(token, &Mutation::Flip(last, c));
        assert_ne!(mutated, *token);
        let code = validate(&mutated).unwrap_err().code();
        assert!(
            matches!(code, "malformed_token" | "invalid_signature"),
            "{code}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Re-signed tokens with arbitrary claims.

fn number(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(number),
        "\\PC{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{0,6}|\\PC{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

// `noise` weighs mistyped and arbitrary values against plausible ones (out of about 50).

/// A NumericDate near `now`, or an edge, out-of-range or mistyped one.
fn date(now: i64, noise: u32) -> impl Strategy<Value = Value> {
    prop_oneof![
        36 => (-4000i64..4000).prop_map(move |d| Value::from(now + d)),
        12 => (-4000.0f64..4000.0).prop_map(move |d| number(now as f64 + d)),
        2 => proptest::sample::select(vec![
            Value::from(0),
            Value::from(253_402_300_799_u64),
            number(0.5),
        ]),
        noise => proptest::sample::select(vec![
            Value::from(-1),
            Value::from(253_402_300_800_u64),
            number(1e300),
            Value::from(u64::MAX),
            Value::from(now.to_string()),
            Value::Null,
        ]),
        noise => arbitrary_json(),
    ]
}

fn text_or_any(likely: Vec<&'static str>, noise: u32) -> impl Strategy<Value = Value> {
    prop_oneof![
        36 => proptest::sample::select(likely).prop_map(Value::from),
        14 => "\\PC{0,16}".prop_map(Value::String),
        noise => arbitrary_json(),
    ]
}

/// A string or an array of strings (`scope`, `scp`; `roles` takes only the array).
fn strings_or_any(
    likely: Vec<&'static str>,
    noise: u32,
    array_only: bool,
) -> impl Strategy<Value = Value> {
    let string = if array_only { noise } else { 25 };
    prop_oneof![
        25 => proptest::collection::vec(proptest::sample::select(likely.clone()), 0..4)
            .prop_map(|v| json!(v)),
        string => proptest::sample::select(likely).prop_map(Value::from),
        noise => arbitrary_json(),
    ]
}

/// A claim set: each registered claim perhaps present, usually with a plausible value, plus
/// arbitrary other members (whose names may also be registered names). Two thirds of the sets
/// have little noise, so that many validate; the rest have much.
fn claims(now: i64) -> impl Strategy<Value = Map<String, Value>> {
    prop_oneof![2 => claims_with(now, 1), 1 => claims_with(now, 8)]
}

fn claims_with(now: i64, noise: u32) -> impl Strategy<Value = Map<String, Value>> {
    let issuer = prop_oneof![
        40 => Just(json!(ISSUER)),
        2 => proptest::sample::select(vec![
            "https://issuer.example.com",
            "https://issuer.example.com//",
            "HTTPS://issuer.example.com/",
            "https://issuer.example.com/\u{0}",
        ])
        .prop_map(Value::from),
        noise => text_or_any(vec![ISSUER], noise),
    ];
    let audience = prop_oneof![
        25 => Just(json!(AUDIENCE)),
        15 => Just(json!([AUDIENCE, "api://other"])),
        3 => proptest::sample::select(vec![
            json!(["api://other"]),
            json!([]),
            json!("api://orders/"),
            json!("API://orders"),
        ]),
        noise => proptest::sample::select(vec![json!([AUDIENCE, 7]), json!([[AUDIENCE]])]),
        noise => arbitrary_json(),
    ];
    // Markers of other token kinds: rare, so that most sets are access tokens.
    let marker = move || proptest::option::weighted(0.02 * f64::from(noise), arbitrary_json());
    let w = |p: f64, s: BoxedStrategy<Value>| proptest::option::weighted(p, s);
    let registered = (
        (
            w(0.95, issuer.boxed()),
            w(0.95, audience.boxed()),
            // exp mostly ahead, nbf and iat mostly behind, each within about an hour.
            w(0.95, date(now + 2000, noise).boxed()),
            w(0.5, date(now - 2000, noise).boxed()),
            w(0.5, date(now - 2000, noise).boxed()),
            w(0.5, text_or_any(vec!["user-1", "app-1"], noise).boxed()),
            w(0.3, text_or_any(vec!["app-1", "user-1"], noise).boxed()),
            w(0.3, text_or_any(vec!["app-1"], noise).boxed()),
        ),
        (
            w(0.2, text_or_any(vec!["app-1"], noise).boxed()),
            w(0.2, text_or_any(vec!["tenant"], noise).boxed()),
            w(0.3, text_or_any(vec!["user-1", "app-1"], noise).boxed()),
            w(
                0.2,
                text_or_any(vec!["app", "user", "device"], noise).boxed(),
            ),
            w(
                0.1,
                text_or_any(vec!["access", "id", "Access"], noise).boxed(),
            ),
            w(
                0.3,
                strings_or_any(vec!["orders.read", "a b", " ", ""], noise, false).boxed(),
            ),
            w(
                0.3,
                strings_or_any(vec!["orders.read", "user_impersonation"], noise, false).boxed(),
            ),
            w(
                0.3,
                strings_or_any(vec!["Admin", "Reader"], noise, true).boxed(),
            ),
        ),
        (
            marker(),
            marker(),
            marker(),
            marker(),
            marker(),
            w(0.2, text_or_any(vec!["jti-1"], noise).boxed()),
        ),
    );
    let names = prop_oneof![
        30 => "[a-z_]{1,8}",
        15 => "\\PC{0,8}",
        noise => proptest::sample::select(vec!["iss", "aud", "exp", "nonce", "roles", "cid"])
            .prop_map(str::to_owned),
    ];
    let others = proptest::collection::btree_map(names, arbitrary_json(), 0..4);
    (registered, others).prop_map(|((a, b, c), others)| {
        let (iss, aud, exp, nbf, iat, sub, client_id, azp) = a;
        let (appid, tid, oid, idtyp, token_use, scope, scp, roles) = b;
        let (nonce, at_hash, c_hash, s_hash, events, jti) = c;
        let mut map = Map::new();
        // Others first, so the registered values usually win a name clash.
        for (k, v) in others {
            map.insert(k, v);
        }
        let slots = [
            ("iss", iss),
            ("aud", aud),
            ("exp", exp),
            ("nbf", nbf),
            ("iat", iat),
            ("sub", sub),
            ("client_id", client_id),
            ("azp", azp),
            ("appid", appid),
            ("tid", tid),
            ("oid", oid),
            ("idtyp", idtyp),
            ("token_use", token_use),
            ("scope", scope),
            ("scp", scp),
            ("roles", roles),
            ("nonce", nonce),
            ("at_hash", at_hash),
            ("c_hash", c_hash),
            ("s_hash", s_hash),
            ("events", events),
            ("jti", jti),
        ];
        for (k, v) in slots {
            if let Some(v) = v {
                map.insert(k.to_owned(), v);
            }
        }
        map
    })
}

const LEEWAY: f64 = 60.0;
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

fn numeric_date(value: &Value) -> Option<f64> {
    let v = value.as_f64()?;
    (v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&v)).then_some(v)
}

fn all_strings(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|a| a.iter().all(Value::is_string))
}

/// The documented outcome for a correctly signed token with these claims, validated at some
/// time in `[t0, t1]`; `None` when a time check is too close to call within that window.
fn expected(claims: &Map<String, Value>, t0: f64, t1: f64) -> Option<&'static str> {
    let get = |k: &str| claims.get(k);
    // malformed_claims: a registered claim of the wrong type or out of range.
    let strings = [
        "iss",
        "sub",
        "client_id",
        "azp",
        "appid",
        "cid",
        "tid",
        "oid",
        "idtyp",
        "token_use",
        "jti",
    ];
    for k in strings {
        if get(k).is_some_and(|v| !v.is_string()) {
            return Some("malformed_claims");
        }
    }
    for k in ["aud", "scope", "scp"] {
        if get(k).is_some_and(|v| !v.is_string() && !all_strings(v)) {
            return Some("malformed_claims");
        }
    }
    if get("roles").is_some_and(|v| !all_strings(v)) {
        return Some("malformed_claims");
    }
    for k in ["exp", "nbf", "iat"] {
        if get(k).is_some_and(|v| numeric_date(v).is_none()) {
            return Some("malformed_claims");
        }
    }
    let Some(iss) = get("iss") else {
        return Some("missing_claim");
    };
    if iss != ISSUER {
        return Some("untrusted_issuer");
    }
    let marker = ["nonce", "at_hash", "c_hash", "s_hash", "events"]
        .iter()
        .any(|k| get(k).is_some());
    if marker || get("token_use").is_some_and(|v| v != "access") {
        return Some("not_an_access_token");
    }
    let Some(aud) = get("aud") else {
        return Some("missing_claim");
    };
    let ours = aud == AUDIENCE
        || aud
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == AUDIENCE));
    if !ours {
        return Some("invalid_audience");
    }
    let Some(exp) = get("exp").and_then(numeric_date) else {
        return Some("missing_claim");
    };
    // Each time rule, decided at t0 and at t1: if they disagree, the outcome depends on the
    // exact instant and the case is skipped.
    let expired = |now: f64| now >= exp + LEEWAY;
    let early = |now: f64| {
        get("nbf")
            .and_then(numeric_date)
            .is_some_and(|nbf| now < nbf - LEEWAY)
    };
    let future = |now: f64| {
        get("iat")
            .and_then(numeric_date)
            .is_some_and(|iat| iat > now + LEEWAY)
    };
    let rules: [(&dyn Fn(f64) -> bool, &str); 3] = [
        (&expired, "token_expired"),
        (&early, "token_not_yet_valid"),
        (&future, "issued_in_future"),
    ];
    for (rule, code) in rules {
        match (rule(t0), rule(t1)) {
            (true, true) => return Some(code),
            (false, false) => {}
            _ => return None,
        }
    }
    Some("ok")
}

fn seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

proptest! {
    #![proptest_config(config(512))]

    /// Correctly signed tokens with arbitrary claims: never a panic; the outcome is exactly the
    /// documented one; and whatever validates satisfies the rules (iss, aud, exp with leeway,
    /// nbf, iat, no ID-token or logout markers), with accessors that agree with the JSON.
    #[test]
    fn resigned_arbitrary_claims_follow_the_rules(
        rsa in any::<bool>(),
        claims in claims(now()),
    ) {
        let key = if rsa { rs256() } else { es256() };
        let text = Value::Object(claims.clone()).to_string();
        let token = key.token_raw(&key.header().to_string(), &text);
        let t0 = seconds(SystemTime::now());
        let result = validate(&token);
        let t1 = seconds(SystemTime::now());
        let code = match &result {
            Ok(_) => "ok",
            Err(rejection) => rejection.code(),
        };
        prop_assert!(code == "ok" || DOCUMENTED.contains(&code), "undocumented {code}");
        if let Some(want) = expected(&claims, t0, t1) {
            prop_assert_eq!(code, want, "claims {}", text);
        }
        if let Ok(verified) = result {
            prop_assert_eq!(claims.get("iss"), Some(&json!(ISSUER)));
            prop_assert_eq!(verified.issuer(), ISSUER);
            prop_assert!(verified.audiences().any(|a| a == AUDIENCE));
            let exp = claims.get("exp").and_then(numeric_date).expect("exp");
            prop_assert!(exp + LEEWAY > t0, "expired: exp {exp}, now {t0}");
            let at = seconds(verified.expires_at());
            prop_assert!((at - exp).abs() < 1e-3, "expires_at {at} for exp {exp}");
            if let Some(nbf) = claims.get("nbf") {
                prop_assert!(numeric_date(nbf).expect("nbf") - LEEWAY <= t1);
            }
            if let Some(iat) = claims.get("iat") {
                prop_assert!(numeric_date(iat).expect("iat") <= t1 + LEEWAY);
            }
            for marker in ["nonce", "at_hash", "c_hash", "s_hash", "events"] {
                prop_assert!(!claims.contains_key(marker), "{marker} accepted");
            }
            prop_assert!(claims.get("token_use").is_none_or(|u| u == "access"));
            prop_assert_eq!(verified.json(), text.as_str());
        }
    }

    /// Correctly signed payloads that are any JSON value (or not JSON): only objects can be
    /// claims.
    #[test]
    fn resigned_non_object_payloads_are_malformed_claims(
        payload in prop_oneof![
            arbitrary_json()
                .prop_filter("not an object", |v| !v.is_object())
                .prop_map(|v| v.to_string()),
            "\\PC{0,40}",
        ],
    ) {
        let key = es256();
        let token = key.token_raw(&key.header().to_string(), &payload);
        let result = validate(&token);
        let Err(rejection) = result else {
            return Err(TestCaseError::fail(format!("payload {payload:?} accepted")));
        };
        let is_object = serde_json::from_str::<Value>(&payload).is_ok_and(|v| v.is_object());
        if payload.is_empty() {
            // An empty payload segment is detached content, refused as a format.
            prop_assert_eq!(rejection.code(), "unsupported_token_format");
        } else if !is_object {
            prop_assert_eq!(rejection.code(), "malformed_claims", "payload {:?}", payload);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Arbitrary JWKS documents.

/// A JWK-like object: a real public key with members replaced or removed, or one assembled
/// from plausible and arbitrary members.
fn jwk_like() -> impl Strategy<Value = Value> {
    let real = prop_oneof![
        Just(rs256().jwk()),
        Just(rs256().jwk_without_alg()),
        Just(es256().jwk()),
        Just(es256().jwk_without_alg()),
    ];
    let member = proptest::sample::select(vec![
        "kty", "alg", "kid", "use", "key_ops", "n", "e", "crv", "x", "y", "d", "k", "p", "oth",
    ]);
    let edits = proptest::collection::vec((member, proptest::option::of(member_value())), 0..4);
    let edited = (real, edits).prop_map(|(mut jwk, edits)| {
        let object = jwk.as_object_mut().unwrap();
        for (name, value) in edits {
            match value {
                Some(value) => object.insert(name.to_owned(), value),
                None => object.remove(name),
            };
        }
        jwk
    });
    let assembled = proptest::collection::btree_map(
        proptest::sample::select(vec![
            "kty", "alg", "kid", "use", "key_ops", "n", "e", "crv", "x", "y", "d", "k",
        ]),
        member_value(),
        0..9,
    )
    .prop_map(|m: BTreeMap<&str, Value>| {
        Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    });
    prop_oneof![4 => edited, 4 => assembled, 1 => arbitrary_json()]
}

fn member_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "RSA", "EC", "OKP", "oct", "", "rsa", "RS256", "ES256", "PS256", "EdDSA", "HS256",
            "none", "SHA256", "sig", "enc", "P-256", "P-384", "P-521", "Ed25519", "X25519",
            "secp256k1", "AQAB", "AQAB=", "AAEAAQ", "AQ", "Aw", "AA", "+/+/",
        ])
        .prop_map(Value::from),
        3 => proptest::collection::vec(any::<u8>(), 0..600)
            .prop_map(|b| Value::from(b64(b))),
        1 => proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|b| Value::from(base64_simd::STANDARD.encode_to_string(b))),
        1 => proptest::collection::vec(
            proptest::sample::select(vec!["verify", "sign", "signing", "encrypt", "verify"]),
            0..4,
        )
        .prop_map(|v| json!(v)),
        1 => arbitrary_json(),
    ]
}

fn jwks_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(jwk_like(), 0..5)
            .prop_map(|keys| json!({ "keys": keys }).to_string()),
        1 => arbitrary_json().prop_map(|v| v.to_string()),
        1 => arbitrary_json().prop_map(|v| json!({ "keys": v }).to_string()),
        1 => proptest::collection::vec(any::<u8>(), 0..400)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => proptest::collection::vec(jwk_like(), 1..3)
            .prop_map(|keys| format!(r#"{{"keys":{},"keys":[]}}"#, json!(keys))),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    /// Any JSON (or not) as a JWKS, under any algorithm allowlist: building never panics, and a
    /// gate that builds validates (or refuses, with a documented code) without panicking.
    #[test]
    fn arbitrary_jwks_never_panics(
        jwks in jwks_text(),
        algorithms in proptest::option::of(
            proptest::sample::subsequence(Algorithm::ALL.to_vec(), 0..=10)
        ),
    ) {
        let mut profile = IssuerProfile::new(ISSUER).audience(AUDIENCE).jwks(jwks.as_str());
        if let Some(algorithms) = algorithms {
            profile = profile.algorithms(algorithms);
        }
        if let Ok(gate) = Gate::builder().issuer(profile).build() {
            // A token verifies only with its own key: the set must hold that key's material.
            let material = [
                rs256().jwk()["n"].as_str().unwrap().to_owned(),
                es256().jwk()["x"].as_str().unwrap().to_owned(),
            ];
            for (token, material) in good_tokens().iter().zip(material) {
                match ready(gate.validate(token)) {
                    Ok(_) => prop_assert!(jwks.contains(&material), "verified with foreign keys"),
                    Err(rejection) => prop_assert!(DOCUMENTED.contains(&rejection.code())),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The generators reach deep: counted over a deterministic run, so the properties above are not
// satisfied by input that every gate refuses at the first check.

fn outcomes<S: Strategy>(
    strategy: S,
    cases: usize,
    run: impl Fn(S::Value) -> &'static str,
) -> BTreeMap<&'static str, usize> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut counts = BTreeMap::new();
    for _ in 0..cases {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        *counts.entry(run(value)).or_default() += 1;
    }
    println!("{counts:?}");
    counts
}

fn validate_with(gate: &Gate, token: &str) -> Result<Arc<Claims>, Rejection> {
    ready(gate.validate(token))
}

fn code_of(result: Result<Arc<Claims>, Rejection>) -> &'static str {
    result.map_or_else(|r| r.code(), |_| "ok")
}

#[test]
fn generators_reach_every_stage() {
    let segments = outcomes(segment_lists(), 512, |s| code_of(validate(&s.join("."))));
    let mutations = outcomes(
        (0..2usize, proptest::collection::vec(mutation(), 1..4)),
        512,
        |(which, ms)| {
            let token = ms
                .iter()
                .fold(good_tokens()[which].clone(), |t, m| apply(&t, m));
            code_of(validate(&token))
        },
    );
    let now = now();
    let claims = outcomes(claims(now), 256, |c| {
        let key = es256();
        code_of(validate(&key.token_raw(
            &key.header().to_string(),
            &Value::Object(c).to_string(),
        )))
    });
    let reached = |counts: &BTreeMap<&str, usize>, codes: &[&str]| {
        for code in codes {
            assert!(
                counts.contains_key(code),
                "{code} never reached: {counts:?}"
            );
        }
    };
    reached(
        &segments,
        &[
            "malformed_token",
            "malformed_header",
            "malformed_claims",
            "unsupported_algorithm",
            "invalid_token_type",
            "untrusted_issuer",
            "missing_key_id",
            "unknown_key",
            "key_algorithm_mismatch",
            "invalid_signature",
        ],
    );
    reached(&mutations, &["ok", "malformed_token", "invalid_signature"]);
    reached(
        &claims,
        &[
            "malformed_claims",
            "missing_claim",
            "untrusted_issuer",
            "not_an_access_token",
            "invalid_audience",
            "token_expired",
            "token_not_yet_valid",
            "issued_in_future",
        ],
    );
    assert!(
        claims["ok"] >= 25,
        "too few claim sets validate: {claims:?}"
    );

    let jwks = outcomes(jwks_text(), 512, |jwks| {
        match Gate::builder()
            .issuer(IssuerProfile::new(ISSUER).audience(AUDIENCE).jwks(jwks))
            .build()
        {
            Ok(gate) => code_of(validate_with(&gate, &good_tokens()[0])),
            Err(_) => "refused",
        }
    });
    assert!(jwks["refused"] < 500, "almost no key set builds: {jwks:?}");
    assert!(jwks.contains_key("ok"), "{jwks:?}");
}
