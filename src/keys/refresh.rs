//! Keys fetched from the network: one refresh at a time per issuer, refreshes for missing keys
//! at least the minimum interval apart and limited to one fruitless one per cooldown, last
//! known good kept on failure, routine refreshes ahead of expiry in the background. The
//! request path only reads atomics and the key set: no lock, no I/O.
//!
//! Why two limits: a provider may sign with a key the moment it publishes it (Keycloak does),
//! so a token naming an unknown `kid` should trigger a refresh at once, whenever the last
//! routine fetch ran; but anyone can make up `kid`s. A refresh that finds the `kid` that
//! triggered it proved a rotation and costs nothing more; one that does not (a made-up `kid`)
//! closes the door to unknown `kid`s for a cooldown. The minimum interval spaces refreshes for
//! missing keys, so even a provider whose key set changes on every response is asked at most
//! once per interval on their account.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use reqwest::Url;
use tokio::runtime::Handle;
use tokio::sync::watch;
// Tokio's clock, which tests can pause and advance; outside tests it is the monotonic clock.
use tokio::time::Instant;

use super::http::{FetchError, Fetcher};
use super::siblings::{self, Siblings};
use super::sources::{IssuerRule, KeysAt, Source};
use super::{KeyProblem, KeyRules, KeySet, KeyStatus};
use crate::Algorithm;
use crate::observe::{self, Cause, Fetched};

/// The longest wait between failed fetches (unless the cooldown itself is longer).
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// A routine refresh starts once this share of the freshness lifetime has passed...
const REFRESH_AHEAD: f64 = 0.8;

/// ...or once this share of `max_stale` has, if that comes first.
const STALE_AHEAD: f64 = 0.5;

/// "Never", for the atomic deadlines.
const NEVER: u64 = u64::MAX;

/// Why a fetch started.
#[derive(Debug)]
pub(super) enum Trigger {
    /// The first load (whatever asked for it), or the keys' freshness running out.
    Routine,
    /// [`Gate::warm_up`](crate::Gate::warm_up).
    WarmUp,
    /// A token whose key was missing (an unknown `kid`, with that `kid`), or whose signature
    /// failed (with the `kid` of the key that failed it, if any); with the token's `alg`, since
    /// only a key of that algorithm can serve it.
    Miss {
        kid: Option<Box<str>>,
        alg: Algorithm,
    },
}

/// Waiting between failed fetches: the cooldown, doubled after each further failure, up to
/// ten minutes (or the cooldown, if that is longer).
pub(crate) fn backoff(cooldown: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    cooldown
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
        .max(cooldown)
}

/// `now + d`, or if that does not fit in an `Instant`, the farthest point that does. Fails
/// closed: a deadline that cannot be computed is never "now".
pub(super) fn later(now: Instant, d: Duration) -> Instant {
    let mut d = d;
    loop {
        if let Some(at) = now.checked_add(d) {
            return at;
        }
        // Terminates: `now + 0` always fits.
        d /= 2;
    }
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) loaded_at: Option<Instant>,
    pub(super) last_ok: Option<bool>,
    pub(super) last_error: Option<String>,
    /// No fetch starts before this: the minimum interval after each start, the backoff after
    /// failures.
    pub(super) next_attempt: Instant,
    /// No fetch for a missing key starts before this: the minimum interval after the last
    /// one. Routine fetches do not count: right after one, a new key may still be missed.
    pub(super) misses_spaced_until: Instant,
    /// No fetch for a missing key starts before this: the cooldown after one that brought
    /// nothing for the `kid` that triggered it.
    pub(super) misses_quiet_until: Instant,
    /// Whether the current suppression of refreshes has been logged.
    pub(super) said_suppressed: bool,
    /// The skipped keys of the last key set loaded, as logged: each is logged once, not on
    /// every fetch, and again only if it leaves the set and comes back.
    pub(super) reported: HashSet<String>,
    /// Keys the last key set loaded skipped until the issuer's configuration changes; warm-up
    /// reports them.
    pub(super) unconfigured: Vec<String>,
    pub(super) failures: u32,
    pub(super) etag: Option<String>,
    /// The freshness lifetime of the keys held, for a 304 that does not restate it.
    pub(super) ttl: Option<Duration>,
    /// From discovery or metadata, with when it was found.
    pub(super) jwks_uri: Option<KeysAt>,
    pub(super) in_flight: Option<watch::Receiver<bool>>,
    pub(super) said_no_runtime: bool,
}

