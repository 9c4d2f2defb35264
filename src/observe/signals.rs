//! Signals of suspicious use: never a refusal by themselves, only a WARN event (at most one
//! per signal per minute, saying how many were seen since the last) and a counter. Memory is
//! fixed: a few atomics per gate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::diagnostic::{HINT_INTERVAL, RateLimit, since_start};

/// Unknown `kid`s in one minute that make a burst.
pub(crate) const UNKNOWN_KEY_BURST: u64 = 10;
/// Expired tokens in one minute that make a storm.
pub(crate) const EXPIRED_STORM: u64 = 100;
/// The window bursts are counted in.
const WINDOW: Duration = Duration::from_secs(60);

/// A kind of suspicious use: its name is the `signal` label and event field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// A signature that failed under a key the issuer holds.
    ForgedSignature,
    /// `alg` `none`, an HMAC algorithm or a made-up one, or an `alg` other than its key's.
    AlgorithmConfusion,
    /// Many tokens naming a key the issuer does not have, in one minute.
    UnknownKeyBurst,
    /// Many expired tokens in one minute.
    ExpiredTokenStorm,
    /// A token not valid yet, or issued in the future, beyond the leeway.
    TokenFromFuture,
    /// One token presented from many client addresses (the layer's [`Watch`](super::Watch)).
    SharedToken,
    /// A DPoP-bound token presented as a bearer token.
    DpopTokenAsBearer,
}

const SIGNALS: usize = 7;

impl Signal {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Signal::ForgedSignature => "forged_signature",
            Signal::AlgorithmConfusion => "algorithm_confusion",
            Signal::UnknownKeyBurst => "unknown_key_burst",
            Signal::ExpiredTokenStorm => "expired_token_storm",
            Signal::TokenFromFuture => "token_from_future",
            Signal::SharedToken => "shared_token",
            Signal::DpopTokenAsBearer => "dpop_token_as_bearer",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }

    const fn message(self) -> &'static str {
        match self {
            Signal::ForgedSignature => {
                "tokengate: suspicious use: a token's signature failed under a key its issuer holds (forgery attempt?)"
            }
            Signal::AlgorithmConfusion => {
                "tokengate: suspicious use: a token with alg none, HMAC or not its key's (algorithm confusion attempt?)"
            }
            Signal::UnknownKeyBurst => {
                "tokengate: suspicious use: a burst of tokens naming keys the issuer does not have"
            }
            Signal::ExpiredTokenStorm => {
                "tokengate: suspicious use: many expired tokens (clients not refreshing, replayed tokens, or this server's clock ahead)"
            }
            Signal::TokenFromFuture => {
                "tokengate: suspicious use: a token valid only in the future (a clock off, here or at the issuer)"
            }
            Signal::SharedToken => {
                "tokengate: suspicious use: one token presented from many client addresses (stolen or shared?)"
            }
            Signal::DpopTokenAsBearer => {
                "tokengate: suspicious use: a DPoP-bound token presented as a bearer token (stolen?)"
            }
        }
    }
}

/// Counts events in one-minute windows, each opened by the first event after the last one
/// closed; approximate under races, which is all a threshold for a warning needs.
struct Burst {
    /// When the current window opened (seconds since start, plus one); 0 before any.
    opened: AtomicU64,
    count: AtomicU64,
}

impl Burst {
    const fn new() -> Burst {
        Burst {
            opened: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Adds one event; the count in the current window, this one included.
    fn add(&self) -> u64 {
        let now = since_start().as_secs() + 1;
        let opened = self.opened.load(Ordering::Relaxed);
        if (opened == 0 || now >= opened + WINDOW.as_secs())
            && self
                .opened
                .compare_exchange(opened, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.count.store(0, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A gate's signals.
pub(crate) struct Signals {
    limits: [RateLimit; SIGNALS],
    /// Events since the last WARN of each signal.
    unreported: [AtomicU64; SIGNALS],
    unknown_keys: Burst,
    expired: Burst,
}

impl Default for Signals {
    fn default() -> Signals {
        Signals {
            limits: [const { RateLimit::new() }; SIGNALS],
            unreported: [const { AtomicU64::new(0) }; SIGNALS],
            unknown_keys: Burst::new(),
            expired: Burst::new(),
        }
    }
}

impl Signals {
    /// Raises a signal: the counter, and a WARN unless one of its kind went out within a
    /// minute. `issuer` is the configured issuer the token named; `skew` the seconds its
    /// times were off (`nbf`/`iat` ahead of now, or now past `exp`).
    pub(crate) fn raise(&self, signal: Signal, issuer: Option<&str>, skew: Option<f64>) {
        super::record::signal(signal.name());
        let unreported = &self.unreported[signal.index()];
        unreported.fetch_add(1, Ordering::Relaxed);
        if !self.limits[signal.index()].allow(HINT_INTERVAL) {
            return;
        }
        let count = unreported.swap(0, Ordering::Relaxed);
        let issuer = issuer.unwrap_or("unknown");
        match skew {
            Some(skew) => tracing::warn!(
                target: "tokengate::signals",
                signal = signal.name(),
                %issuer,
                count,
                skew_seconds = skew.round() as i64,
                "{}", signal.message()
            ),
            None => tracing::warn!(
                target: "tokengate::signals",
                signal = signal.name(),
                %issuer,
                count,
                "{}", signal.message()
            ),
        }
    }

    /// A token naming a key its issuer lacks (after any refresh): a signal once a minute's
    /// count reaches [`UNKNOWN_KEY_BURST`].
    pub(crate) fn unknown_key(&self, issuer: Option<&str>) {
        if self.unknown_keys.add() == UNKNOWN_KEY_BURST {
            self.raise(Signal::UnknownKeyBurst, issuer, None);
        }
    }

    /// An expired token, `past` seconds after its `exp`: a signal once a minute's count
    /// reaches [`EXPIRED_STORM`], with the lateness of the token that reached it.
    pub(crate) fn expired(&self, issuer: Option<&str>, past: Option<f64>) {
        if self.expired.add() == EXPIRED_STORM {
            self.raise(Signal::ExpiredTokenStorm, issuer, past);
        }
    }
}
