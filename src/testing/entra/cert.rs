//! Self-signed X.509 certificates for the stand-in's keys, encoded by hand in DER (no new
//! dependency), so that `x5c` holds a real certificate and `kid` and `x5t` are its SHA-1
//! thumbprint, as in Entra's key sets.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};

use super::random_bytes;
use crate::testing::keys::b64;

/// The subject and issuer common name of every certificate.
const COMMON_NAME: &str = "tokengate TestEntra (not a Microsoft certificate)";

/// The validity of a certificate: five years, as Entra's signing certificates have.
const VALIDITY_DAYS: i64 = 5 * 365;

/// A certificate for `pair`, in DER, and its thumbprint: base64url of the SHA-1 digest of the
/// DER, which Entra uses as both `kid` and `x5t`.
pub(super) fn self_signed(pair: &RsaKeyPair) -> (Vec<u8>, String) {
    const FAILED: &str = "aws-lc-rs failed to encode or sign a certificate";
    let spki = pair.public_key().as_der().expect(FAILED);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let name = name(COMMON_NAME);
    let tbs = sequence(&[
        // [0] EXPLICIT Version: v3.
        &tlv(0xa0, &integer(&[2])),
        &integer(&serial()),
        &sha256_with_rsa(),
        &name,
        &sequence(&[
            &utc_time(now - 86_400),
            &utc_time(now + VALIDITY_DAYS * 86_400),
        ]),
        &name,
        spki.as_ref(),
    ]);
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        &tbs,
        &mut signature,
    )
    .expect(FAILED);
    let mut bits = Vec::with_capacity(signature.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(&signature);
    let certificate = sequence(&[&tbs, &sha256_with_rsa(), &tlv(0x03, &bits)]);
    let thumbprint = b64(digest(&SHA1_FOR_LEGACY_USE_ONLY, &certificate));
    (certificate, thumbprint)
}

/// A DER tag-length-value.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian bytes.
fn integer(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes
        .iter()
        .take_while(|&&b| b == 0)
        .count()
        .min(bytes.len().saturating_sub(1));
    let bytes = &bytes[skip..];
    let mut content = Vec::with_capacity(bytes.len() + 1);
    if bytes.first().is_some_and(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(bytes);
    tlv(0x02, &content)
}

/// A random, positive, 16-byte serial number.
fn serial() -> Vec<u8> {
    let mut serial = random_bytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    serial
}

/// AlgorithmIdentifier sha256WithRSAEncryption (1.2.840.113549.1.1.11), NULL parameters.
fn sha256_with_rsa() -> Vec<u8> {
    const OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    sequence(&[&tlv(0x06, &OID), &[0x05, 0x00]])
}

/// A Name with one RDN: CN (2.5.4.3) as a UTF8String.
fn name(common_name: &str) -> Vec<u8> {
    const CN: [u8; 3] = [0x55, 0x04, 0x03];
    let attribute = sequence(&[&tlv(0x06, &CN), &tlv(0x0c, common_name.as_bytes())]);
    sequence(&[&tlv(0x31, &attribute)])
}

/// A UTCTime, `YYMMDDHHMMSSZ` (years 1950 to 2049, as RFC 5280 requires for UTCTime).
fn utc_time(unix: i64) -> Vec<u8> {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let text = format!(
        "{:02}{month:02}{day:02}{:02}{:02}{:02}Z",
        year.rem_euclid(100),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    tlv(0x17, text.as_bytes())
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
    use super::*;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(utc_time(1_718_719_680)[2..], *b"240618140800Z");
    }

    #[test]
    fn lengths_use_the_shortest_form() {
        assert_eq!(tlv(0x04, &[0; 5])[..2], [0x04, 5]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(integer(&[0, 0, 0x80]), [0x02, 2, 0, 0x80]);
        assert_eq!(integer(&[0]), [0x02, 1, 0]);
    }

    #[test]
    fn the_certificate_is_signed_by_its_own_key_and_named_by_its_thumbprint() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let (der, thumbprint) = self_signed(&pair);
        assert_eq!(thumbprint.len(), 27);
        assert_eq!(thumbprint, b64(digest(&SHA1_FOR_LEGACY_USE_ONLY, &der)));
        // Certificate ::= SEQUENCE { tbs, algorithm, BIT STRING }: take them apart again.
        let (outer, rest) = split(&der);
        assert!(rest.is_empty());
        let (tbs_content, after_tbs) = split(outer);
        let tbs = &outer[..outer.len() - after_tbs.len()];
        let (_, after_alg) = split(after_tbs);
        let (bits, end) = split(after_alg);
        assert!(end.is_empty() && bits[0] == 0);
        let spki = pair.public_key().as_der().unwrap();
        let needle = spki.as_ref();
        assert!(tbs_content.windows(needle.len()).any(|w| w == needle));
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key());
        public
            .verify(tbs, &bits[1..])
            .expect("a valid self-signature");
    }

    /// The content of the first TLV, and what follows it.
    fn split(der: &[u8]) -> (&[u8], &[u8]) {
        let (len, header) = match der[1] {
            short @ 0..0x80 => (usize::from(short), 2),
            long => {
                let n = usize::from(long & 0x7f);
                let len = der[2..2 + n]
                    .iter()
                    .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
                (len, 2 + n)
            }
        };
        (&der[header..header + len], &der[header + len..])
    }
}
