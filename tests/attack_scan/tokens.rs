//! Writing tokens: the issuers' valid tokens with planted values, tokens signed by the raw
//! issuer over exact bytes, and the pieces attacks take them apart into.

use aws_lc_rs::hmac;
use serde_json::Value;
use tokengate::Algorithm;
use tokengate::testing::TokenBuilder;

use tokengate_testkit::{b64, now};

use crate::world::{EcKey, Env, MARK_CLIENT, MARK_CUSTOM, MARK_JTI, MARK_SUB, RAW_AUDIENCE};

impl Env {
    /// A test-issuer token builder with planted values.
    pub fn tb(&self) -> TokenBuilder {
        self.issuer
            .token()
            .subject(MARK_SUB)
            .claim("client_id", MARK_CLIENT)
            .claim("employee_number", MARK_CUSTOM)
            .scope("orders.read")
    }

    pub fn valid(&self) -> String {
        self.tb().sign()
    }

    pub fn valid_alg(&self, alg: Algorithm) -> String {
        self.tb().alg(alg).sign()
    }

    /// The claims of the raw issuer's valid token, as raw JSON text, in order.
    pub fn raw_claims(&self) -> Vec<(&'static str, String)> {
        let now = now();
        vec![
            ("iss", json_str(&self.raw.issuer())),
            ("aud", json_str(RAW_AUDIENCE)),
            ("sub", json_str(MARK_SUB)),
            ("client_id", json_str(MARK_CLIENT)),
            ("iat", (now - 5).to_string()),
            ("nbf", (now - 5).to_string()),
            ("exp", (now + 3600).to_string()),
            ("jti", json_str(MARK_JTI)),
            ("scope", json_str("orders.read")),
            ("employee_number", json_str(MARK_CUSTOM)),
        ]
    }

    pub fn raw_header(&self) -> String {
        format!(
            r#"{{"alg":"RS256","typ":"at+jwt","kid":{}}}"#,
            json_str(self.raw_key.kid())
        )
    }

    /// Signs `h.p` (already encoded, in whatever way) with the raw issuer's real RS256 key.
    pub fn raw_sign(&self, header: &str, payload: &str) -> String {
        let input = format!("{header}.{payload}");
        let sig = self.raw_key.sign(input.as_bytes());
        format!("{input}.{}", b64(sig))
    }

    pub fn raw_token(&self, header: &str, claims: &str) -> String {
        self.raw_sign(&b64(header), &b64(claims))
    }

    pub fn raw_valid(&self) -> String {
        self.raw_token(&self.raw_header(), &object(&self.raw_claims()))
    }

    /// The raw issuer's valid claims signed with its ECDSA key `key`, the signature in the
    /// fixed format or (`der`) in ASN.1 DER.
    pub fn raw_ec_token(&self, key: &EcKey, der: bool) -> String {
        let header = format!(
            r#"{{"alg":"{}","typ":"at+jwt","kid":{}}}"#,
            key.alg.name(),
            json_str(&key.kid)
        );
        let input = format!("{}.{}", b64(header), b64(object(&self.raw_claims())));
        format!("{input}.{}", b64(key.sign(&input, der)))
    }

    /// The `kid` of the test issuer's key for `alg`.
    pub fn kid(&self, alg: &str) -> String {
        self.keys
            .iter()
            .find(|k| k.alg == alg && k.issuer == self.issuer.issuer())
            .map(|k| k.kid.clone())
            .unwrap()
    }

    pub fn counting_url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.counting.addr)
    }
}

pub fn split3(token: &str) -> (&str, &str, &str) {
    let mut parts = token.splitn(3, '.');
    (
        parts.next().unwrap(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    )
}

pub fn unb64(segment: &str) -> Vec<u8> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .expect("a canonical segment")
}

pub fn with_signature(token: &str, signature: &str) -> String {
    let (h, p, _) = split3(token);
    format!("{h}.{p}.{signature}")
}

pub fn json_str(text: &str) -> String {
    Value::from(text).to_string()
}

/// `segment` with its unused trailing bits set: the same bytes to a lenient decoder, an error
/// to a strict one (RFC 7515 §2). Only for segments whose length is not a multiple of 4.
pub fn noncanonical(segment: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_ne!(segment.len() % 4, 0, "no unused bits");
    let last = *segment.as_bytes().last().unwrap();
    let value = ALPHABET.iter().position(|&c| c == last).unwrap();
    let mut out = segment[..segment.len() - 1].to_owned();
    out.push(char::from(ALPHABET[value ^ 1]));
    out
}

/// Standard-alphabet base64 with padding (what a sloppy encoder writes).
pub fn std_b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hmac_token(alg: &str, secret: &[u8], header: &Value, payload: &str) -> String {
    let input = format!("{}.{payload}", b64(header.to_string()));
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// Replaces a claim's raw JSON text, or appends it.
pub fn set(claims: &mut Vec<(&'static str, String)>, name: &'static str, raw: String) {
    match claims.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = raw,
        None => claims.push((name, raw)),
    }
}

/// A JSON object from raw member texts, in order (duplicates and all).
pub fn object(members: &[(impl AsRef<str>, String)]) -> String {
    let body: Vec<String> = members
        .iter()
        .map(|(name, raw)| format!("\"{}\":{raw}", name.as_ref()))
        .collect();
    format!("{{{}}}", body.join(","))
}
