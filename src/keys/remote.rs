//! Keys fetched from the network: one refresh at a time per issuer, at most one per cooldown,
//! last known good kept on failure, routine refreshes ahead of expiry in the background.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use reqwest::Url;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::fetch::{FetchError, Fetched, Fetcher};
use super::{KeySet, KeyStatus, parse_jwks};
use crate::Algorithm;

/// Where an issuer's keys come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// OpenID Connect discovery (or RFC 8414) from the issuer identifier.
    Discover,
    JwksUri(Url),
}

/// The longest wait between failed fetches.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// A routine refresh starts once this share of the freshness lifetime has passed.
const REFRESH_AHEAD: f64 = 0.8;

/// "Never", for the atomic deadlines.
const NEVER: u64 = u64::MAX;

/// What a request that found no key for its token learns.
pub(crate) enum Miss {
    /// A refresh ran; here is the set it left.
    Refreshed(Arc<KeySet>),
    /// No refresh was allowed (cooldown or backoff), and the keys we have are usable.
    Unchanged,
    /// There are no usable keys: none ever loaded, or too stale.
    Unavailable { retry_after: Duration },
}

#[derive(Debug)]
struct State {
    loaded_at: Option<Instant>,
    last_ok: Option<bool>,
    last_error: Option<String>,
    /// No fetch starts before this: the cooldown after each start, the backoff after failures.
    next_attempt: Instant,
    failures: u32,
    etag: Option<String>,
    /// From discovery, with when it was found.
    jwks_uri: Option<(Url, Instant)>,
    in_flight: Option<watch::Receiver<bool>>,
}

/// An issuer's keys from the network.
#[derive(Debug)]
pub(crate) struct Remote {
    issuer: String,
    source: Source,
    allowed: Vec<Algorithm>,
    fetcher: Arc<Fetcher>,
    keys: ArcSwap<KeySet>,
    epoch: Instant,
    /// Milliseconds after `epoch` when a routine refresh is due; `NEVER` while one runs or
    /// before the first load.
    refresh_at: AtomicU64,
    /// Milliseconds after `epoch` before which the keys may be used: 0 before the first load,
    /// `NEVER` without `max_stale`.
    usable_until: AtomicU64,
    state: Mutex<State>,
}

/// A successful fetch.
enum Loaded {
    New {
        set: KeySet,
        ttl: Duration,
        etag: Option<String>,
    },
    Same {
        ttl: Duration,
    },
}

impl Remote {
    pub(crate) fn new(
        issuer: String,
        source: Source,
        allowed: Vec<Algorithm>,
        fetcher: Arc<Fetcher>,
    ) -> Remote {
        let epoch = Instant::now();
        Remote {
            issuer,
            source,
            allowed,
            fetcher,
            keys: ArcSwap::from_pointee(KeySet::default()),
            epoch,
            refresh_at: AtomicU64::new(NEVER),
            usable_until: AtomicU64::new(0),
            state: Mutex::new(State {
                loaded_at: None,
                last_ok: None,
                last_error: None,
                next_attempt: epoch,
                failures: 0,
                etag: None,
                jwks_uri: None,
                in_flight: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every step, so a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(NEVER - 1)
    }

    /// Runs `f` on the current keys (an empty set if they are too stale to use), and starts a
    /// routine refresh in the background when one is due. Lock-free, no I/O.
    pub(crate) fn with_current<R>(self: &Arc<Self>, f: impl FnOnce(&KeySet) -> R) -> R {
        let now = self.millis(Instant::now());
        if now >= self.refresh_at.load(Ordering::Relaxed) {
            self.start_background();
        }
        if now >= self.usable_until.load(Ordering::Relaxed) {
            return f(&KeySet::default());
        }
        f(&self.keys.load())
    }

    fn usable(&self) -> bool {
        self.millis(Instant::now()) < self.usable_until.load(Ordering::Relaxed)
    }

    fn start_background(self: &Arc<Self>) {
        let Ok(runtime) = Handle::try_current() else {
            return;
        };
        let mut state = self.lock();
        if state.in_flight.is_none() && Instant::now() >= state.next_attempt {
            self.begin(&mut state, &runtime);
        }
    }

    /// Starts a fetch in its own task, so that no caller's cancellation stops it.
    fn begin(self: &Arc<Self>, state: &mut State, runtime: &Handle) -> watch::Receiver<bool> {
        let (done, waiting) = watch::channel(false);
        state.in_flight = Some(waiting.clone());
        state.next_attempt = Instant::now() + self.fetcher.settings.cooldown;
        self.refresh_at.store(NEVER, Ordering::Relaxed);
        runtime.spawn(Arc::clone(self).refresh(done));
        waiting
    }

    async fn refresh(self: Arc<Self>, done: watch::Sender<bool>) {
        /// Clears `in_flight` and wakes the waiters however the fetch ends.
        struct Finish<'a>(&'a Remote, watch::Sender<bool>);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.lock().in_flight = None;
                // Nobody waiting is fine.
                let _ = self.1.send(true);
            }
        }
        let finish = Finish(&self, done);
        let outcome = self.fetch().await;
        self.record(outcome);
        drop(finish);
    }

