//! Remembering DPoP proofs (RFC 9449 §11.1): a proof is accepted once. The store is a seam:
//! embedded by default, shared (Redis, say) for a fleet of instances behind a load balancer,
//! where a proof replayed to another instance must be caught too.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A proof's identity in a [`ReplayStore`]: the SHA-256 of the proof key's thumbprint and the
/// proof's `jti`. Fixed-size, so that a client cannot make the store keep long strings, and
/// never the `jti` itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProofId([u8; 32]);

impl ProofId {
    /// The id of the proof with this `jti`, made with the key of this RFC 7638 thumbprint
    /// (base64url, as in `cnf.jkt`). tokengate makes them; this is public for the tests of
    /// your own stores.
    pub fn new(thumbprint: &str, jti: &str) -> ProofId {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        context.update(thumbprint.as_bytes());
        context.update(&[0]);
        context.update(jti.as_bytes());
        let mut id = [0; 32];
        id.copy_from_slice(context.finish().as_ref());
        ProofId(id)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The bytes in lowercase hexadecimal (64 characters), for stores that key by text.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for ProofId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProofId({}..)", &self.to_hex()[..8])
    }
}

/// A [`ReplayStore`] could not answer. The request then gets `503` with `Retry-After`: a
/// proof is never accepted without the store's word.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the DPoP replay store could not answer: {reason}")]
pub struct ReplayStoreError {
    reason: String,
}

impl ReplayStoreError {
    /// An error saying why, for logs (never a proof or token).
    pub fn new(reason: impl Into<String>) -> ReplayStoreError {
        ReplayStoreError {
            reason: reason.into(),
        }
    }
}

/// What [`ReplayStore::first_use`] returns.
pub type FirstUse<'a> = Pin<Box<dyn Future<Output = Result<bool, ReplayStoreError>> + Send + 'a>>;

/// Where DPoP proof ids are remembered, for as long as a proof could be accepted.
///
/// `first_use` must be atomic across everything sharing the store: of two calls with the same
/// id, exactly one may answer `true`. tokengate calls it last, once the proof and the token
/// have passed every other check, so that only proofs signed by a token's own key reach it.
///
/// ```
/// use std::time::Duration;
/// use tokengate::{FirstUse, ProofId, ReplayStore, ReplayStoreError};
///
/// /// A store that asks another service.
/// struct Remote;
///
/// impl ReplayStore for Remote {
///     fn first_use<'a>(&'a self, id: &'a ProofId, ttl: Duration) -> FirstUse<'a> {
///         Box::pin(async move {
///             // e.g. `SET {id.to_hex()} 1 NX PX {ttl}` on a shared key-value store
///             let _ = (id.to_hex(), ttl);
///             Err(ReplayStoreError::new("not connected"))
///         })
///     }
/// }
/// ```
pub trait ReplayStore: Send + Sync + 'static {
    /// Records `id` for `ttl`: `Ok(true)` if it was not recorded already (the proof's first
    /// use), `Ok(false)` if it was (a replay).
    fn first_use<'a>(&'a self, id: &'a ProofId, ttl: Duration) -> FirstUse<'a>;
}

/// The embedded [`ReplayStore`]: proof ids in memory, each for its time to live, at most
/// `capacity` at once. A full store refuses to answer (`503`) rather than forget a proof that
/// could still be replayed. Sharded, so that concurrent requests rarely wait on each other.
pub struct MemoryReplayStore {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    /// Picks an id's shard with a key of this store's own, so that a client cannot choose
    /// `jti`s that all fill one shard and lock out the proofs of others that land there.
    shard_key: foldhash::fast::RandomState,
}

/// One shard: the ids with when each expires, and the same ordered by expiry.
#[derive(Default)]
struct Shard {
    expires: HashMap<ProofId, Instant, foldhash::fast::RandomState>,
    /// Soonest expiry first: ids live for different times, so the order they were added in
    /// is not the order they expire in.
    order: BinaryHeap<Reverse<(Instant, [u8; 32])>>,
}

/// How many shards the embedded store has.
const SHARDS: usize = 16;

impl MemoryReplayStore {
    /// The default capacity: 100,000 proofs (a few MiB), for example 1,000 requests per second
    /// over a proof window of 100 seconds.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store for at most `capacity` proofs at once (at least one per shard).
    pub fn new(capacity: usize) -> MemoryReplayStore {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        MemoryReplayStore {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard,
            shard_key: foldhash::fast::RandomState::default(),
        }
    }

    /// Records `id` until `now + ttl`, answering as [`ReplayStore::first_use`] does.
    fn record(&self, id: &ProofId, ttl: Duration, now: Instant) -> Result<bool, ReplayStoreError> {
        let index = (self.shard_key.hash_one(id) % SHARDS as u64) as usize;
        let mut shard = self.shards[index]
            .lock()
            .map_err(|_| ReplayStoreError::new("a replay store shard is poisoned"))?;
        // Forget what has expired, soonest first.
        while let Some(&Reverse((expires, old))) = shard.order.peek() {
            if expires > now {
                break;
            }
            shard.order.pop();
            let old = ProofId(old);
            if shard.expires.get(&old) == Some(&expires) {
                shard.expires.remove(&old);
            }
        }
        if let Some(&expires) = shard.expires.get(id)
            && expires > now
        {
            return Ok(false);
        }
        if shard.expires.len() >= self.per_shard {
            return Err(ReplayStoreError::new("the embedded replay store is full"));
        }
        let expires = now + ttl;
        shard.expires.insert(*id, expires);
        shard.order.push(Reverse((expires, id.0)));
        Ok(true)
    }
}

