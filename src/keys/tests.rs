//! Key hygiene (STD-JWK-1, STD-JWA-1, STD-8725-1, STD-RS-2) and key selection.

use crate::test_fixtures as common;

use serde_json::{Value, json};

use super::*;
use crate::keys::jwk::rsa_key;
use crate::{Algorithm, Rejection};
use common::{TestKey, b64, key_for, rs256};

fn load(jwk: &Value, allowed: &[Algorithm]) -> Result<VerifyingKey, String> {
    parse_jwk(&jwk.to_string(), allowed, RulesAt::default()).map_err(|p| p.to_string())
}

fn refused(jwk: &Value, allowed: &[Algorithm], reason: &str) {
    let err = load(jwk, allowed).expect_err(&format!("{jwk} should be refused"));
    assert!(err.contains(reason), "{err:?} should mention {reason:?}");
}

fn with(mut jwk: Value, member: &str, value: Value) -> Value {
    jwk[member] = value;
    jwk
}

fn without(mut jwk: Value, member: &str) -> Value {
    jwk.as_object_mut().unwrap().remove(member);
    jwk
}

/// A big-endian product of `factors`, for building moduli of chosen form.
fn product(factors: impl IntoIterator<Item = u32>) -> Vec<u8> {
    let mut n = vec![1u8];
    for f in factors {
        let mut carry = 0u64;
        for byte in n.iter_mut().rev() {
            let v = u64::from(*byte) * u64::from(f) + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            n.insert(0, carry as u8);
            carry >>= 8;
        }
    }
    n
}

#[test]
fn each_key_is_bound_to_its_alg() {
    let key = load(&rs256().jwk(), Algorithm::ALL).unwrap();
    assert_eq!(key.alg(), Algorithm::RS256);
    assert_eq!(key.kid(), Some("rs256-1"));
    for &alg in Algorithm::ALL {
        let key = load(&key_for(alg).jwk(), Algorithm::ALL).unwrap();
        assert_eq!(key.alg(), alg);
    }
}

#[test]
fn alg_less_keys_take_the_one_allowed_algorithm_that_fits() {
    let rsa = rs256().jwk_without_alg();
    assert_eq!(
        load(&rsa, &[Algorithm::RS256]).unwrap().alg(),
        Algorithm::RS256
    );
    assert_eq!(
        load(&rsa, &[Algorithm::PS384, Algorithm::ES256])
            .unwrap()
            .alg(),
        Algorithm::PS384
    );
    // Every RSA algorithm allowed (the default allowlist): RS256, what keys published
    // without alg are for; still one key, one algorithm (RFC 8725 §3.1).
    assert_eq!(load(&rsa, Algorithm::ALL).unwrap().alg(), Algorithm::RS256);
    let rsa_only = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ];
    assert_eq!(load(&rsa, &rsa_only).unwrap().alg(), Algorithm::RS256);
    // Several, but not all, chosen explicitly: binding would be a guess, and the
    // configuration must say which.
    for several in [
        &[Algorithm::RS256, Algorithm::PS256][..],
        &rsa_only[1..],
        &[Algorithm::PS256, Algorithm::PS384],
    ] {
        let problem = parse_jwk(&rsa.to_string(), several, RulesAt::default()).unwrap_err();
        assert!(
            problem.to_string().contains("several RSA algorithms"),
            "{problem}"
        );
        assert_eq!(problem.concern(), Concern::Configuration);
    }
    refused(&rsa, &[Algorithm::ES256], "no algorithm allowed");
    // EC and OKP keys name their curve, which names the algorithm.
    for alg in [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ] {
        let key = load(&key_for(alg).jwk_without_alg(), Algorithm::ALL).unwrap();
        assert_eq!(key.alg(), alg);
    }
    refused(
        &key_for(Algorithm::ES256).jwk_without_alg(),
        &[Algorithm::ES384],
        "no algorithm allowed",
    );
}

#[test]
fn a_key_alg_outside_the_issuer_allowlist_is_refused() {
    refused(
        &rs256().jwk(),
        &[Algorithm::PS256],
        "not allowed for this issuer",
    );
}