/// An issuer's keys from the network.
#[derive(Debug)]
pub(crate) struct Remote {
    pub(super) issuer: String,
    pub(super) source: Source,
    pub(super) allowed: Vec<Algorithm>,
    pub(super) fetcher: Arc<Fetcher>,
    /// The provider's key rules, if the issuer has a provider.
    pub(super) rules: Option<Arc<dyn KeyRules>>,
    pub(super) keys: ArcSwap<KeySet>,
    /// For [`Source::Metadata`]: the issuer the metadata named, once it has been fetched.
    pub(super) learned: arc_swap::ArcSwapOption<String>,
    /// A store whose URLs hold a value from a token not yet verified (see
    /// [`sibling`](Remote::sibling)): failures are logged without them, at debug level.
    pub(super) quiet: bool,
    /// Stores of parts of this issuer (see `Remote::sibling_store`).
    pub(super) siblings: Mutex<Siblings>,
    epoch: Instant,
    /// Milliseconds after `epoch` when a routine refresh is due; `NEVER` while one is claimed
    /// or running, and before the first load.
    refresh_at: AtomicU64,
    /// Milliseconds after `epoch` before which the keys may be used: 0 before the first load,
    /// `NEVER` without `max_stale`. Written after the keys, with `Release`.
    usable_until: AtomicU64,
    /// Milliseconds after `epoch` before which no refresh for a missing key may start; while a
    /// fetch is claimed, when it starts (joining it is free once it runs). Lets a request whose
    /// signature failed under a held key skip the slow path when it would be refused anyway.
    pub(super) misses_from: AtomicU64,
    state: Mutex<State>,
}

/// A successful fetch.
pub(super) enum Loaded {
    New {
        set: KeySet,
        ttl: Option<Duration>,
        etag: Option<String>,
        /// The keys it skipped, and why.
        skipped: Vec<KeyProblem>,
    },
    Same {
        ttl: Option<Duration>,
    },
}

/// Ends a refresh however it ends (done, failed, panicked, or dropped before it ran): clears
/// `in_flight`, makes sure a routine refresh will be due again, and wakes the waiters. Created
/// before the task is spawned.
pub(super) struct Finish {
    remote: Arc<Remote>,
    done: watch::Sender<bool>,
    trigger: Trigger,
    started: Instant,
}

