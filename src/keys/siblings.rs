//! Other key stores of one issuer, made on demand for parts of it that publish keys of their
//! own (a provider's tenants): chosen by a value from a token not verified yet, so their
//! number is bounded and at most one new store is admitted per cooldown. Forged values can
//! neither grow memory nor make fetches more frequent than one per admitted store per
//! cooldown; they can only spend admissions, delaying a real part's own store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::Url;
use tokio::time::Instant;

use super::{IssuerRule, Remote};

/// The most sibling stores one issuer's store holds; the oldest admitted leaves first.
pub(crate) const MAX_SIBLINGS: usize = 1000;

/// The sibling stores of one issuer's store, by the part they belong to.
#[derive(Default)]
pub(super) struct Siblings {
    stores: HashMap<Box<str>, Arc<Remote>>,
    /// Admission order, for eviction.
    order: VecDeque<Box<str>>,
    /// When a new store may be admitted.
    next_admission: Option<Instant>,
}

impl std::fmt::Debug for Siblings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The parts' names come from tokens not yet verified: counted, never printed.
        f.debug_struct("Siblings")
            .field("held", &self.stores.len())
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// The store of `part` of this issuer (a tenant, say); if there is none yet, `admit` is
    /// set and an admission is due, one fetched like this store (same client, settings,
    /// algorithms and key rules) from the metadata at the URL `locate` gives, whose issuer its
    /// rule must accept. `None` otherwise, or if `locate` gives nothing (not a part's name).
    /// The new store is quiet: its URL holds `part`, so its logs name the issuer and `what`.
    pub(crate) fn sibling_store(
        &self,
        part: &str,
        what: &str,
        admit: bool,
        locate: impl FnOnce() -> Option<(Url, IssuerRule)>,
    ) -> Option<Arc<Remote>> {
        let mut siblings = self.siblings.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = siblings.stores.get(part) {
            return Some(Arc::clone(store));
        }
        let now = Instant::now();
        if !admit || siblings.next_admission.is_some_and(|next| now < next) {
            return None;
        }
        let (url, rule) = locate()?;
        // Fails closed: no admission without a next one to wait for.
        let next = now.checked_add(self.fetcher.settings.cooldown)?;
        siblings.next_admission = Some(next);
        let store = Arc::new(self.sibling(what, url, rule));
        if siblings.order.len() >= MAX_SIBLINGS
            && let Some(oldest) = siblings.order.pop_front()
        {
            siblings.stores.remove(&oldest);
        }
        siblings.order.push_back(Box::from(part));
        siblings.stores.insert(Box::from(part), Arc::clone(&store));
        Some(store)
    }

    /// How many sibling stores are held.
    #[cfg(test)]
    fn sibling_count(&self) -> usize {
        self.siblings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stores
            .len()
    }
}

/// What an unused store holds of siblings: nothing.
pub(super) fn none() -> Mutex<Siblings> {
    Mutex::new(Siblings::default())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::keys::{Fetcher, KeyCacheSettings};

    fn store(cooldown: Duration) -> Remote {
        let settings = KeyCacheSettings::default().cooldown(cooldown);
        let fetcher = Arc::new(Fetcher::new(settings, None).unwrap());
        let url = Url::parse("https://login.example.com/keys").unwrap();
        Remote::for_tests("issuer", url, fetcher)
    }

    fn locate() -> Option<(Url, IssuerRule)> {
        let url = Url::parse("https://login.example.com/t/.well-known/openid-configuration");
        let check = Arc::new(|_: &str| Ok(()));
        let could_name = Arc::new(|_: &str| true);
        Some((url.unwrap(), IssuerRule { check, could_name }))
    }

    #[test]
    fn one_new_sibling_per_cooldown() {
        let parent = store(Duration::from_secs(60));
        let first = parent.sibling_store("a", "part", true, locate).unwrap();
        // Known parts are always found; new ones wait for the cooldown.
        let again = parent.sibling_store("a", "part", true, locate).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(parent.sibling_store("b", "part", true, locate).is_none());
        // Without `admit`, only parts held are found.
        let other = store(Duration::from_secs(60));
        assert!(other.sibling_store("c", "part", false, locate).is_none());
        // Another issuer's store has its own turn.
        assert!(other.sibling_store("b", "part", true, locate).is_some());
        // A name `locate` does not know admits nothing and uses no turn.
        let fresh = store(Duration::from_secs(60));
        assert!(fresh.sibling_store("x", "part", true, || None).is_none());
        assert!(fresh.sibling_store("a", "part", true, locate).is_some());
    }

    #[test]
    fn the_oldest_sibling_leaves_beyond_the_limit() {
        let parent = store(Duration::from_nanos(1));
        let first = parent.sibling_store("t0", "part", true, locate).unwrap();
        for n in 1..=MAX_SIBLINGS {
            std::thread::sleep(Duration::from_nanos(2));
            let name = format!("t{n}");
            assert!(
                parent.sibling_store(&name, "part", true, locate).is_some(),
                "{n}"
            );
        }
        assert_eq!(parent.sibling_count(), MAX_SIBLINGS);
        assert!(parent.sibling_store("t0", "part", false, locate).is_none());
        // Re-admitted as a new store, not the evicted one.
        std::thread::sleep(Duration::from_nanos(2));
        let again = parent.sibling_store("t0", "part", true, locate).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
    }

    /// A store made for a part holds the issuer's key rules but never its parent: dropping
    /// the parent frees every sibling.
    #[test]
    fn siblings_do_not_outlive_their_parent() {
        let parent = store(Duration::from_secs(60));
        let sibling = Arc::downgrade(&parent.sibling_store("a", "part", true, locate).unwrap());
        assert!(sibling.upgrade().is_some());
        drop(parent);
        assert!(sibling.upgrade().is_none());
    }
}