#[test]
fn curve_and_type_must_fit_the_alg() {
    let es256 = key_for(Algorithm::ES256).jwk();
    refused(
        &with(es256.clone(), "alg", json!("ES384")),
        Algorithm::ALL,
        "does not fit",
    );
    refused(
        &with(es256.clone(), "alg", json!("ES521")),
        Algorithm::ALL,
        "not a supported signature algorithm",
    );
    refused(
        &with(es256.clone(), "alg", json!("RS256")),
        Algorithm::ALL,
        "does not fit",
    );
    refused(
        &with(es256.clone(), "crv", json!("P-384")),
        Algorithm::ALL,
        "does not fit",
    );
    refused(
        &with(es256.clone(), "crv", json!("secp256k1")),
        Algorithm::ALL,
        "unsupported curve",
    );
    refused(&without(es256.clone(), "crv"), Algorithm::ALL, "no crv");
    refused(
        &with(rs256().jwk(), "alg", json!("EdDSA")),
        Algorithm::ALL,
        "does not fit",
    );
    refused(
        &with(key_for(Algorithm::EdDSA).jwk(), "crv", json!("Ed448")),
        Algorithm::ALL,
        "unsupported curve",
    );
    refused(
        &with(key_for(Algorithm::EdDSA).jwk(), "crv", json!("X25519")),
        Algorithm::ALL,
        "unsupported curve",
    );
}

#[test]
fn ec_points_are_checked() {
    let es256 = key_for(Algorithm::ES256).jwk();
    // Coordinates must be exactly 32 bytes for P-256 (RFC 7518 §6.2.1.2).
    refused(
        &with(es256.clone(), "x", json!(b64([1u8; 31]))),
        Algorithm::ALL,
        "32 bytes",
    );
    // A point off the curve (y changed) is refused by aws-lc-rs.
    let y = es256["y"].as_str().unwrap();
    let flipped = format!("{}{}", if y.starts_with('A') { "B" } else { "A" }, &y[1..]);
    refused(
        &with(es256, "y", json!(flipped)),
        Algorithm::ALL,
        "not on the curve",
    );
    refused(
        &with(key_for(Algorithm::EdDSA).jwk(), "x", json!(b64([7u8; 31]))),
        Algorithm::ALL,
        "32 bytes",
    );
}

#[test]
fn symmetric_private_and_encryption_keys_are_refused() {
    let oct = json!({"kty": "oct", "kid": "h", "alg": "HS256", "k": b64(b"secret-secret-secret-secret-32b!")});
    refused(&oct, Algorithm::ALL, "symmetric");
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        refused(
            &with(rs256().jwk(), member, json!("AQAB")),
            Algorithm::ALL,
            "private key material",
        );
    }
    refused(
        &with(key_for(Algorithm::ES256).jwk(), "d", json!("AQAB")),
        Algorithm::ALL,
        "private key material",
    );
    refused(
        &with(rs256().jwk(), "use", json!("enc")),
        Algorithm::ALL,
        "use is",
    );
    refused(
        &with(rs256().jwk(), "use", json!("SIG")),
        Algorithm::ALL,
        "use is",
    );
    refused(
        &with(rs256().jwk(), "key_ops", json!(["encrypt"])),
        Algorithm::ALL,
        "includes \"encrypt\"",
    );
    refused(
        &with(rs256().jwk(), "key_ops", json!(["sign"])),
        Algorithm::ALL,
        "does not include \"verify\"",
    );
    refused(
        &with(rs256().jwk(), "key_ops", json!(["verify", "verify"])),
        Algorithm::ALL,
        "repeats",
    );
    refused(
        &with(rs256().jwk(), "key_ops", json!("verify")),
        Algorithm::ALL,
        "wrong type",
    );
    assert!(
        load(
            &with(rs256().jwk(), "key_ops", json!(["sign", "verify"])),
            Algorithm::ALL
        )
        .is_ok()
    );
    assert!(load(&without(rs256().jwk(), "use"), Algorithm::ALL).is_ok());
}

