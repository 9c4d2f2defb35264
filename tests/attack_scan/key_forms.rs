//! Every form of a published public key that an attacker could key HMAC with (ATK-04), made
//! from the JWK members served over HTTP: the DER by aws-lc-rs (SubjectPublicKeyInfo, and for
//! RSA the PKCS#1 `RSAPublicKey`), the PEM by the `pem` crate.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use serde_json::json;

use tokengate_testkit as common;

use crate::tokens::{hex, std_b64, unb64};
use crate::world::PublicKey;

/// The named forms of `key`, and `verifier`, parsed from one of its DER forms, to prove that the
/// forms hold the published key (it verifies a real token of that key).
pub struct KeyForms {
    pub forms: Vec<(String, Vec<u8>)>,
    pub verifier: ParsedPublicKey,
}

pub fn key_forms(key: &PublicKey) -> KeyForms {
    let jwk = &key.jwk;
    let member = |name: &str| unb64(jwk[name].as_str().unwrap());
    let member_text = |name: &str| jwk[name].as_str().unwrap().as_bytes().to_vec();
    let pem = |der: &[u8]| common::pem("PUBLIC KEY", der);
    let mut forms = vec![(
        "JWK JSON as served".to_owned(),
        jwk.to_string().into_bytes(),
    )];
    let verifier = match jwk["kty"].as_str().unwrap() {
        "RSA" => {
            let n = member("n");
            let components = RsaPublicKeyComponents {
                n: n.clone(),
                e: member("e"),
            };
            let spki = components.as_der().expect("SPKI from n and e");
            let spki = spki.as_ref().to_vec();
            let pkcs1 = rsa::PublicKey::from_der(&spki).expect("an RSA SPKI");
            let pkcs1 = pkcs1.as_ref().to_vec();
            let pem_spki = pem(&spki);
            let thumbprint_form = json!({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}).to_string();
            forms.extend([
                ("PEM (SPKI)".to_owned(), pem_spki.clone().into_bytes()),
                (
                    "PEM (SPKI) without final newline".to_owned(),
                    pem_spki.trim_end().as_bytes().to_vec(),
                ),
                (
                    "PEM (SPKI) with CRLF".to_owned(),
                    pem_spki.replace('\n', "\r\n").into_bytes(),
                ),
                (
                    "PEM (PKCS#1)".to_owned(),
                    common::pem("RSA PUBLIC KEY", &pkcs1).into_bytes(),
                ),
                ("DER (SPKI)".to_owned(), spki),
                ("DER (PKCS#1)".to_owned(), pkcs1.clone()),
                (
                    "JWK JSON, RFC 7638 members".to_owned(),
                    thumbprint_form.into_bytes(),
                ),
                ("n bytes".to_owned(), n),
                ("n base64url".to_owned(), member_text("n")),
            ]);
            let alg: &'static dyn VerificationAlgorithm = match key.alg.as_str() {
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                _ => &signature::RSA_PKCS1_2048_8192_SHA256,
            };
            ParsedPublicKey::new(alg, &pkcs1).expect("the PKCS#1 form")
        }
        "EC" => {
            let point = [&[4u8][..], &member("x"), &member("y")].concat();
            let alg: &'static dyn VerificationAlgorithm = match jwk["crv"].as_str().unwrap() {
                "P-256" => &signature::ECDSA_P256_SHA256_FIXED,
                _ => &signature::ECDSA_P384_SHA384_FIXED,
            };
            let spki = spki(alg, &point);
            forms.extend([
                ("PEM (SPKI)".to_owned(), pem(&spki).into_bytes()),
                ("DER (SPKI)".to_owned(), spki.clone()),
                ("uncompressed point".to_owned(), point),
                ("x bytes".to_owned(), member("x")),
                ("x base64url".to_owned(), member_text("x")),
            ]);
            ParsedPublicKey::new(alg, &spki).expect("the SPKI form")
        }
        _ => {
            let x = member("x");
            let spki = spki(&signature::ED25519, &x);
            forms.extend([
                ("PEM (SPKI)".to_owned(), pem(&spki).into_bytes()),
                ("DER (SPKI)".to_owned(), spki.clone()),
                ("x bytes".to_owned(), x),
                ("x base64url".to_owned(), member_text("x")),
            ]);
            ParsedPublicKey::new(&signature::ED25519, &spki).expect("the SPKI form")
        }
    };
    KeyForms { forms, verifier }
}

/// The SubjectPublicKeyInfo DER of a raw public key (an uncompressed EC point, Ed25519's `x`).
fn spki(alg: &'static dyn VerificationAlgorithm, raw: &[u8]) -> Vec<u8> {
    let key = ParsedPublicKey::new(alg, raw).expect("a raw public key");
    key.as_der()
        .expect("aws-lc-rs encodes it")
        .as_ref()
        .to_vec()
}

/// What of `key` must never be logged: its JWK members and every form of [`key_forms`] (text
/// forms whole and line by line; binary forms in hex, in base64 and as a Rust byte list).
pub fn material(key: &PublicKey) -> Vec<String> {
    let mut material = Vec::new();
    for (_, form) in key_forms(key).forms {
        match std::str::from_utf8(&form) {
            Ok(text) => {
                material.push(text.to_owned());
                for line in text
                    .lines()
                    .filter(|l| l.len() > 8 && !l.starts_with("-----"))
                {
                    material.push(line.trim_end().to_owned());
                }
            }
            Err(_) => {
                material.push(hex(&form));
                material.push(std_b64(&form));
                material.push(format!("{:?}", &form[..16]));
            }
        }
    }
    for member in ["n", "e", "x", "y", "d"] {
        if let Some(value) = key.jwk[member].as_str().filter(|v| v.len() > 8) {
            material.push(value.to_owned());
        }
    }
    material
}
