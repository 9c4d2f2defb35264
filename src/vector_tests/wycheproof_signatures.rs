//! Wycheproof raw signature files: RSA PKCS#1 v1.5 and PSS, ECDSA and Ed25519 signatures
//! over messages, run through the key stage with a JWK made from each group's key.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::tally::{Label, Tally};
use super::{WycheproofFile, hex, load, reason_of};
use crate::Algorithm;
use crate::jws::BASE64URL;
use crate::keys::{RulesAt, parse_jwk};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigGroup {
    /// `keyJwk` in the RSA PKCS#1 files; absent in 9 groups of each ECDSA file.
    #[serde(alias = "keyJwk")]
    public_key_jwk: Option<Box<RawValue>>,
    public_key: Option<SigPublicKey>,
    tests: Vec<SigCase>,
}

#[derive(Deserialize)]
struct SigPublicKey {
    /// ECDSA only: `04 || x || y` in hex.
    uncompressed: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigCase {
    tc_id: u32,
    comment: String,
    msg: String,
    sig: String,
    result: Label,
}

/// The group's JWK, or for ECDSA groups without one, a JWK built from the uncompressed point.
fn group_jwk(group: &SigGroup, alg: Algorithm) -> String {
    if let Some(jwk) = &group.public_key_jwk {
        return jwk.get().to_owned();
    }
    let crv = match alg {
        Algorithm::ES256 => "P-256",
        Algorithm::ES384 => "P-384",
        _ => panic!("only the ECDSA files have groups without a JWK"),
    };
    let point = hex(group
        .public_key
        .as_ref()
        .and_then(|k| k.uncompressed.as_deref())
        .expect("an ECDSA group without a JWK has publicKey.uncompressed"));
    assert_eq!(point.first(), Some(&0x04), "uncompressed point");
    let (x, y) = point[1..].split_at((point.len() - 1) / 2);
    serde_json::json!({
        "kty": "EC",
        "crv": crv,
        "x": BASE64URL.encode_to_string(x),
        "y": BASE64URL.encode_to_string(y),
    })
    .to_string()
}

/// Runs one raw signature file: each group's key through `parse_jwk` with only the file's
/// algorithm allowed, each test through `VerifyingKey::verify`.
fn raw_signature_file(name: &str, alg: Algorithm) {
    let file: WycheproofFile<SigGroup> = load(&format!("wycheproof/{name}"));
    let mut tally = Tally::new(name, file.number_of_tests);
    let mut built_keys = 0;

    for group in &file.test_groups {
        if group.public_key_jwk.is_none() {
            built_keys += group.tests.len();
        }
        let key = match parse_jwk(&group_jwk(group, alg), &[alg], RulesAt::default()) {
            Ok(key) => key,
            Err(problem) => {
                // A refused key rejects its whole group: invalid tests count as rejected,
                // valid ones would be divergences, and none are expected.
                for case in &group.tests {
                    tally.refused_by(format!("key refused: {}", reason_of(&problem.to_string())));
                    tally.compare(
                        format!("tcId {}", case.tc_id),
                        case.result,
                        false,
                        &problem.to_string(),
                    );
                }
                continue;
            }
        };
        for case in &group.tests {
            let verified = key.verify(&hex(&case.msg), &hex(&case.sig));
            if !verified {
                tally.refused_by("signature does not verify");
            }
            tally.compare(
                format!("tcId {}", case.tc_id),
                case.result,
                verified,
                &case.comment,
            );
        }
    }
    if built_keys > 0 {
        tally.notes.push(format!(
            "{built_keys} tests have no JWK in the file; their key was built from publicKey.uncompressed"
        ));
    }
    tally.finish();
}

#[test]
fn wycheproof_rsa_pkcs1_sha256() {
    raw_signature_file("rsa_signature_2048_sha256_test.json", Algorithm::RS256);
}

#[test]
fn wycheproof_rsa_pkcs1_sha384() {
    raw_signature_file("rsa_signature_2048_sha384_test.json", Algorithm::RS384);
}

#[test]
fn wycheproof_rsa_pkcs1_sha512() {
    raw_signature_file("rsa_signature_2048_sha512_test.json", Algorithm::RS512);
}

#[test]
fn wycheproof_rsa_pss_sha256() {
    raw_signature_file("rsa_pss_2048_sha256_mgf1_32_test.json", Algorithm::PS256);
}

#[test]
fn wycheproof_ecdsa_p256() {
    raw_signature_file("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256);
}

#[test]
fn wycheproof_ecdsa_p384() {
    raw_signature_file("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384);
}

#[test]
fn wycheproof_ed25519() {
    raw_signature_file("ed25519_test.json", Algorithm::EdDSA);
}
