//! Segments that are not canonical base64url of UTF-8 JSON objects: padding, the standard
//! alphabet, non-canonical trailing bits, whitespace, empty and doubly encoded segments
//! (ATK-30); headers and claims that are arrays, strings, numbers, UTF-16, BOM-prefixed,
//! invalid UTF-8 or invalid JSON (ATK-31). Each is signed over exactly the bytes sent, with the
//! raw issuer's real key, so that only the decoding can refuse it.

use tokengate_testkit::b64;

use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::tokens::{json_str, noncanonical, object, split3, std_b64, unb64};
use crate::world::Env;

pub static BASE64URL: Family = Family {
    tag: "atk30",
    name: "ATK-30 base64url",
    floor: 16,
};
pub static NOT_JSON: Family = Family {
    tag: "atk31",
    name: "ATK-31 not UTF-8 JSON",
    floor: 33,
};

#[test]
fn atk_30_base64url_variants() {
    scan(&BASE64URL, base64url);
}

#[test]
fn atk_31_not_utf8_json_objects() {
    scan(&NOT_JSON, not_json_objects);
}

/// ATK-30: padding, the standard alphabet, non-canonical trailing bits, whitespace, empty and
/// doubly encoded segments.
pub fn base64url(env: &Env, cases: &mut Cases) {
    let kid = json_str(env.raw_key.kid());
    // A header whose JSON length is 1 mod 3 (two '=' of padding, 2 unused bits), with
    // characters whose encoding differs between the two alphabets.
    let header_for = |pad: &str| {
        format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":{kid},"x":"?????>>>>>{pad}"}}"#)
    };
    let pad = (4 - header_for("").len() % 3) % 3;
    let header = header_for(&" ".repeat(pad));
    assert_eq!(header.len() % 3, 1);
    let mut claims_alpha = env.raw_claims();
    claims_alpha.push(("pad", json_str("?????>>>>>")));
    let mut claims_alpha_text = object(&claims_alpha);
    while claims_alpha_text.len() % 3 != 2 {
        claims_alpha.last_mut().unwrap().1.insert(1, ' ');
        claims_alpha_text = object(&claims_alpha);
    }
    let (h, p) = (b64(&header), b64(&claims_alpha_text));
    assert!(
        h.contains(['-', '_']) && p.contains(['-', '_']),
        "alphabet-sensitive segments"
    );
    let valid = env.raw_sign(&h, &p);
    let (_, _, s) = split3(&valid);
    let s = s.to_owned();
    let std_nopad = |bytes: &[u8]| std_b64(bytes).trim_end_matches('=').to_owned();
    let header_std = std_nopad(header.as_bytes());
    let payload_std = std_nopad(claims_alpha_text.as_bytes());
    let sig_std = std_nopad(&unb64(&s));
    // Sanity: these segments differ from the canonical ones.
    assert!(header_std != h && payload_std != p);
    let list: Vec<(&str, String, &'static str)> = vec![
        (
            "header with '=' padding",
            env.raw_sign(&format!("{h}=="), &p),
            "malformed_credentials",
        ),
        (
            "payload with '=' padding",
            env.raw_sign(&h, &format!("{p}=")),
            "malformed_credentials",
        ),
        (
            "header in the standard alphabet",
            env.raw_sign(&header_std, &p),
            "malformed_token",
        ),
        (
            "payload in the standard alphabet",
            env.raw_sign(&h, &payload_std),
            "malformed_token",
        ),
        (
            "header standard with padding",
            env.raw_sign(&std_b64(header.as_bytes()), &p),
            "malformed_credentials",
        ),
        (
            "header with non-canonical trailing bits",
            env.raw_sign(&noncanonical(&h), &p),
            "malformed_token",
        ),
        (
            "payload with non-canonical trailing bits",
            env.raw_sign(&h, &noncanonical(&p)),
            "malformed_token",
        ),
        (
            "header with a space",
            env.raw_sign(&format!("{} {}", &h[..10], &h[10..]), &p),
            "malformed_credentials",
        ),
        (
            "payload with a tab",
            env.raw_sign(&h, &format!("{}\t{}", &p[..10], &p[10..])),
            "malformed_credentials",
        ),
        (
            "payload with a percent-encoded character",
            env.raw_sign(&h, &format!("{}%41{}", &p[..10], &p[10..])),
            "malformed_credentials",
        ),
        (
            "empty header segment",
            env.raw_sign("", &p),
            "malformed_token",
        ),
        (
            "header encoded twice",
            env.raw_sign(&b64(&h), &p),
            "malformed_header",
        ),
        (
            "payload encoded twice",
            env.raw_sign(&h, &b64(&p)),
            "malformed_claims",
        ),
    ];
    for (name, token, code) in list {
        cases.bearer(name, &token, code);
    }
    cases.bearer(
        "signature with '=' padding",
        &format!("{h}.{p}.{s}=="),
        "malformed_token",
    );
    // Unless this signature happens to have neither '-' nor '_' (about 1 in 50,000).
    if sig_std != s {
        cases.bearer(
            "signature in the standard alphabet",
            &format!("{h}.{p}.{sig_std}"),
            "malformed_token",
        );
    }
    if s.len() % 4 != 0 {
        cases.bearer(
            "signature with non-canonical trailing bits",
            &format!("{h}.{p}.{}", noncanonical(&s)),
            "malformed_token",
        );
    }
}

