//! An issuer's usable keys, and how a token's key is chosen among them.

use std::collections::{HashMap, HashSet};

use super::{KeyId, KeyProblem, VerifyingKey};
use crate::Algorithm;
use crate::error::Rejection;

/// An issuer's usable keys.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
    /// Index into `keys` by `kid`; kids carried by two different keys are left out, so a token
    /// naming one cannot pick between them.
    by_kid: HashMap<Box<str>, usize>,
}

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
        (KeySet { keys, by_kid }, problems)
    }

    fn index(keys: &[VerifyingKey]) -> HashMap<Box<str>, usize> {
        keys.iter()
            .enumerate()
            .filter_map(|(i, k)| k.kid().map(|kid| (Box::from(kid), i)))
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the key `id` is in the set.
    pub(crate) fn contains(&self, id: KeyId) -> bool {
        self.keys.iter().any(|key| key.id() == id)
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
