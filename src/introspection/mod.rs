//! Opaque access tokens (RFC 7662 introspection): the settings ([`Introspection`]), one call
//! to the endpoint (`client`, `assertion`), and an issuer's introspector, which caches answers
//! by a hash of the token, shares one call among concurrent requests for a token, and bounds
//! the calls in flight.

mod assertion;
mod client;
mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Url;
use tokio::sync::{OnceCell, Semaphore};

use client::Caller;
pub(crate) use client::{Answer, CallError, Reply, read};
pub use settings::Introspection;

use crate::claims::Claims;
use crate::error::Rejection;
use crate::keys::Fetcher;

/// A SHA-256 of a token: how answers are found, so that no token is kept in memory.
pub(crate) type TokenHash = [u8; 32];

pub(crate) fn token_hash(token: &str) -> TokenHash {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut hash = [0; 32];
    hash.copy_from_slice(digest.as_ref());
    hash
}

/// A judged answer, and until when (seconds since the epoch) it may be reused.
#[derive(Clone)]
pub(crate) struct Judged {
    pub(crate) outcome: Result<Arc<Claims>, Rejection>,
    pub(crate) until: f64,
    /// How long from now that is: when the cache lets it go.
    pub(crate) ttl: Duration,
}

/// Each answer's own time to live.
struct Lifetime;

impl moka::Expiry<TokenHash, Judged> for Lifetime {
    fn expire_after_create(&self, _: &TokenHash, judged: &Judged, _: Instant) -> Option<Duration> {
        Some(judged.ttl)
    }
}

/// Why no answer could be had: the request gets `503`.
#[derive(Clone, Debug)]
pub(crate) struct Unavailable;

type Flight = Arc<OnceCell<Result<Judged, Unavailable>>>;

/// One issuer's introspection: configuration, answers, calls in flight.
pub(crate) struct Introspector {
    caller: Caller,
    /// The endpoint as configured, or found in the issuer's metadata, on first use.
    endpoint: OnceCell<Url>,
    /// Where the issuer's metadata is, when the endpoint is not configured.
    metadata_url: Option<String>,
    fetcher: Arc<Fetcher>,
    issuer: String,
    answers: moka::sync::Cache<TokenHash, Judged, foldhash::fast::RandomState>,
    flights: Mutex<HashMap<TokenHash, Flight, foldhash::fast::RandomState>>,
    permits: Semaphore,
    /// The ERROR for refused credentials, once a minute per issuer.
    refused_log: crate::diagnostic::RateLimit,
}

impl Introspector {
    /// Compiles `settings` for `issuer`; problems are appended.
    pub(crate) fn new(
        issuer: &str,
        settings: &Introspection,
        fetcher: Option<&Arc<Fetcher>>,
        problems: &mut Vec<String>,
    ) -> Option<Introspector> {
        let before = problems.len();
        problems.extend(settings.problems());
        let endpoint = OnceCell::new();
        if let (Some(url), Some(fetcher)) = (&settings.endpoint, fetcher) {
            match fetcher.url(url) {
                Ok(url) => {
                    let _ = endpoint.set(url);
                }
                Err(error) => problems.push(format!("introspection endpoint: {error}")),
            }
        }
        let caller = match Caller::new(settings.clone()) {
            Ok(caller) => Some(caller),
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        if problems.len() > before {
            return None;
        }
        let metadata_url = settings.endpoint.is_none().then(|| {
            format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            )
        });
        Some(Introspector {
            caller: caller?,
            endpoint,
            metadata_url,
            fetcher: Arc::clone(fetcher?),
            issuer: issuer.to_owned(),
            answers: moka::sync::Cache::builder()
                .max_capacity(settings.max_entries)
                .initial_capacity(16)
                // Each answer leaves when it stops being usable: a refusal after seconds, so
                // that a flood of made-up tokens does not hold the room of good answers.
                .expire_after(Lifetime)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            flights: Mutex::default(),
            permits: Semaphore::new(settings.max_concurrency),
            refused_log: crate::diagnostic::RateLimit::new(),
        })
    }

    /// How many tokens have calls in flight.
    #[cfg(test)]
    pub(crate) fn flights(&self) -> usize {
        self.flights.lock().map_or(0, |flights| flights.len())
    }

    pub(crate) fn settings(&self) -> &Introspection {
        &self.caller.settings
    }

    /// Whether this issuer takes this opaque token.
    pub(crate) fn takes_opaque(&self, token: &str) -> bool {
        let settings = self.settings();
        settings.opaque
            && settings
                .token_prefix
                .as_deref()
                .is_none_or(|prefix| token.starts_with(prefix))
    }

    /// A reusable answer for this token at `now`, if one is cached.
    pub(crate) fn cached(&self, hash: &TokenHash, now: f64) -> Option<Judged> {
        let hit = self.answers.get(hash).filter(|judged| now < judged.until);
        crate::observe::introspection_cache(hit.is_some());
        hit
    }

