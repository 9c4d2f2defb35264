//! Cheap checks of an RSA modulus that make forgery easy for anyone: small prime factors (a
//! placeholder like 2^2048 - 1 factors at once), and the ROCA fingerprint.
//!
//! ROCA (CVE-2017-15361): the Infineon RSALib's primes have the form `k * M + (65537^a mod M)` where `M` is the product of the first
//! 126 primes for keys of 1984 bits and more, so the modulus `N` lies, modulo each prime `p`
//! up to 701, in the subgroup that 65537 generates in `Z_p*`. Infineon keys always pass this
//! test; a random modulus passes with probability about 2^-167 (computed in the tests). The
//! keys are factorable, so a key set that publishes one is refused (Wycheproof
//! `json_web_key_test.json` tcId 7). Smaller keys are refused for their size before this runs.

use std::sync::OnceLock;

/// The 126th prime: `M` for keys of 1984 to 3936 bits is the product of primes up to it, and
/// larger keys' `M` includes them too.
const LARGEST_PRIME: usize = 701;

const GENERATOR: usize = 65537;

/// For each odd prime up to 701, which residues powers of 65537 reach.
fn subgroups() -> &'static [(usize, Vec<bool>)] {
    static TABLE: OnceLock<Vec<(usize, Vec<bool>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (3..=LARGEST_PRIME)
            .filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0))
            .map(|p| {
                let mut member = vec![false; p];
                let g = GENERATOR % p;
                let mut x = 1;
                while !member[x] {
                    member[x] = true;
                    x = x * g % p;
                }
                (p, member)
            })
            .collect()
    })
}

fn residue(modulus_be: &[u8], p: usize) -> usize {
    modulus_be
        .iter()
        .fold(0usize, |acc, &byte| (acc * 256 + usize::from(byte)) % p)
}

/// True if the big-endian modulus is even or has a prime factor below 702.
pub(crate) fn has_small_factor(modulus_be: &[u8]) -> bool {
    modulus_be.last().is_none_or(|b| b & 1 == 0)
        || subgroups()
            .iter()
            .any(|(p, _)| residue(modulus_be, *p) == 0)
}

/// True if the big-endian modulus carries the ROCA fingerprint.
pub(crate) fn is_roca(modulus_be: &[u8]) -> bool {
    subgroups()
        .iter()
        .all(|(p, member)| member[residue(modulus_be, *p)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_fingerprint() {
        // 65537^7 is of the fingerprinted form (k = 0, a = 7).
        let n = 65537u128.pow(7);
        assert!(is_roca(&n.to_be_bytes()));
    }

    #[test]
    fn ordinary_moduli_pass() {
        // Multiplying by 3 leaves the subgroup modulo 3: no longer the fingerprint.
        assert!(!is_roca(&(3 * 65537u128.pow(7)).to_be_bytes()));
        assert!(!is_roca(&[0xff; 256]));
    }

    #[test]
    fn small_factors() {
        assert!(
            has_small_factor(&[0xff; 256]),
            "2^2048 - 1 is divisible by 3"
        );
        assert!(has_small_factor(
            &(701u128 * 65537u128.pow(7)).to_be_bytes()
        ));
        assert!(has_small_factor(&[0x10; 256]), "even");
        assert!(!has_small_factor(&(709u128 * 719).to_be_bytes()));
    }

    #[test]
    fn false_positive_rate_is_negligible() {
        let log2: f64 = subgroups()
            .iter()
            .map(|(p, member)| {
                let size = member.iter().filter(|&&m| m).count() as f64;
                (size / (*p as f64 - 1.0)).log2()
            })
            .sum();
        assert!(
            log2 < -150.0,
            "random moduli pass with probability 2^{log2}"
        );
    }
}
