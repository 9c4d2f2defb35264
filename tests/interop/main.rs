//! Interoperability with a real OpenID provider: panva's `oidc-provider` (an OpenID Certified
//! implementation, pinned in `tests/idp/package.json`) issues JWT access tokens through the
//! client-credentials grant, and an axum API behind `TokenLayer`, served by a real hyper server
//! on 127.0.0.1, validates them with keys found by discovery. Sender-constrained tokens too:
//! DPoP-bound ones (`dpop.rs`, the test being the DPoP client) and certificate-bound ones
//! obtained and presented over real TLS with a client certificate (`mtls.rs`). And opaque
//! tokens, which tokengate introspects at the provider (RFC 7662) as the resource server of the
//! API they are for, with each client authentication method (`opaque.rs`, `resource_server.rs`).
//!
//! Each test starts its own provider (`node tests/idp/server.mjs`, on a free port of 127.0.0.1,
//! see that file for what it issues and its test-only controls) and stops it when the test ends,
//! also when the test fails. The tests are behind the `interop` feature, so that `cargo test`
//! never needs Node; with the feature on, a missing Node or missing packages fail the tests
//! with a message saying what to install:
//!
//! ```sh
//! bash tests/idp/run.sh   # `npm ci` in tests/idp when needed, then the command below
//! cargo test --features interop --test interop
//! ```
//!
//! Every refusal is checked for its status, exact `WWW-Authenticate` value (parsed with the
//! strict RFC 9110 parser and the RFC 6750 §3 rules) and body code.
//!
//! Secret-free logs (STD-6750-8): a global subscriber captures every `tracing` event of the
//! binary at TRACE level (`tokengate_testkit::capture`), installed by `Idp::start` before anything
//! else. Each test ends with `Idp::assert_logs_secret_free`: none of what it handled (every
//! access token and its segments, the client secrets, the provider's key material as fetched
//! from its `jwks_uri`, the tokens' claim values, such as the provider's per-token `marker`)
//! appears in the capture, which must hold a refusal that tokengate logged for this test.
#![cfg(feature = "interop")]

mod ask;
mod authorization;
mod discovery;
mod dpop;
mod idp;
mod keys;
mod mtls;
mod opaque;
mod resource_server;
mod support;
mod tokens;