#[test]
fn rsa_keys_are_checked() {
    let (n, e) = rs256().rsa_modulus_exponent();
    let jwk = rs256().jwk();
    // A leading zero octet is not canonical, but the value is the same key.
    let padded = [&[0u8][..], &n].concat();
    assert!(load(&with(jwk.clone(), "n", json!(b64(&padded))), Algorithm::ALL).is_ok());
    // Padding on a key member is tolerated, other base64 damage is not.
    assert!(load(&with(jwk.clone(), "e", json!("AQAB====")), Algorithm::ALL).is_ok());
    refused(
        &with(jwk.clone(), "n", json!("not base64!")),
        Algorithm::ALL,
        "not base64url",
    );
    refused(&without(jwk.clone(), "n"), Algorithm::ALL, "no n");
    refused(
        &with(jwk.clone(), "n", json!(b64(&n[..128]))),
        Algorithm::ALL,
        "1024 bits",
    );
    refused(
        &with(jwk.clone(), "e", json!(b64([1]))),
        Algorithm::ALL,
        "exponent",
    );
    refused(
        &with(jwk.clone(), "e", json!(b64([1, 0]))),
        Algorithm::ALL,
        "exponent",
    );
    refused(
        &with(jwk.clone(), "e", json!(b64([1, 0, 0, 0, 1]))),
        Algorithm::ALL,
        "exponent",
    );
    assert!(rsa_key(&n, &e, Algorithm::PS512).is_ok());
    // 65537^200 is 3200 bits and of the ROCA form (CVE-2017-15361).
    let roca = product(std::iter::repeat_n(65537, 200));
    let err = rsa_key(&roca, &e, Algorithm::RS256).unwrap_err();
    assert!(err.contains("ROCA"), "{err}");
    // A modulus of the same size without the fingerprint (times the prime 709) loads: the ROCA
    // rule, not the size or the shape, refused the other.
    let not_roca = product(std::iter::repeat_n(65537, 199).chain([709]));
    assert!(rsa_key(&not_roca, &e, Algorithm::RS256).is_ok());
    // Placeholders anyone can factor: 2^2048 - 1, an even modulus, a multiple of 701.
    for modulus in [
        vec![0xff; 256],
        [vec![0xff; 255], vec![0xfe]].concat(),
        product(std::iter::repeat_n(65537, 199).chain([701])),
    ] {
        let err = rsa_key(&modulus, &e, Algorithm::RS256).unwrap_err();
        assert!(err.contains("small prime factor"), "{err}");
    }
}

/// The eight small-order points (both signs of x) and non-canonical encodings (y >= p).
fn weak_ed25519_points() -> Vec<[u8; 32]> {
    let mut points = Vec::new();
    for y in jwk::SMALL_ORDER_Y_FOR_TESTS {
        let mut signed = y;
        signed[31] |= 0x80;
        points.extend([y, signed]);
    }
    for low in [0xed, 0xee, 0xff] {
        let mut y = [0xff; 32];
        y[0] = low;
        y[31] = 0x7f;
        points.push(y);
    }
    points
}

#[test]
fn small_order_ed25519_keys_are_refused() {
    let okp = key_for(Algorithm::EdDSA).jwk();
    for point in weak_ed25519_points() {
        refused(
            &with(okp.clone(), "x", json!(b64(point))),
            Algorithm::ALL,
            "small-order or non-canonical",
        );
        let spki = [
            &[
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ][..],
            &point,
        ]
        .concat();
        let err = parse_pem(&common::pem("PUBLIC KEY", &spki), Algorithm::EdDSA, None).unwrap_err();
        assert!(err.contains("small-order or non-canonical"), "{err}");
    }
    // The identity key really is a universal forgery with aws-lc-rs: R = identity, S = 0.
    let identity = [[1u8].as_slice(), &[0; 31]].concat();
    let forged = [identity.clone(), vec![0; 32]].concat();
    let raw =
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &identity);
    assert!(
        raw.verify(b"any message at all", &forged).is_ok(),
        "aws-lc-rs alone accepts it"
    );
}

