//! Choosing the configured issuer a token names: by its exact `iss`, or among issuers whose
//! identifier their metadata gives. Only configured issuers are ever chosen; `iss` is never
//! turned into a URL.

use std::collections::HashMap;

use super::Issuer;

/// The configured issuers of a gate.
#[derive(Debug)]
pub(crate) struct IssuerTable {
    issuers: Vec<Issuer>,
    /// Each issuer's primary name, for status and errors.
    names: Vec<String>,
    /// Exact issuer string to index in `issuers`.
    by_issuer: HashMap<Box<str>, usize>,
    /// Issuers whose string their metadata names.
    learned: Box<[usize]>,
}

/// Why no configured issuer was chosen.
#[derive(Debug)]
pub(crate) enum Selection {
    /// No configured issuer is `iss`.
    Untrusted,
    /// No configured issuer is `iss`, but metadata not fetched yet could name it: fetch it
    /// ([`IssuerTable::learn`]) and ask again.
    NotLearnedYet,
}

impl IssuerTable {
    /// A table of `issuers` (with their `names`), whose exact `iss` strings are `by_issuer`
    /// and of which `learned` take theirs from metadata.
    pub(crate) fn new(
        issuers: Vec<Issuer>,
        names: Vec<String>,
        by_issuer: HashMap<Box<str>, usize>,
        learned: Vec<usize>,
    ) -> IssuerTable {
        IssuerTable {
            issuers,
            names,
            by_issuer,
            learned: learned.into_boxed_slice(),
        }
    }

    pub(crate) fn get(&self, index: usize) -> &Issuer {
        &self.issuers[index]
    }

    pub(crate) fn name(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// Every issuer with its name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Issuer, &str)> {
        self.issuers
            .iter()
            .zip(self.names.iter().map(String::as_str))
    }

    /// The configured issuers' primary names.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of the issuer the token's `iss` names.
    pub(crate) fn select(&self, iss: &str) -> Result<usize, Selection> {
        if let Some(&index) = self.by_issuer.get(iss) {
            return Ok(index);
        }
        let mut unknown = false;
        for &index in &self.learned {
            let issuer = &self.issuers[index];
            let keys = &issuer.keys;
            match keys.learned().as_deref() {
                Some(Some(learned)) => {
                    let matches = match &issuer.rules {
                        Some(rules) => rules.matches_learned(learned, iss),
                        None => **learned == *iss,
                    };
                    if matches {
                        return Ok(index);
                    }
                }
                // Only an issuer this metadata could name waits for it: a failing document
                // must not hold up every other token.
                Some(None) if keys.could_name(iss) => unknown = true,
                _ => {}
            }
        }
        Err(if unknown {
            Selection::NotLearnedYet
        } else {
            Selection::Untrusted
        })
    }

    /// Fetches the metadata not fetched yet that could name `iss` (each limited by its
    /// cooldown, as any fetch).
    pub(crate) async fn learn(&self, iss: &str) {
        let unknown = |index: &&usize| {
            let keys = &self.issuers[**index].keys;
            matches!(keys.learned().as_deref(), Some(None)) && keys.could_name(iss)
        };
        let started: Vec<_> = self
            .learned
            .iter()
            .filter(unknown)
            .map(|&index| self.issuers[index].keys.start_warm_up())
            .collect();
        for warm_up in started {
            // A failure is logged by the store; what matters here is what is known after.
            let _ = warm_up.finish().await;
        }
    }
}
