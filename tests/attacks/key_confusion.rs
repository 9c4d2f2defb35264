//! Algorithm and key confusion (ATK-04 to ATK-06): the public key used as an HMAC secret, a key
//! used with another algorithm than its own, a symmetric key in the key set.

use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, IssuerProfile, Rejection};

use tokengate_testkit::{self as common, AUDIENCE, ISSUER, TestKey, b64, valid_claims};

use crate::harness::{
    Good, HMACS, build, check_all, expect, gate, header_with_kid, hmac_token, profile, profile_jwks,
};
use crate::key_material::{pem_der, pkcs1, rsa_certificate};

pub(crate) fn atk_04_good() -> Vec<Good> {
    let rsa = common::rs256();
    let ec = common::key_for(Algorithm::ES256);
    let any_alg = gate(&[rsa, ec]);
    let rs256_only = build(profile(&[rsa]).algorithms([Algorithm::RS256]));
    vec![
        Good::new(
            "RS256, default algorithms",
            &any_alg,
            rsa.token(&valid_claims()),
        ),
        Good::new("RS256, RS256 only", &rs256_only, rsa.token(&valid_claims())),
        Good::new(
            "ES256, default algorithms",
            &any_alg,
            ec.token(&valid_claims()),
        ),
    ]
}

/// Every form of the issuer's RS256 and ES256 public keys an attacker could use as an HMAC
/// secret, with the key it encodes.
fn public_key_forms() -> Vec<(&'static str, &'static TestKey, Vec<u8>)> {
    let rsa = common::rs256();
    let ec = common::key_for(Algorithm::ES256);
    let rsa_pem = rsa.public_pem();
    let rsa_pkcs1 = pkcs1(rsa);
    let (n, _) = rsa.rsa_modulus_exponent();
    let cert = rsa_certificate(rsa);
    let ec_pem = ec.public_pem();
    let ec_spki = pem_der(&ec_pem);
    vec![
        ("RSA PEM (SPKI)", rsa, rsa_pem.clone().into_bytes()),
        (
            "RSA PEM without final newline",
            rsa,
            rsa_pem.trim_end().as_bytes().to_vec(),
        ),
        (
            "RSA PEM with CRLF",
            rsa,
            rsa_pem.replace('\n', "\r\n").into_bytes(),
        ),
        ("RSA DER (SPKI)", rsa, pem_der(&rsa_pem)),
        ("RSA PKCS#1 DER", rsa, rsa_pkcs1.clone()),
        (
            "RSA PKCS#1 PEM",
            rsa,
            common::pem("RSA PUBLIC KEY", &rsa_pkcs1).into_bytes(),
        ),
        ("RSA JWK JSON", rsa, rsa.jwk().to_string().into_bytes()),
        (
            "RSA JWK JSON without alg",
            rsa,
            rsa.jwk_without_alg().to_string().into_bytes(),
        ),
        ("RSA n bytes", rsa, n.clone()),
        ("RSA n base64url", rsa, b64(&n).into_bytes()),
        ("RSA x5c certificate DER", rsa, cert.clone()),
        (
            "RSA x5c certificate base64",
            rsa,
            base64_simd::STANDARD.encode_to_string(&cert).into_bytes(),
        ),
        (
            "RSA certificate PEM",
            rsa,
            common::pem("CERTIFICATE", &cert).into_bytes(),
        ),
        ("EC PEM (SPKI)", ec, ec_pem.into_bytes()),
        ("EC DER (SPKI)", ec, ec_spki.clone()),
        // The SPKI ends with the uncompressed point (65 bytes on P-256).
        ("EC point", ec, ec_spki[ec_spki.len() - 65..].to_vec()),
        ("EC JWK JSON", ec, ec.jwk().to_string().into_bytes()),
    ]
}

