//! How keys are fetched, cached and refreshed: the settings, with their defaults.

use std::time::Duration;

use super::KeyLimits;

/// How a [`Gate`](crate::Gate) fetches, caches and refreshes issuers' keys from the network
/// ([`IssuerProfile::discover`](crate::IssuerProfile::discover),
/// [`IssuerProfile::jwks_uri`](crate::IssuerProfile::jwks_uri)), and which keys it admits.
///
/// | setting | default | what it does |
/// |---|---|---|
/// | [`min_ttl`](Self::min_ttl), [`max_ttl`](Self::max_ttl) | 5 min, 24 h | bounds for the provider's `Cache-Control: max-age` |
/// | [`default_ttl`](Self::default_ttl) | 1 h | freshness when the provider sends no `max-age` |
/// | [`min_refresh_interval`](Self::min_refresh_interval) | 5 s | no refresh for a missing key starts sooner after the previous one |
/// | [`cooldown`](Self::cooldown) | 60 s | after a refresh for an unknown `kid` that found no new key, unknown `kid`s trigger no other one for this long |
/// | [`max_stale`](Self::max_stale) | none | stop using keys this long after the last successful refresh |
/// | [`connect_timeout`](Self::connect_timeout), [`request_timeout`](Self::request_timeout) | 5 s, 10 s | per request to the provider |
/// | [`max_response_size`](Self::max_response_size) | 256 KiB | larger discovery or JWKS responses are refused |
/// | [`max_keys`](Self::max_keys) | 100 | key sets with more keys are refused (configured ones too) |
/// | [`max_rsa_bits`](Self::max_rsa_bits) | 4096 | larger RSA keys are skipped (configured ones too) |
/// | [`allow_any_rsa_exponent`](Self::allow_any_rsa_exponent) | off | RSA keys whose exponent is not 65537 are skipped |
///
/// Keys are fetched on first use (or by [`Gate::warm_up`](crate::Gate::warm_up)), on the Tokio
/// runtime the request runs on. A token whose `kid` is unknown (or, where keys have no `kid`,
/// whose signature fails) triggers a refresh, shared by every request waiting for it, unless
/// another such refresh started less than `min_refresh_interval` ago; then the request waits
/// for the next one, at the end of that interval, and shares it. Routine fetches (the first
/// load, warm-up, freshness) do not count: a key the provider publishes is accepted at once,
/// or within the interval. A refresh triggered this way that brings no key for the `kid` that
/// triggered it (a made-up `kid`, say) starts the cooldown: until it ends, unknown `kid`s are
/// refused at once (401 `unknown_key`) without a fetch. So a flood of made-up `kid`s costs the
/// provider one fetch per cooldown, and a real rotation costs nothing. A signature that fails
/// under a key the set holds is `invalid_signature` (401), during an outage too; only an
/// unknown `kid` gets `keys_unavailable` (503) when the provider cannot be reached.
/// `docs/keys.md` has the whole contract.
///
/// Routine refreshes start in the background once 80% of the freshness lifetime (or half of
/// `max_stale`) has passed, so no request waits for them. A failed refresh keeps the last keys
/// that loaded (unless `max_stale` says they are too old), logs a warning, and backs off: the
/// cooldown, doubled after each further failure, up to 10 minutes. A key set with no usable key,
/// even an empty one, counts as a failed refresh.
///
/// Only `https` URLs are used, and no response that arrived over plain `http` (after a
/// redirect, say) is ever used. [`allow_http_loopback`](Self::allow_http_loopback) admits
/// `http` to loopback addresses, for tests and local identity providers.
///
/// ```
/// use std::time::Duration;
/// use tokengate::KeyCacheSettings;
///
/// let cache = KeyCacheSettings::default()
///     .cooldown(Duration::from_secs(30))
///     .max_stale(Duration::from_secs(24 * 3600));
/// # let _ = cache;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCacheSettings {
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) default_ttl: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) min_refresh_interval: Duration,
    pub(crate) max_stale: Option<Duration>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_response_size: usize,
    pub(crate) max_keys: usize,
    pub(crate) limits: KeyLimits,
    pub(crate) allow_http_loopback: bool,
}

