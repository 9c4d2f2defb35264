//! Verification keys: parsed once when loaded, each bound to exactly one algorithm
//! (RFC 8725 §3.1), grouped per issuer; from the configuration or fetched and refreshed.

mod http;
mod judge;
mod jwk;
mod key;
mod life;
mod limits;
mod load;
mod misses;
mod modulus;
mod pem;
mod refresh;
mod rules;
mod set;
mod settings;
mod siblings;
mod sources;
mod store;

pub(crate) use http::{FetchError, Fetcher};
pub use judge::judge_jwks;
pub(crate) use jwk::RulesAt;
pub(crate) use jwk::parse_jwk;
pub(crate) use jwk::{Concern, KeyProblem, parse_jwks, quoted};
pub(crate) use key::{KeyId, KeyIdHasher, VerifyingKey};
pub(crate) use limits::KeyLimits;
pub(crate) use load::{KeyConfig, KeyInput, RemoteInput};
pub(crate) use misses::{Miss, Wanted};
pub(crate) use pem::parse_pem;
pub(crate) use refresh::Remote;
pub(crate) use rules::KeyRules;
pub(crate) use set::KeySet;
pub use settings::KeyCacheSettings;
pub(crate) use sources::IssuerRule;
pub use store::KeyStatus;
pub(crate) use store::KeyStore;

/// How many skipped keys a warning or an error message names.
const NAMED_PROBLEMS: usize = 3;

/// The first few problems, and how many more: bounded, whatever a key set holds.
fn summary(problems: &[KeyProblem]) -> String {
    let mut text: Vec<String> = problems
        .iter()
        .take(NAMED_PROBLEMS)
        .map(ToString::to_string)
        .collect();
    if problems.len() > NAMED_PROBLEMS {
        text.push(format!("and {} more", problems.len() - NAMED_PROBLEMS));
    }
    text.join("; ")
}

#[cfg(test)]
mod tests;
