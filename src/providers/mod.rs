//! Provider presets: a few lines of configuration for a popular identity provider, built on
//! the same core as [`IssuerProfile`](crate::IssuerProfile), with the provider's own rules
//! plugged in where the standards leave room. Each preset is its own module behind its own
//! feature, and gives [`Issuers`](crate::Issuers) to
//! [`GateBuilder::issuer`](crate::GateBuilder::issuer).
//!
//! | preset | feature | what it configures |
//! |---|---|---|
//! | [`entra`] | `entra` (default) | Microsoft Entra ID APIs: v1 and v2 tokens, tenants, step-up |
//!
//! Any other standards-compliant issuer needs no preset: [`IssuerProfile`](crate::IssuerProfile)
//! with [`discover`](crate::IssuerProfile::discover) is enough.

#[cfg(feature = "entra")]
pub mod entra;
