//! Refreshes for missing keys: a token whose `kid` is unknown (or whose signature fails under
//! a key held) may mean the provider rotated, or that someone made the `kid` up. Two limits
//! tell them apart at the provider's expense of one fetch per cooldown:
//!
//! * a refresh that brings nothing for the `kid` that triggered it closes the door to others
//!   for the cooldown (unknown `kid`s are then refused at once, 401);
//! * one that brings its key (a rotation) costs nothing more, but the next starts no sooner
//!   than the minimum interval after it; a request in between waits for that one.
//!
//! Routine fetches (the first load, warm-up, freshness) count against neither, so a key the
//! provider publishes right after one is fetched at once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::time::Instant;

use super::refresh::{Remote, State, Trigger};
use super::{KeyId, KeySet};
use crate::Algorithm;

/// What a request that found no key for its token, or a key that did not verify it, wants.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wanted<'a> {
    /// The token's `kid` (not verified).
    pub(crate) kid: Option<&'a str>,
    pub(crate) alg: Algorithm,
    /// The [generation](KeySet::generation) of the keys the request read.
    pub(crate) read: u64,
    /// The key that did not verify the token, if one did not.
    pub(crate) failed: Option<KeyId>,
}

/// What a request that found no key, or a key that did not verify, learns.
pub(crate) enum Miss {
    /// A refresh ran and loaded keys; here they are.
    Refreshed(Arc<KeySet>),
    /// No refresh may run (a refresh for an unknown `kid` found nothing within the cooldown),
    /// and the last one succeeded: the keys are as current as they will get.
    Unchanged,
    /// No usable keys, or the provider could not be asked: the token may be good.
    Unavailable { retry_after: Duration },
}

/// Whole seconds to wait, rounded up, at least one: for `Retry-After`.
fn whole_seconds(wait: Duration) -> Duration {
    Duration::from_secs(wait.as_millis().div_ceil(1000).max(1) as u64)
}

impl Remote {
    /// Publishes when a refresh for a missing key may start next (under the state lock).
    pub(super) fn open_misses(&self, state: &State) {
        if state.in_flight.is_none() {
            let mut from = state.misses_spaced_until.max(state.misses_quiet_until);
            if state.last_ok != Some(true) {
                // Backing off after a failure.
                from = from.max(state.next_attempt);
            }
            self.misses_from.store(self.millis(from), Ordering::Relaxed);
        }
    }

    /// Whether a refresh for a missing key could start now, or one is running that a request
    /// may join (lock-free): a token whose signature failed under a key the set holds takes
    /// the slow path only then.
    pub(crate) fn misses_may_refresh(&self) -> bool {
        self.now() >= self.misses_from.load(Ordering::Relaxed)
    }

    /// Whether the keys changed since a request read generation `read` (lock-free).
    pub(crate) fn changed_since(&self, read: u64) -> bool {
        self.keys.load().generation() != read
    }

    /// The current keys, if they changed since the request read its set and hold a key for
    /// its token that it has not tried: a fetch finished in between, and answers it.
    fn answers(&self, wanted: &Wanted<'_>) -> Option<Arc<KeySet>> {
        if !self.usable() {
            return None;
        }
        let current = self.keys.load_full();
        let fits = current.generation() != wanted.read
            && current
                .select(wanted.kid, wanted.alg)
                .is_ok_and(|key| Some(key.id()) != wanted.failed);
        fits.then_some(current)
    }

    /// For a request whose token found no key (an unknown `kid`, or none), or a key that did
    /// not verify it: answers with keys stored since the request read its set if they hold a
    /// key for it, or joins the refresh in flight, or starts one if the limits allow, and says
    /// what came of it.
    ///
    /// With usable keys, only refreshes for missing keys count against the limits (a routine
    /// fetch just before stops nothing): after one that brought nothing for its `kid`, none for
    /// a cooldown (the answer is final at once); after one that brought its key (a rotation),
    /// the next waits for the rest of the minimum interval, and this request with it.
    pub(crate) async fn after_miss(self: &Arc<Self>, wanted: Wanted<'_>) -> Miss {
        let runtime = Handle::try_current().ok();
        let (waiting, started) = {
            let mut state = self.lock();
            let now = Instant::now();
            let healthy = state.last_ok == Some(true) && self.usable();
            // Until keys first load, any fetch is the first load, not a refresh.
            let trigger = match state.loaded_at {
                Some(_) => Trigger::Miss {
                    kid: wanted.kid.map(Box::from),
                    alg: wanted.alg,
                },
                None => Trigger::Routine,
            };
            // A request that read the keys just before a refresh stored new ones: a fetch for
            // it would find nothing new, and close the door for the cooldown.
            if let Some(current) = self.answers(&wanted) {
                return Miss::Refreshed(current);
            }
            if let Some(waiting) = &state.in_flight {
                (Some(waiting.clone()), None)
            } else if healthy && now < state.misses_quiet_until {
                // A refresh for a missing key found nothing within the cooldown.
                let wait = state.misses_quiet_until - now;
                self.suppressed(&mut state, "cooldown", wait);
                return Miss::Unchanged;
            } else if !healthy && now < state.next_attempt {
                // Backing off after a failure: the answer below says when to come back.
                (None, None)
            } else if let Some(runtime) = runtime {
                let at = match healthy {
                    true => now.max(state.misses_spaced_until),
                    false => now,
                };
                if at > now {
                    self.suppressed(&mut state, "min_refresh_interval", at - now);
                    // A bad signature under a held key does not wait for a deferred refresh
                    // (the request path checks this without the lock; here it holds).
                    if wanted.failed.is_some() {
                        return Miss::Unchanged;
                    }
                }
                let (waiting, finish) = self.claim_at(&mut state, trigger, at);
                (Some(waiting), Some((runtime, finish)))
            } else {
                drop(state);
                // Logs that keys cannot be fetched here.
                let _ = self.runtime();
                (None, None)
            }
        };
        if let Some((runtime, finish)) = started {
            Remote::launch(&runtime, finish);
        }
        let refreshed = waiting.is_some();
        if let Some(mut waiting) = waiting {
            // An error means the fetch task is gone; what it left is all there is.
            let _ = waiting.wait_for(|done| *done).await;
        }
        let state = self.lock();
        // A kid unknown after a successful refresh is the token's fault; one unknown because
        // the provider could not be asked is not.
        if !self.usable() || state.last_ok != Some(true) {
            let wait = state.next_attempt.saturating_duration_since(Instant::now());
            return Miss::Unavailable {
                retry_after: whole_seconds(wait),
            };
        }
        drop(state);
        if refreshed {
            Miss::Refreshed(self.keys.load_full())
        } else {
            Miss::Unchanged
        }
    }
}
