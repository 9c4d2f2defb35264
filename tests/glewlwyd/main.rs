//! Interoperability with Glewlwyd, a second real identity provider: an OAuth 2.0 / OpenID
//! Connect server written in C (Debian package `glewlwyd`), independent of the oidc-provider
//! suite (`tests/interop`). Its access tokens and key set differ from oidc-provider's in ways
//! a resource server meets in the field: an issuer with a path, a key set sent with
//! `Cache-Control: no-store`, `typ: at+jwt` with `nbf` and a non-standard `type` claim,
//! Ed25519 keys, rotation through its admin API, and `aud` set to the scope list when the
//! client names no resource.
//!
//! Each test starts its own Glewlwyd on a free port of 127.0.0.1, with a fresh sqlite database
//! made from the package's own schema in a temporary directory (`server.rs`), configures it
//! through its admin REST API (`admin.rs`, `provider.rs`) with signing keys generated for the
//! test (`signing_keys.rs`), and stops it when the test ends, also when the test fails. A
//! small TCP proxy in front of it counts the key-set requests (`proxy.rs`). Tokens come from
//! the client-credentials grant and go to an axum API behind `TokenLayer` on a real hyper
//! server (`api.rs`); every refusal is checked for its status, exact `WWW-Authenticate` value
//! (strictly parsed) and body code.
//!
//! The tests are behind the `interop` feature, so that `cargo test` never needs Glewlwyd;
//! with the feature on and Glewlwyd missing, they fail saying what to run:
//!
//! ```sh
//! bash tests/glewlwyd/run.sh   # apt-get install glewlwyd sqlite3 when needed, then:
//! cargo test --features interop --test glewlwyd
//! ```
//!
//! Secret-free logs (STD-6750-8): every `tracing` event of the binary is captured
//! (`tokengate_testkit::capture`, installed by `Glewlwyd::start` before anything else), and
//! each test ends with `Glewlwyd::assert_logs_secret_free`: none of the tokens it handled (and
//! their segments and claim values), the client secrets, the private keys or the admin
//! session appear in the capture.
#![cfg(feature = "interop")]

mod admin;
mod api;
mod audience;
mod discovery;
mod gate;
mod logs;
mod provider;
mod proxy;
mod rotation;
mod scopes;
mod server;
mod signing_keys;
mod token_shape;
