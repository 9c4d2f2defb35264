//! The signature algorithms tokengate verifies.

use std::fmt;

/// A JWS signature algorithm that tokengate can verify with a published public key.
///
/// Only asymmetric algorithms exist here: HMAC (`HS256`...) and `none` cannot be expressed, so
/// they can never be accepted (RFC 8725 §3.1, §3.2). Each issuer has an allowlist of these
/// ([`IssuerProfile::algorithms`](crate::IssuerProfile::algorithms)), and each key is bound to
/// exactly one of them.
///
/// ```
/// use tokengate::Algorithm;
///
/// assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::RS256));
/// // Names are case-sensitive (RFC 7515 §4.1.1): `rs256` is not an algorithm.
/// assert_eq!(Algorithm::from_name("rs256"), None);
/// assert_eq!(Algorithm::from_name("HS256"), None);
/// assert_eq!(Algorithm::ES256.name(), "ES256");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 and a 32-byte salt.
    PS256,
    /// RSASSA-PSS with SHA-384 and a 48-byte salt.
    PS384,
    /// RSASSA-PSS with SHA-512 and a 64-byte salt.
    PS512,
    /// ECDSA on P-256 with SHA-256 (64-byte `R || S` signatures).
    ES256,
    /// ECDSA on P-384 with SHA-384 (96-byte `R || S` signatures).
    ES384,
    /// ECDSA on P-521 with SHA-512 (132-byte `R || S` signatures).
    ES512,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDSA,
}

/// The kind of key an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    Rsa,
    /// An EC key on the curve with this JWK `crv` name.
    Ec(&'static str),
    /// An OKP key on the curve with this JWK `crv` name.
    Okp(&'static str),
}

impl Algorithm {
    /// Every supported algorithm, in the order of RFC 7518's registry. A slice, so that adding
    /// an algorithm is not a breaking change.
    pub const ALL: &'static [Algorithm] = &[
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ];

    /// The registered JWA name, as it appears in a JOSE header's `alg`.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Looks up an algorithm by its exact, case-sensitive JWA name.
    ///
    /// Returns `None` for unknown names and for algorithms tokengate refuses by design
    /// (`none`, `HS256`, `HS384`, `HS512`).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .iter()
            .copied()
            .find(|alg| alg.name() == name)
    }

    pub(crate) const fn family(self) -> KeyFamily {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::Ec("P-256"),
            Algorithm::ES384 => KeyFamily::Ec("P-384"),
            Algorithm::ES512 => KeyFamily::Ec("P-521"),
            Algorithm::EdDSA => KeyFamily::Okp("Ed25519"),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
    }

    #[test]
    fn refused_names_do_not_parse() {
        for name in [
            "none", "None", "NONE", "HS256", "HS384", "HS512", "rs256", "RS256 ", "",
        ] {
            assert_eq!(Algorithm::from_name(name), None, "{name:?}");
        }
    }
}
