//! Public keys given as PEM (SubjectPublicKeyInfo, or PKCS#1 for RSA).

use aws_lc_rs::rsa::PublicKey as RsaPublicKey;
use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};

use super::VerifyingKey;
use super::jwk::{ed25519_key, rsa_key};
use super::key::curve_verification;
use crate::Algorithm;
use crate::algorithm::KeyFamily;
use crate::jws::MAX_KID_LEN;

/// Loads a PEM public key for exactly `alg`. Private keys and certificates are refused: a
/// resource server needs, and should hold, only the public key.
pub(crate) fn parse_pem(
    text: &str,
    alg: Algorithm,
    kid: Option<&str>,
) -> Result<VerifyingKey, String> {
    if kid.is_some_and(|k| k.len() > MAX_KID_LEN) {
        return Err("kid is longer than 256 bytes".into());
    }
    let blocks = pem::parse_many(text).map_err(|_| "not a PEM block".to_owned())?;
    // One key per entry: a bundle could hide a private key or a second key behind the first.
    let [block] = blocks.as_slice() else {
        return Err(match blocks.len() {
            0 => "not a PEM block".to_owned(),
            n => format!("{n} PEM blocks; give exactly one public key"),
        });
    };
    let der = block.contents();
    let key = match (block.tag(), alg.family()) {
        ("PUBLIC KEY" | "RSA PUBLIC KEY", KeyFamily::Rsa) => {
            let public =
                RsaPublicKey::from_der(der).map_err(|_| "not an RSA public key".to_owned())?;
            let parts = RsaPublicKeyComponents::<Vec<u8>>::from(&public);
            let (key, size) = rsa_key(&parts.n, &parts.e, alg)?;
            return Ok(VerifyingKey::new(kid.map(Box::from), alg, key, None).with_rsa_size(size));
        }
        ("PUBLIC KEY", KeyFamily::Okp(_)) => {
            // An Ed25519 SubjectPublicKeyInfo is this fixed prefix and the 32-byte key, which
            // gets the same checks as a JWK's `x`.
            const ED25519_SPKI: [u8; 12] = [
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            let raw = der
                .strip_prefix(&ED25519_SPKI[..])
                .ok_or_else(|| format!("not a public key for {alg} (wrong key type or curve)"))?;
            ed25519_key(raw)?
        }
        ("PUBLIC KEY", KeyFamily::Ec(_)) => {
            let params = curve_verification(alg).ok_or("not an EC algorithm")?;
            ParsedPublicKey::new(params, der)
                .map_err(|_| format!("not a public key for {alg} (wrong key type or curve)"))?
        }
        ("RSA PUBLIC KEY", _) => return Err(format!("an RSA key cannot be used with {alg}")),
        (tag, _) if tag.contains("PRIVATE") => {
            return Err("this is a private key; configure the public key only".into());
        }
        (tag, _) => return Err(format!("PEM label {tag:?} is not a public key")),
    };
    Ok(VerifyingKey::new(kid.map(Box::from), alg, key, None))
}