#[test]
fn malformed_jwks_are_refused() {
    refused(
        &json!({"kty": "RSA", "kid": 7}),
        Algorithm::ALL,
        "wrong type",
    );
    refused(&json!({"kid": "k"}), Algorithm::ALL, "no kty");
    refused(
        &json!({"kty": "dsa", "kid": "k"}),
        Algorithm::ALL,
        "unsupported kty",
    );
    refused(
        &with(rs256().jwk(), "kid", json!("k".repeat(257))),
        Algorithm::ALL,
        "256 bytes",
    );
    let duplicate = r#"{"kty":"RSA","kid":"a","kid":"b","n":"AQAB","e":"AQAB"}"#;
    assert!(parse_jwk(duplicate, Algorithm::ALL, RulesAt::default()).is_err());
    for document in [
        "",
        "[]",
        r#"{"keys":"x"}"#,
        r#"{"nokeys":[]}"#,
        r#"{"keys":[]} x"#,
    ] {
        match parse_jwks(document, Algorithm::ALL, usize::MAX, RulesAt::default()) {
            Err(reason) => assert!(reason.starts_with("not a JWK Set document"), "{reason}"),
            Ok((keys, problems)) => {
                panic!("{document:?} parsed: {} keys, {problems:?}", keys.len())
            }
        }
    }
    // A well-formed set whose entry is not a key: that entry is reported, not the set.
    let (keys, problems) = parse_jwks(
        r#"{"keys":[1]}"#,
        Algorithm::ALL,
        usize::MAX,
        RulesAt::default(),
    )
    .unwrap();
    assert!(keys.is_empty());
    assert_eq!(problems.len(), 1);
}

/// Found by fuzzing (fuzz/, target `jwks`, input `[[]]`): serde's derived structs also read a
/// JSON array of their members in declaration order, so an array was a JWK Set and an array of
/// a JWK's member values an RSA key. RFC 7517 §4, §5: both are JSON objects.
#[test]
fn jwk_sets_and_keys_are_json_objects_only() {
    for document in ["[[]]", " [ [ ] ] ", "[[{}]]"] {
        match parse_jwks(document, Algorithm::ALL, usize::MAX, RulesAt::default()) {
            Err(reason) => assert!(reason.starts_with("not a JWK Set document"), "{reason}"),
            Ok((keys, problems)) => {
                panic!("{document:?} parsed: {} keys, {problems:?}", keys.len())
            }
        }
    }
    let (n, e) = rs256().rsa_modulus_exponent();
    // kty, use, key_ops, alg, kid, issuer, cloud_instance_name, n, e, then crv, x, y and the
    // private members: the members of a JWK in the parser's order.
    let mut members = json!(["RSA", "sig", null, "RS256", "k", null, null, b64(n), b64(e)]);
    members.as_array_mut().unwrap().resize(20, Value::Null);
    let positional = members.to_string();
    assert!(parse_jwk(&positional, Algorithm::ALL, RulesAt::default()).is_err());
    let document = format!(r#"{{"keys":[{positional}]}}"#);
    let (keys, problems) =
        parse_jwks(&document, Algorithm::ALL, usize::MAX, RulesAt::default()).unwrap();
    assert!(keys.is_empty());
    assert_eq!(problems.len(), 1);
}

#[test]
fn one_bad_key_does_not_spoil_the_set() {
    let document = json!({"keys": [
        rs256().jwk(),
        {"kty": "oct", "kid": "h", "k": "AAAA"},
        with(key_for(Algorithm::ES256).jwk(), "use", json!("enc")),
        {"kty": "unknown"},
        key_for(Algorithm::EdDSA).jwk(),
    ]})
    .to_string();
    let (keys, problems) =
        parse_jwks(&document, Algorithm::ALL, usize::MAX, RulesAt::default()).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(problems.len(), 3, "{problems:?}");
}

fn set(keys: &[Value]) -> (KeySet, Vec<KeyProblem>) {
    let loaded = keys
        .iter()
        .map(|k| load(k, Algorithm::ALL).unwrap())
        .collect();
    KeySet::new(loaded)
}

#[test]
fn selection_by_kid_is_exact() {
    let (keys, problems) = set(&[rs256().jwk(), key_for(Algorithm::ES256).jwk()]);
    assert!(problems.is_empty());
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::RS256)
            .unwrap()
            .alg(),
        Algorithm::RS256
    );
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::PS256).unwrap_err(),
        Rejection::KeyAlgorithmMismatch
    );
    for kid in ["RS256-1", "rs256-1 ", "rs256", "", "rs256-1\0"] {
        assert_eq!(
            keys.select(Some(kid), Algorithm::RS256).unwrap_err(),
            Rejection::UnknownKey,
            "{kid:?}"
        );
    }
}

