//! How keys are fetched, cached and refreshed: the settings, with their defaults.

use std::time::Duration;

/// How a [`Gate`](crate::Gate) fetches, caches and refreshes issuers' keys from the network
/// ([`IssuerProfile::discover`](crate::IssuerProfile::discover),
/// [`IssuerProfile::jwks_uri`](crate::IssuerProfile::jwks_uri)).
///
/// | setting | default | what it does |
/// |---|---|---|
/// | [`min_ttl`](Self::min_ttl), [`max_ttl`](Self::max_ttl) | 5 min, 24 h | bounds for the provider's `Cache-Control: max-age` |
/// | [`default_ttl`](Self::default_ttl) | 1 h | freshness when the provider sends no `max-age` |
/// | [`cooldown`](Self::cooldown) | 60 s | at most one fetch per issuer starts this often, however many unknown `kid`s arrive |
/// | [`max_stale`](Self::max_stale) | none | stop using keys this long after the last successful refresh |
/// | [`connect_timeout`](Self::connect_timeout), [`request_timeout`](Self::request_timeout) | 5 s, 10 s | per request to the provider |
/// | [`max_response_size`](Self::max_response_size) | 256 KiB | larger discovery or JWKS responses are refused |
/// | [`max_keys`](Self::max_keys) | 100 | key sets with more keys are refused |
///
/// Keys are fetched on first use (or by [`Gate::warm_up`](crate::Gate::warm_up)), on the Tokio
/// runtime the request runs on. A request whose `kid` is unknown, or whose signature fails,
/// triggers one refresh, shared by every request waiting for it and limited by the cooldown;
/// routine refreshes start in the background once 80% of the freshness lifetime (or half of
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
    pub(crate) max_stale: Option<Duration>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_response_size: usize,
    pub(crate) max_keys: usize,
    pub(crate) allow_http_loopback: bool,
}

impl Default for KeyCacheSettings {
    fn default() -> KeyCacheSettings {
        KeyCacheSettings {
            min_ttl: Duration::from_secs(5 * 60),
            max_ttl: Duration::from_secs(24 * 3600),
            default_ttl: Duration::from_secs(3600),
            cooldown: Duration::from_secs(60),
            max_stale: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_response_size: 256 * 1024,
            max_keys: 100,
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

    /// The least time between two fetches for one issuer, which is also the first wait after
    /// a failed fetch.
    pub fn cooldown(mut self, cooldown: Duration) -> KeyCacheSettings {
        self.cooldown = cooldown;
        self
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

    /// The most keys a key set may hold; a larger set is refused as a whole.
    pub fn max_keys(mut self, keys: usize) -> KeyCacheSettings {
        self.max_keys = keys;
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
        if self.min_ttl.is_zero() || self.cooldown.is_zero() {
            problems.push("key cache: min_ttl and cooldown must be above zero".to_owned());
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
