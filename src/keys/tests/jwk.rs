//! Loading a JWK: one algorithm per key, hygiene (STD-JWK-1, STD-JWA-1, STD-8725-1, STD-RS-2),
//! what skipped keys report, and the cost limits.

use serde_json::{Value, json};

use super::*;
use crate::Algorithm;
use crate::keys::jwk::rsa_key;
use crate::test_fixtures::{b64, key_for, rs256};

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
    for y in crate::keys::jwk::SMALL_ORDER_Y_FOR_TESTS {
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
        let err = parse_pem(
            &crate::test_fixtures::pem("PUBLIC KEY", &spki),
            Algorithm::EdDSA,
            None,
        )
        .unwrap_err();
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
