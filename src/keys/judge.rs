//! The verdict on each key of a JWK Set, for tools that show why a key is used or skipped.

use super::jwk::{RulesAt, parse_jwk};
use super::{KeyCacheSettings, KeySet};
use crate::Algorithm;
use crate::json::{Object, parse_whole};

/// Judges each key of a JWK Set (the JSON text of `{"keys": [...]}`) by the rules a [`Gate`]
/// loads keys with, for an issuer that allows `algorithms`, under `settings`' cost limits
/// ([`max_rsa_bits`](KeyCacheSettings::max_rsa_bits),
/// [`allow_any_rsa_exponent`](KeyCacheSettings::allow_any_rsa_exponent),
/// [`max_keys`](KeyCacheSettings::max_keys)): for each key, in the set's order, the one
/// algorithm it would verify, or why it would be skipped. A provider preset's own key rules
/// (Entra's `issuer` member) are not applied.
///
/// [`Gate`]: crate::Gate
///
/// ```
/// use tokengate::{Algorithm, KeyCacheSettings, judge_jwks};
///
/// let jwks = r#"{"keys": [{"kty": "oct", "kid": "shared-secret", "k": "c2VjcmV0"}]}"#;
/// let verdicts = judge_jwks(jwks, Algorithm::ALL, &KeyCacheSettings::default())?;
/// let reason = verdicts[0].as_ref().unwrap_err();
/// assert!(reason.contains("symmetric"));
/// # Ok::<(), String>(())
/// ```
///
/// # Errors
///
/// Why the whole document would be refused: not a JWK Set, or more keys than `max_keys`.
pub fn judge_jwks(
    jwks: &str,
    algorithms: &[Algorithm],
    settings: &KeyCacheSettings,
) -> Result<Vec<Result<Algorithm, String>>, String> {
    #[derive(serde::Deserialize)]
    struct Set<'a> {
        #[serde(borrow)]
        keys: Vec<&'a serde_json::value::RawValue>,
    }
    let Object(set): Object<Set<'_>> = parse_whole(jwks, std::marker::PhantomData)
        .map_err(|_| "not a JWK Set document".to_owned())?;
    if set.keys.len() > settings.max_keys {
        return Err(format!(
            "{} keys, more than the {} allowed",
            set.keys.len(),
            settings.max_keys
        ));
    }
    let mut verdicts = Vec::with_capacity(set.keys.len());
    let mut usable = Vec::new();
    let mut keys = Vec::new();
    for (index, raw) in set.keys.iter().enumerate() {
        let verdict = parse_jwk(raw.get(), algorithms, RulesAt::default())
            .and_then(|key| settings.limits.check(&key).map(|()| key));
        match verdict {
            Ok(key) => {
                verdicts.push(Ok(key.alg()));
                usable.push((index, key.kid().map(str::to_owned)));
                keys.push(key);
            }
            Err(problem) => verdicts.push(Err(problem.reason().to_owned())),
        }
    }
    // Two different keys under one kid: the set refuses both, as a gate's set does.
    let (_, shared) = KeySet::new(keys);
    for problem in shared {
        for (index, kid) in &usable {
            if kid.as_deref() == problem.kid() {
                verdicts[*index] = Err(problem.reason().to_owned());
            }
        }
    }
    Ok(verdicts)
}
