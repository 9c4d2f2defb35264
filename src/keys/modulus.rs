//! Cheap checks of an RSA modulus that make forgery easy for anyone: small prime factors (a
//! placeholder like 2^2048 - 1 factors at once), and the ROCA fingerprint.
//!
//! ROCA (CVE-2017-15361): the Infineon RSALib's primes have the form `k * M + (65537^a mod M)`
//! where `M` is the product of the first 126 primes for keys of 1984 bits and more, so the
//! modulus `N` lies, modulo each prime `p` up to 701, in the subgroup that 65537 generates in
//! `Z_p*`. Infineon keys always pass this test; a random modulus passes with probability about
//! 2^-167 (computed in the tests). The keys are factorable, so a key set that publishes one is
//! refused (Wycheproof `json_web_key_test.json` tcId 7). Smaller keys are refused for their
//! size before this runs.

/// The 126th prime: `M` for keys of 1984 to 3936 bits is the product of primes up to it, and
/// larger keys' `M` includes them too.
const LARGEST_PRIME: usize = 701;

const GENERATOR: usize = 65537;

/// The odd primes up to 701.
const ODD_PRIMES: usize = 125;

/// Each odd prime up to 701 with the order of 65537 modulo it: a residue `r` lies in the
/// subgroup 65537 generates exactly when `r^order = 1 (mod p)`. Computed at compile time, so
/// nothing is held on the heap for it (a table of members took 44 KiB).
const ORDERS: [(u16, u16); ODD_PRIMES] = orders();

const fn orders() -> [(u16, u16); ODD_PRIMES] {
    let mut table = [(0, 0); ODD_PRIMES];
    let (mut n, mut i) = (3, 0);
    while n <= LARGEST_PRIME {
        let mut d = 3;
        let mut prime = true;
        while d * d <= n {
            if n % d == 0 {
                prime = false;
            }
            d += 2;
        }
        if prime {
            // 65537 is a prime above 701: never 0 modulo these.
            let g = GENERATOR % n;
            let (mut x, mut order) = (g, 1);
            while x != 1 {
                x = x * g % n;
                order += 1;
            }
            table[i] = (n as u16, order as u16);
            i += 1;
        }
        n += 2;
    }
    // A short table would leave zeros, and a division by zero in `residue`.
    assert!(
        i == ODD_PRIMES,
        "ODD_PRIMES is the number of odd primes up to 701"
    );
    table
}

/// `base^exp mod p`, for `p` below 2^10.
fn pow_mod(base: usize, mut exp: usize, p: usize) -> usize {
    let (mut base, mut result) = (base % p, 1);
    while exp > 0 {
        if exp & 1 == 1 {
            result = result * base % p;
        }
        base = base * base % p;
        exp >>= 1;
    }
    result
}

/// `n mod p`, six bytes at a time: `acc < p < 2^10`, so `acc << 48 | chunk` fits in a u64. A
/// modulus of 8192 bits costs 171 reductions per prime, not 1024.
fn residue(modulus_be: &[u8], p: usize) -> usize {
    let p = p as u64;
    let fold = |acc: u64, bytes: &[u8]| {
        let chunk = bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
        ((acc << (8 * bytes.len())) | chunk) % p
    };
    let (head, rest) = modulus_be.split_at(modulus_be.len() % 6);
    rest.chunks(6).fold(fold(0, head), fold) as usize
}

/// Why a modulus is unsafe: even, a prime factor below 702, or the ROCA fingerprint. One pass
/// over the primes serves both tests.
pub(crate) fn weakness(modulus_be: &[u8]) -> Option<&'static str> {
    const SMALL_FACTOR: &str = "RSA modulus is even or has a small prime factor";
    if modulus_be.last().is_none_or(|b| b & 1 == 0) {
        return Some(SMALL_FACTOR);
    }
    let mut roca = true;
    for (p, order) in ORDERS {
        let (p, order) = (usize::from(p), usize::from(order));
        let r = residue(modulus_be, p);
        if r == 0 {
            return Some(SMALL_FACTOR);
        }
        roca &= pow_mod(r, order, p) == 1;
    }
    roca.then_some("RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residues_match_plain_arithmetic() {
        for n in [0u128, 1, 255, 65537, 709 * 719, u128::MAX, 65537u128.pow(7)] {
            let bytes = n.to_be_bytes();
            for slice in [&bytes[..], &bytes[3..], &bytes[15..]] {
                let value = slice.iter().fold(0u128, |v, &b| (v << 8) | u128::from(b));
                for p in [3usize, 5, 701] {
                    assert_eq!(
                        residue(slice, p) as u128,
                        value % p as u128,
                        "{value} mod {p}"
                    );
                }
            }
        }
    }

    #[test]
    fn detects_the_fingerprint() {
        // 65537^7 is of the fingerprinted form (k = 0, a = 7).
        let n = 65537u128.pow(7);
        assert!(weakness(&n.to_be_bytes()).is_some_and(|w| w.contains("ROCA")));
    }

    #[test]
    fn ordinary_moduli_pass() {
        // 709 is prime and above 701: multiplying by it leaves the fingerprint's subgroup.
        assert_eq!(weakness(&(709 * 65537u128.pow(7)).to_be_bytes()), None);
        assert_eq!(weakness(&(709u128 * 719).to_be_bytes()), None);
    }

    #[test]
    fn small_factors() {
        let small = |n: &[u8]| weakness(n).is_some_and(|w| w.contains("small prime factor"));
        assert!(small(&[0xff; 256]), "2^2048 - 1 is divisible by 3");
        assert!(small(&(701u128 * 65537u128.pow(7)).to_be_bytes()));
        assert!(small(&[0x10; 256]), "even");
    }

    #[test]
    fn the_order_table_matches_the_subgroups() {
        let primes: Vec<usize> = (3..=LARGEST_PRIME)
            .filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0))
            .collect();
        assert_eq!(primes.len(), ODD_PRIMES);
        for (&(p, order), &prime) in ORDERS.iter().zip(&primes) {
            let p = usize::from(p);
            assert_eq!(p, prime);
            // The members by walking the powers of 65537, against the order test.
            let mut member = vec![false; p];
            let mut x = 1;
            while !member[x] {
                member[x] = true;
                x = x * (GENERATOR % p) % p;
            }
            assert_eq!(member.iter().filter(|&&m| m).count(), usize::from(order));
            for (r, &is_member) in member.iter().enumerate().skip(1) {
                assert_eq!(
                    pow_mod(r, usize::from(order), p) == 1,
                    is_member,
                    "{r} mod {p}"
                );
            }
        }
    }

    #[test]
    fn false_positive_rate_is_negligible() {
        // The subgroup of order `order` holds that share of the nonzero residues.
        let log2: f64 = ORDERS
            .iter()
            .map(|&(p, order)| (f64::from(order) / (f64::from(p) - 1.0)).log2())
            .sum();
        assert!(
            log2 < -150.0,
            "random moduli pass with probability 2^{log2}"
        );
    }
}
