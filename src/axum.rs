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
//! exactly like the layer's own, with its realm, resource metadata and hook.
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

use std::ops::Deref;
use std::sync::Arc;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::challenge::{Denial, Responder};
use crate::claims::Claims;
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

fn denial(parts: &Parts, rejection: Rejection) -> Denial {
    let responder = parts
        .extensions
        .get::<Arc<Responder>>()
        .cloned()
        .unwrap_or_else(Responder::plain);
    Denial::with(rejection, responder)
}

fn typed<T: DeserializeOwned>(parts: &Parts, claims: &Claims) -> Result<T, Denial> {
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
    type Rejection = Denial;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Denial> {
        match parts.extensions.get::<Arc<Claims>>() {
            Some(claims) => Ok(Verified(claims.clone())),
            None => Err(denial(parts, Rejection::MissingToken)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Verified {
    type Rejection = Denial;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Denial> {
        Ok(parts.extensions.get::<Arc<Claims>>().cloned().map(Verified))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = Denial;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Denial> {
        match parts.extensions.get::<Arc<Claims>>() {
            Some(claims) => typed(parts, claims).map(VerifiedClaims),
            None => Err(denial(parts, Rejection::MissingToken)),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequestParts<S> for VerifiedClaims<T> {
    type Rejection = Denial;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Denial> {
        match parts.extensions.get::<Arc<Claims>>() {
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