#[test]
fn selection_without_kid_needs_exactly_one_candidate() {
    let (one, _) = set(&[rs256().jwk()]);
    assert!(one.select(None, Algorithm::RS256).is_ok());
    assert_eq!(
        one.select(None, Algorithm::PS256).unwrap_err(),
        Rejection::KeyAlgorithmMismatch
    );

    let other = TestKey::generate(Algorithm::ES256, "es256-2");
    let (two, _) = set(&[key_for(Algorithm::ES256).jwk(), other.jwk(), rs256().jwk()]);
    assert_eq!(
        two.select(None, Algorithm::ES256).unwrap_err(),
        Rejection::MissingKeyId
    );
    assert!(
        two.select(None, Algorithm::RS256).is_ok(),
        "one RS256 key among them"
    );
    assert_eq!(
        two.select(None, Algorithm::EdDSA).unwrap_err(),
        Rejection::MissingKeyId
    );
}

#[test]
fn keys_configured_without_kid_serve_unknown_kids() {
    let (keys, _) = set(&[
        without(rs256().jwk(), "kid"),
        key_for(Algorithm::ES256).jwk(),
    ]);
    assert!(keys.select(Some("anything"), Algorithm::RS256).is_ok());
    assert_eq!(
        keys.select(Some("anything"), Algorithm::ES384).unwrap_err(),
        Rejection::UnknownKey
    );
    // A kid that names a key still selects only that key.
    assert_eq!(
        keys.select(Some("es256-1"), Algorithm::RS256).unwrap_err(),
        Rejection::KeyAlgorithmMismatch
    );
}

#[test]
fn shared_kids_are_unusable_and_exact_duplicates_collapse() {
    let (keys, problems) = set(&[rs256().jwk(), rs256().jwk()]);
    assert!(problems.is_empty());
    assert_eq!(keys.len(), 1);

    let impostor = with(key_for(Algorithm::PS256).jwk(), "kid", json!("rs256-1"));
    let (keys, problems) = set(&[rs256().jwk(), impostor, key_for(Algorithm::ES256).jwk()]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::RS256).unwrap_err(),
        Rejection::UnknownKey
    );
    assert_eq!(
        keys.select(Some("rs256-1"), Algorithm::PS256).unwrap_err(),
        Rejection::UnknownKey
    );
}

#[test]
fn verification_uses_the_bound_algorithm() {
    let key = load(&rs256().jwk(), Algorithm::ALL).unwrap();
    let message = b"header.payload";
    let signature = rs256().sign(message);
    assert!(key.verify(message, &signature));
    assert!(!key.verify(b"header.payloaD", &signature));
    assert!(!key.verify(message, &signature[1..]));
    assert!(!key.verify(message, &[]));
}

mod pem_keys {
    use super::*;
    use aws_lc_rs::signature::KeyPair;
    use common::pem;

    #[test]
    fn spki_and_pkcs1_public_keys_load() {
        for &alg in Algorithm::ALL {
            let key = parse_pem(&key_for(alg).public_pem(), alg, Some("p")).unwrap();
            assert_eq!((key.alg(), key.kid()), (alg, Some("p")));
        }
        // PKCS#1 `RSA PUBLIC KEY`, as some tools write it.
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs1 = pem("RSA PUBLIC KEY", pair.public_key().as_ref());
        assert!(parse_pem(&pkcs1, Algorithm::RS256, None).is_ok());
        assert!(
            parse_pem(&pkcs1, Algorithm::ES256, None)
                .unwrap_err()
                .contains("RSA key cannot")
        );
    }

    #[test]
    fn a_pem_bundle_is_refused() {
        let bundle = format!(
            "{}{}",
            rs256().public_pem(),
            pem("PRIVATE KEY", &[0x30, 0x00])
        );
        let err = parse_pem(&bundle, Algorithm::RS256, None).unwrap_err();
        assert!(err.contains("2 PEM blocks"), "{err}");
    }