impl Default for MemoryReplayStore {
    fn default() -> MemoryReplayStore {
        MemoryReplayStore::new(MemoryReplayStore::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayStore")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

impl ReplayStore for MemoryReplayStore {
    fn first_use<'a>(&'a self, id: &'a ProofId, ttl: Duration) -> FirstUse<'a> {
        let answer = self.record(id, ttl, Instant::now());
        Box::pin(std::future::ready(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> ProofId {
        ProofId::new("thumbprint", &n.to_string())
    }

    #[test]
    fn a_proof_is_accepted_once_within_its_time_to_live() {
        let store = MemoryReplayStore::new(1_000);
        let start = Instant::now();
        let ttl = Duration::from_secs(60);
        assert_eq!(store.record(&id(1), ttl, start), Ok(true));
        assert_eq!(store.record(&id(1), ttl, start), Ok(false));
        assert_eq!(store.record(&id(2), ttl, start), Ok(true));
        let later = start + Duration::from_secs(59);
        assert_eq!(store.record(&id(1), ttl, later), Ok(false));
        // Once expired, the id is forgotten: the proof itself is too old to pass by then.
        let expired = start + ttl;
        assert_eq!(store.record(&id(1), ttl, expired), Ok(true));
    }

    #[test]
    fn ids_depend_on_the_key_and_the_jti() {
        assert_ne!(ProofId::new("a", "b"), ProofId::new("ab", ""));
        assert_ne!(ProofId::new("k1", "j"), ProofId::new("k2", "j"));
        assert_eq!(ProofId::new("k", "j"), ProofId::new("k", "j"));
        assert_eq!(ProofId::new("k", "j").to_hex().len(), 64);
        assert!(!format!("{:?}", ProofId::new("k", "j")).contains('j'));
    }

    #[test]
    fn a_full_store_refuses_rather_than_forgets() {
        let store = MemoryReplayStore::new(SHARDS);
        let now = Instant::now();
        let ttl = Duration::from_secs(60);
        let mut refused = 0;
        for n in 0..1_000 {
            match store.record(&id(n), ttl, now) {
                Ok(true) => {}
                Ok(false) => panic!("{n} is new"),
                Err(_) => refused += 1,
            }
        }
        assert_eq!(1_000 - refused, SHARDS, "one per shard");
        // Accepted ids are still remembered; room comes back as they expire.
        let first = (0..1_000).find(|&n| store.record(&id(n), ttl, now) == Ok(false));
        assert!(first.is_some());
        assert_eq!(store.record(&id(5_000), ttl, now + ttl), Ok(true));
    }

    /// Ids live for different times: one that expires sooner than older ones is forgotten at
    /// once, and frees its room.
    #[test]
    fn ids_are_forgotten_when_they_expire_whatever_their_order() {
        // Two ids per shard.
        let store = MemoryReplayStore::new(SHARDS * 2);
        let start = Instant::now();
        let long = id(0);
        let shard_of = |id: &ProofId| store.shard_key.hash_one(id) % SHARDS as u64;
        let mut same_shard = (1..)
            .map(id)
            .filter(|other| shard_of(other) == shard_of(&long));
        let (short, third) = (same_shard.next().unwrap(), same_shard.next().unwrap());
        assert_eq!(
            store.record(&long, Duration::from_secs(600), start),
            Ok(true)
        );
        assert_eq!(
            store.record(&short, Duration::from_secs(1), start),
            Ok(true)
        );
        // The short-lived id expired behind a long-lived one added before it: its room is
        // free.
        let later = start + Duration::from_secs(2);
        assert_eq!(
            store.record(&third, Duration::from_secs(60), later),
            Ok(true)
        );
        assert_eq!(
            store.record(&long, Duration::from_secs(600), later),
            Ok(false)
        );
    }

    /// A client chooses its `jti`s, so it can choose ids alike in any byte; shards are picked
    /// with the store's own key, so such ids still spread over every shard.
    #[test]
    fn chosen_ids_cannot_fill_one_shard() {
        let store = MemoryReplayStore::new(SHARDS * 64);
        let now = Instant::now();
        let alike: Vec<ProofId> = (0..)
            .map(id)
            .filter(|id| id.0[0] == 0 && id.0[1] < 128)
            .take(500)
            .collect();
        for id in &alike {
            assert_eq!(store.record(id, Duration::from_secs(60), now), Ok(true));
        }
    }

    #[test]
    fn concurrent_uses_of_one_proof_accept_exactly_one() {
        let store = std::sync::Arc::new(MemoryReplayStore::default());
        let accepted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let store = std::sync::Arc::clone(&store);
                    scope.spawn(move || {
                        (0..200)
                            .filter(|&n| {
                                store.record(&id(n), Duration::from_secs(60), Instant::now())
                                    == Ok(true)
                            })
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(accepted, 200);
    }
}
