//! Server nonces (RFC 9449 §9), kept stateless: the nonce of each period is an HMAC of the
//! period's number under a secret, so instances sharing the secret agree without talking, and
//! nothing is stored per client.

use std::time::Duration;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The nonces of a gate: one per period of `rotation`.
pub(crate) struct Nonces {
    key: hmac::Key,
    /// Seconds.
    rotation: f64,
}

impl Nonces {
    /// The nonces of a secret, or of a random one; an error if there is no randomness (a
    /// predictable key would make nonces predictable).
    pub(crate) fn new(rotation: Duration, secret: Option<[u8; 32]>) -> Result<Nonces, String> {
        let secret = match secret {
            Some(secret) => secret,
            None => {
                let mut bytes = [0; 32];
                SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| "dpop: no system randomness for the nonce secret".to_owned())?;
                bytes
            }
        };
        Ok(Nonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            rotation: rotation.as_secs_f64(),
        })
    }

    fn period(&self, now: f64) -> u64 {
        (now / self.rotation).max(0.0) as u64
    }

    fn nonce_of(&self, period: u64) -> String {
        let tag = hmac::sign(&self.key, &period.to_be_bytes());
        // 128 bits: unguessable, and short on the wire.
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(&tag.as_ref()[..16])
    }

    /// The nonce to hand out at `now` (seconds since the epoch).
    pub(crate) fn current(&self, now: f64) -> String {
        self.nonce_of(self.period(now))
    }

    /// Whether `nonce` is the current one or the previous period's.
    pub(crate) fn accepts(&self, nonce: &str, now: f64) -> bool {
        let period = self.period(now);
        nonce == self.nonce_of(period)
            || period
                .checked_sub(1)
                .is_some_and(|previous| nonce == self.nonce_of(previous))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_rotate_and_the_previous_one_stays_valid() {
        let nonces = Nonces::new(Duration::from_secs(60), Some([7; 32])).unwrap();
        let first = nonces.current(1_000_000.0);
        assert_eq!(first.len(), 22);
        assert!(nonces.accepts(&first, 1_000_000.0));
        assert!(nonces.accepts(&first, 1_000_060.0), "previous period");
        assert!(!nonces.accepts(&first, 1_000_120.0), "two periods on");
        assert_ne!(nonces.current(1_000_060.0), first);
        assert!(!nonces.accepts("", 1_000_000.0));
    }

    #[test]
    fn instances_sharing_a_secret_agree_and_others_do_not() {
        let a = Nonces::new(Duration::from_secs(60), Some([1; 32])).unwrap();
        let b = Nonces::new(Duration::from_secs(60), Some([1; 32])).unwrap();
        let c = Nonces::new(Duration::from_secs(60), None).unwrap();
        let nonce = a.current(5_000.0);
        assert!(b.accepts(&nonce, 5_000.0));
        assert!(!c.accepts(&nonce, 5_000.0));
    }
}