    #[test]
    fn wrong_kinds_of_pem_are_refused() {
        let es256 = key_for(Algorithm::ES256).public_pem();
        assert!(
            parse_pem(&es256, Algorithm::ES384, None)
                .unwrap_err()
                .contains("wrong key type or curve")
        );
        assert!(parse_pem(&es256, Algorithm::RS256, None).is_err());
        assert!(parse_pem(&rs256().public_pem(), Algorithm::ES256, None).is_err());
        let private = pem("PRIVATE KEY", &[0x30, 0x00]);
        assert!(
            parse_pem(&private, Algorithm::RS256, None)
                .unwrap_err()
                .contains("private key")
        );
        let cert = pem("CERTIFICATE", &[0x30, 0x00]);
        assert!(
            parse_pem(&cert, Algorithm::RS256, None)
                .unwrap_err()
                .contains("not a public key")
        );
        assert!(
            parse_pem("garbage", Algorithm::RS256, None)
                .unwrap_err()
                .contains("not a PEM")
        );
        let small = pem("PUBLIC KEY", &[0x30, 0x03, 0x02, 0x01, 0x01]);
        assert!(parse_pem(&small, Algorithm::RS256, None).is_err());
    }
}

/// Skipped keys are judged by how much they should worry anyone: an encryption key or an
/// algorithm the issuer does not allow is expected in a key set (DEBUG), damaged or private
/// material is a mistake (WARN).
#[test]
fn skipped_keys_say_how_much_they_matter() {
    let concern = |jwk: &Value, allowed: &[Algorithm]| {
        parse_jwk(&jwk.to_string(), allowed, RulesAt::default())
            .unwrap_err()
            .concern()
    };
    let rsa = rs256().jwk();
    for expected in [
        with(rsa.clone(), "use", json!("enc")),
        with(rsa.clone(), "key_ops", json!(["encrypt", "wrapKey"])),
        with(rsa.clone(), "alg", json!("RSA-OAEP")),
        json!({"kty": "OKP", "crv": "X25519", "x": b64([9u8; 32])}),
    ] {
        assert_eq!(
            concern(&expected, Algorithm::ALL),
            Concern::Expected,
            "{expected}"
        );
    }
    assert_eq!(concern(&rsa, &[Algorithm::ES256]), Concern::Expected);
    for mistake in [
        with(rsa.clone(), "use", json!("SIG")),
        with(rsa.clone(), "d", json!("AQAB")),
        with(rsa.clone(), "n", json!("not base64!")),
        with(rsa.clone(), "key_ops", json!(["verify", "encrypt"])),
        with(rsa.clone(), "alg", json!("ES256")),
    ] {
        assert_eq!(
            concern(&mistake, Algorithm::ALL),
            Concern::Mistake,
            "{mistake}"
        );
    }
}

/// An RSA JWK of modulus `n` and exponent `e`, RS256.
fn rsa_jwk(kid: &str, n: &[u8], e: &[u8]) -> Value {
    json!({"kty": "RSA", "alg": "RS256", "kid": kid, "n": b64(n), "e": b64(e)})
}

