//! Compact JWS parsing, as the gate runs it before any key is involved: splitting, base64url
//! decoding of each segment (the header on the stack or the heap, depending on its size), the
//! JOSE header rules and the claims parser. The input is also given to the header and claims
//! parsers as decoded JSON text, so that the fuzzer reaches them without going through
//! base64url.
//!
//! Invariants: no panic; the segments put back together are the input; both header decoders
//! agree with each other; what decodes is canonical base64url; whatever the strict JSON
//! parsers accept, serde_json accepts too, with the same `alg`, `kid`, `typ` and `iss`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokengate::Algorithm;
use tokengate::fuzzing::{
    decode_header, decode_signature, decode_text, parse_claims, parse_header, split,
};

const BASE64URL: base64_simd::Base64 = base64_simd::URL_SAFE_NO_PAD;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    compact(input);
    header_json(input);
    claims_json(input);
});

fn compact(token: &str) {
    let segments = match split(token) {
        Ok(segments) => segments,
        Err(rejection) => {
            let code = rejection.code();
            assert!(
                code == "malformed_token" || code == "unsupported_token_format",
                "split refused with {code}"
            );
            return;
        }
    };
    assert_eq!(
        format!(
            "{}.{}.{}",
            segments.header, segments.payload, segments.signature
        ),
        token
    );
    assert_eq!(
        segments.signing_input,
        format!("{}.{}", segments.header, segments.payload).as_bytes()
    );
    assert!(!segments.header.is_empty() && !segments.payload.is_empty());
    for segment in [segments.header, segments.payload, segments.signature] {
        assert!(!segment.contains('.'));
    }

    // The header's inline and heap decoders against each other and against the crate.
    let header = decode_header(segments.header);
    let as_text = decode_text(segments.header);
    assert_eq!(
        header.as_ref().map_err(|r| r.code()),
        as_text.as_ref().map_err(|r| r.code()),
        "the header decoders disagree"
    );
    if let Ok(text) = &header {
        canonical(segments.header, text.as_bytes());
        header_json(text);
    }
    if let Ok(text) = decode_text(segments.payload) {
        canonical(segments.payload, text.as_bytes());
        claims_json(&text);
    }
    match decode_signature(segments.signature) {
        Ok(signature) => {
            assert!(signature.len() <= 1024);
            canonical(segments.signature, &signature);
        }
        Err(rejection) => {
            let code = rejection.code();
            assert!(code == "malformed_token" || code == "invalid_signature");
            // Refused as too long only when it is valid base64url of more than 1024 bytes.
            if code == "invalid_signature" {
                let bytes = BASE64URL.decode_to_vec(segments.signature);
                assert!(bytes.is_err() || bytes.is_ok_and(|b| b.len() > 1024));
            }
        }
    }
}

/// `decoded` came from `segment`: the segment must be its one canonical encoding.
fn canonical(segment: &str, decoded: &[u8]) {
    assert_eq!(
        BASE64URL.encode_to_string(decoded),
        segment,
        "a non-canonical base64url segment was decoded"
    );
}

fn header_json(text: &str) {
    let Ok(header) = parse_header(text) else {
        return;
    };
    let value: Value = serde_json::from_str(text).expect("serde_json refuses an accepted header");
    let object = value.as_object().expect("an accepted header is an object");
    let member = |name: &str| object.get(name).and_then(Value::as_str);
    assert_eq!(
        Algorithm::from_name(member("alg").expect("alg")),
        Some(header.alg)
    );
    assert_eq!(header.kid.as_deref(), member("kid"));
    assert_eq!(header.typ.as_deref(), member("typ"));
    assert!(header.kid.is_none_or(|kid| kid.len() <= 256));
    for refused in ["crit", "cty", "zip", "enc", "b64", "nonce"] {
        assert!(
            !object.contains_key(refused),
            "a header with {refused} was accepted"
        );
    }
}

fn claims_json(text: &str) {
    let Ok(iss) = parse_claims(text) else {
        return;
    };
    let value: Value = serde_json::from_str(text).expect("serde_json refuses accepted claims");
    let object = value.as_object().expect("accepted claims are an object");
    assert_eq!(iss.as_deref(), object.get("iss").and_then(Value::as_str));
}
