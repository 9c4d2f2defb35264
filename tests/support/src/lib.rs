//! tokengate's shared test harness, for its integration tests (`tests/`) and benchmarks
//! (`benches/`): a dev-dependency of tokengate, never published.
//!
//! * At the root: the usual issuer and audience, claims that pass every default check, and
//!   cached [`TestKey`]s (the `testing` feature's key pairs) for each algorithm, so that a test
//!   binary generates each key once;
//! * [`provider`]: a loopback identity provider (discovery and a JWK Set over HTTP or HTTPS)
//!   that counts requests and misbehaves on demand;
//! * [`challenge`]: a strict RFC 9110 `WWW-Authenticate` parser with the RFC 6750 rules;
//! * [`capture`]: everything `tracing` records, to prove that nothing secret is logged;
//! * [`entra_shape`]: the claims of a real-sized Entra ID access token, for the benchmarks;
//! * [`redis_server`]: a private `redis-server` on loopback, for the Redis replay store;
//! * [`token_parts`]: a token's header and claims decoded without validation, and a token
//!   with a broken signature.
//!
//! Unit tests inside tokengate cannot use this crate (it links another copy of tokengate, whose
//! types differ): they have `src/test_fixtures.rs`.

pub mod bench;
pub mod capture;
pub mod challenge;
mod claims;
mod encoding;
pub mod entra_shape;
mod keys;
pub mod provider;
mod ready;
pub mod redis_server;
pub mod token_parts;

pub use claims::{AUDIENCE, ISSUER, now, valid_claims, valid_claims_at};
pub use encoding::{b64, b64_standard, pem};
pub use keys::{jwks, key_for, rs256};
pub use ready::ready;
pub use tokengate::testing::TestKey;
