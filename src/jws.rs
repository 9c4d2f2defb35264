//! Strict compact JWS parsing (RFC 7515 §3.1, §5.2; RFC 7519 §7.2). Nothing here is trusted yet.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use crate::Algorithm;
use crate::error::Rejection;
use crate::json::{Names, StrictAny, TextSeed, parse_whole};

/// base64url without padding and with canonical trailing bits (RFC 7515 §2); `=`, whitespace
/// and the standard alphabet's `+` and `/` are decoding errors.
pub(crate) const BASE64URL: base64_simd::Base64 = base64_simd::URL_SAFE_NO_PAD;

/// A `kid` longer than this is refused: real key ids are short, and the value is compared
/// against every key of the issuer.
pub(crate) const MAX_KID_LEN: usize = 256;

/// The largest signature we can verify: RSA with an 8192-bit modulus.
pub(crate) const MAX_SIGNATURE_LEN: usize = 1024;

/// The three segments of a compact JWS, still encoded.
#[derive(Clone, Copy)]
pub(crate) struct Segments<'t> {
    pub header: &'t str,
    pub payload: &'t str,
    pub signature: &'t str,
    /// `header '.' payload`: the bytes the signature covers.
    pub signing_input: &'t [u8],
}

impl fmt::Debug for Segments<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Segments are token content: never printed.
        f.write_str("Segments { .. }")
    }
}

/// Splits a compact JWS. JWE (five segments) and the JSON serializations are refused as
/// formats, anything else that is not three segments as malformed.
pub(crate) fn split(token: &str) -> Result<Segments<'_>, Rejection> {
    if token.trim_start().starts_with('{') {
        return Err(Rejection::UnsupportedTokenFormat);
    }
    let mut dots = memchr::memchr_iter(b'.', token.as_bytes());
    let (Some(first), Some(second)) = (dots.next(), dots.next()) else {
        return Err(Rejection::MalformedToken);
    };
    let more = dots.count();
    if more > 0 {
        return Err(if more == 2 {
            Rejection::UnsupportedTokenFormat
        } else {
            Rejection::MalformedToken
        });
    }
    let header = &token[..first];
    let payload = &token[first + 1..second];
    if header.is_empty() {
        return Err(Rejection::MalformedToken);
    }
    if payload.is_empty() {
        // Detached content (RFC 7515 Appendix F): a JWT always carries its claims.
        return Err(Rejection::UnsupportedTokenFormat);
    }
    Ok(Segments {
        header,
        payload,
        signature: &token[second + 1..],
        signing_input: &token.as_bytes()[..second],
    })
}

/// Decodes a header or payload segment into UTF-8 text.
pub(crate) fn decode_text(segment: &str) -> Result<String, Rejection> {
    let bytes = BASE64URL
        .decode_to_vec(segment)
        .map_err(|_| Rejection::MalformedToken)?;
    // RFC 7519 §7.2 step 4/5 and RFC 8725 §3.7: UTF-8 only; the JSON stage reports the rest.
    String::from_utf8(bytes).map_err(|_| Rejection::MalformedToken)
}

/// A decoded header, on the stack unless it is unusually large (an `x5c` chain, say).
#[allow(
    clippy::large_enum_variant,
    reason = "the inline buffer is the point: it saves an allocation per token"
)]
pub(crate) enum HeaderText {
    Inline {
        bytes: [u8; INLINE_HEADER],
        len: usize,
    },
    Heap(String),
}

/// Ordinary headers (`alg`, `kid`, `typ`, `x5t`) are well under this.
const INLINE_HEADER: usize = 384;