/// Anyone can make every forged token cost a check with the costliest key of the set: RSA
/// keys above 4096 bits or with an exponent other than 65537 are skipped unless admitted
/// (the absolute limits, 8192 bits and 2^32 - 1, stay).
#[test]
fn rsa_keys_above_the_cost_limits_are_skipped_unless_admitted() {
    let (n, _) = rs256().rsa_modulus_exponent();
    // 65537^300 * 709: 4810 bits, no small factor, not of the ROCA form.
    let big = product(std::iter::repeat_n(65537, 300).chain([709]));
    let big = load(&rsa_jwk("big", &big, &[1, 0, 1]), Algorithm::ALL).unwrap();
    let odd_e = load(&rsa_jwk("e32", &n, &[0xff; 4]), Algorithm::ALL).unwrap();
    let e3 = load(&rsa_jwk("e3", &n, &[3]), Algorithm::ALL).unwrap();
    let usual = load(&rs256().jwk(), Algorithm::ALL).unwrap();

    let defaults = KeyLimits::default();
    assert_eq!(defaults.max_rsa_bits, 4096);
    assert!(defaults.check(&usual).is_ok());
    let too_big = defaults.check(&big).unwrap_err().to_string();
    assert!(
        too_big.contains("max_rsa_bits") && too_big.contains("4810"),
        "{too_big}"
    );
    for key in [&odd_e, &e3] {
        let problem = defaults.check(key).unwrap_err();
        assert!(
            problem.to_string().contains("allow_any_rsa_exponent"),
            "{problem}"
        );
        assert_eq!(problem.concern(), Concern::Mistake);
    }
    // EC and OKP keys have a fixed cost.
    assert!(
        defaults
            .check(&load(&key_for(Algorithm::ES512).jwk(), Algorithm::ALL).unwrap())
            .is_ok()
    );

    let admitted = KeyLimits {
        max_rsa_bits: 8192,
        any_rsa_exponent: true,
    };
    for key in [&big, &odd_e, &e3, &usual] {
        assert!(admitted.check(key).is_ok(), "{key:?}");
    }
    let mut problems = Vec::new();
    let kept = defaults.admit(vec![big, odd_e, e3, usual], &mut problems);
    assert_eq!(kept.len(), 1);
    assert_eq!(problems.len(), 3);
    // Beyond the absolute limits nothing admits a key.
    refused(
        &rsa_jwk("e33", &n, &[1, 0, 0, 0, 1]),
        Algorithm::ALL,
        "exponent",
    );
}

