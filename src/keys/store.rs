//! An issuer's key store: the request path reads the current key set without locking and
//! without I/O; a miss may ask for a newer set.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

use super::KeySet;

/// Holds an issuer's current [`KeySet`]. Sets are replaced whole, never edited, so a reader
/// always sees one consistent set.
#[derive(Debug)]
pub(crate) struct KeyStore {
    current: ArcSwap<KeySet>,
}

impl KeyStore {
    /// A store whose keys were given in the configuration and never change.
    pub(crate) fn fixed(keys: KeySet) -> KeyStore {
        KeyStore {
            current: ArcSwap::from_pointee(keys),
        }
    }

    /// The current key set: a lock-free read, cheap enough for every request.
    pub(crate) fn current(&self) -> Guard<Arc<KeySet>> {
        self.current.load()
    }

    /// Called when the current set has no key for a token. Returns a newer set if one can be
    /// had; a fixed store has none.
    pub(crate) async fn after_miss(&self) -> Option<Arc<KeySet>> {
        None
    }
}
