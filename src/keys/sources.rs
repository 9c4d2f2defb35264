//! Where an issuer's keys are: a JWK Set URL, OpenID Connect discovery (or RFC 8414), or a
//! metadata document at a configured location; and one fetch of them.

use std::sync::Arc;
use tokio::time::Instant;

use reqwest::Url;
use serde::Deserialize;

use super::http::{FetchError, Fetched, Fetcher};
use super::jwk::RulesAt;
use super::refresh::{Loaded, Remote};
use super::{KeySet, parse_jwks, summary};
use crate::json::Object;

/// Where an issuer's keys come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// OpenID Connect discovery (or RFC 8414) from the issuer identifier.
    Discover,
    JwksUri(Url),
    /// A metadata document at a configured location whose `issuer` is checked by a rule
    /// rather than known in advance (a provider whose issuer depends on its cloud, or that is
    /// configured by a domain name); the issuer found is [`Remote::learned`].
    ///
    /// With `keys_from`, the keys are those another metadata document names (see
    /// [`KeysFrom`]).
    Metadata {
        url: Url,
        rule: IssuerRule,
        keys_from: Option<KeysFrom>,
    },
}

/// For [`Source::Metadata`]: the key set is the one this other metadata document names, and
/// its issuer `rule` must accept. For a provider whose documents name the same keys, where
/// one document's keys carry more of what the provider's key rules read.
#[derive(Debug)]
pub(crate) struct KeysFrom {
    pub(crate) url: Url,
    pub(crate) rule: IssuerRule,
}

/// Accepts or refuses the issuer a metadata document names, and says which token `iss` values
/// the document could name (so that only those wait for it to be fetched).
#[derive(Clone)]
pub(crate) struct IssuerRule {
    pub(crate) check: Arc<CheckIssuer>,
    pub(crate) could_name: Arc<dyn Fn(&str) -> bool + Send + Sync>,
}

/// Says why an issuer is not acceptable, if it is not.
pub(crate) type CheckIssuer = dyn Fn(&str) -> Result<(), String> + Send + Sync;

impl std::fmt::Debug for IssuerRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuerRule")
    }
}

/// Where the keys are, as found, and what the provider's key rules took from the metadata
/// that named them.
#[derive(Clone, Debug)]
pub(super) struct KeysAt {
    pub(super) url: Url,
    pub(super) found: Instant,
    pub(super) context: Option<Box<str>>,
}

impl KeysAt {
    fn new(url: Url, context: Option<Box<str>>) -> KeysAt {
        KeysAt {
            url,
            found: Instant::now(),
            context,
        }
    }
}

/// What a metadata document says about the keys, as far as tokengate reads it.
struct MetadataDocument {
    issuer: String,
    jwks_uri: Url,
    /// What the provider's key rules took from the document.
    context: Option<Box<str>>,
}

impl Remote {
    /// One fetch: finds where the keys are (again, when that is old or the last fetch
    /// failed), then loads them, conditionally on the `ETag` held.
    pub(super) async fn fetch(&self) -> Result<Loaded, FetchError> {
        // One client for the round (discovery, then the key set), released after it.
        let _client = self.fetcher.client().await?;
        let (mut etag, known) = {
            let state = self.lock();
            let rediscover = state.failures > 0
                || state
                    .jwks_uri
                    .as_ref()
                    .is_none_or(|at| at.found.elapsed() > self.fetcher.settings.max_ttl);
            let known = match rediscover {
                true => None,
                false => state.jwks_uri.clone(),
            };
            (state.etag.clone(), known)
        };
        let keys_at = match (&self.source, known) {
            (Source::JwksUri(url), _) => KeysAt::new(url.clone(), None),
            (Source::Discover | Source::Metadata { .. }, Some(known)) => known,
            (
                Source::Metadata {
                    url,
                    rule,
                    keys_from,
                },
                None,
            ) => {
                let document = self.metadata_at(url).await?;
                self.accept_issuer(url, rule, &document.issuer)?;
                let known = self.learned.load();
                if known
                    .as_deref()
                    .is_some_and(|known| *known != document.issuer)
                {
                    // An issuer does not change; a document that says otherwise is refused.
                    let found: String = document.issuer.chars().take(200).collect();
                    return Err(FetchError::IssuerMismatch { found });
                }
                if known.is_none() {
                    self.learned.store(Some(Arc::new(document.issuer.clone())));
                }
                // The keys are judged in the context of the document that names them.
                let document = match keys_from {
                    None => document,
                    Some(from) => {
                        let other = self.metadata_at(&from.url).await?;
                        self.accept_issuer(&from.url, &from.rule, &other.issuer)?;
                        other
                    }
                };
                let at = KeysAt::new(document.jwks_uri, document.context);
                let mut state = self.lock();
                // A 304 would only confirm keys loaded from elsewhere, or judged in another
                // context.
                if state
                    .jwks_uri
                    .as_ref()
                    .is_some_and(|held| held.url != at.url || held.context != at.context)
                {
                    etag = None;
                }
                state.jwks_uri = Some(at.clone());
                drop(state);
                at
            }
            (Source::Discover, None) => {
                let url = discover(&self.fetcher, &self.issuer).await?;
                let at = KeysAt::new(url, None);
                self.lock().jwks_uri = Some(at.clone());
                at
            }
        };
        match self.fetcher.get(&keys_at.url, etag.as_deref()).await? {
            Fetched::NotModified { ttl } => Ok(Loaded::Same { ttl }),
            Fetched::Body { body, ttl, etag } => {
                let text = std::str::from_utf8(&body)
                    .map_err(|_| FetchError::Malformed("the key set is not UTF-8".to_owned()))?;
                let max_keys = self.fetcher.settings.max_keys;
                let rules = RulesAt {
                    rules: self.rules.as_deref(),
                    context: keys_at.context.as_deref(),
                };
                let (keys, mut skipped) = parse_jwks(text, &self.allowed, max_keys, rules)
                    .map_err(FetchError::Malformed)?;
                let keys = self.fetcher.settings.limits.admit(keys, &mut skipped);
                let (set, shared) = KeySet::new(keys);
                skipped.extend(shared);
                if set.len() == 0 {
                    let reason = format!("no usable key ({})", summary(&skipped));
                    return Err(FetchError::Malformed(reason));
                }
                // Skipped keys are logged when the set is recorded, each once.
                Ok(Loaded::New {
                    set,
                    ttl,
                    etag,
                    skipped,
                })
            }
        }
    }

