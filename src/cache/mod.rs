//! The verified-token cache: a token already verified is answered without a signature check.

mod ring;
#[cfg(test)]
mod ring_tests;

use std::sync::Arc;
use std::time::Duration;

use crate::claims::{Claims, Times};
use crate::keys::KeyId;

/// Settings of the verified-token cache (on by default; see
/// [`GateBuilder::token_cache`](crate::GateBuilder::token_cache)).
///
/// A token whose signature and claims were verified is remembered, so that the next request
/// with exactly the same token skips parsing and the signature check: the costly part.
///
/// Why this is safe:
///
/// * **Only the same token hits.** Entries are found by the whole token, compared byte for
///   byte; a hash only picks the bucket. No other string, however close, can hit an entry.
/// * **Time is judged on every hit.** `exp`, `nbf`, a future `iat` and the maximum token age
///   are checked against the clock each time, with the issuer's leeway; a token past its
///   `exp` is refused exactly as without the cache (it is re-validated from scratch, which
///   gives the precise reason).
/// * **Keys are checked on every hit.** An entry remembers which key verified it; once that
///   key is no longer in the issuer's current key set (rotated out, removed), the entry is
///   not used.
/// * **Authorization is not cached.** The gate's [`require`](crate::GateBuilder::require) and
///   every [`RequireLayer`](crate::RequireLayer) run on every request.
/// * **Bounded.** At most [`max_entries`](Self::max_entries) tokens and
///   [`max_memory`](Self::max_memory) bytes (token, claims and bookkeeping counted); when
///   full, the next token met that is past its time or was not requested since the last
///   sweep goes (CLOCK), and each new token drops the expired ones it meets. No entry is
///   answered from longer than [`max_ttl`](Self::max_ttl) after it was stored (on the clock
///   that judges `exp`), whatever its `exp`. Only tokens that verified are stored: forged
///   tokens cannot fill it. An empty cache holds about 2 KiB.
///
/// | setting | default | bounds |
/// |---|---|---|
/// | [`max_entries`](Self::max_entries) | 10,000 | at least 1 |
/// | [`max_memory`](Self::max_memory) | 64 MiB | 64 KiB to 1 TiB |
/// | [`max_ttl`](Self::max_ttl) | 5 min | 1 s to 1 h |
///
/// ```
/// use std::time::Duration;
/// use tokengate::{Gate, IssuerProfile, TokenCacheSettings};
///
/// # fn build() -> Result<Gate, tokengate::ConfigError> {
/// let gate = Gate::builder()
///     .issuer(IssuerProfile::new("https://login.example.com/").audience("api://orders").discover())
///     .token_cache(TokenCacheSettings::default().max_entries(50_000).max_ttl(Duration::from_secs(60)))
///     .build()?;
/// # Ok(gate) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenCacheSettings {
    enabled: bool,
    max_entries: u64,
    max_memory: u64,
    max_ttl: Duration,
}

impl Default for TokenCacheSettings {
    fn default() -> TokenCacheSettings {
        TokenCacheSettings {
            enabled: true,
            max_entries: 10_000,
            max_memory: 64 * 1024 * 1024,
            max_ttl: Duration::from_secs(300),
        }
    }
}

impl TokenCacheSettings {
    /// No cache: every request verifies its token's signature.
    pub fn disabled() -> TokenCacheSettings {
        TokenCacheSettings {
            enabled: false,
            ..TokenCacheSettings::default()
        }
    }

    /// The most tokens remembered.
    pub fn max_entries(mut self, entries: u64) -> TokenCacheSettings {
        self.max_entries = entries;
        self
    }

    /// The most memory the entries may take, in bytes (each token's text and claims, plus a
    /// fixed overhead per entry).
    pub fn max_memory(mut self, bytes: u64) -> TokenCacheSettings {
        self.max_memory = bytes;
        self
    }

    /// The longest an entry is answered from after it was stored, whatever the token's `exp`
    /// (judged on the clock that judges `exp`).
    pub fn max_ttl(mut self, ttl: Duration) -> TokenCacheSettings {
        self.max_ttl = ttl;
        self
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.enabled {
            return problems;
        }
        if self.max_entries == 0 {
            problems
                .push("token cache: max_entries is zero (use TokenCacheSettings::disabled)".into());
        }
        if !(64 * 1024..=MEMORY_CEILING).contains(&self.max_memory) {
            problems.push(format!(
                "token cache: max_memory {} bytes is outside 64 KiB to 1 TiB",
                self.max_memory
            ));
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&self.max_ttl) {
            problems.push(format!(
                "token cache: max_ttl {:?} is outside 1 s to 1 h",
                self.max_ttl
            ));
        }
        problems
    }

    pub(crate) fn build(&self) -> Option<Verified> {
        if !self.enabled {
            return None;
        }
        // Shards, each behind its own lock, so that threads meet rarely; each gets an equal
        // share of the entries and the memory, so a small cache has fewer (at least 8 entries
        // each where it can: two tokens must not keep evicting each other from a shard of one).
        // An empty shard holds no heap.
        let fit = usize::try_from(self.max_entries / 8)
            .unwrap_or(usize::MAX)
            .clamp(1, SHARDS);
        Some(Verified(ring::Store::new(
            1 << fit.ilog2(),
            self.max_entries,
            self.max_memory,
            self.max_ttl.as_secs_f64(),
        )))
    }
}

/// Independent parts of the cache (a power of two).
const SHARDS: usize = 16;

/// What an entry costs beyond the token and claims: its slot (about 150 bytes) and its place in
/// the ring, with room for the map's and the ring's growth (up to twice their use).
const ENTRY_OVERHEAD: usize = 384;

/// The most memory a cache may be given (so that no sum of weights can overflow).
const MEMORY_CEILING: u64 = 1 << 40;

/// A verified token and what must still hold for it to be answered from the cache.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) claims: Arc<Claims>,
    /// The issuer whose key verified it.
    pub(crate) issuer: usize,
    pub(crate) key: KeyId,
    /// The time claims, judged again on every hit.
    pub(crate) times: Times,
}

impl Entry {
    /// Whether the time checks pass at `now`, exactly as validation judges them.
    pub(crate) fn current_at(&self, now: f64) -> bool {
        self.times.check(now).is_ok()
    }
}

/// The cache itself.
pub(crate) struct Verified(ring::Store);

impl Verified {
    /// The claims of `token` if it was stored, is current at `now` (seconds) by its time claims
    /// and the cache's `max_ttl`, and `key_held` says the key that verified it is still held.
    pub(crate) fn get(
        &self,
        token: &str,
        now: f64,
        key_held: impl FnOnce(usize, KeyId) -> bool,
    ) -> Option<Arc<Claims>> {
        // The key is checked outside the shard's lock: reading the keys may start a refresh.
        let hit = self.0.get(token, now, |entry| entry.current_at(now))?;
        key_held(hit.issuer, hit.key).then_some(hit.claims)
    }

    /// Remembers a verified token for as long as it is valid at `now`, at most `max_ttl`.
    pub(crate) fn insert(&self, token: &str, entry: Entry, now: f64) {
        let weight = token.len() + entry.claims.approximate_size() + ENTRY_OVERHEAD;
        self.0.insert(token, entry, weight as u64, now);
    }

    #[cfg(test)]
    pub(crate) fn entries(&self) -> u64 {
        self.0.len() as u64
    }
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified").finish_non_exhaustive()
    }
}