    async fn fetch(&self) -> Result<Loaded, FetchError> {
        let (etag, known_uri) = {
            let state = self.lock();
            let rediscover = state.failures > 0
                || state
                    .jwks_uri
                    .as_ref()
                    .is_none_or(|(_, found)| found.elapsed() > self.fetcher.settings.max_ttl);
            let known = if rediscover {
                None
            } else {
                state.jwks_uri.as_ref().map(|(url, _)| url.clone())
            };
            (state.etag.clone(), known)
        };
        let url = match (&self.source, known_uri) {
            (Source::JwksUri(url), _) => url.clone(),
            (Source::Discover, Some(url)) => url,
            (Source::Discover, None) => {
                let url = self.fetcher.discover(&self.issuer).await?;
                self.lock().jwks_uri = Some((url.clone(), Instant::now()));
                url
            }
        };
        match self.fetcher.jwks(&url, etag.as_deref()).await? {
            Fetched::NotModified { ttl } => Ok(Loaded::Same { ttl }),
            Fetched::Body { body, ttl, etag } => {
                let text = std::str::from_utf8(&body)
                    .map_err(|_| FetchError::Malformed("the key set is not UTF-8".to_owned()))?;
                let (keys, mut skipped) =
                    parse_jwks(text, &self.allowed, self.fetcher.settings.max_keys)
                        .map_err(FetchError::Malformed)?;
                let (set, shared) = KeySet::new(keys);
                skipped.extend(shared);
                if set.len() == 0 {
                    let reasons: Vec<String> = skipped.iter().map(ToString::to_string).collect();
                    return Err(FetchError::Malformed(format!(
                        "no usable key ({})",
                        reasons.join("; ")
                    )));
                }
                for problem in &skipped {
                    tracing::warn!(issuer = %self.issuer, %problem, "tokengate: key skipped");
                }
                Ok(Loaded::New { set, ttl, etag })
            }
        }
    }

    fn record(&self, outcome: Result<Loaded, FetchError>) {
        let now = Instant::now();
        let settings = &self.fetcher.settings;
        let mut state = self.lock();
        let ttl = match outcome {
            Ok(Loaded::New { set, ttl, etag }) => {
                self.keys.store(Arc::new(set));
                state.etag = etag;
                ttl
            }
            Ok(Loaded::Same { ttl }) => ttl,
            Err(error) => {
                state.failures += 1;
                let doublings = state.failures.saturating_sub(1).min(16);
                let backoff = settings
                    .cooldown
                    .saturating_mul(1 << doublings)
                    .min(MAX_BACKOFF)
                    .max(settings.cooldown);
                state.next_attempt = now + backoff;
                state.last_ok = Some(false);
                if matches!(error, FetchError::IssuerMismatch { .. }) {
                    tracing::error!(issuer = %self.issuer, %error, "tokengate: discovery refused");
                } else {
                    tracing::warn!(
                        issuer = %self.issuer,
                        %error,
                        retry_in = ?backoff,
                        keeping_last_keys = state.loaded_at.is_some(),
                        "tokengate: key refresh failed"
                    );
                }
                state.last_error = Some(error.to_string());
                if state.loaded_at.is_some() {
                    self.refresh_at
                        .store(self.millis(state.next_attempt), Ordering::Relaxed);
                }
                return;
            }
        };
        state.loaded_at = Some(now);
        state.last_ok = Some(true);
        state.last_error = None;
        state.failures = 0;
        self.refresh_at.store(
            self.millis(now + ttl.mul_f64(REFRESH_AHEAD)),
            Ordering::Relaxed,
        );
        let until = settings
            .max_stale
            .map_or(NEVER, |stale| self.millis(now + stale));
        self.usable_until.store(until, Ordering::Relaxed);
    }

    /// For a request that found no key: joins the refresh in flight, or starts one if the
    /// cooldown allows, and says what came of it.
    pub(crate) async fn after_miss(self: &Arc<Self>) -> Miss {
        let waiting = {
            let mut state = self.lock();
            match (&state.in_flight, Handle::try_current()) {
                (Some(waiting), _) => Some(waiting.clone()),
                (None, Ok(runtime)) if Instant::now() >= state.next_attempt => {
                    Some(self.begin(&mut state, &runtime))
                }
                _ => None,
            }
        };
        let refreshed = waiting.is_some();
        if let Some(mut waiting) = waiting {
            // An error means the fetch task is gone; what it left is all there is.
            let _ = waiting.wait_for(|done| *done).await;
        }
        if !self.usable() {
            let wait = self
                .lock()
                .next_attempt
                .saturating_duration_since(Instant::now());
            return Miss::Unavailable {
                retry_after: Duration::from_secs(wait.as_secs().max(1)),
            };
        }
        if refreshed {
            Miss::Refreshed(self.keys.load_full())
        } else {
            Miss::Unchanged
        }
    }

    /// Loads the keys now unless usable ones are loaded; ignores the backoff, not a fetch in
    /// flight.
    pub(crate) async fn warm_up(self: &Arc<Self>) -> Result<(), String> {
        if self.usable() {
            return Ok(());
        }
        let waiting = {
            let mut state = self.lock();
            let runtime = Handle::try_current()
                .map_err(|_| "no Tokio runtime to fetch keys on".to_owned())?;
            match &state.in_flight {
                Some(waiting) => waiting.clone(),
                None => self.begin(&mut state, &runtime),
            }
        };
        let mut waiting = waiting;
        let _ = waiting.wait_for(|done| *done).await;
        if self.usable() {
            Ok(())
        } else {
            Err(self
                .lock()
                .last_error
                .clone()
                .unwrap_or_else(|| "keys not loaded".to_owned()))
        }
    }

    pub(crate) fn status(&self) -> KeyStatus {
        let state = self.lock();
        KeyStatus {
            issuer: self.issuer.clone(),
            remote: true,
            keys: self.keys.load().len(),
            usable: self.usable(),
            last_refresh: state
                .loaded_at
                .and_then(|at| SystemTime::now().checked_sub(at.elapsed())),
            last_refresh_ok: state.last_ok,
            last_error: state.last_error.clone(),
        }
    }
}
