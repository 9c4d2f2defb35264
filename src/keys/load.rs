//! An issuer's key store from its configuration: keys given in the configuration, loaded at
//! build time, or a remote source, checked now and fetched on first use.

use std::sync::Arc;

use super::http::Fetcher;
use super::jwk::RulesAt;
use super::sources::{IssuerRule, KeysFrom, Source};
use super::{
    Concern, KeyCacheSettings, KeyRules, KeySet, KeyStore, Remote, VerifyingKey, parse_jwks,
    parse_pem,
};
use crate::Algorithm;

/// Keys given in the configuration.
#[derive(Clone)]
pub(crate) enum KeyInput {
    Jwks(String),
    Pem {
        pem: String,
        alg: Algorithm,
        kid: Option<String>,
    },
}

/// Where configured keys are fetched from.
#[derive(Clone)]
pub(crate) enum RemoteInput {
    Discover,
    JwksUri(String),
    /// A metadata document at `url` names the issuer, which `rule` must accept; the keys
    /// are those it names, or with `keys_from` those another document names.
    Metadata {
        url: String,
        rule: IssuerRule,
        keys_from: Option<(String, IssuerRule)>,
    },
}

/// What an issuer's key store is made from.
pub(crate) struct KeyConfig<'a> {
    /// The issuer, for messages and discovery.
    pub name: &'a str,
    pub keys: &'a [KeyInput],
    pub remote: &'a [RemoteInput],
    pub algorithms: &'a [Algorithm],
    pub rules: Option<&'a Arc<dyn KeyRules>>,
    /// The gate's key settings: the limits on what configured keys may cost.
    pub settings: &'a KeyCacheSettings,
}

impl KeyConfig<'_> {
    /// The issuer's key store: configured keys loaded now, or a remote source checked now and
    /// fetched on first use. Problems go to `problem`.
    pub(crate) fn store(
        &self,
        fetcher: Option<&Arc<Fetcher>>,
        problem: &mut impl FnMut(String),
    ) -> KeyStore {
        match (self.remote, self.keys.is_empty(), fetcher) {
            ([], true, _) => {
                problem(
                    "no keys configured (use jwks, public_key_pem, jwks_uri or discover)".into(),
                );
            }
            ([remote], true, Some(fetcher)) => match self.source(remote, fetcher) {
                Ok(source) => {
                    let remote = Remote::new(
                        self.name.to_owned(),
                        source,
                        self.algorithms.to_vec(),
                        Arc::clone(fetcher),
                        self.rules.cloned(),
                    );
                    return KeyStore::Remote(Arc::new(remote));
                }
                Err(error) => problem(format!("key source refused: {error}")),
            },
            ([_, _, ..], _, _) => problem("more than one of jwks_uri and discover".into()),
            ([_], false, _) => {
                problem("keys are configured and also fetched; choose one".into());
            }
            ([_], true, None) => problem("no HTTP client for the remote key source".into()),
            ([], false, _) => return KeyStore::Fixed(self.configured(problem)),
        }
        KeyStore::Fixed(KeySet::default())
    }

    fn source(
        &self,
        remote: &RemoteInput,
        fetcher: &Fetcher,
    ) -> Result<Source, super::http::FetchError> {
        Ok(match remote {
            RemoteInput::Discover => {
                fetcher.url(self.name)?;
                Source::Discover
            }
            RemoteInput::JwksUri(url) => Source::JwksUri(fetcher.url(url)?),
            RemoteInput::Metadata {
                url,
                rule,
                keys_from,
            } => {
                let keys_from = match keys_from {
                    Some((from, rule)) => Some(KeysFrom {
                        url: fetcher.url(from)?,
                        rule: rule.clone(),
                    }),
                    None => None,
                };
                Source::Metadata {
                    url: fetcher.url(url)?,
                    rule: rule.clone(),
                    keys_from,
                }
            }
        })
    }

    /// Loads the configured JWKS and PEM keys.
    fn configured(&self, problem: &mut impl FnMut(String)) -> KeySet {
        let mut loaded: Vec<VerifyingKey> = Vec::new();
        let mut skipped = Vec::new();
        let max_keys = self.settings.max_keys;
        // A refused key source is its own problem; "no usable key" would only repeat it.
        let mut source_refused = false;
        let rules = RulesAt {
            rules: self.rules.map(|rules| &**rules),
            context: None,
        };
        for input in self.keys {
            match input {
                KeyInput::Jwks(json) => {
                    // The whole configuration counts against the cap, as one fetched set would.
                    let room = max_keys.saturating_sub(loaded.len() + skipped.len());
                    match parse_jwks(json, self.algorithms, room, rules) {
                        Ok((keys, problems)) => {
                            loaded.extend(keys);
                            skipped.extend(problems);
                        }
                        Err(reason) => {
                            source_refused = true;
                            problem(format!(
                                "JWKS refused: {reason} (KeyCacheSettings::max_keys counts \
                                 every configured key of an issuer)"
                            ));
                        }
                    }
                }
                KeyInput::Pem { pem, alg, kid } => {
                    if !self.algorithms.contains(alg) {
                        problem(format!(
                            "PEM key for {alg}, which is not an allowed algorithm"
                        ));
                    }
                    match parse_pem(pem, *alg, kid.as_deref()) {
                        Ok(key) => loaded.push(key),
                        Err(reason) => {
                            source_refused = true;
                            problem(format!("PEM key refused: {reason}"));
                        }
                    }
                }
            }
        }
        if loaded.len() > max_keys {
            problem(format!(
                "{} keys configured, more than max_keys ({max_keys})",
                loaded.len()
            ));
        }
        let loaded = self.settings.limits.admit(loaded, &mut skipped);
        let (set, shared) = KeySet::new(loaded);
        skipped.extend(shared);
        if set.len() == 0 && !source_refused {
            let reasons: Vec<String> = skipped.iter().map(ToString::to_string).collect();
            problem(format!("no usable key ({})", reasons.join("; ")));
            return set;
        }
        for key in &skipped {
            match key.concern() {
                // The configuration must change for the key to be used: a build error.
                Concern::Configuration => problem(format!("key unusable: {key}")),
                Concern::Mistake => {
                    tracing::warn!(issuer = %self.name, problem = %key, "tokengate: key skipped");
                }
                Concern::Expected => {
                    tracing::debug!(issuer = %self.name, problem = %key, "tokengate: key skipped");
                }
            }
        }
        let (keys, named) = set.describe_except(&KeySet::default());
        tracing::info!(
            issuer = %self.name,
            keys,
            added = %named,
            "tokengate: configured keys loaded"
        );
        set
    }
}
