//! Encodings (ATK-30, ATK-31): base64url that is not canonical, and header or payload bytes
//! that are not one UTF-8 JSON object.

use serde_json::json;
use tokengate::Rejection;

use tokengate_testkit::{self as common, valid_claims};

use crate::harness::{Good, check_all, expect, gate, segments, signed_bytes, with};

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

pub(crate) fn atk_30_good() -> Vec<Good> {
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

pub(crate) fn atk_31_good() -> Vec<Good> {
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
