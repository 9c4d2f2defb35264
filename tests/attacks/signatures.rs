//! Signatures (ATK-13 to ATK-17): empty, of the wrong length or encoding, "psychic" ECDSA
//! values, transplanted between tokens, and kept over changed bytes.

use std::sync::OnceLock;

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
use serde_json::{Value, json};
use tokengate::{Algorithm, Rejection};

use tokengate_testkit::{self as common, b64, valid_claims};

use crate::harness::{
    Good, all_keys, build, check_all, decode, expect, gate, gate_for, profile_jwks, segments,
    signature, with, with_signature,
};
use crate::key_material::OwnKey;

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

pub(crate) fn atk_13_good() -> Vec<Good> {
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

/// ECDSA keys of the suite's own (ES256, ES384, ES512), which sign in both the JWS and the DER
/// encoding.
fn own_ecdsa_keys() -> &'static [OwnKey] {
    static KEYS: OnceLock<Vec<OwnKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [Algorithm::ES256, Algorithm::ES384, Algorithm::ES512]
            .map(|alg| OwnKey::generate(alg, &format!("own-{}", alg.name().to_lowercase())))
            .into()
    })
}

pub(crate) fn atk_14_good() -> Vec<Good> {
    let key = common::rs256();
    // About one signature in 256 starts with a zero byte.
    let token = (0..100_000)
        .map(|i| key.token(&with(valid_claims(), "n", json!(i))))
        .find(|token| signature(token)[0] == 0)
        .expect("a signature with a leading zero byte");
    let mut goods = vec![Good::new(
        "RS256 signature with a leading zero byte",
        &gate(&[key]),
        token,
    )];
    // Then one per own ECDSA key, in the order of `own_ecdsa_keys()`.
    for key in own_ecdsa_keys() {
        goods.push(Good::new(
            format!("{} token of an own key", key.alg()),
            &build(profile_jwks(&json!({"keys": [key.jwk()]}))),
            key.token(&valid_claims()),
        ));
    }
    goods
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
        let variants: Vec<(String, Vec<u8>)> = vec![
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
    // A genuine signature by the same key over the same signing input, DER-encoded as X.509
    // writes ECDSA (aws-lc-rs verifies it so): JWS takes only the fixed-size R || S.
    for (key, good) in own_ecdsa_keys().iter().zip(&goods[1..]) {
        let [h, p, _] = segments(&good.token);
        let input = format!("{h}.{p}");
        let der = key.sign_x509(input.as_bytes());
        let asn1 = match key.alg() {
            Algorithm::ES256 => &sig::ECDSA_P256_SHA256_ASN1,
            Algorithm::ES384 => &sig::ECDSA_P384_SHA384_ASN1,
            _ => &sig::ECDSA_P521_SHA512_ASN1,
        };
        UnparsedPublicKey::new(asn1, key.public_key())
            .verify(input.as_bytes(), &der)
            .expect("a genuine DER-encoded signature");
        expect(
            &good.gate,
            &with_signature(&good.token, &der),
            &Rejection::InvalidSignature,
            &format!("{} signature DER-encoded", key.alg()),
        );
    }
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

pub(crate) fn atk_16_good() -> Vec<Good> {
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

pub(crate) fn atk_17_good() -> Vec<Good> {
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
