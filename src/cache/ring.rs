//! The store behind the verified-token cache: shards, each a hash map of slots and a CLOCK ring
//! of their hashes.
//!
//! Built for the hit: one read lock, one hash of the token's last bytes, one probe, one
//! comparison of the whole token, the expiry judged against the time the request already read,
//! and a flag set only when it is not set yet, so that hits on many cores write nothing they
//! share but the lock. Nothing is allocated before the first entry.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::Entry;
use crate::claims::Claims;
use crate::keys::KeyId;

/// How many of the token's last bytes pick its place: they fall in the signature, which no two
/// verified tokens share. The token's length is hashed too.
const HASHED_TAIL: usize = 32;

/// Slots looked at, per insertion, for entries past their time (so that expired tokens and
/// claims do not linger until the memory is needed): a few dozen nanoseconds under the lock,
/// on a path that has just checked a signature.
const TIDY_PER_INSERT: usize = 16;

/// The cache's store: `shards` independent rings, each with an equal share of the entries and
/// the memory.
pub(crate) struct Store {
    shards: Box<[Shard]>,
    hasher: foldhash::fast::RandomState,
    /// Entries each shard may hold.
    entries: usize,
    /// Bytes each shard may hold.
    budget: u64,
    /// Seconds.
    max_ttl: f64,
}

/// One shard, on cache lines of its own: threads hitting different shards share nothing.
#[repr(align(128))]
struct Shard(RwLock<Ring>);

#[derive(Default)]
struct Ring {
    /// The stored tokens by hash. Two stored tokens never share a hash: a token whose hash is
    /// taken is not stored (with a 64-bit keyed hash, about never).
    slots: HashMap<u64, Slot, BuildHasherDefault<Identity>>,
    /// The hashes of the stored tokens in CLOCK order.
    ring: Vec<u64>,
    /// The CLOCK hand: the next place in `ring` to consider for eviction.
    hand: usize,
    /// The next place in `ring` to look at for expiry.
    tidy: usize,
    weight: u64,
}

struct Slot {
    token: Box<str>,
    entry: Entry,
    weight: u64,
    /// Seconds since the epoch from which the slot is not answered from, whatever `exp` says.
    drop_at: f64,
    /// Hit since the hand last passed.
    used: AtomicBool,
}

impl Slot {
    /// `drop_at` is never later than the token's `exp` with leeway. NaN counts as expired.
    fn expired(&self, now: f64) -> bool {
        now.is_nan() || now >= self.drop_at
    }
}

/// What a hit hands out: the claims, and the key that must still be held.
pub(crate) struct Hit {
    pub(crate) claims: Arc<Claims>,
    pub(crate) issuer: usize,
    pub(crate) key: KeyId,
}

impl Store {
    /// `max_memory` is at most 1 TiB (the settings' bound), so no sum of weights overflows.
    pub(crate) fn new(shards: usize, max_entries: u64, max_memory: u64, max_ttl: f64) -> Store {
        debug_assert!(shards.is_power_of_two() && shards as u64 <= max_entries);
        Store {
            shards: (0..shards)
                .map(|_| Shard(RwLock::new(Ring::default())))
                .collect(),
            hasher: foldhash::fast::RandomState::default(),
            entries: usize::try_from(max_entries / shards as u64).unwrap_or(usize::MAX),
            budget: max_memory / shards as u64,
            max_ttl,
        }
    }

    fn hash(&self, token: &str) -> u64 {
        let bytes = token.as_bytes();
        let mut hasher = self.hasher.build_hasher();
        hasher.write(&bytes[bytes.len().saturating_sub(HASHED_TAIL)..]);
        hasher.write_usize(bytes.len());
        hasher.finish()
    }

    fn shard(&self, hash: u64) -> &RwLock<Ring> {
        // High bits for the shard; the map uses the low ones.
        &self.shards[(hash >> 40) as usize & (self.shards.len() - 1)].0
    }

    /// The claims of `token` if it is stored, its slot has not run out at `now` (seconds), and
    /// `current` accepts its entry's time claims.
    pub(crate) fn get(
        &self,
        token: &str,
        now: f64,
        current: impl FnOnce(&Entry) -> bool,
    ) -> Option<Hit> {
        let hash = self.hash(token);
        let ring = self
            .shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = ring.slots.get(&hash)?;
        if *slot.token != *token || slot.expired(now) || !current(&slot.entry) {
            return None;
        }
        // Marked before the caller checks the key: an entry whose key has left stays until
        // `drop_at` if still requested, which `max_ttl` bounds.
        if !slot.used.load(Ordering::Relaxed) {
            slot.used.store(true, Ordering::Relaxed);
        }
        Some(Hit {
            claims: Arc::clone(&slot.entry.claims),
            issuer: slot.entry.issuer,
            key: slot.entry.key,
        })
    }

