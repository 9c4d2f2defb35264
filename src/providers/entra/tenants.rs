//! Keys of single tenants, for Entra APIs that accept any tenant. Microsoft advises fetching
//! keys per tenant, since a key common to all tenants today may become specific to one
//! (ENTRA-21). The tenant-independent key set still answers every token it can; a tenant's own
//! set is fetched only for a token whose key it lacks. Tenant ids come from tokens not yet
//! verified, so each token version admits at most one new tenant per cooldown and their
//! number is bounded: forged tenant ids cannot grow memory, and fetches stay at most one per
//! admitted tenant per cooldown. An attacker can still spend the
//! admissions on forged tenants, delaying a real tenant's own keys; that only matters for a
//! key missing from the shared set, which tokens would otherwise never be verified with.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::time::Instant;

use url::Url;

use super::TokenVersion;
use crate::keys::{IssuerRule, Remote};

/// The most tenants whose keys are held for one API, over both token versions together; the
/// oldest admitted leaves first.
pub(crate) const MAX_TENANTS: usize = 1000;

/// Key stores of single tenants, by token version and tenant id. Each version admits at most
/// one new tenant per cooldown.
#[derive(Default)]
pub(crate) struct TenantKeys {
    state: Mutex<State>,
}

impl std::fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tenant ids come from tokens not yet verified: counted, never printed.
        let held = self.state.lock().map_or(0, |state| state.stores.len());
        f.debug_struct("TenantKeys").field("held", &held).finish()
    }
}

#[derive(Debug, Default)]
struct State {
    stores: HashMap<(TokenVersion, Box<str>), Arc<Remote>>,
    /// Admission order, for eviction.
    order: VecDeque<(TokenVersion, Box<str>)>,
    /// For each version, when it may admit a new tenant.
    next_admission: HashMap<TokenVersion, Instant>,
}

impl TenantKeys {
    /// The key store of `tenant` for the issuer of token version `issuer` (whose own store is
    /// `parent`); if the tenant is new, `admit` is set and an admission is due, one made from
    /// the tenant's metadata `url` and issuer `rule`. `None` otherwise.
    pub(crate) fn store(
        &self,
        issuer: TokenVersion,
        tenant: &str,
        parent: &Remote,
        admit: bool,
        metadata: impl FnOnce() -> Option<(Url, IssuerRule)>,
    ) -> Option<Arc<Remote>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (issuer, Box::from(tenant));
        if let Some(store) = state.stores.get(&key) {
            return Some(Arc::clone(store));
        }
        let now = Instant::now();
        if !admit
            || state
                .next_admission
                .get(&issuer)
                .is_some_and(|next| now < *next)
        {
            return None;
        }
        let (url, rule) = metadata()?;
        // Fails closed: no admission without a next one to wait for.
        let next = now.checked_add(parent.cooldown())?;
        state.next_admission.insert(issuer, next);
        let store = Arc::new(parent.sibling("a tenant's own keys", url, rule));
        if state.order.len() >= MAX_TENANTS
            && let Some(oldest) = state.order.pop_front()
        {
            state.stores.remove(&oldest);
        }
        state.order.push_back(key.clone());
        state.stores.insert(key, Arc::clone(&store));
        Some(store)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::keys::{Fetcher, KeyCacheSettings};

    const V1: TokenVersion = TokenVersion::V1;
    const V2: TokenVersion = TokenVersion::V2;

    fn parent(cooldown: Duration) -> Remote {
        let settings = KeyCacheSettings::default().cooldown(cooldown);
        let fetcher = Arc::new(Fetcher::new(settings, None).unwrap());
        let url = Url::parse("https://login.example.com/keys").unwrap();
        Remote::for_tests("issuer", url, fetcher)
    }

    fn metadata() -> Option<(Url, IssuerRule)> {
        let url = Url::parse("https://login.example.com/t/.well-known/openid-configuration");
        let check = Arc::new(|_: &str| Ok(()));
        let could_name = Arc::new(|_: &str| true);
        Some((url.unwrap(), IssuerRule { check, could_name }))
    }

    #[test]
    fn one_new_tenant_per_cooldown_for_each_issuer() {
        let tenants = TenantKeys::default();
        let parent = parent(Duration::from_secs(60));
        let first = tenants.store(V1, "a", &parent, true, metadata).unwrap();
        // Known tenants are always found; new ones wait for the cooldown.
        assert!(Arc::ptr_eq(
            &first,
            &tenants.store(V1, "a", &parent, true, metadata).unwrap()
        ));
        assert!(tenants.store(V1, "b", &parent, true, metadata).is_none());
        // Without `admit`, only tenants held are found.
        assert!(tenants.store(V2, "c", &parent, false, metadata).is_none());
        // The other token version has its own turn.
        assert!(tenants.store(V2, "b", &parent, true, metadata).is_some());
        // A string that is not a tenant id admits nothing and uses no turn.
        let fresh = TenantKeys::default();
        assert!(fresh.store(V1, "x", &parent, true, || None).is_none());
        assert!(fresh.store(V1, "a", &parent, true, metadata).is_some());
    }

    #[test]
    fn the_oldest_tenant_leaves_beyond_the_limit() {
        let tenants = TenantKeys::default();
        let parent = parent(Duration::from_nanos(1));
        let first = tenants.store(V1, "t0", &parent, true, metadata).unwrap();
        for n in 1..=MAX_TENANTS {
            std::thread::sleep(Duration::from_nanos(2));
            let name = format!("t{n}");
            assert!(
                tenants.store(V1, &name, &parent, true, metadata).is_some(),
                "{n}"
            );
        }
        let state = tenants.state.lock().unwrap();
        assert_eq!(state.stores.len(), MAX_TENANTS);
        assert_eq!(state.order.len(), MAX_TENANTS);
        assert!(!state.stores.contains_key(&(V1, Box::from("t0"))));
        drop(state);
        // Re-admitted as a new store, not the evicted one.
        std::thread::sleep(Duration::from_nanos(2));
        let again = tenants.store(V1, "t0", &parent, true, metadata).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
    }
}