/// ATK-04: the issuer's public key, in any form, is never used as an HMAC secret
/// (CVE-2015-9235, CVE-2022-29217; RFC 8725 §2.1/§3.1). For each of 17 forms of the RS256 and
/// ES256 keys (PEM variants, SPKI and PKCS#1 DER, JWK JSON, the modulus, the certificate, the
/// EC point), tokens carrying a real HMAC-SHA-256, -384 and -512 tag keyed with that form, under
/// a header naming the key's own algorithm with its `kid` or with none, are refused
/// `invalid_signature`: with every algorithm allowed, and (RSA forms) with RS256 only. Those
/// headers pass the algorithm check and select the published key, so every tag reaches the
/// signature verification with that key; a verifier that HMAC-verified with any of these forms
/// would accept its variant. Headers naming `HS256`/`HS384`/`HS512` stop earlier, at the
/// algorithm check: `atk_04_hmac_alg_refused_before_key_lookup`.
#[test]
fn atk_04_hs256_with_public_key() {
    let goods = atk_04_good();
    check_all(&goods);
    let (any_alg, rs256_only) = (&goods[0].gate, &goods[1].gate);
    let mut variants = 0;
    for (form, key, secret) in &public_key_forms() {
        let alg = key.alg();
        let gates: &[(&str, &Gate)] = match alg {
            Algorithm::RS256 => &[("all algorithms", any_alg), ("RS256 only", rs256_only)],
            _ => &[("all algorithms", any_alg)],
        };
        for mac in HMACS {
            for kid in [Some(key.kid()), None] {
                let header = header_with_kid(alg.name(), kid);
                let token = hmac_token(mac, secret, &header, &valid_claims());
                for (allowed, gate) in gates {
                    variants += 1;
                    expect(
                        gate,
                        &token,
                        &Rejection::InvalidSignature,
                        &format!(
                            "{alg} header, {mac} tag keyed with {form}, kid {kid:?}, {allowed}"
                        ),
                    );
                }
            }
        }
    }
    // 13 RSA forms on two gates, 4 EC forms on one; 3 MACs; 2 kids.
    assert_eq!(variants, (13 * 2 + 4) * 3 * 2);
}

/// ATK-04, ATK-41: a header naming an HMAC algorithm (`HS256`, `HS384`, `HS512`, with a real
/// tag keyed with the issuer's PEM) is refused `unsupported_algorithm` before any key is looked
/// up: the code is the same whether the `kid` names the issuer's RSA key, names no key, or is
/// absent, three cases the key lookup tells apart, as the same kids under PS256 (allowed, but
/// the issuer has no PS256 key) show: `key_algorithm_mismatch`, `unknown_key`,
/// `missing_key_id`.
#[test]
fn atk_04_hmac_alg_refused_before_key_lookup() {
    let goods = atk_04_good();
    check_all(&goods);
    let (any_alg, rs256_only) = (&goods[0].gate, &goods[1].gate);
    let secret = common::rs256().public_pem();
    for mac in HMACS {
        for kid in [Some("rs256-1"), Some("no-such-key"), None] {
            let header = header_with_kid(mac, kid);
            let token = hmac_token(mac, secret.as_bytes(), &header, &valid_claims());
            for (allowed, gate) in [("all algorithms", any_alg), ("RS256 only", rs256_only)] {
                expect(
                    gate,
                    &token,
                    &Rejection::UnsupportedAlgorithm,
                    &format!("{mac} keyed with the RSA PEM, kid {kid:?}, {allowed}"),
                );
            }
        }
    }
    for (kid, lookup) in [
        (Some("rs256-1"), Rejection::KeyAlgorithmMismatch),
        (Some("no-such-key"), Rejection::UnknownKey),
        (None, Rejection::MissingKeyId),
    ] {
        let header = header_with_kid("PS256", kid);
        let token = hmac_token("HS256", secret.as_bytes(), &header, &valid_claims());
        expect(
            any_alg,
            &token,
            &lookup,
            &format!("PS256 header, kid {kid:?}: the key lookup's answer"),
        );
    }
}

fn relabelled(key: &TestKey, alg: &str) -> Value {
    let mut jwk = key.jwk();
    jwk["alg"] = json!(alg);
    jwk
}

pub(crate) fn atk_05_good() -> Vec<Good> {
    let mut goods = Vec::new();
    // The same genuine tokens verify when the key is published honestly: the mismatch below is
    // the only reason they are refused.
    for alg in [
        Algorithm::PS256,
        Algorithm::RS512,
        Algorithm::PS384,
        Algorithm::RS256,
    ] {
        let key = common::key_for(alg);
        let gate = build(profile_jwks(&json!({"keys": [key.jwk()]})));
        goods.push(Good::new(
            format!("{alg} token, key published as {alg}"),
            &gate,
            key.token(&valid_claims()),
        ));
    }
    let es256 = common::key_for(Algorithm::ES256);
    goods.push(Good::new(
        "ES256 token, ES256 key",
        &gate(&[es256]),
        es256.token(&valid_claims()),
    ));
    let rsa = common::rs256();
    let entra = build(
        IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .algorithms([Algorithm::RS256])
            .jwks(json!({"keys": [rsa.jwk_without_alg()]}).to_string()),
    );
    goods.push(Good::new(
        "RS256 token, alg-less key, RS256 only",
        &entra,
        rsa.token(&valid_claims()),
    ));
    goods
}