impl Default for KeyCacheSettings {
    fn default() -> KeyCacheSettings {
        KeyCacheSettings {
            min_ttl: Duration::from_secs(5 * 60),
            max_ttl: Duration::from_secs(24 * 3600),
            default_ttl: Duration::from_secs(3600),
            cooldown: Duration::from_secs(60),
            min_refresh_interval: Duration::from_secs(5),
            max_stale: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_response_size: 256 * 1024,
            max_keys: 100,
            limits: KeyLimits::default(),
            allow_http_loopback: false,
        }
    }
}

impl KeyCacheSettings {
    /// The shortest freshness lifetime, whatever `Cache-Control` says (`no-cache` included).
    pub fn min_ttl(mut self, ttl: Duration) -> KeyCacheSettings {
        self.min_ttl = ttl;
        self
    }

    /// The longest freshness lifetime, whatever `Cache-Control` says.
    pub fn max_ttl(mut self, ttl: Duration) -> KeyCacheSettings {
        self.max_ttl = ttl;
        self
    }

    /// The freshness lifetime when the provider sends no `Cache-Control: max-age`.
    pub fn default_ttl(mut self, ttl: Duration) -> KeyCacheSettings {
        self.default_ttl = ttl;
        self
    }

    /// After a refresh triggered by an unknown `kid` that brought no key for it, how long
    /// unknown `kid`s trigger no other refresh (they are refused at once); also the first wait
    /// after a failed fetch. This bounds what a flood of made-up `kid`s costs the provider: one
    /// fetch per cooldown. At most one day.
    pub fn cooldown(mut self, cooldown: Duration) -> KeyCacheSettings {
        self.cooldown = cooldown;
        self
    }

    /// The least time between two refreshes for one issuer triggered by tokens whose key is
    /// missing (and between any fetch and a routine one): how long a key the provider has just
    /// published may go unseen after such a refresh (default 5 s; at most one hour). A request
    /// inside the interval that needs a new key waits for the refresh at its end. A
    /// [`cooldown`](Self::cooldown) shorter than this interval takes its place.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokengate::KeyCacheSettings;
    ///
    /// let cache = KeyCacheSettings::default().min_refresh_interval(Duration::from_secs(10));
    /// # let _ = cache;
    /// ```
    pub fn min_refresh_interval(mut self, interval: Duration) -> KeyCacheSettings {
        self.min_refresh_interval = interval;
        self
    }

    /// The interval in force: [`min_refresh_interval`](Self::min_refresh_interval), or the
    /// cooldown if that is shorter.
    pub(crate) fn min_interval(&self) -> Duration {
        self.min_refresh_interval.min(self.cooldown)
    }

    /// Stops using keys this long after the last successful refresh: tokens then get
    /// `keys_unavailable` (HTTP 503) until a refresh succeeds. Without it (the default), the
    /// last keys that loaded are used for as long as the provider cannot be reached.
    pub fn max_stale(mut self, age: Duration) -> KeyCacheSettings {
        self.max_stale = Some(age);
        self
    }

