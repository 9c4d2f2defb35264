//! Keys the issuer publishes (ATK-41, ATK-42): small-order and undersized keys, and keys not
//! meant for verifying signatures.

use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, IssuerProfile, Rejection};

use tokengate_testkit::{self as common, AUDIENCE, ISSUER, b64, valid_claims};

use crate::harness::{
    Good, build, check_all, expect, header_with_kid, hmac_token, profile_jwks, validate, with,
};
use crate::key_material::{pkcs1_of_spki, rsa_spki};

/// A 1024-bit RSA modulus. It need not be a real key: it is refused on its size before any
/// arithmetic, and aws-lc-rs cannot generate RSA-1024 keys.
fn modulus_1024() -> Vec<u8> {
    let mut n = vec![0x5a; 128];
    n[0] = 0xc3;
    n[127] |= 1;
    n
}

fn jwk_1024() -> Value {
    json!({"kty": "RSA", "kid": "rsa-1024", "alg": "RS256", "use": "sig",
           "n": b64(modulus_1024()), "e": "AQAB"})
}

pub(crate) fn atk_41_good() -> Vec<Good> {
    let rsa = common::rs256();
    let gate = build(profile_jwks(&json!({"keys": [jwk_1024(), rsa.jwk()]})));
    vec![Good::new(
        "RS256 token next to the RSA-1024 key",
        &gate,
        rsa.token(&valid_claims()),
    )]
}

/// ATK-41 (and RFC 8725 §3.4): a published Ed25519 key of small order, here the identity
/// point, for which the signature R = identity, S = 0 verifies every message. The key is
/// refused, so the universal forgery gets nowhere.
#[test]
fn atk_41_small_order_ed25519_key() {
    let identity = [[1u8].as_slice(), &[0; 31]].concat();
    let weak = json!({"kty": "OKP", "crv": "Ed25519", "kid": "weak", "x": common::b64(&identity)});
    let error = Gate::builder()
        .issuer(profile_jwks(&json!({"keys": [weak.clone()]})))
        .build()
        .unwrap_err();
    assert!(
        error.problems().any(|p| p.contains("small-order")),
        "the problems should name the small-order key: {error}"
    );
    let ed = common::key_for(Algorithm::EdDSA);
    let gate = build(profile_jwks(&json!({"keys": [weak, ed.jwk()]})));
    let claims = with(valid_claims(), "roles", json!(["admin"]));
    let input = format!(
        "{}.{}",
        common::b64(json!({"alg": "EdDSA", "kid": "weak"}).to_string()),
        common::b64(claims.to_string())
    );
    let forged = format!("{input}.{}", common::b64([identity, vec![0; 32]].concat()));
    expect(
        &gate,
        &forged,
        &Rejection::UnknownKey,
        "identity key, R = identity, S = 0",
    );
    // The honest key beside it still works.
    let honest = ed.token(&valid_claims());
    assert!(
        validate(&gate, &honest, None).is_ok(),
        "the honest Ed25519 key"
    );
}

/// ATK-41: RSA keys under 2048 bits (RFC 7518 §3.3) and HMAC on an asymmetric issuer.
#[test]
fn atk_41_weak_keys() {
    let rsa = common::rs256();
    let n = modulus_1024();
    let error = Gate::builder()
        .issuer(profile_jwks(&json!({"keys": [jwk_1024()]})))
        .build()
        .unwrap_err();
    assert!(
        error.problems().any(|p| p.contains("2048")),
        "the problems should mention the 2048-bit minimum: {error}"
    );
    // The same modulus as PEM (SPKI and PKCS#1).
    let spki = rsa_spki(&n, &[1, 0, 1]);
    let pkcs1 = pkcs1_of_spki(&spki);
    for (label, der) in [("PUBLIC KEY", spki), ("RSA PUBLIC KEY", pkcs1)] {
        let error = Gate::builder()
            .issuer(
                IssuerProfile::new(ISSUER)
                    .audience(AUDIENCE)
                    .public_key_pem(common::pem(label, &der), Algorithm::RS256),
            )
            .build()
            .unwrap_err();
        assert!(
            error.problems().any(|p| p.contains("2048")),
            "{label} PEM: the problems should mention the 2048-bit minimum: {error}"
        );
    }
    let goods = atk_41_good();
    check_all(&goods);
    let gate = &goods[0].gate;
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-1024"});
    expect(
        gate,
        &rsa.token_with_header(&header, &valid_claims()),
        &Rejection::UnknownKey,
        "token naming the skipped RSA-1024 key",
    );
    // HS256 is refused at the algorithm check, before its kid is read, so one kid is enough
    // (ATK-04 shows that no kid changes the answer).
    let header = header_with_kid("HS256", Some("rs256-1"));
    expect(
        gate,
        &hmac_token(
            "HS256",
            b"0123456789abcdef0123456789abcdef",
            &header,
            &valid_claims(),
        ),
        &Rejection::UnsupportedAlgorithm,
        "HS256 token on an RS256 issuer",
    );
}

pub(crate) fn atk_42_good() -> Vec<Good> {
    let rsa = common::rs256();
    let es256 = common::key_for(Algorithm::ES256);
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "enc-1"});
    [
        json!({"use": "sig"}),
        json!({"key_ops": ["verify"]}),
        json!({"use": "sig", "key_ops": ["verify"]}),
    ]
    .into_iter()
    .map(|usage| {
        let gate = build(profile_jwks(
            &json!({"keys": [usage_jwk(&usage), es256.jwk()]}),
        ));
        Good::new(
            format!("key with {usage}"),
            &gate,
            rsa.token_with_header(&header, &valid_claims()),
        )
    })
    .collect()
}

/// The RS256 test key's JWK under kid `enc-1`, with these usage members.
fn usage_jwk(usage: &Value) -> Value {
    let mut jwk = common::rs256().jwk();
    jwk["kid"] = json!("enc-1");
    jwk.as_object_mut().unwrap().remove("use");
    for (name, value) in usage.as_object().unwrap() {
        jwk[name] = value.clone();
    }
    jwk
}

/// ATK-42: keys meant for encryption, or whose `key_ops` lack `verify`, are skipped
/// (RFC 7517 §4.2/§4.3). The tokens are signed with that very key material.
#[test]
fn atk_42_key_use() {
    check_all(&atk_42_good());
    let rsa = common::rs256();
    let es256 = common::key_for(Algorithm::ES256);
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "enc-1"});
    for usage in [
        json!({"use": "enc"}),
        json!({"use": "enc", "key_ops": ["verify"]}),
        json!({"use": "sig", "key_ops": ["encrypt"]}),
        json!({"key_ops": ["encrypt"]}),
        json!({"key_ops": ["sign"]}),
        json!({"key_ops": ["wrapKey", "unwrapKey"]}),
        json!({"key_ops": []}),
        json!({"key_ops": ["verify", "verify"]}),
    ] {
        let gate = build(profile_jwks(
            &json!({"keys": [usage_jwk(&usage), es256.jwk()]}),
        ));
        expect(
            &gate,
            &rsa.token_with_header(&header, &valid_claims()),
            &Rejection::UnknownKey,
            &format!("key with {usage}"),
        );
    }
}