/// ATK-31: headers and claims that are not UTF-8 JSON objects.
pub fn not_json_objects(env: &Env, cases: &mut Cases) {
    let claims = object(&env.raw_claims());
    let header = env.raw_header();
    let utf16 =
        |text: &str| -> Vec<u8> { text.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let bom = |text: &str| -> Vec<u8> { [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat() };
    let (mh, mc, mt) = ("malformed_header", "malformed_claims", "malformed_token");
    let with_x = |json: &str, raw: &[u8]| -> Vec<u8> {
        [&json.as_bytes()[..json.len() - 1], b",\"x\":", raw, b"}"].concat()
    };
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let headers: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("an array", b"[]".to_vec(), mh),
        ("a string", b"\"RS256\"".to_vec(), mh),
        ("a number", b"1".to_vec(), mh),
        ("null", b"null".to_vec(), mh),
        ("an empty object", b"{}".to_vec(), mh),
        ("with a BOM", bom(&header), mh),
        ("UTF-16LE", utf16(&header), mh),
        (
            "UTF-16LE with BOM",
            [&[0xff, 0xfe][..], &utf16(&header)].concat(),
            mt,
        ),
        ("with invalid UTF-8", with_x(&header, b"\"\xc3\x28\""), mt),
        ("with an overlong '/'", with_x(&header, b"\"\xc0\xaf\""), mt),
        (
            "with a lone surrogate escape",
            with_x(&header, br#""\ud800""#),
            mh,
        ),
        (
            "with trailing data",
            format!("{header} {{}}").into_bytes(),
            mh,
        ),
        (
            "with a trailing comma",
            format!("{},}}", &header[..header.len() - 1]).into_bytes(),
            mh,
        ),
        (
            "with single quotes",
            header.replace('"', "'").into_bytes(),
            mh,
        ),
        (
            "nested 1000 deep",
            with_x(&header, deep(1000).as_bytes()),
            mh,
        ),
    ];
    for (name, bytes, code) in headers {
        let token = env.raw_sign(&b64(bytes), &b64(&claims));
        cases.bearer(format!("header {name}"), &token, code);
    }
    let payloads: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("an array", b"[]".to_vec(), mc),
        ("a string", b"\"claims\"".to_vec(), mc),
        ("a number", b"42".to_vec(), mc),
        ("null", b"null".to_vec(), mc),
        ("with a BOM", bom(&claims), mc),
        ("UTF-16LE", utf16(&claims), mc),
        (
            "UTF-16LE with BOM",
            [&[0xff, 0xfe][..], &utf16(&claims)].concat(),
            mt,
        ),
        ("with invalid UTF-8", with_x(&claims, b"\"\xc3\x28\""), mt),
        (
            "with a lone surrogate escape",
            with_x(&claims, br#""\udc00""#),
            mc,
        ),
        (
            "with trailing data",
            format!("{claims} {{}}").into_bytes(),
            mc,
        ),
        (
            "with a comment",
            format!("/* c */{claims}").into_bytes(),
            mc,
        ),
        ("with NaN", with_x(&claims, b"NaN"), mc),
        ("with Infinity", with_x(&claims, b"Infinity"), mc),
        (
            "with a raw control character",
            with_x(&claims, b"\"a\x01b\""),
            mc,
        ),
        (
            "with a trailing comma",
            format!("{},}}", &claims[..claims.len() - 1]).into_bytes(),
            mc,
        ),
        (
            "nested 10000 deep",
            with_x(&claims, deep(10_000).as_bytes()),
            mc,
        ),
        (
            "with a 40 KB number",
            with_x(&claims, "9".repeat(40_000).as_bytes()),
            mc,
        ),
        // Nothing to decode: a detached payload (RFC 7515 Appendix F).
        ("empty", Vec::new(), "unsupported_token_format"),
    ];
    for (name, bytes, code) in payloads {
        let token = env.raw_sign(&b64(&header), &b64(bytes));
        cases.bearer(format!("claims {name}"), &token, code);
    }
}
