//! The key part of the provider seam: what a provider preset checks and keeps of each key.

use std::fmt;

/// Rules a provider adds to the loading of one issuer's keys. Every method has the standard
/// behaviour as its default, so an issuer without a provider pays nothing.
pub(crate) trait KeyRules: Send + Sync + fmt::Debug {
    /// What the rules need to know of the metadata document (its JSON text) that named a key
    /// set, kept while its keys are loaded (a 304 is only trusted for the same context); an
    /// error refuses the document, and so the fetch, as malformed.
    fn key_context(&self, _metadata: &str) -> Result<Option<Box<str>>, String> {
        Ok(None)
    }

    /// Judges one JWK (its JSON text: an object without duplicate members) after the standard
    /// checks, under the context of the metadata that named its set; `Ok` with what to keep
    /// with the key (its tag, see [`VerifyingKey::tag`](super::VerifyingKey::tag)), or why
    /// the key is skipped.
    fn key_tag(&self, _jwk: &str, _context: Option<&str>) -> Result<Option<Box<str>>, String> {
        Ok(None)
    }
}
