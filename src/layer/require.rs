//! [`RequireLayer`]: a scope or role requirement for one route or a nested router.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::ResponseBody;
use super::future::refusal;
use crate::challenge::{Denial, Responder};
use crate::claims::Claims;
use crate::error::Rejection;
use crate::policy::Requirement;

/// A tower [`Layer`] that lets a request through only if the claims a
/// [`TokenLayer`](super::TokenLayer) verified meet a [`Requirement`]; otherwise `403
/// insufficient_scope` with the required scopes in the challenge's `scope`. Without verified
/// claims (no `TokenLayer` outside it, or an optional one and no token) the request is
/// refused with `401`.
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use tokengate::{RequireLayer, Requirement, TokenLayer};
///
/// # fn app(gate: tokengate::Gate) -> Router {
/// let admin = Router::new()
///     .route("/admin/purge", post(|| async { "purged" }))
///     .route_layer(RequireLayer::new(Requirement::role("Orders.Admin")));
/// Router::new()
///     .route("/orders", get(|| async { "orders" }))
///     .route_layer(RequireLayer::new(Requirement::any_scope(["orders.read", "orders.write"])))
///     .merge(admin)
///     .layer(TokenLayer::new(gate))
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RequireLayer {
    requirement: Arc<Requirement>,
}

impl RequireLayer {
    /// A layer that requires `requirement`.
    pub fn new(requirement: Requirement) -> RequireLayer {
        RequireLayer {
            requirement: Arc::new(requirement),
        }
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = RequireService<S>;

    fn layer(&self, inner: S) -> RequireService<S> {
        RequireService {
            inner,
            requirement: self.requirement.clone(),
        }
    }
}

/// The service made by [`RequireLayer`].
#[derive(Clone, Debug)]
pub struct RequireService<S> {
    inner: S,
    requirement: Arc<Requirement>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = RequireFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let verdict = match request.extensions().get::<Arc<Claims>>() {
            Some(claims) => self.requirement.check_shared(claims),
            None => Err(Rejection::MissingToken),
        };
        match verdict {
            Ok(()) => RequireFuture {
                state: RequireState::Inner {
                    future: self.inner.call(request),
                },
            },
            Err(rejection) => {
                tracing::debug!(
                    code = rejection.code(),
                    "request refused by a route requirement"
                );
                let responder = request
                    .extensions()
                    .get::<Arc<Responder>>()
                    .cloned()
                    .unwrap_or_else(Responder::plain);
                RequireFuture {
                    state: RequireState::Refused {
                        denial: Some(
                            Denial::with(rejection, responder).for_request(request.headers()),
                        ),
                    },
                }
            }
        }
    }
}

pin_project! {
    /// The response future of [`RequireService`].
    pub struct RequireFuture<F> {
        #[pin]
        state: RequireState<F>,
    }
}

pin_project! {
    #[project = Projection]
    enum RequireState<F> {
        Inner {
            #[pin]
            future: F,
        },
        Refused {
            denial: Option<Denial>,
        },
    }
}

impl<F, ResBody, E> Future for RequireFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Projection::Inner { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map(ResponseBody::inner)))
            }
            Projection::Refused { denial } => {
                let denial = denial.take().expect("polled after completion");
                Poll::Ready(Ok(refusal(denial)))
            }
        }
    }
}

impl<F> fmt::Debug for RequireFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireFuture").finish_non_exhaustive()
    }
}
