//! Self-signed X.509 certificates for the stand-in's keys, made with rcgen, so that `x5c` holds
//! a real certificate and `kid` and `x5t` are its SHA-1 thumbprint, as in Entra's key sets.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SerialNumber};

use super::random_bytes;
use crate::testing::TestKey;
use crate::testing::keys::b64;

/// The subject and issuer common name of every certificate.
const COMMON_NAME: &str = "tokengate TestEntra (not a Microsoft certificate)";

/// The validity of a certificate: five years, as Entra's signing certificates have.
const VALIDITY_DAYS: i64 = 5 * 365;

/// A certificate for the RSA key `key`, in DER, and its thumbprint: base64url of the SHA-1
/// digest of the DER, which Entra uses as both `kid` and `x5t`. Signed with RS256; valid from
/// the start of yesterday (UTC) for five years.
pub(super) fn self_signed(key: &TestKey) -> (Vec<u8>, String) {
    const FAILED: &str = "rcgen failed to make a certificate";
    let pkcs8 = key.rsa_pkcs8_der().expect("TestEntra's keys are RSA keys");
    // An RSA key in PKCS#8 signs with sha256WithRSAEncryption.
    let pair = KeyPair::try_from(pkcs8.as_slice()).expect(FAILED);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, COMMON_NAME);
    params.serial_number = Some(SerialNumber::from_slice(&serial()));
    // The start (00:00 UTC) of the day of a Unix time: rcgen takes validity dates.
    let date = |unix: i64| {
        let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
        let year = i32::try_from(year).expect("a year of this era");
        // Months and days are at most 12 and 31.
        rcgen::date_time_ymd(year, month as u8, day as u8)
    };
    params.not_before = date(now - 86_400);
    params.not_after = date(now + VALIDITY_DAYS * 86_400);
    let certificate = params.self_signed(&pair).expect(FAILED).der().to_vec();
    let thumbprint = b64(digest(&SHA1_FOR_LEGACY_USE_ONLY, &certificate));
    (certificate, thumbprint)
}

/// A random, positive, 16-byte serial number.
fn serial() -> Vec<u8> {
    let mut serial = random_bytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    serial
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

    use super::*;
    use crate::Algorithm;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn the_certificate_is_signed_by_its_own_key_and_named_by_its_thumbprint() {
        let key = TestKey::generate(Algorithm::RS256, "");
        let (der, thumbprint) = self_signed(&key);
        assert_eq!(thumbprint.len(), 27);
        assert_eq!(thumbprint, b64(digest(&SHA1_FOR_LEGACY_USE_ONLY, &der)));
        let contains = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
        assert!(contains(COMMON_NAME.as_bytes()));
        let (n, _) = key.rsa_modulus_exponent();
        assert!(contains(&n));
        // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm, BIT STRING }.
        // At this size both SEQUENCEs have two-byte lengths, and the signature (the modulus
        // size) ends the certificate.
        assert_eq!((der[0], der[1], der[4], der[5]), (0x30, 0x82, 0x30, 0x82));
        let tbs_len = usize::from(u16::from_be_bytes([der[6], der[7]]));
        let tbs = &der[4..8 + tbs_len];
        let signature = &der[der.len() - n.len()..];
        let (n, e) = key.rsa_modulus_exponent();
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, tbs, signature)
            .expect("a valid self-signature");
        // Every certificate is new: its own serial number, so its own thumbprint.
        assert_ne!(self_signed(&key).1, thumbprint);
    }
}
