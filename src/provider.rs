//! The provider seam: what a provider preset (Microsoft Entra ID, ...) adds to the standard
//! pipeline for the issuers it configures.
//!
//! The core knows the RFCs and nothing of any vendor. A preset builds ordinary
//! [`IssuerProfile`](crate::IssuerProfile)s and attaches one [`ProviderRules`] value to them;
//! the pipeline asks it at a few named points, each defaulting to the standard behaviour.
//! Issuers without a provider never call into it; for those with one, each point is one
//! virtual call, on the uncached path only.
//!
//! The seam is crate-private: its points see the pipeline's internal views (the unverified
//! claims, the key stores), which the later work of this release (claim mappings,
//! sender-constrained tokens, introspection) still reshapes. Users configure providers through
//! the presets and [`IssuerProfile`](crate::IssuerProfile), which are public.

use std::sync::Arc;

use crate::claims::{RawClaims, TokenKind};
use crate::error::Rejection;
use crate::keys::{KeyRules, Remote, VerifyingKey};

/// Rules a provider adds to the issuers it configures. Every method defaults to the standard
/// behaviour; the key points come from [`KeyRules`].
pub(crate) trait ProviderRules: KeyRules {
    /// Whether the token's `iss` names this issuer, whose identifier its metadata gave as
    /// `learned` (standard: the same string). Only for issuers learned from metadata.
    fn matches_learned(&self, learned: &str, iss: &str) -> bool {
        learned == iss
    }

    /// Whether `key`, chosen by the token's `kid`, may verify a token with these claims (not
    /// verified yet: a `false` only refuses more), before its signature is checked; `false`
    /// refuses the token as `key_issuer_mismatch`.
    fn key_may_sign(&self, _key: &VerifyingKey, _claims: &RawClaims<'_>) -> bool {
        true
    }

    /// Whether an application or a user holds the token, where the provider marks it in its
    /// own way (verified claims); `None` leaves the standard rules of [`TokenKind`] to decide.
    fn token_kind(&self, _claims: &RawClaims<'_>) -> Option<TokenKind> {
        None
    }

    /// Claim rules of the provider, after the signature and the standard claim checks.
    fn check_claims(&self, _claims: &RawClaims<'_>) -> Result<(), Rejection> {
        Ok(())
    }

    /// Another key store for a token whose key the issuer's own store (`parent`) lacks, even
    /// after a refresh (a provider that also publishes keys per tenant, say). The claims are
    /// not verified yet: they only choose where to look. With `admit`, a store may be created;
    /// without, only one already held is returned. Tokens verified with it are not cached.
    fn fallback_keys(
        &self,
        _claims: &RawClaims<'_>,
        _parent: &Arc<Remote>,
        _admit: bool,
    ) -> Option<Arc<Remote>> {
        None
    }

    /// Logs what a developer should know about a refused token whose signature verified (a
    /// token meant for another of the provider's services, say). Never token content.
    fn explain(&self, _rejection: &Rejection, _claims: &RawClaims<'_>) {}
}