    /// How long to wait for a connection to the provider (only for tokengate's own HTTP client;
    /// a client given to [`GateBuilder::http_client`](crate::GateBuilder::http_client) keeps
    /// its own).
    pub fn connect_timeout(mut self, timeout: Duration) -> KeyCacheSettings {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request to the provider may take, from connecting to the end of the body.
    pub fn request_timeout(mut self, timeout: Duration) -> KeyCacheSettings {
        self.request_timeout = timeout;
        self
    }

    /// The largest discovery or JWKS response accepted, in bytes.
    pub fn max_response_size(mut self, bytes: usize) -> KeyCacheSettings {
        self.max_response_size = bytes;
        self
    }

    /// The most keys a key set may hold; a larger set is refused as a whole. It bounds the
    /// memory and the loading time of every key set, configured ones included (where a larger
    /// set is a configuration error); at most 10,000.
    pub fn max_keys(mut self, keys: usize) -> KeyCacheSettings {
        self.max_keys = keys;
        self
    }

    /// The largest RSA key admitted, in bits of the modulus (default 4096; 2048 to 8192). Larger
    /// keys are skipped, in fetched and configured key sets alike. Anyone can send a token
    /// naming any key of the set with a signature that fails, and failures are not cached, so
    /// the costliest key sets the price of every forged request: an RSA check grows with the
    /// square of the modulus size, and an 8192-bit key costs about 16 times a 2048-bit one.
    /// Raise it only for an issuer that signs with larger keys.
    ///
    /// ```
    /// use tokengate::KeyCacheSettings;
    ///
    /// let cache = KeyCacheSettings::default().max_rsa_bits(8192);
    /// # let _ = cache;
    /// ```
    pub fn max_rsa_bits(mut self, bits: usize) -> KeyCacheSettings {
        self.limits.max_rsa_bits = bits;
        self
    }

    /// Admits RSA keys whose public exponent is not 65537: any odd exponent from 3 to
    /// 2^32 - 1. By default they are skipped: an exponent of 32 bits doubles the cost of every
    /// check with the key (see [`max_rsa_bits`](Self::max_rsa_bits)), and no common provider
    /// uses another exponent.
    ///
    /// ```
    /// use tokengate::KeyCacheSettings;
    ///
    /// let cache = KeyCacheSettings::default().allow_any_rsa_exponent();
    /// # let _ = cache;
    /// ```
    pub fn allow_any_rsa_exponent(mut self) -> KeyCacheSettings {
        self.limits.any_rsa_exponent = true;
        self
    }

    /// Allows plain `http` to loopback addresses (`127.0.0.0/8`, `::1`, `localhost`), for
    /// tests and identity providers running on the same machine. Any other `http` URL stays
    /// refused.
    pub fn allow_http_loopback(mut self) -> KeyCacheSettings {
        self.allow_http_loopback = true;
        self
    }

    /// Every setting that makes no sense, one sentence each.
    pub(crate) fn problems(&self) -> Vec<String> {
        const DAY: Duration = Duration::from_secs(24 * 3600);
        let mut problems = Vec::new();
        let limits = [
            ("cooldown", self.cooldown, DAY),
            (
                "min_refresh_interval",
                self.min_refresh_interval,
                Duration::from_secs(3600),
            ),
            ("max_ttl", self.max_ttl, 30 * DAY),
            ("max_stale", self.max_stale.unwrap_or_default(), 365 * DAY),
            (
                "connect_timeout",
                self.connect_timeout,
                Duration::from_secs(300),
            ),
            (
                "request_timeout",
                self.request_timeout,
                Duration::from_secs(300),
            ),
        ];
        for (name, value, limit) in limits {
            if value > limit {
                problems.push(format!("key cache: {name} {value:?} is above {limit:?}"));
            }
        }
        if self.min_ttl.is_zero() || self.cooldown.is_zero() || self.min_refresh_interval.is_zero()
        {
            problems.push(
                "key cache: min_ttl, cooldown and min_refresh_interval must be above zero"
                    .to_owned(),
            );
        }
        if !(2048..=8192).contains(&self.limits.max_rsa_bits) {
            problems.push(format!(
                "key cache: max_rsa_bits {} is outside 2048 to 8192",
                self.limits.max_rsa_bits
            ));
        }
        if !(self.min_ttl <= self.default_ttl && self.default_ttl <= self.max_ttl) {
            problems.push(format!(
                "key cache: min_ttl {:?} <= default_ttl {:?} <= max_ttl {:?} does not hold",
                self.min_ttl, self.default_ttl, self.max_ttl
            ));
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            problems.push("key cache: timeouts must be above zero".to_owned());
        }
        if self.max_stale.is_some_and(|stale| stale < self.min_ttl) {
            problems.push("key cache: max_stale is shorter than min_ttl".to_owned());
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_response_size)
            || !(1..=10_000).contains(&self.max_keys)
        {
            problems.push(
                "key cache: max_response_size must be 1 KiB to 64 MiB and max_keys 1 to 10,000"
                    .to_owned(),
            );
        }
        problems
    }
}
