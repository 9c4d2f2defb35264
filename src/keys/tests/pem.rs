//! PEM public keys.

use aws_lc_rs::signature::KeyPair;

use super::*;
use crate::test_fixtures::{key_for, pem, rs256};

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