    /// The answer for `token`: one call shared by every concurrent request for it, within the
    /// concurrency bound and the timeout. `judge` turns an answer into claims or a refusal
    /// (or finds that a signed answer cannot be trusted).
    pub(crate) async fn answer(
        &self,
        token: &str,
        hash: TokenHash,
        judge: impl FnOnce(Reply) -> Result<Judged, Unavailable>,
    ) -> Result<Judged, Unavailable> {
        let flight = {
            let mut flights = self.flights.lock().map_err(|_| Unavailable)?;
            Arc::clone(flights.entry(hash).or_default())
        };
        // Whatever ends this request (an answer, or the client going away), the flight leaves
        // the map once no request waits on it, so cancelled requests leave nothing behind. The
        // guard holds this request's only reference.
        let leave = Leave {
            flights: &self.flights,
            hash,
            flight: Some(flight),
        };
        let Some(flight) = &leave.flight else {
            return Err(Unavailable);
        };
        let result = flight
            .get_or_init(|| async {
                let started = Instant::now();
                let judged = self.call(token).await.and_then(judge);
                let result = match &judged {
                    Ok(Judged { outcome: Ok(_), .. }) => "active",
                    Ok(_) => "inactive",
                    Err(Unavailable) => "error",
                };
                crate::observe::introspection(&self.issuer, result, started.elapsed());
                if let Ok(judged) = &judged {
                    self.answers.insert(hash, judged.clone());
                }
                judged
            })
            .await
            .clone();
        drop(leave);
        result
    }

    /// One call, within the concurrency bound and the timeout (waiting for a turn, finding
    /// the endpoint and the call itself, all together).
    async fn call(&self, token: &str) -> Result<Reply, Unavailable> {
        let timeout = self.settings().timeout;
        let start = Instant::now();
        let called = tokio::time::timeout(timeout, async {
            let Ok(_permit) = self.permits.acquire().await else {
                return Err(Unavailable);
            };
            let endpoint = self.endpoint().await?;
            let left = timeout
                .saturating_sub(start.elapsed())
                .max(Duration::from_millis(1));
            self.caller
                .call(&self.fetcher, endpoint, &self.issuer, token, left)
                .await
                .map_err(|error| self.report(error))
        })
        .await;
        called.unwrap_or_else(|_| {
            crate::diagnostic::hint!(
                issuer = %self.issuer,
                "introspection timed out (calls at their limit, or the endpoint slow); requests get 503"
            );
            Err(Unavailable)
        })
    }

    fn report(&self, error: CallError) -> Unavailable {
        match error {
            CallError::Refused(status) => {
                // An ERROR, but once a minute per issuer: with a flood of tokens it would be
                // one a call, and one issuer's must not hide another's.
                if self.refused_log.allow(crate::diagnostic::HINT_INTERVAL) {
                    tracing::error!(
                        issuer = %self.issuer,
                        status,
                        "the introspection endpoint refused our client credentials: check the \
                         introspection settings"
                    );
                }
            }
            CallError::Unavailable(reason) => {
                crate::diagnostic::hint!(issuer = %self.issuer, %reason, "introspection failed");
            }
        }
        Unavailable
    }

    /// The endpoint, from the configuration or the issuer's metadata.
    async fn endpoint(&self) -> Result<&Url, Unavailable> {
        let fetcher = &*self.fetcher;
        self.endpoint
            .get_or_try_init(|| async {
                let metadata = self.metadata_url.as_deref().ok_or(Unavailable)?;
                let url = fetcher.url(metadata).map_err(|_| Unavailable)?;
                let body = fetcher.document(&url).await.map_err(|error| {
                    crate::diagnostic::hint!(issuer = %self.issuer, %error, "introspection: no metadata");
                    Unavailable
                })?;
                let document: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
                    crate::diagnostic::hint!(issuer = %self.issuer, "introspection: the metadata is not JSON");
                    Unavailable
                })?;
                if document["issuer"] != self.issuer.as_str() {
                    crate::diagnostic::hint!(
                        issuer = %self.issuer,
                        "introspection: the metadata names another issuer; it is not used"
                    );
                    return Err(Unavailable);
                }
                let endpoint = document["introspection_endpoint"].as_str().ok_or_else(|| {
                    crate::diagnostic::hint!(
                        issuer = %self.issuer,
                        "introspection: the metadata names no introspection_endpoint; configure one"
                    );
                    Unavailable
                })?;
                fetcher.url(endpoint).map_err(|error| {
                    crate::diagnostic::hint!(issuer = %self.issuer, %error, "introspection: endpoint refused");
                    Unavailable
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests;

/// Takes a flight out of the map when its last waiting request is done with it. The request's
/// own reference is given up under the lock, where every other one is taken, so that of two
/// requests finishing at once exactly one sees that nobody else waits.
struct Leave<'a> {
    flights: &'a Mutex<HashMap<TokenHash, Flight, foldhash::fast::RandomState>>,
    hash: TokenHash,
    /// This request's reference.
    flight: Option<Flight>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let Some(flight) = self.flight.take() else {
            return;
        };
        let Ok(mut flights) = self.flights.lock() else {
            return;
        };
        // The map's reference and this one: nobody else waits.
        if flights
            .get(&self.hash)
            .is_some_and(|current| Arc::ptr_eq(current, &flight))
            && Arc::strong_count(&flight) == 2
        {
            flights.remove(&self.hash);
        }
        drop(flight);
        drop(flights);
    }
}