    /// Stores `entry` for `token`, verified at `now` (seconds), evicting what must go to make
    /// room. `weight` is its size in bytes.
    pub(crate) fn insert(&self, token: &str, entry: Entry, weight: u64, now: f64) {
        let left = entry.times.exp + entry.times.leeway - now;
        // Also refuses NaN.
        if left.is_nan() || left <= 0.0 || weight > self.budget {
            return;
        }
        let hash = self.hash(token);
        // Built, and what it replaces or evicts dropped, outside the lock.
        let slot = Slot {
            token: Box::from(token),
            entry,
            weight,
            drop_at: now + left.min(self.max_ttl),
            used: AtomicBool::new(false),
        };
        let mut gone = Vec::new();
        let mut ring = self
            .shard(hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(stored) = ring.slots.get_mut(&hash) {
            // The same token verified twice at once, or again after its key left and came
            // back; or (about never) another token with its hash, which is not stored.
            if *stored.token == *token {
                let old = std::mem::replace(stored, slot);
                ring.weight = ring.weight - old.weight + weight;
                gone.push(old);
                ring.evict_until(self.entries, self.budget, now, &mut gone);
            }
        } else {
            ring.tidy(now, &mut gone);
            ring.weight += weight;
            // Room for one more.
            ring.evict_until(self.entries - 1, self.budget, now, &mut gone);
            ring.slots.insert(hash, slot);
            ring.ring.push(hash);
        }
        drop(ring);
        drop(gone);
    }

    /// Entries stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        (self.shards.iter())
            .map(|shard| shard.0.read().unwrap().ring.len())
            .sum()
    }

    /// The most entries any shard's ring and map have room for without growing.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> (usize, usize) {
        (self.shards.iter())
            .map(|shard| {
                let ring = shard.0.read().unwrap();
                (ring.ring.capacity(), ring.slots.capacity())
            })
            .fold((0, 0), |(r, m), (a, b)| (r.max(a), m.max(b)))
    }

    /// Whether any shard's lock is held.
    #[cfg(test)]
    pub(crate) fn locked(&self) -> bool {
        self.shards.iter().any(|shard| shard.0.try_write().is_err())
    }

    /// Panics unless every shard's map and ring agree and it is within its bounds.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        for shard in &self.shards {
            let ring = shard.0.read().unwrap();
            assert_eq!(ring.slots.len(), ring.ring.len());
            let unique: std::collections::HashSet<_> = ring.ring.iter().collect();
            assert_eq!(unique.len(), ring.ring.len(), "a hash twice in the ring");
            for hash in &ring.ring {
                assert_eq!(self.hash(&ring.slots[hash].token), *hash);
            }
            let weight: u64 = ring.slots.values().map(|slot| slot.weight).sum();
            assert_eq!(ring.weight, weight);
            assert!(ring.weight <= self.budget && ring.ring.len() <= self.entries);
        }
    }
}

impl Ring {
    /// Drops slots until the ring holds at most `entries` and weighs at most `budget`: by
    /// CLOCK, the first the hand finds past its time or not hit since the hand last passed.
    fn evict_until(&mut self, entries: usize, budget: u64, now: f64, gone: &mut Vec<Slot>) {
        while (self.weight > budget || self.ring.len() > entries) && !self.ring.is_empty() {
            if self.hand >= self.ring.len() {
                self.hand = 0;
            }
            let slot = &self.slots[&self.ring[self.hand]];
            if slot.expired(now) || !slot.used.swap(false, Ordering::Relaxed) {
                gone.extend(self.remove(self.hand));
            }
            // Past the victim's place too: the slot moved into it, the newest but one, gets a
            // full turn before the hand comes back.
            self.hand += 1;
        }
    }

    /// Drops the next few slots that are past their time.
    fn tidy(&mut self, now: f64, gone: &mut Vec<Slot>) {
        for _ in 0..TIDY_PER_INSERT {
            if self.tidy >= self.ring.len() {
                self.tidy = 0;
                return;
            }
            if self.slots[&self.ring[self.tidy]].expired(now) {
                gone.extend(self.remove(self.tidy));
            } else {
                self.tidy += 1;
            }
        }
    }

    /// Takes out the slot at `at` in the ring (the last one takes its place).
    fn remove(&mut self, at: usize) -> Option<Slot> {
        let hash = self.ring.swap_remove(at);
        let slot = self.slots.remove(&hash)?;
        self.weight -= slot.weight;
        // Give back memory after a burst of tokens has gone.
        if self.ring.capacity() > 64 && self.ring.len() < self.ring.capacity() / 4 {
            self.ring.shrink_to(self.ring.capacity() / 2);
            self.slots.shrink_to(self.ring.capacity());
        }
        Some(slot)
    }
}

/// The map's keys are already keyed hashes.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}
