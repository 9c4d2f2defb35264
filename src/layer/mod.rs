//! The tower layers, with their services, futures and body: [`TokenLayer`] validates each
//! request's token and puts the verified [`Claims`](crate::Claims) into the request
//! extensions; [`RequireLayer`] adds a scope or role requirement to one route or a nested
//! router; [`RevocationLayer`] asks your own revocation check. The layers and their builders
//! are also at the crate root.
//!
//! They wrap any `Service<http::Request<B>>` whose responses have an [`http_body::Body`] of
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
//! # fn app(gate: tokengate::Gate) -> Result<Router, tokengate::ConfigError> {
//! let app = Router::new()
//!     .route("/orders", get(orders))
//!     .route_layer(RequireLayer::new(Requirement::scope("orders.read"))?)
//!     .layer(TokenLayer::new(gate));
//! # Ok(app)
//! # }
//! ```

mod body;
mod future;
mod require;
mod revocation;
mod service;
mod token;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub(crate) use require::ClaimsCheck;
pub use require::{RequireFuture, RequireLayer, RequireService};
pub use revocation::{
    Revocation, RevocationFuture, RevocationLayer, RevocationLayerBuilder, RevocationService,
};
pub use service::TokenService;
pub use token::{TokenLayer, TokenLayerBuilder};

pub use crate::denial::GrpcAnswers;
pub use crate::observe::{SharedTokenWatch, TraceFields};
