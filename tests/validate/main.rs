//! The validator through its public API: configuration checks, issuers, keys, claims rules,
//! profiles and requirements.

mod claims;
mod configuration;
mod issuers;
mod keys;
mod requirements;
mod support;