/// ATK-05: within-family confusion. Each key is bound to exactly one algorithm (RFC 8725 §3.1,
/// RFC 7517 §4.4): a token whose `alg` differs from its key's is refused before verification,
/// even when the signature is genuine for the algorithm it names.
#[test]
fn atk_05_key_algorithm_confusion() {
    check_all(&atk_05_good());
    let cases = [
        (Algorithm::PS256, "RS256"),
        (Algorithm::RS512, "RS256"),
        (Algorithm::PS384, "RS384"),
        (Algorithm::RS256, "PS256"),
    ];
    for (token_alg, published) in cases {
        // The key material signs genuinely with `token_alg`; its JWK says `published`.
        let key = common::key_for(token_alg);
        let gate = build(profile_jwks(&json!({"keys": [relabelled(key, published)]})));
        expect(
            &gate,
            &key.token(&valid_claims()),
            &Rejection::KeyAlgorithmMismatch,
            &format!("{token_alg} token, key published with alg {published}"),
        );
    }

    let es256 = common::key_for(Algorithm::ES256);
    let gate = gate(&[es256]);
    for alg in ["ES384", "ES512", "EdDSA", "RS256", "PS256"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": es256.kid()});
        expect(
            &gate,
            &es256.token_with_header(&header, &valid_claims()),
            &Rejection::KeyAlgorithmMismatch,
            &format!("{alg} token naming the ES256 key"),
        );
    }

    // An alg-less RSA key (as Entra publishes them) on an issuer allowing only RS256 is bound to
    // RS256; PS256 and RS384 are not even allowed for the issuer.
    let rsa = common::rs256();
    let entra = build(
        IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .algorithms([Algorithm::RS256])
            .jwks(json!({"keys": [rsa.jwk_without_alg()]}).to_string()),
    );
    for alg in [Algorithm::PS256, Algorithm::RS384] {
        let signer = common::key_for(alg);
        let header = json!({"alg": alg.name(), "typ": "JWT", "kid": rsa.kid()});
        expect(
            &entra,
            &signer.token_with_header(&header, &valid_claims()),
            &Rejection::UnsupportedAlgorithm,
            &format!("{alg} token, alg-less RSA key, issuer allows RS256 only"),
        );
    }
}

pub(crate) fn atk_06_good() -> Vec<Good> {
    let rsa = common::rs256();
    let oct = json!({"kty": "oct", "kid": "hmac-1", "alg": "HS256", "k": b64("a-secret")});
    let gate = build(profile_jwks(&json!({"keys": [oct, rsa.jwk()]})));
    vec![Good::new(
        "RS256 token next to an oct key",
        &gate,
        rsa.token(&valid_claims()),
    )]
}

/// ATK-06: an `oct` (symmetric) key in the JWKS is never loaded (STD-JWK-1), and its secret
/// verifies nothing. Under a header naming RS256 (allowed), the oct keys' kids find no key
/// (`unknown_key`), whether the token is signed by the RSA key or carries an HMAC keyed with
/// the oct secret; that HMAC with the RSA key's kid or no kid reaches the RSA key's verification
/// and fails (`invalid_signature`). An `HS256` header is refused at the algorithm check before
/// its kid is read (ATK-04). A JWKS holding only oct keys is a configuration error.
#[test]
fn atk_06_symmetric_key_in_jwks() {
    let rsa = common::rs256();
    let secret = b"a-very-secret-hmac-key-32-bytes!";
    let oct =
        json!({"kty": "oct", "kid": "hmac-1", "alg": "HS256", "use": "sig", "k": b64(secret)});
    let oct_without_alg = json!({"kty": "oct", "kid": "hmac-2", "k": b64(secret)});

    // Another usable key exists: the build succeeds, the oct keys are skipped.
    let gate = build(profile_jwks(
        &json!({"keys": [oct.clone(), oct_without_alg, rsa.jwk()]}),
    ));
    check_all(&atk_06_good());
    for kid in ["hmac-1", "hmac-2"] {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        expect(
            &gate,
            &rsa.token_with_header(&header, &valid_claims()),
            &Rejection::UnknownKey,
            &format!("RS256 token selecting the oct key {kid}"),
        );
    }
    for mac in HMACS {
        for (kid, expected) in [
            (Some("hmac-1"), Rejection::UnknownKey),
            (Some("hmac-2"), Rejection::UnknownKey),
            (Some("rs256-1"), Rejection::InvalidSignature),
            (None, Rejection::InvalidSignature),
        ] {
            let token = hmac_token(mac, secret, &header_with_kid("RS256", kid), &valid_claims());
            expect(
                &gate,
                &token,
                &expected,
                &format!("RS256 header, {mac} tag keyed with the oct secret, kid {kid:?}"),
            );
        }
    }
    let hs256 = header_with_kid("HS256", Some("hmac-1"));
    expect(
        &gate,
        &hmac_token("HS256", secret, &hs256, &valid_claims()),
        &Rejection::UnsupportedAlgorithm,
        "HS256 with the oct secret, kid hmac-1",
    );

    // A JWKS with only an oct key is a configuration error that says why.
    let error = Gate::builder()
        .issuer(profile_jwks(&json!({"keys": [oct]})))
        .build()
        .unwrap_err();
    assert!(
        error.problems().any(|p| p.contains("oct")),
        "the problems should mention the oct key: {error}"
    );
}
