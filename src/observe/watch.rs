//! The watch for one token presented from many client addresses: a token copied off one
//! client and replayed elsewhere shows up as new addresses within its lifetime.

use std::fmt;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http::Extensions;

use super::Signal;
use crate::claims::Claims;
use crate::gate::Gate;

/// The most addresses a token may be allowed: each watched token keeps one more.
const MOST_ADDRESSES: usize = 64;

/// How long a token is watched at most, whatever its `exp`.
const LONGEST: Duration = Duration::from_secs(24 * 3600);

type AddressOf = Arc<dyn Fn(&Extensions) -> Option<IpAddr> + Send + Sync>;

/// Reports an accepted token presented from more client addresses than it should be within
/// its lifetime: the `shared_token` signal (a rate-limited WARN event and a counter; see
/// docs/observability.md). It never refuses a request.
///
/// The client address comes from the request's extensions, where the server put it: give the
/// function that reads it (axum's `ConnectInfo`, or your proxy layer's own type). Memory is
/// bounded: at most [`max_tokens`](Self::max_tokens) tokens are remembered (by a keyed hash,
/// never the token), each with at most `addresses + 1` addresses, until the token expires.
///
/// ```
/// use std::net::SocketAddr;
///
/// use axum::extract::ConnectInfo;
/// use tokengate::layer::SharedTokenWatch;
/// use tokengate::TokenLayer;
///
/// # fn layer(gate: tokengate::Gate) -> Result<(), tokengate::ConfigError> {
/// let watch = SharedTokenWatch::new(|extensions| {
///     extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
/// })
/// .addresses(3);
/// let layer = TokenLayer::builder(gate).watch_shared_tokens(watch).build()?;
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SharedTokenWatch {
    address: AddressOf,
    addresses: usize,
    max_tokens: u64,
}

impl SharedTokenWatch {
    /// Watches tokens, reading each request's client address with `address` (`None`: the
    /// request is not counted).
    pub fn new<F>(address: F) -> SharedTokenWatch
    where
        F: Fn(&Extensions) -> Option<IpAddr> + Send + Sync + 'static,
    {
        SharedTokenWatch {
            address: Arc::new(address),
            addresses: 4,
            max_tokens: 10_000,
        }
    }

    /// The most distinct addresses one token may come from before it is reported; default 4
    /// (a phone moving between networks, IPv4 and IPv6 of one client). From 1 to 64. IPv6
    /// addresses count by their /64 network, since clients rotate the rest for privacy.
    pub fn addresses(mut self, addresses: usize) -> SharedTokenWatch {
        self.addresses = addresses;
        self
    }

    /// The most tokens remembered at once; default 10,000. At least 1.
    pub fn max_tokens(mut self, max_tokens: u64) -> SharedTokenWatch {
        self.max_tokens = max_tokens;
        self
    }

    /// The problems [`TokenLayerBuilder::build`](crate::layer::TokenLayerBuilder::build)
    /// reports.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=MOST_ADDRESSES).contains(&self.addresses) {
            problems.push(format!(
                "watch_shared_tokens: addresses must be from 1 to {MOST_ADDRESSES}"
            ));
        }
        if self.max_tokens == 0 {
            problems.push("watch_shared_tokens: max_tokens must be at least 1".to_owned());
        }
        problems
    }

    pub(crate) fn build(self) -> Watch {
        Watch {
            tokens: moka::sync::Cache::builder()
                .max_capacity(self.max_tokens)
                .expire_after(Lifetime)
                .build(),
            hasher: foldhash::quality::RandomState::default(),
            settings: self,
        }
    }
}

impl fmt::Debug for SharedTokenWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTokenWatch")
            .field("addresses", &self.addresses)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

/// One watched token.
struct Sharing {
    /// Until the token expires.
    ttl: Duration,
    /// The distinct addresses seen (at most `addresses + 1`), and whether it was reported.
    seen: Mutex<(Vec<IpAddr>, bool)>,
}

struct Lifetime;

impl moka::Expiry<u64, Arc<Sharing>> for Lifetime {
    fn expire_after_create(&self, _: &u64, sharing: &Arc<Sharing>, _: Instant) -> Option<Duration> {
        Some(sharing.ttl)
    }
}

/// A layer's running watch.
pub(crate) struct Watch {
    tokens: moka::sync::Cache<u64, Arc<Sharing>>,
    hasher: foldhash::quality::RandomState,
    settings: SharedTokenWatch,
}

impl Watch {
    /// The request's client address, if the function given finds one: an IPv6 address as its
    /// /64 network (clients rotate the rest for privacy), an IPv4 one mapped into IPv6 as IPv4.
    pub(crate) fn address(&self, extensions: &Extensions) -> Option<IpAddr> {
        Some(match (self.settings.address)(extensions)? {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
            },
            v4 => v4,
        })
    }

    /// Counts the address of a request whose token was accepted.
    pub(crate) fn see(&self, token: &str, claims: &Claims, address: IpAddr, gate: &Gate) {
        let Ok(ttl) = claims.expires_at().duration_since(SystemTime::now()) else {
            return;
        };
        let key = self.hasher.hash_one(token);
        let sharing = self.tokens.get_with(key, || {
            Arc::new(Sharing {
                ttl: ttl.min(LONGEST),
                seen: Mutex::new((Vec::new(), false)),
            })
        });
        let limit = self.settings.addresses;
        let report = {
            let mut seen = sharing
                .seen
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let (addresses, reported) = &mut *seen;
            if addresses.contains(&address) || addresses.len() > limit {
                false
            } else {
                addresses.push(address);
                addresses.len() > limit && !std::mem::replace(reported, true)
            }
        };
        if report {
            gate.raise(Signal::SharedToken, claims);
        }
    }
}
