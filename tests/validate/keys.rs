//! Keys: every algorithm from a JWK Set and from PEM, PEM keys without `kid`, and tokens minted
//! by jsonwebtoken.

use serde_json::{Value, json};
use tokengate::{Algorithm, IssuerProfile};
use tokengate_testkit::{AUDIENCE, ISSUER, b64, key_for, rs256, valid_claims};

use super::support::{code, gate, issuer};

#[test]
fn every_algorithm_validates_from_jwks_and_from_pem() {
    for &alg in Algorithm::ALL {
        let key = key_for(alg);
        let token = key.token(&valid_claims());
        let from_jwks = gate(issuer(&[key]));
        assert_eq!(code(&from_jwks, &token), "accepted", "{alg} via JWKS");
        let from_pem = gate(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .public_key_pem_with_kid(key.kid(), key.public_pem(), alg),
        );
        assert_eq!(code(&from_pem, &token), "accepted", "{alg} via PEM");
    }
}

#[test]
fn a_pem_key_without_kid_serves_tokens_with_or_without_kid() {
    let key = rs256();
    let gate = gate(
        IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .public_key_pem(key.public_pem(), Algorithm::RS256),
    );
    assert_eq!(code(&gate, &key.token(&valid_claims())), "accepted");
    let no_kid = key.token_with_header(&json!({"alg": "RS256", "typ": "JWT"}), &valid_claims());
    assert_eq!(code(&gate, &no_kid), "accepted");
    let other = key_for(Algorithm::RS256).token(&valid_claims());
    assert_eq!(
        code(&gate, &other),
        "invalid_signature",
        "a kid-less key is still only that key"
    );
}

#[test]
fn tokens_minted_by_jsonwebtoken_validate() {
    use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let cases: Vec<(jsonwebtoken::Algorithm, jsonwebtoken::EncodingKey, Value)> = {
        let mut cases = Vec::new();
        for (alg, signing, crv, size) in [
            (
                jsonwebtoken::Algorithm::ES256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                "P-256",
                32,
            ),
            (
                jsonwebtoken::Algorithm::ES384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                "P-384",
                48,
            ),
        ] {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
            let point = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec();
            let jwk = json!({"kty": "EC", "crv": crv, "kid": "jwt", "x": b64(&point[1..1 + size]),
                             "y": b64(&point[1 + size..])});
            cases.push((
                alg,
                jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
                jwk,
            ));
        }
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let public = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .unwrap()
            .public_key()
            .as_ref()
            .to_vec();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "jwt", "x": b64(public)});
        cases.push((
            jsonwebtoken::Algorithm::EdDSA,
            jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk,
        ));
        cases
    };
    for (alg, encoding_key, jwk) in cases {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = Some("jwt".into());
        let token = jsonwebtoken::encode(&header, &valid_claims(), &encoding_key).unwrap();
        let gate = gate(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(json!({"keys": [jwk]}).to_string()),
        );
        assert_eq!(code(&gate, &token), "accepted", "{alg:?}");
    }
}