impl Drop for Finish {
    fn drop(&mut self) {
        let mut state = self.remote.lock();
        state.in_flight = None;
        if state.loaded_at.is_some() {
            // Left at NEVER only if the fetch never recorded an outcome.
            let retry = self.remote.millis(state.next_attempt);
            let _ = self.remote.refresh_at.compare_exchange(
                NEVER,
                retry,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        self.remote.open_misses(&state);
        drop(state);
        // Nobody waiting is fine.
        let _ = self.done.send(true);
    }
}

impl Remote {
    pub(crate) fn new(
        issuer: String,
        source: Source,
        allowed: Vec<Algorithm>,
        fetcher: Arc<Fetcher>,
        rules: Option<Arc<dyn KeyRules>>,
    ) -> Remote {
        let epoch = Instant::now();
        Remote {
            issuer,
            source,
            allowed,
            fetcher,
            rules,
            keys: ArcSwap::from_pointee(KeySet::default()),
            learned: arc_swap::ArcSwapOption::empty(),
            quiet: false,
            siblings: siblings::none(),
            epoch,
            refresh_at: AtomicU64::new(NEVER),
            usable_until: AtomicU64::new(0),
            misses_from: AtomicU64::new(0),
            state: Mutex::new(State {
                loaded_at: None,
                last_ok: None,
                last_error: None,
                next_attempt: epoch,
                misses_spaced_until: epoch,
                misses_quiet_until: epoch,
                said_suppressed: false,
                reported: HashSet::new(),
                unconfigured: Vec::new(),
                failures: 0,
                etag: None,
                ttl: None,
                jwks_uri: None,
                in_flight: None,
                said_no_runtime: false,
            }),
        }
    }

    /// A store of the keys at the JWK Set URL `jwks`, for tests of what is built on stores.
    #[cfg(test)]
    pub(crate) fn for_tests(issuer: &str, jwks: Url, fetcher: Arc<Fetcher>) -> Remote {
        Remote::new(
            issuer.to_owned(),
            Source::JwksUri(jwks),
            Vec::new(),
            fetcher,
            None,
        )
    }

    /// Another store of this issuer's keys, fetched like these (same client, settings,
    /// algorithms and key rules) but from the metadata document at `url`, whose issuer `rule`
    /// must accept: for a provider whose keys are also published per part of the issuer (a
    /// tenant, say). `url` may hold a value from a token not yet verified, so the store is
    /// quiet: its logs name the issuer and `what` only.
    pub(super) fn sibling(&self, what: &str, url: Url, rule: IssuerRule) -> Remote {
        let name = format!("{} ({what})", self.issuer);
        let source = Source::Metadata {
            url,
            rule,
            keys_from: None,
        };
        let fetcher = Arc::clone(&self.fetcher);
        let rules = self.rules.clone();
        let mut remote = Remote::new(name, source, self.allowed.clone(), fetcher, rules);
        remote.quiet = true;
        remote
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every step, so a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(NEVER - 1)
    }

    pub(super) fn now(&self) -> u64 {
        self.millis(Instant::now())
    }

    /// Runs `f` on the current keys (an empty set if they are too stale to use). When a routine
    /// refresh is due, the one request that claims it starts it in the background.
    pub(crate) fn with_current<R>(self: &Arc<Self>, f: impl FnOnce(&KeySet) -> R) -> R {
        let now = self.now();
        let due = self.refresh_at.load(Ordering::Relaxed);
        if now >= due
            && self
                .refresh_at
                .compare_exchange(due, NEVER, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.start_routine();
        }
        if now >= self.usable_until.load(Ordering::Acquire) {
            return f(&KeySet::default());
        }
        f(&self.keys.load())
    }

    pub(super) fn usable(&self) -> bool {
        self.now() < self.usable_until.load(Ordering::Acquire)
    }

    /// Starts the routine refresh this request claimed, or puts the claim back for when a
    /// fetch may start.
    fn start_routine(self: &Arc<Self>) {
        let Some(runtime) = self.runtime() else {
            // Nothing can fetch here; ask again a cooldown later, not on every request.
            let retry = later(Instant::now(), self.fetcher.settings.cooldown);
            self.refresh_at.store(self.millis(retry), Ordering::Relaxed);
            return;
        };
        let mut state = self.lock();
        let started = if state.in_flight.is_some() {
            // Its outcome will schedule the next one.
            None
        } else if Instant::now() >= state.next_attempt {
            Some(self.claim(&mut state, Trigger::Routine))
        } else {
            self.refresh_at
                .store(self.millis(state.next_attempt), Ordering::Relaxed);
            None
        };
        drop(state);
        if let Some((_, finish)) = started {
            Remote::launch(&runtime, finish);
        }
    }

    /// The Tokio runtime to fetch on. Fetching needs one; its absence is logged once.
    pub(super) fn runtime(&self) -> Option<Handle> {
        let runtime = Handle::try_current().ok();
        if runtime.is_none() {
            let mut state = self.lock();
            if !std::mem::replace(&mut state.said_no_runtime, true) {
                tracing::error!(
                    issuer = %self.issuer,
                    "tokengate: keys from the network need a Tokio runtime; none is running here"
                );
            }
        }
        runtime
    }

    /// Marks a fetch as started (under the state lock). The returned guard must be handed to
    /// [`launch`](Self::launch) once the lock is released.
    fn claim(
        self: &Arc<Self>,
        state: &mut State,
        trigger: Trigger,
    ) -> (watch::Receiver<bool>, Finish) {
        self.claim_at(state, trigger, Instant::now())
    }

    /// [`claim`](Self::claim) for a fetch that starts at `started`, now or later: requests
    /// that need it wait, and share it.
    pub(super) fn claim_at(
        self: &Arc<Self>,
        state: &mut State,
        trigger: Trigger,
        started: Instant,
    ) -> (watch::Receiver<bool>, Finish) {
        let min_interval = self.fetcher.settings.min_interval();
        state.next_attempt = later(started, min_interval);
        if matches!(trigger, Trigger::Miss { .. }) {
            state.misses_spaced_until = state.next_attempt;
        }
        state.said_suppressed = false;
        self.refresh_at.store(NEVER, Ordering::Relaxed);
        // Once the fetch runs, a bad signature under a held key may join it (it costs the
        // provider nothing); before, in a deferred window, it is refused at once.
        self.misses_from
            .store(self.millis(started), Ordering::Relaxed);
        let (done, waiting) = watch::channel(false);
        state.in_flight = Some(waiting.clone());
        let finish = Finish {
            remote: Arc::clone(self),
            done,
            trigger,
            started,
        };
        (waiting, finish)
    }

    /// Runs the fetch in its own task, so that no caller's cancellation stops it; at the time
    /// it was claimed for.
    pub(super) fn launch(runtime: &Handle, finish: Finish) {
        runtime.spawn(async move {
            tokio::time::sleep_until(finish.started).await;
            let outcome = finish.remote.fetch().await;
            finish
                .remote
                .record(outcome, &finish.trigger, finish.started);
            drop(finish);
        });
    }

    fn record(&self, outcome: Result<Loaded, FetchError>, trigger: &Trigger, started: Instant) {
        let now = Instant::now();
        let settings = &self.fetcher.settings;
        let mut state = self.lock();
        // A refresh for a missing key that did not bring it closes the door to others for a
        // cooldown: that is what bounds a flood of made-up kids.
        let mut fruitless = matches!(trigger, Trigger::Miss { .. });
        let cause = match trigger {
            Trigger::WarmUp => Cause::WarmUp,
            Trigger::Routine if state.loaded_at.is_none() => Cause::FirstUse,
            Trigger::Routine => Cause::Routine,
            Trigger::Miss { .. } => Cause::KeyMiss,
        };
        let fetched = match &outcome {
            Ok(Loaded::New { .. }) => Fetched::Ok,
            Ok(Loaded::Same { .. }) => Fetched::NotModified,
            Err(_) => Fetched::Error,
        };
        let mut news = None;
        let ttl = match outcome {
            Ok(Loaded::New {
                set,
                ttl,
                etag,
                skipped,
            }) => {
                let old = self.keys.load_full();
                if let Trigger::Miss { kid, alg } = trigger {
                    fruitless = !set.brings_new(&old, kid.as_deref(), *alg);
                }
                news = Some(self.news(&mut state, &old, &set, &skipped));
                self.keys.store(Arc::new(set.after(&old)));
                state.etag = etag;
                ttl
            }
            // A 304 that does not restate freshness keeps what the keys had.
            Ok(Loaded::Same { ttl }) => ttl.or(state.ttl),
            Err(error) => {
                if fruitless {
                    state.misses_quiet_until = later(started, settings.cooldown);
                }
                state.failures += 1;
                let wait = backoff(settings.cooldown, state.failures);
                state.next_attempt = later(now, wait);
                state.last_ok = Some(false);
                state.last_error = Some(error.to_string());
                if state.loaded_at.is_some() {
                    self.refresh_at
                        .store(self.millis(state.next_attempt), Ordering::Relaxed);
                }
                let keeping = state.loaded_at.is_some();
                drop(state);
                observe::key_refresh(&self.issuer, cause, fetched, None);
                if self.quiet {
                    tracing::debug!(
                        issuer = %self.issuer,
                        retry_in = ?wait,
                        "tokengate: keys could not be loaded"
                    );
                } else if matches!(error, FetchError::IssuerMismatch { .. }) {
                    tracing::error!(issuer = %self.issuer, %error, "tokengate: discovery refused");
                } else {
                    tracing::warn!(
                        issuer = %self.issuer,
                        %error,
                        retry_in = ?wait,
                        keeping_last_keys = keeping,
                        "tokengate: key refresh failed"
                    );
                }
                return;
            }
        };
        if fruitless {
            state.misses_quiet_until = later(started, settings.cooldown);
        }
        let ttl = ttl.unwrap_or(settings.default_ttl);
        state.ttl = Some(ttl);
        state.loaded_at = Some(now);
        state.last_ok = Some(true);
        state.last_error = None;
        state.failures = 0;
        // Refresh before the keys expire, and well before they become too stale to use.
        let mut ahead = ttl.mul_f64(REFRESH_AHEAD);
        if let Some(stale) = settings.max_stale {
            ahead = ahead.min(stale.mul_f64(STALE_AHEAD));
        }
        let due = later(now, ahead).max(state.next_attempt);
        self.refresh_at.store(self.millis(due), Ordering::Relaxed);
        let until = settings
            .max_stale
            .map_or(NEVER, |stale| self.millis(later(now, stale)));
        // After the keys: a reader that sees this sees them.
        self.usable_until.store(until, Ordering::Release);
        drop(state);
        let keys = (!self.quiet).then(|| self.keys.load().len());
        observe::key_refresh(&self.issuer, cause, fetched, keys);
        if let Some(news) = news {
            self.log(news);
        }
    }

    /// Starts loading the keys unless usable ones are held, a fetch is already running (its
    /// outcome is returned to wait on), or the backoff after a failure says not yet.
    /// `warm_up`: [`Gate::warm_up`](crate::Gate::warm_up) asks, not a request (the metrics'
    /// cause).
    pub(crate) fn start_warm_up(
        self: &Arc<Self>,
        warm_up: bool,
    ) -> Result<Option<watch::Receiver<bool>>, String> {
        if self.usable() {
            return Ok(None);
        }
        let runtime = self
            .runtime()
            .ok_or_else(|| "no Tokio runtime to fetch keys on".to_owned())?;
        let mut state = self.lock();
        if let Some(waiting) = &state.in_flight {
            return Ok(Some(waiting.clone()));
        }
        if Instant::now() < state.next_attempt {
            let wait = state.next_attempt.saturating_duration_since(Instant::now());
            let last = state.last_error.clone().unwrap_or_default();
            return Err(format!(
                "{last} (next attempt in {} s)",
                wait.as_secs().max(1)
            ));
        }
        let trigger = if warm_up {
            Trigger::WarmUp
        } else {
            Trigger::Routine
        };
        let (waiting, finish) = self.claim(&mut state, trigger);
        drop(state);
        Remote::launch(&runtime, finish);
        Ok(Some(waiting))
    }

    /// After [`start_warm_up`](Self::start_warm_up): whether keys are usable, or why not.
    pub(crate) async fn finish_warm_up(
        &self,
        waiting: Option<watch::Receiver<bool>>,
    ) -> Result<(), String> {
        if let Some(mut waiting) = waiting {
            let _ = waiting.wait_for(|done| *done).await;
        }
        let state = self.lock();
        if self.usable() {
            // Loaded, but some keys wait for the configuration to change: say so now rather
            // than by refusing every token they sign.
            return match state.unconfigured.as_slice() {
                [] => Ok(()),
                keys => Err(format!(
                    "{} key(s) skipped until the configuration changes: {}",
                    keys.len(),
                    keys.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                )),
            };
        }
        Err(state
            .last_error
            .clone()
            .unwrap_or_else(|| "keys not loaded".to_owned()))
    }

    /// Whether the metadata, once fetched, could name `iss` (false for other sources).
    pub(crate) fn could_name(&self, iss: &str) -> bool {
        match &self.source {
            Source::Metadata { rule, .. } => (rule.could_name)(iss),
            _ => false,
        }
    }

    /// The issuer a [`Source::Metadata`] document named, once fetched.
    pub(crate) fn learned(&self) -> arc_swap::Guard<Option<Arc<String>>> {
        self.learned.load()
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
