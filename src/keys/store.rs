//! An issuer's key store: keys from the configuration, or from the network.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::KeySet;
use super::refresh::Remote;
use super::{Miss, Wanted};

/// Where an issuer's keys stand, for health and readiness probes
/// ([`Gate::key_status`](crate::Gate::key_status)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStatus {
    /// The issuer, as configured.
    pub issuer: String,
    /// Whether the keys come from the network (discovery or a `jwks_uri`).
    pub remote: bool,
    /// How many usable keys are held.
    pub keys: usize,
    /// Whether tokens can be verified now: keys loaded, and not older than
    /// [`KeyCacheSettings::max_stale`](crate::KeyCacheSettings::max_stale).
    pub usable: bool,
    /// When the keys were last fetched or confirmed unchanged (remote keys only).
    pub last_refresh: Option<SystemTime>,
    /// Whether the last fetch succeeded (`None` before any).
    pub last_refresh_ok: Option<bool>,
    /// Why the last fetch failed, if it did: URLs and statuses, never key material.
    pub last_error: Option<String>,
}

/// A warm-up under way ([`KeyStore::start_warm_up`]).
pub(crate) enum WarmUp<'a> {
    Done,
    Failed(String),
    Waiting(&'a Remote, Option<watch::Receiver<bool>>),
}

impl WarmUp<'_> {
    pub(crate) async fn finish(self) -> Result<(), String> {
        match self {
            WarmUp::Done => Ok(()),
            WarmUp::Failed(reason) => Err(reason),
            WarmUp::Waiting(remote, waiting) => remote.finish_warm_up(waiting).await,
        }
    }
}

impl KeyStatus {
    /// How long ago the keys were last fetched or confirmed unchanged (remote keys only).
    pub fn age(&self) -> Option<Duration> {
        self.last_refresh
            .map(|at| SystemTime::now().duration_since(at).unwrap_or_default())
    }
}

/// An issuer's keys. The request path reads them without locking and without I/O.
#[derive(Debug)]
pub(crate) enum KeyStore {
    /// Keys given in the configuration; they never change.
    Fixed(KeySet),
    Remote(Arc<Remote>),
}

impl KeyStore {
    /// Runs `f` on the current keys.
    pub(crate) fn with_current<R>(&self, f: impl FnOnce(&KeySet) -> R) -> R {
        match self {
            KeyStore::Fixed(keys) => f(keys),
            KeyStore::Remote(remote) => remote.with_current(f),
        }
    }

    /// Called when the current keys have none for a token, or none that verifies it.
    pub(crate) async fn after_miss(&self, wanted: Wanted<'_>) -> Miss {
        match self {
            KeyStore::Fixed(_) => Miss::Unchanged,
            KeyStore::Remote(remote) => remote.after_miss(wanted).await,
        }
    }

    /// Whether the keys changed since a request read generation `read`; never for configured
    /// keys.
    pub(crate) fn changed_since(&self, read: u64) -> bool {
        match self {
            KeyStore::Fixed(_) => false,
            KeyStore::Remote(remote) => remote.changed_since(read),
        }
    }

    /// Whether a refresh for a missing key could start now; never for configured keys.
    pub(crate) fn misses_may_refresh(&self) -> bool {
        match self {
            KeyStore::Fixed(_) => false,
            KeyStore::Remote(remote) => remote.misses_may_refresh(),
        }
    }

    /// The issuer learned from metadata (see `Source::Metadata`), once fetched.
    pub(crate) fn learned(&self) -> Option<arc_swap::Guard<Option<Arc<String>>>> {
        match self {
            KeyStore::Fixed(_) => None,
            KeyStore::Remote(remote) => Some(remote.learned()),
        }
    }

    /// Whether metadata not fetched yet could name `iss`.
    pub(crate) fn could_name(&self, iss: &str) -> bool {
        match self {
            KeyStore::Fixed(_) => false,
            KeyStore::Remote(remote) => remote.could_name(iss),
        }
    }

    /// The network store, if the keys come from the network.
    pub(crate) fn remote(&self) -> Option<&Arc<Remote>> {
        match self {
            KeyStore::Fixed(_) => None,
            KeyStore::Remote(remote) => Some(remote),
        }
    }

    /// Whether the keys come from the network, so that a miss may be cured by a refresh.
    pub(crate) fn is_remote(&self) -> bool {
        matches!(self, KeyStore::Remote(_))
    }

    /// [`Gate::warm_up`](crate::Gate::warm_up)'s load: see [`start_load`](Self::start_load).
    pub(crate) fn start_warm_up(&self) -> WarmUp<'_> {
        self.start(true)
    }

    /// Loads remote keys now, if they are not loaded: starts the fetch, so that all issuers'
    /// fetches run at once, and returns what to wait on.
    pub(crate) fn start_load(&self) -> WarmUp<'_> {
        self.start(false)
    }

    fn start(&self, warm_up: bool) -> WarmUp<'_> {
        match self {
            KeyStore::Fixed(_) => WarmUp::Done,
            KeyStore::Remote(remote) => match remote.start_warm_up(warm_up) {
                Ok(waiting) => WarmUp::Waiting(remote, waiting),
                Err(reason) => WarmUp::Failed(reason),
            },
        }
    }

    pub(crate) fn status(&self, issuer: &str) -> KeyStatus {
        match self {
            KeyStore::Fixed(keys) => KeyStatus {
                issuer: issuer.to_owned(),
                remote: false,
                keys: keys.len(),
                usable: true,
                last_refresh: None,
                last_refresh_ok: None,
                last_error: None,
            },
            KeyStore::Remote(remote) => remote.status(),
        }
    }
}
