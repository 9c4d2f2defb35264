//! The key life, made visible: one event when an issuer's keys first load and one when they
//! change (key ids and algorithms, never key material), each skipped key once rather than on
//! every fetch, and refreshes the limits defer or suppress.

use std::collections::HashSet;
use std::time::Duration;

use super::refresh::{Remote, State};
use super::{Concern, KeyProblem, KeySet};

/// What a key set loaded changed (see `Remote::news`).
pub(super) struct News {
    first: bool,
    keys: usize,
    /// How many keys, and which (`kid (alg)`, bounded).
    added: (usize, String),
    removed: (usize, String),
    /// Skipped keys not logged before.
    skipped: Vec<(Concern, String)>,
}

impl Remote {
    /// What loading `set` over `old` changes, to log once the state lock is released; notes
    /// the skipped keys, so that each is logged once.
    pub(super) fn news(
        &self,
        state: &mut State,
        old: &KeySet,
        set: &KeySet,
        skipped: &[KeyProblem],
    ) -> News {
        let mut reported = HashSet::with_capacity(skipped.len());
        let mut fresh = Vec::new();
        for problem in skipped {
            let text = problem.to_string();
            if !state.reported.contains(&text) {
                fresh.push((problem.concern(), text.clone()));
            }
            reported.insert(text);
        }
        state.reported = reported;
        state.unconfigured = skipped
            .iter()
            .filter(|problem| problem.concern() == Concern::Configuration)
            .map(ToString::to_string)
            .collect();
        News {
            first: state.loaded_at.is_none(),
            keys: set.len(),
            added: set.describe_except(old),
            removed: old.describe_except(set),
            skipped: fresh,
        }
    }

    /// One INFO event when the keys first load and when they change (key ids and algorithms,
    /// never key material), and each newly skipped key once. A quiet store (see
    /// [`sibling`](Remote::sibling)) logs at DEBUG only.
    pub(super) fn log(&self, news: News) {
        let issuer = &self.issuer;
        let (keys, (added, new_keys), (removed, old_keys)) = (news.keys, news.added, news.removed);
        if news.first || added + removed > 0 {
            let what = match news.first {
                true => "tokengate: keys loaded",
                false => "tokengate: keys changed",
            };
            if self.quiet {
                tracing::debug!(%issuer, keys, added = %new_keys, removed = %old_keys, "{what}");
            } else {
                tracing::info!(%issuer, keys, added = %new_keys, removed = %old_keys, "{what}");
            }
        }
        for (concern, problem) in news.skipped {
            if self.quiet || concern == Concern::Expected {
                tracing::debug!(%issuer, %problem, "tokengate: key skipped");
            } else {
                tracing::warn!(%issuer, %problem, "tokengate: key skipped");
            }
        }
    }

    /// Logs, once per suppression, that a request wanted a refresh the limits refused or
    /// deferred.
    pub(super) fn suppressed(&self, state: &mut State, why: &str, wait: Duration) {
        if !std::mem::replace(&mut state.said_suppressed, true) {
            tracing::debug!(
                issuer = %self.issuer,
                limit = why,
                retry_in = ?wait,
                "tokengate: key refresh suppressed"
            );
        }
    }
}