/// The cache asks the set whether a key is still there by its id, and a refresh asks
/// whether it brought a key for the kid that triggered it.
#[test]
fn sets_answer_by_key_id() {
    let es = key_for(Algorithm::ES256);
    let (old, _) = set(&[rs256().jwk()]);
    let (new, _) = set(&[rs256().jwk(), es.jwk()]);
    let rs_id = old.select(Some("rs256-1"), Algorithm::RS256).unwrap().id();
    let es_id = new.select(Some("es256-1"), Algorithm::ES256).unwrap().id();
    assert!(old.contains(rs_id) && new.contains(rs_id));
    assert!(!old.contains(es_id) && new.contains(es_id));
    let es = Algorithm::ES256;
    assert!(new.brings_new(&old, Some("es256-1"), es));
    assert!(new.brings_new(&old, None, es));
    assert!(
        !new.brings_new(&old, Some("rs256-1"), Algorithm::RS256),
        "not new"
    );
    assert!(!new.brings_new(&old, Some("made-up"), es));
    assert!(!old.brings_new(&new, None, es));
    // The same public key under another kid is another key.
    let (renamed, _) = set(&[with(rs256().jwk(), "kid", json!("rs256-2"))]);
    assert!(renamed.brings_new(&old, Some("rs256-2"), Algorithm::RS256));
    let (count, named) = new.describe_except(&old);
    assert_eq!((count, named.as_str()), (1, r#""es256-1" (ES256)"#));
}

/// A kid-less token finds its key in a refresh only if the refresh brought a key `select`
/// would pick for it: a new key of another algorithm (or a second one of its own, which makes
/// the choice ambiguous) is not its key, and the refresh counts as fruitless.
#[test]
fn a_kidless_token_finds_its_key_only_in_a_new_key_of_its_algorithm() {
    let es = key_for(Algorithm::ES256);
    let ed = key_for(Algorithm::EdDSA);
    let es2 = with(key_for(Algorithm::ES256).jwk(), "kid", json!("es256-other"));
    let (old, _) = set(&[rs256().jwk()]);
    let (other_alg, _) = set(&[rs256().jwk(), ed.jwk()]);
    assert!(!other_alg.brings_new(&old, None, Algorithm::ES256));
    assert!(other_alg.brings_new(&old, None, Algorithm::EdDSA));
    let (own_alg, _) = set(&[rs256().jwk(), es.jwk()]);
    assert!(own_alg.brings_new(&old, None, Algorithm::ES256));
    let (ambiguous, _) = set(&[rs256().jwk(), es.jwk(), es2]);
    assert!(!ambiguous.brings_new(&old, None, Algorithm::ES256));
    // A new key without kid serves unknown kids of its algorithm only.
    let (kidless, _) = set(&[rs256().jwk(), without(ed.jwk(), "kid")]);
    assert!(kidless.brings_new(&old, Some("any"), Algorithm::EdDSA));
    assert!(!kidless.brings_new(&old, Some("any"), Algorithm::ES256));
}

/// Kids are the provider's to choose: the key-life events quote them, so a kid cannot forge
/// a log line, and a key without kid reads differently from a key whose kid is "no kid".
#[test]
fn key_life_events_quote_kids() {
    let es = key_for(Algorithm::ES256);
    let (old, _) = set(&[rs256().jwk()]);
    let forged = with(es.jwk(), "kid", json!("x (ES256)\nINFO forged"));
    let (new, _) = set(&[rs256().jwk(), forged]);
    let (_, named) = new.describe_except(&old);
    assert_eq!(named, r#""x (ES256)\nINFO forged" (ES256)"#);
    assert!(!named.contains('\n'));
    let (no_kid, _) = set(&[without(es.jwk(), "kid")]);
    let (named_no_kid, _) = set(&[with(es.jwk(), "kid", json!("no kid"))]);
    assert_eq!(no_kid.describe_except(&old).1, "no kid (ES256)");
    assert_eq!(named_no_kid.describe_except(&old).1, r#""no kid" (ES256)"#);
}

/// A request that read the keys just before a rotation refresh stored new ones, and reaches
/// the slow path after it, is answered by the keys now held at once: no wait for the minimum
/// interval, no fetch that would find nothing new for its kid and close the door, so the next
/// rotation is still picked up at once.
#[tokio::test(start_paused = true)]
async fn a_request_that_read_the_keys_before_a_rotation_is_answered_without_a_fetch() {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::sources::Source;
    use super::{Fetcher, KeyCacheSettings, Miss, Remote, Wanted};
    use crate::testing::TestIssuer;

    let issuer = TestIssuer::with_algorithms([Algorithm::ES256])
        .await
        .unwrap();
    let settings = KeyCacheSettings::default().allow_http_loopback();
    let fetcher = Arc::new(Fetcher::new(settings, None).unwrap());
    let url = reqwest::Url::parse(&issuer.jwks_uri()).unwrap();
    let remote = Arc::new(Remote::new(
        issuer.issuer().to_owned(),
        Source::JwksUri(url),
        Algorithm::ALL.to_vec(),
        fetcher,
        None,
    ));
    let wanted = |kid, read| Wanted {
        kid: Some(kid),
        alg: Algorithm::ES256,
        read,
        failed: None,
    };
    let read = |remote: &Arc<Remote>| remote.with_current(KeySet::generation);
    // The first load.
    assert!(matches!(
        remote.after_miss(wanted("first", 0)).await,
        Miss::Refreshed(_)
    ));
    let fetched = issuer.jwks_requests();
    // A rotation: request A triggers the refresh that brings the new key; request B read the
    // keys before that refresh stored it.
    let new = issuer.add_key(Algorithm::ES256);
    let b_read = read(&remote);
    assert!(matches!(
        remote.after_miss(wanted(&new, read(&remote))).await,
        Miss::Refreshed(_)
    ));
    assert_eq!(issuer.jwks_requests(), fetched + 1);
    let start = Instant::now();
    let Miss::Refreshed(keys) = remote.after_miss(wanted(&new, b_read)).await else {
        panic!("B is answered by the keys held");
    };
    assert!(keys.select(Some(&new), Algorithm::ES256).is_ok());
    assert_eq!(start.elapsed(), Duration::ZERO, "no wait");
    assert_eq!(issuer.jwks_requests(), fetched + 1, "no fetch for B");
    // The door stays open: a key published after the minimum interval is fetched at once.
    tokio::time::advance(Duration::from_secs(6)).await;
    let newer = issuer.add_key(Algorithm::ES256);
    assert!(matches!(
        remote.after_miss(wanted(&newer, read(&remote))).await,
        Miss::Refreshed(_)
    ));
    assert_eq!(issuer.jwks_requests(), fetched + 2);
}
