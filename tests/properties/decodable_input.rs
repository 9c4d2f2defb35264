//! 2. The base64url alphabet and dots: input that reaches the decoders.

use proptest::prelude::*;
use serde_json::json;

use tokengate_testkit::{AUDIENCE, ISSUER, b64};

use super::generators::{B64URL, arbitrary_json};
use super::support::{assert_unsigned_refusal, config, validate};

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

pub(crate) fn segment_lists() -> impl Strategy<Value = Vec<String>> {
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
