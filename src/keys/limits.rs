//! What one signature check may cost. Anyone can send a token naming any key of the issuer's
//! set, with a signature that fails, and a failed check is never cached: the costliest key the
//! set holds sets the price of every forged request. RSA verification grows with the square of
//! the modulus size and with the length of the public exponent, so large moduli and unusual
//! exponents are skipped unless the configuration admits them.

use super::{KeyProblem, VerifyingKey};

/// The exponent nearly every RSA key has (F4): 17 bits, the cheapest common one.
const F4: u32 = 65_537;

/// The RSA keys an issuer's key set may hold (see
/// [`KeyCacheSettings::max_rsa_bits`](super::KeyCacheSettings::max_rsa_bits)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyLimits {
    pub(crate) max_rsa_bits: usize,
    pub(crate) any_rsa_exponent: bool,
}

impl Default for KeyLimits {
    fn default() -> KeyLimits {
        KeyLimits {
            max_rsa_bits: 4096,
            any_rsa_exponent: false,
        }
    }
}

impl KeyLimits {
    /// Why `key` costs more than allowed, if it does.
    pub(crate) fn check(&self, key: &VerifyingKey) -> Result<(), KeyProblem> {
        let Some(size) = key.rsa_size() else {
            return Ok(());
        };
        if size.bits > self.max_rsa_bits {
            return Err(KeyProblem::new(
                key.kid(),
                format!(
                    "RSA modulus has {} bits, more than the {} allowed \
                     (KeyCacheSettings::max_rsa_bits)",
                    size.bits, self.max_rsa_bits
                ),
            ));
        }
        if size.exponent != F4 && !self.any_rsa_exponent {
            return Err(KeyProblem::new(
                key.kid(),
                "RSA public exponent is not 65537 \
                 (KeyCacheSettings::allow_any_rsa_exponent admits others)",
            ));
        }
        Ok(())
    }

    /// The keys within the limits; the others are added to `problems`.
    pub(crate) fn admit(
        &self,
        keys: Vec<VerifyingKey>,
        problems: &mut Vec<KeyProblem>,
    ) -> Vec<VerifyingKey> {
        keys.into_iter()
            .filter(|key| match self.check(key) {
                Ok(()) => true,
                Err(problem) => {
                    problems.push(problem);
                    false
                }
            })
            .collect()
    }
}
