//! An issuer's usable keys, and how a token's key is chosen among them.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use super::{KeyId, KeyIdHasher, KeyProblem, VerifyingKey, quoted};
use crate::Algorithm;
use crate::error::Rejection;

/// Up to this many keys, comparing ids one by one beats hashing (a cache hit asks on every
/// request).
const SMALL_SET: usize = 4;

/// An issuer's usable keys.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
    /// Index into `keys` by `kid`; kids carried by two different keys are left out, so a token
    /// naming one cannot pick between them.
    by_kid: HashMap<Box<str>, usize>,
    /// Every key's id: a cache hit asks whether its key is still here, in constant time.
    ids: HashSet<KeyId, BuildHasherDefault<KeyIdHasher>>,
    /// Which set a store holds (0 before the first load): a request that found no key can
    /// tell whether the keys changed since it read them.
    generation: u64,
}

/// How many keys a log line names; the rest are counted.
const NAMED_KEYS: usize = 10;

impl KeySet {
    /// Builds a set, dropping exact duplicates and making shared kids unusable. Linear in the
    /// number of keys.
    pub(crate) fn new(candidates: Vec<VerifyingKey>) -> (KeySet, Vec<KeyProblem>) {
        let mut seen = HashSet::with_capacity(candidates.len());
        let mut keys: Vec<VerifyingKey> = candidates
            .into_iter()
            .filter(|key| seen.insert(key.id()))
            .collect();
        let mut shared = HashSet::new();
        let mut by_kid = HashMap::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = key.kid()
                && by_kid.insert(Box::from(kid), i).is_some()
            {
                shared.insert(Box::<str>::from(kid));
            }
        }
        let problems = shared
            .iter()
            .map(|kid| {
                KeyProblem::new(
                    Some(kid),
                    "two different keys share this kid; tokens naming it are refused",
                )
            })
            .collect();
        if !shared.is_empty() {
            keys.retain(|k| k.kid().is_none_or(|kid| !shared.contains(kid)));
            by_kid = Self::index(&keys);
        }
        let ids = keys.iter().map(VerifyingKey::id).collect();
        (
            KeySet {
                keys,
                by_kid,
                ids,
                generation: 0,
            },
            problems,
        )
    }

    fn index(keys: &[VerifyingKey]) -> HashMap<Box<str>, usize> {
        keys.iter()
            .enumerate()
            .filter_map(|(i, k)| k.kid().map(|kid| (Box::from(kid), i)))
            .collect()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// This set as the one a store holds after `older`.
    pub(crate) fn after(mut self, older: &KeySet) -> KeySet {
        self.generation = older.generation.wrapping_add(1);
        self
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the key `id` is in the set: a few comparisons for the small sets most issuers
    /// publish, one hash lookup for larger ones, whatever their size.
    pub(crate) fn contains(&self, id: KeyId) -> bool {
        if self.keys.len() <= SMALL_SET {
            return self.keys.iter().any(|key| key.id() == id);
        }
        self.ids.contains(&id)
    }

    /// Whether this set holds a key that `older` does not and that [`select`](Self::select)
    /// could pick for a token with `for_kid` and `alg`: whether a refresh brought what the
    /// token was missing. A new key of another algorithm cannot serve it.
    pub(crate) fn brings_new(&self, older: &KeySet, for_kid: Option<&str>, alg: Algorithm) -> bool {
        let new = |key: &VerifyingKey| !older.contains(key.id());
        match for_kid {
            // A key without kid can serve any kid (see `select`).
            Some(kid) => {
                self.by_kid.get(kid).is_some_and(|&i| new(&self.keys[i]))
                    || self
                        .keys
                        .iter()
                        .any(|key| key.kid().is_none() && key.alg() == alg && new(key))
            }
            None => self.select(None, alg).is_ok_and(new),
        }
    }

    /// The keys of this set that `other` lacks, as `"kid" (alg)`, for logs: key ids and
    /// algorithms only, never key material, the first few named and the rest counted. Kids
    /// are the provider's to choose, so they are quoted (no forged log lines); a key without
    /// one is `no kid (alg)`, unquoted.
    pub(crate) fn describe_except(&self, other: &KeySet) -> (usize, String) {
        let fresh: Vec<&VerifyingKey> = self
            .keys
            .iter()
            .filter(|key| !other.contains(key.id()))
            .collect();
        let mut named: Vec<String> = fresh
            .iter()
            .take(NAMED_KEYS)
            .map(|key| match key.kid() {
                Some(kid) => format!("{} ({})", quoted(kid), key.alg()),
                None => format!("no kid ({})", key.alg()),
            })
            .collect();
        if fresh.len() > NAMED_KEYS {
            named.push(format!("and {} more", fresh.len() - NAMED_KEYS));
        }
        (fresh.len(), named.join(", "))
    }

    /// Chooses the key for a token.
    ///
    /// With a `kid`, the key with that exact id (case-sensitive, no normalization); if none has
    /// it, a key configured without any id can serve, when exactly one such key has the token's
    /// algorithm. Without a `kid`, the one key that has the token's algorithm; several (ATK-44)
    /// mean the token must name its key.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerifyingKey, Rejection> {
        if let Some(kid) = kid {
            if let Some(&i) = self.by_kid.get(kid) {
                let key = &self.keys[i];
                return if key.alg() == alg {
                    Ok(key)
                } else {
                    Err(Rejection::KeyAlgorithmMismatch)
                };
            }
            return self
                .only(|k| k.kid().is_none() && k.alg() == alg)
                .ok_or(Rejection::UnknownKey);
        }
        if let Some(key) = self.only(|k| k.alg() == alg) {
            return Ok(key);
        }
        if self.keys.len() == 1 && self.keys[0].alg() != alg {
            return Err(Rejection::KeyAlgorithmMismatch);
        }
        Err(Rejection::MissingKeyId)
    }

    fn only(&self, fits: impl Fn(&VerifyingKey) -> bool) -> Option<&VerifyingKey> {
        let mut found = self.keys.iter().filter(|k| fits(k));
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }
}
