//! `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): a short-lived JWT, signed with the
//! client's private key, that authenticates the resource server to the endpoint.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};

use crate::Algorithm;

/// A client's signing key, parsed once.
pub(crate) enum Signer {
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    /// The PKCS#8 key for `alg`; an error naming what does not fit.
    pub(crate) fn new(pkcs8: &[u8], alg: Algorithm) -> Result<Signer, String> {
        let bad = |_| {
            format!(
                "introspection: the private key is not a PKCS#8 key for {}",
                alg.name()
            )
        };
        Ok(match alg {
            Algorithm::RS256 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?,
                &signature::RSA_PKCS1_SHA256,
            ),
            Algorithm::RS384 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?,
                &signature::RSA_PKCS1_SHA384,
            ),
            Algorithm::RS512 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?,
                &signature::RSA_PKCS1_SHA512,
            ),
            Algorithm::PS256 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?,
                &signature::RSA_PSS_SHA256,
            ),
            Algorithm::PS384 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?,
                &signature::RSA_PSS_SHA384,
            ),
            Algorithm::PS512 => Signer::Rsa(
                RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?,
                &signature::RSA_PSS_SHA512,
            ),
            Algorithm::ES256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(bad)?,
            ),
            Algorithm::ES384 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8)
                    .map_err(bad)?,
            ),
            Algorithm::ES512 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P521_SHA512_FIXED_SIGNING, pkcs8)
                    .map_err(bad)?,
            ),
            Algorithm::EdDSA => Signer::Ed(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(bad)?),
        })
    }

    fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        let random = SystemRandom::new();
        match self {
            Signer::Rsa(pair, encoding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, &random, message, &mut signature)
                    .ok()?;
                Some(signature)
            }
            Signer::Ec(pair) => Some(pair.sign(&random, message).ok()?.as_ref().to_vec()),
            Signer::Ed(pair) => Some(pair.sign(message).as_ref().to_vec()),
        }
    }
}

/// A fresh client assertion for `audience` (the issuer identifier), valid for a minute;
/// `None` if the system cannot sign or draw randomness.
pub(crate) fn assertion(
    signer: &Signer,
    alg: Algorithm,
    kid: Option<&str>,
    client_id: &str,
    audience: &str,
) -> Option<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    let mut jti = [0; 16];
    SystemRandom::new().fill(&mut jti).ok()?;
    let mut header = serde_json::json!({"alg": alg.name(), "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = kid.into();
    }
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": base64_simd::URL_SAFE_NO_PAD.encode_to_string(jti),
        "iat": now,
        "exp": now + 60,
    });
    let b64 = |bytes: &[u8]| base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes);
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = signer.sign(input.as_bytes())?;
    Some(format!("{input}.{}", b64(&signature)))
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};

    use super::*;

    /// RFC 7523 §3: `iss` and `sub` are the client, `aud` the issuer, a `jti`, a short
    /// `exp`; signed with the client's key.
    #[test]
    fn assertions_are_signed_jwts_for_the_issuer() {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        let signer = Signer::new(pkcs8.as_ref(), Algorithm::ES256).unwrap();
        let jwt = assertion(
            &signer,
            Algorithm::ES256,
            Some("k1"),
            "rs-1",
            "https://as.example/",
        )
        .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], "k1");
        assert_eq!(
            (&claims["iss"], &claims["sub"]),
            (&"rs-1".into(), &"rs-1".into())
        );
        assert_eq!(claims["aud"], "https://as.example/");
        assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());
        let public =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec();
        let key = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, public);
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(key.verify(input.as_bytes(), &decode(parts[2])).is_ok());
        // Another algorithm's key is a configuration error.
        assert!(Signer::new(pkcs8.as_ref(), Algorithm::RS256).is_err());
    }
}
