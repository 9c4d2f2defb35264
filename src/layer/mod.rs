//! The tower layers: [`TokenLayer`] validates each request's token and puts the verified
//! [`Claims`](crate::Claims) into the request extensions; [`RequireLayer`] adds a scope or role
//! requirement to one route or a nested router.
//!
//! Both wrap any `Service<http::Request<B>>` whose responses have an [`http_body::Body`] of
//! [`Bytes`](bytes::Bytes): axum routers, hyper services, tonic servers. Refused requests never
//! reach the inner service; they get the answer described on [`Denial`](crate::Denial).
//!
//! ```
//! use axum::{Extension, Router, routing::get};
//! use std::sync::Arc;
//! use tokengate::{Claims, RequireLayer, Requirement, TokenLayer};
//!
//! async fn orders(Extension(claims): Extension<Arc<Claims>>) -> String {
//!     format!("orders of {}", claims.subject().unwrap_or("?"))
//! }
//!
//! # fn app(gate: tokengate::Gate) -> Router {
//! Router::new()
//!     .route("/orders", get(orders))
//!     .route_layer(RequireLayer::new(Requirement::scope("orders.read")))
//!     .layer(TokenLayer::new(gate))
//! # }
//! ```

mod body;
mod future;
mod require;
mod revocation;
mod service;
mod settings;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use require::{RequireFuture, RequireLayer, RequireService};
pub use revocation::{Revocation, RevocationFuture, RevocationLayer, RevocationService};
pub use service::TokenService;
pub use settings::{TokenLayer, TokenLayerBuilder};
