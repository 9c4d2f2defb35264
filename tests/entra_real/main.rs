//! Real Microsoft-signed Entra ID tokens, validated with the public keys Microsoft published
//! for them (token ids Txx and key ids Kxx as in `tests/entra-real/`). See
//! `tests/entra-real/SOURCES.md` for what each token is and where it comes from, and
//! `tests/entra-real/manifest.json` for its decoded header and claims.
//!
//! Every token expired years ago. Each is validated at a fixed clock inside its lifetime,
//! never by turning a check off: the midpoint of `nbf`/`iat` .. `exp`, which is at least 30
//! minutes from either end, so the 60 s leeway is never what makes a token pass.
//! `clocks_come_from_the_tokens` checks those constants against the decoded tokens, and
//! `real_tokens_are_expired_today` shows the lifetime check is live.
//!
//! Entra keys carry no `alg`, so every gate here allows exactly one RSA algorithm (RS256); each
//! key is then bound to RS256 at build time.

mod access_tokens;
mod clocks;
mod fixtures;
mod id_tokens;
mod key_hygiene;
mod negative_variants;
mod support;
