//! axum extractors for the claims a [`TokenLayer`](crate::TokenLayer) verified (feature
//! `axum`).
//!
//! | extractor | no token (optional layer) | claims present |
//! |---|---|---|
//! | [`Verified`] | `401`, the layer's challenge | the `Arc<Claims>` |
//! | `Option<Verified>` | `None` | `Some` |
//! | [`VerifiedClaims<T>`] | `401` | the claims deserialized into `T`; `401 invalid_token` (`malformed_claims`) if they do not fit |
//! | `Option<VerifiedClaims<T>>` | `None` | `Some(T)`, or `401` if they do not fit |
//!
//! A bad token never reaches a handler: the layer refuses it, optional or not. Refusals look
//! exactly like the layer's own, with its realm, resource metadata and hook. Without any
//! `TokenLayer` around the route (say, `.layer(..)` called before the routes were added),
//! every one of these answers a bare `500` and logs an error, rather than treating users as
//! anonymous: see [`ClaimsRejection`].
//!
//! ```
//! use axum::{Router, routing::get};
//! use serde::Deserialize;
//! use tokengate::axum::{Verified, VerifiedClaims};
//! use tokengate::TokenLayer;
//!
//! async fn me(claims: Verified) -> String {
//!     format!("hello {}", claims.subject().unwrap_or("?"))
//! }
//!
//! async fn greeting(claims: Option<Verified>) -> String {
//!     match claims {
//!         Some(claims) => format!("hello {}", claims.subject().unwrap_or("?")),
//!         None => "hello stranger".to_owned(),
//!     }
//! }
//!
//! #[derive(Deserialize)]
//! struct Mine {
//!     sub: String,
//!     tenant: String,
//! }
//!
//! async fn tenant(VerifiedClaims(mine): VerifiedClaims<Mine>) -> String {
//!     format!("{} of {}", mine.sub, mine.tenant)
//! }
//!
//! # fn app(gate: tokengate::Gate) -> Result<Router, tokengate::ConfigError> {
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .route("/tenant", get(tenant))
//!     .route("/greeting", get(greeting))
//!     .layer(TokenLayer::builder(gate).optional().build()?);
//! # Ok(app)
//! # }
//! ```

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::claims::Claims;
use crate::denial::{Denial, Responder, layer_missing};
use crate::error::Rejection;

/// The verified claims of the request's token; derefs to [`Claims`].
#[derive(Clone, Debug)]
pub struct Verified(pub Arc<Claims>);

impl Deref for Verified {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

/// The verified claims deserialized into your own type `T` (with the claims' JSON as input).
#[derive(Clone, Debug)]
pub struct VerifiedClaims<T>(pub T);

/// Why an extractor of this module did not produce claims.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClaimsRejection {
    /// The request is refused as the layer refuses requests (for example no token, where the
    /// layer is optional).
    Denied(Denial),
    /// No `TokenLayer` ran for this request: a bug in the router's setup, answered with a bare
    /// `500` (and an error in the logs), never with claims or as anonymous.
    MissingLayer,
}

impl fmt::Display for ClaimsRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimsRejection::Denied(denial) => fmt::Display::fmt(denial, f),
            ClaimsRejection::MissingLayer => {
                f.write_str("no tokengate TokenLayer ran for this request")
            }
        }
    }
}

impl std::error::Error for ClaimsRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClaimsRejection::Denied(denial) => Some(denial),
            ClaimsRejection::MissingLayer => None,
        }
    }
}

impl IntoResponse for ClaimsRejection {
    fn into_response(self) -> Response {
        match self {
            ClaimsRejection::Denied(denial) => IntoResponse::into_response(denial),
            ClaimsRejection::MissingLayer => layer_missing().map(axum_core::body::Body::from),
        }
    }
}

/// The claims the layer verified; `Ok(None)` if it let the request through without a token.
fn claims(parts: &Parts) -> Result<Option<&Arc<Claims>>, ClaimsRejection> {
    match parts.extensions.get::<Arc<Claims>>() {
        Some(claims) => Ok(Some(claims)),
        // The responder is how an optional layer marks an anonymous request.
        None if parts.extensions.get::<Arc<Responder>>().is_some() => Ok(None),
        None => Err(ClaimsRejection::MissingLayer),
    }
}

fn denial(parts: &Parts, rejection: Rejection) -> ClaimsRejection {
    let responder = parts
        .extensions
        .get::<Arc<Responder>>()
        .cloned()
        .unwrap_or_else(Responder::plain);
    ClaimsRejection::Denied(Denial::with(rejection, responder).for_request(
        &parts.method,
        parts.version,
        &parts.headers,
    ))
}

fn typed<T: DeserializeOwned>(parts: &Parts, claims: &Claims) -> Result<T, ClaimsRejection> {
    claims.deserialize::<T>().map_err(|error| {
        // Where, not what: the message of a serde error may quote claim values.
        tracing::debug!(
            line = error.line(),
            column = error.column(),
            "verified claims do not fit the handler's type"
        );
        denial(parts, Rejection::MalformedClaims)
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Verified {
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ClaimsRejection> {
        match claims(parts)? {
            Some(claims) => Ok(Verified(claims.clone())),
            None => Err(denial(parts, Rejection::MissingToken)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Verified {
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, ClaimsRejection> {
        Ok(claims(parts)?.cloned().map(Verified))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ClaimsRejection> {
        match claims(parts)? {
            Some(claims) => typed(parts, claims).map(VerifiedClaims),
            None => Err(denial(parts, Rejection::MissingToken)),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, ClaimsRejection> {
        match claims(parts)? {
            Some(claims) => typed(parts, claims).map(|t| Some(VerifiedClaims(t))),
            None => Ok(None),
        }
    }
}

impl IntoResponse for Denial {
    fn into_response(self) -> Response {
        Denial::into_response(self).map(axum_core::body::Body::from)
    }
}