impl HeaderText {
    pub(crate) fn decode(segment: &str) -> Result<HeaderText, Rejection> {
        let len = BASE64URL
            .decoded_length(segment.as_bytes())
            .map_err(|_| Rejection::MalformedToken)?;
        if len > INLINE_HEADER {
            return decode_text(segment).map(HeaderText::Heap);
        }
        let mut bytes = [0u8; INLINE_HEADER];
        let len = BASE64URL
            .decode(
                segment.as_bytes(),
                base64_simd::Out::from_slice(&mut bytes[..len]),
            )
            .map_err(|_| Rejection::MalformedToken)?
            .len();
        std::str::from_utf8(&bytes[..len]).map_err(|_| Rejection::MalformedToken)?;
        Ok(HeaderText::Inline { bytes, len })
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Checked to be UTF-8 when decoded; an empty string cannot be reached otherwise.
            HeaderText::Inline { bytes, len } => {
                std::str::from_utf8(&bytes[..*len]).unwrap_or_default()
            }
            HeaderText::Heap(text) => text,
        }
    }
}

/// A decoded signature, held on the stack.
pub(crate) struct Signature {
    bytes: [u8; MAX_SIGNATURE_LEN],
    len: usize,
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({} bytes)", self.len)
    }
}

impl Signature {
    pub(crate) fn decode(segment: &str) -> Result<Signature, Rejection> {
        // A signature longer than the largest one cannot verify, so it is not decoded; and
        // the decoder panics on a short buffer, so the length is checked first in any case.
        let fits = BASE64URL
            .decoded_length(segment.as_bytes())
            .map_err(|_| Rejection::MalformedToken)?;
        if fits > MAX_SIGNATURE_LEN {
            return Err(Rejection::InvalidSignature);
        }
        let mut bytes = [0u8; MAX_SIGNATURE_LEN];
        let len = BASE64URL
            .decode(segment.as_bytes(), base64_simd::Out::from_slice(&mut bytes))
            .map_err(|_| Rejection::MalformedToken)?
            .len();
        Ok(Signature { bytes, len })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// What the JOSE header says, as far as validation needs it.
pub(crate) struct Header<'a> {
    /// The `alg` value; `None` for names that are not a supported algorithm.
    pub alg: Option<Algorithm>,
    pub kid: Option<Cow<'a, str>>,
    pub typ: Option<Cow<'a, str>>,
    /// A `crit` member was present: no extension is understood (RFC 7515 §4.1.11).
    pub crit: bool,
    /// A member that makes this something other than a plain JWS of JSON claims: `cty`
    /// (nested JWT), `zip`, `enc` (JWE), `b64` (RFC 7797), or a header `nonce` (as Microsoft
    /// Graph's tokens have, whose signature covers a transformed nonce and cannot verify).
    pub foreign: bool,
}

impl fmt::Debug for Header<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `kid` and `typ` come from the token: never printed.
        f.debug_struct("Header")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl<'a> Header<'a> {
    /// Parses the decoded header and applies the checks that need no configuration.
    pub(crate) fn parse(text: &'a str) -> Result<Header<'a>, Rejection> {
        let header = parse_whole(text, HeaderSeed).map_err(|_| Rejection::MalformedHeader)?;
        if header.crit {
            return Err(Rejection::UnsupportedCriticalHeader);
        }
        if header.foreign {
            return Err(Rejection::UnsupportedTokenFormat);
        }
        if header.alg.is_none() {
            return Err(Rejection::UnsupportedAlgorithm);
        }
        Ok(header)
    }
}

struct HeaderSeed;

impl<'de> DeserializeSeed<'de> for HeaderSeed {
    type Value = Header<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Header<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = Names::<()>::new();
        let mut alg: Option<Cow<'de, str>> = None;
        let mut header = Header {
            alg: None,
            kid: None,
            typ: None,
            crit: false,
            foreign: false,
        };
        while let Some(name) = map.next_key_seed(TextSeed)? {
            if !seen.insert(name.clone(), ()) {
                return Err(de::Error::custom("duplicate header parameter"));
            }
            match name.as_ref() {
                "alg" => alg = Some(map.next_value_seed(TextSeed)?),
                "kid" => {
                    let kid = map.next_value_seed(TextSeed)?;
                    if kid.len() > MAX_KID_LEN {
                        return Err(de::Error::custom("kid too long"));
                    }
                    header.kid = Some(kid);
                }
                "typ" => header.typ = Some(map.next_value_seed(TextSeed)?),
                "crit" => {
                    map.next_value_seed(StrictAny)?;
                    header.crit = true;
                }
                "nonce" => {
                    // Say why, in the log only (the client gets the generic code): such tokens
                    // (Microsoft Graph's, for one) sign a transformed nonce and are not meant
                    // for this API.
                    tracing::debug!("token header has a nonce parameter: not a plain JWS");
                    map.next_value_seed(StrictAny)?;
                    header.foreign = true;
                }
                "cty" | "zip" | "enc" | "b64" => {
                    map.next_value_seed(StrictAny)?;
                    header.foreign = true;
                }
                // jku, x5u, jwk, x5c, x5t, x5t#S256 and the rest: never used to find or trust a
                // key (RFC 8725 §3.10); only checked to be duplicate-free JSON.
                _ => {
                    map.next_value_seed(StrictAny)?;
                }
            }
        }
        let Some(alg) = alg else {
            return Err(de::Error::custom("alg missing"));
        };
        header.alg = Algorithm::from_name(&alg);
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        BASE64URL.encode_to_string(text)
    }

    fn header(json: &str) -> Result<(), Rejection> {
        let text = json.to_owned();
        Header::parse(&text).map(|_| ())
    }

    #[test]
    fn split_counts_segments() {
        assert!(split("a.b.c").is_ok());
        assert!(
            split("a.b.").is_ok(),
            "an empty signature is judged by verification"
        );
        assert_eq!(split("").unwrap_err(), Rejection::MalformedToken);
        assert_eq!(split("abc").unwrap_err(), Rejection::MalformedToken);
        assert_eq!(split("a.b").unwrap_err(), Rejection::MalformedToken);
        assert_eq!(split("a.b.c.d").unwrap_err(), Rejection::MalformedToken);
        assert_eq!(
            split("a.b.c.d.e").unwrap_err(),
            Rejection::UnsupportedTokenFormat
        );
        assert_eq!(split("a.b.c.d.e.f").unwrap_err(), Rejection::MalformedToken);
        assert_eq!(split(".b.c").unwrap_err(), Rejection::MalformedToken);
        assert_eq!(
            split("a..c").unwrap_err(),
            Rejection::UnsupportedTokenFormat
        );
        assert_eq!(
            split(r#"{"payload":"a","signatures":[]}"#).unwrap_err(),
            Rejection::UnsupportedTokenFormat
        );
        assert_eq!(
            split(" {\"a\":\"x.y.z\"}").unwrap_err(),
            Rejection::UnsupportedTokenFormat
        );
        let parts = split("hh.pp.ss").unwrap();
        assert_eq!(parts.signing_input, b"hh.pp");
        assert_eq!(
            (parts.header, parts.payload, parts.signature),
            ("hh", "pp", "ss")
        );
    }

    #[test]
    fn base64url_is_strict() {
        assert_eq!(decode_text(&b64("{}")).unwrap(), "{}");
        // "{}" is "e30" unpadded.
        assert!(decode_text("e30").is_ok());
        for bad in [
            "e30=", "e3 0", "e30\n", "e3+0", "e3/0", "e31", "e3?0", "=", "e30==",
        ] {
            assert_eq!(
                decode_text(bad).unwrap_err(),
                Rejection::MalformedToken,
                "{bad:?}"
            );
        }
        // Invalid UTF-8 (0xff) is refused before any JSON parsing.
        assert_eq!(decode_text("_w").unwrap_err(), Rejection::MalformedToken);
    }

    #[test]
    fn signature_decoding_is_bounded() {
        assert_eq!(Signature::decode("").unwrap().as_bytes(), b"");
        assert_eq!(Signature::decode("AQID").unwrap().as_bytes(), [1, 2, 3]);
        let longest = "A".repeat(1366);
        assert_eq!(Signature::decode(&longest).unwrap().as_bytes().len(), 1024);
        let too_long = "A".repeat(1368);
        assert_eq!(
            Signature::decode(&too_long).unwrap_err(),
            Rejection::InvalidSignature
        );
        assert_eq!(
            Signature::decode("AQI=").unwrap_err(),
            Rejection::MalformedToken
        );
    }

    #[test]
    fn header_rules() {
        assert!(header(r#"{"alg":"RS256"}"#).is_ok());
        assert!(header(r#"{"alg":"RS256","typ":"JWT","kid":"k","x5t":"t","jku":"https://x","jwk":{"kty":"RSA"}}"#).is_ok());
        let cases = [
            (r#"{}"#, Rejection::MalformedHeader),
            (r#"{"alg":null}"#, Rejection::MalformedHeader),
            (r#"{"alg":1}"#, Rejection::MalformedHeader),
            (r#"{"alg":["RS256"]}"#, Rejection::MalformedHeader),
            (r#"{"alg":""}"#, Rejection::UnsupportedAlgorithm),
            (r#"{"alg":"none"}"#, Rejection::UnsupportedAlgorithm),
            (r#"{"alg":"n\u006fne"}"#, Rejection::UnsupportedAlgorithm),
            (r#"{"alg":"HS256"}"#, Rejection::UnsupportedAlgorithm),
            (r#"{"alg":"rs256"}"#, Rejection::UnsupportedAlgorithm),
            (
                r#"{"alg":"RS256","alg":"RS256"}"#,
                Rejection::MalformedHeader,
            ),
            (
                r#"{"alg":"RS256","\u0061lg":"HS256"}"#,
                Rejection::MalformedHeader,
            ),
            (
                r#"{"alg":"RS256","x":{"a":1,"a":2}}"#,
                Rejection::MalformedHeader,
            ),
            (r#"{"alg":"RS256","kid":7}"#, Rejection::MalformedHeader),
            (r#"{"alg":"RS256","typ":null}"#, Rejection::MalformedHeader),
            (
                r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
                Rejection::UnsupportedCriticalHeader,
            ),
            (
                r#"{"alg":"RS256","crit":[]}"#,
                Rejection::UnsupportedCriticalHeader,
            ),
            (
                r#"{"alg":"RS256","cty":"JWT"}"#,
                Rejection::UnsupportedTokenFormat,
            ),
            (
                r#"{"alg":"RS256","enc":"A128GCM"}"#,
                Rejection::UnsupportedTokenFormat,
            ),
            (
                r#"{"alg":"RS256","zip":"DEF"}"#,
                Rejection::UnsupportedTokenFormat,
            ),
            (
                r#"{"alg":"RS256","b64":false}"#,
                Rejection::UnsupportedTokenFormat,
            ),
            (
                r#"{"alg":"RS256","nonce":"abc"}"#,
                Rejection::UnsupportedTokenFormat,
            ),
            (r#"["alg","RS256"]"#, Rejection::MalformedHeader),
            (r#""RS256""#, Rejection::MalformedHeader),
            (r#"{"alg":"RS256"} x"#, Rejection::MalformedHeader),
            ("\u{feff}{\"alg\":\"RS256\"}", Rejection::MalformedHeader),
            (
                r#"{"alg":"RS256","x-note":"\ud800"}"#,
                Rejection::MalformedHeader,
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(header(json).unwrap_err(), expected, "{json}");
        }
        let long_kid = format!(
            r#"{{"alg":"RS256","kid":"{}"}}"#,
            "k".repeat(MAX_KID_LEN + 1)
        );
        assert_eq!(header(&long_kid).unwrap_err(), Rejection::MalformedHeader);
        let max_kid = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(MAX_KID_LEN));
        assert!(header(&max_kid).is_ok());
    }
}