    /// Whether `rule` accepts the issuer the metadata document at `url` names.
    fn accept_issuer(&self, url: &Url, rule: &IssuerRule, issuer: &str) -> Result<(), FetchError> {
        let Err(reason) = (rule.check)(issuer) else {
            return Ok(());
        };
        let found: String = issuer.chars().take(200).collect();
        // A URL that holds a value from a token not yet verified is not logged.
        if !self.quiet {
            tracing::error!(
                metadata = %url,
                found = %found,
                reason = %reason,
                "tokengate: the metadata names an issuer this configuration does not accept"
            );
        }
        Err(FetchError::IssuerMismatch { found })
    }

    /// The `issuer` and `jwks_uri` of the metadata document at `url` (a configured location,
    /// which need not sit under the issuer), and what the provider's key rules take from it.
    async fn metadata_at(&self, url: &Url) -> Result<MetadataDocument, FetchError> {
        let body = self.fetcher.document(url).await?;
        #[derive(Deserialize)]
        struct Metadata {
            issuer: String,
            jwks_uri: String,
        }
        let malformed =
            || FetchError::Malformed("not a metadata document with issuer and jwks_uri".to_owned());
        // An object only: serde's derived structs would also read a JSON array of the fields.
        let Object(metadata): Object<Metadata> =
            serde_json::from_slice(&body).map_err(|_| malformed())?;
        let jwks_uri = self.fetcher.url(&metadata.jwks_uri)?;
        let context = match &self.rules {
            Some(rules) => {
                let text = std::str::from_utf8(&body).map_err(|_| malformed())?;
                rules.key_context(text).map_err(FetchError::Malformed)?
            }
            None => None,
        };
        Ok(MetadataDocument {
            issuer: metadata.issuer,
            jwks_uri,
            context,
        })
    }
}

/// The issuer's `jwks_uri`, from OpenID Connect discovery or, where that location does not
/// exist, RFC 8414 authorization-server metadata. The document must name exactly this issuer.
async fn discover(fetcher: &Fetcher, issuer: &str) -> Result<Url, FetchError> {
    let oidc = fetcher.url(&format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ))?;
    let body = match fetcher.document(&oidc).await {
        Ok(body) => body,
        Err(FetchError::Status(404 | 410)) => fetcher.document(&rfc8414(issuer, fetcher)?).await?,
        Err(other) => return Err(other),
    };
    #[derive(Deserialize)]
    struct Metadata {
        issuer: String,
        jwks_uri: String,
    }
    // An object only: serde's derived structs would also read a JSON array of the fields.
    let Object(metadata): Object<Metadata> = serde_json::from_slice(&body).map_err(|_| {
        FetchError::Malformed("not a metadata document with issuer and jwks_uri".to_owned())
    })?;
    if metadata.issuer != issuer {
        let found: String = metadata.issuer.chars().take(200).collect();
        return Err(FetchError::IssuerMismatch { found });
    }
    fetcher.url(&metadata.jwks_uri)
}

/// RFC 8414 §3.1: `/.well-known/oauth-authorization-server` goes between the host and the
/// issuer's path.
fn rfc8414(issuer: &str, fetcher: &Fetcher) -> Result<Url, FetchError> {
    let mut url = fetcher.url(issuer)?;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyCacheSettings;

    #[test]
    fn rfc8414_location() {
        let fetcher = Fetcher::new(KeyCacheSettings::default(), None).unwrap();
        let at = |issuer: &str| rfc8414(issuer, &fetcher).unwrap().to_string();
        assert_eq!(
            at("https://as.example.com"),
            "https://as.example.com/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            at("https://as.example.com/"),
            "https://as.example.com/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            at("https://as.example.com/tenant/v2.0"),
            "https://as.example.com/.well-known/oauth-authorization-server/tenant/v2.0"
        );
    }
}
