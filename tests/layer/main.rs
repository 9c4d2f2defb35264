//! End-to-end tests of `TokenLayer`, `RequireLayer`, the axum extractors and the RFC 9728
//! metadata service: through an axum `Router` (`oneshot`), and through real HTTP/1.1 and
//! HTTP/2 servers on 127.0.0.1 (raw TCP where a client library would normalise the request).
//!
//! Every refusal is checked for its exact status, exact `WWW-Authenticate` value (parsed with
//! the strict RFC 9110 parser and the RFC 6750 §3 rules), JSON body, `Content-Type` and
//! `Cache-Control: no-store`.

mod builders;
mod credentials;
mod extractors;
mod headers;
mod keys;
mod metadata;
mod real_servers;
mod refusals;
mod requirements;
mod support;
mod token_sources;
