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
use crate::claims::Claims;
use crate::denial::{Denial, Responder, layer_missing};
use crate::error::{ConfigError, Rejection};
use crate::policy::Requirement;

/// A tower [`Layer`] that lets a request through only if the claims a
/// [`TokenLayer`](super::TokenLayer) verified meet a [`Requirement`]; otherwise `403
/// insufficient_scope` with the required scopes in the challenge's `scope`. A request that an
/// optional `TokenLayer` let through without a token is refused with `401`; without any
/// `TokenLayer` around it, every request gets a bare `500` and an error is logged (a server
/// bug: the layers are in the wrong order).
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use tokengate::{RequireLayer, Requirement, TokenLayer};
///
/// # fn app(gate: tokengate::Gate) -> Result<Router, tokengate::ConfigError> {
/// let admin = Router::new()
///     .route("/admin/purge", post(|| async { "purged" }))
///     .route_layer(RequireLayer::new(Requirement::role("Orders.Admin"))?);
/// let app = Router::new()
///     .route("/orders", get(|| async { "orders" }))
///     .route_layer(RequireLayer::new(Requirement::any_scope(["orders.read", "orders.write"]))?)
///     .merge(admin)
///     .layer(TokenLayer::new(gate));
/// # Ok(app)
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RequireLayer {
    requirement: Condition,
}

/// A check of verified claims that a [`RequireLayer`] can apply, other than a
/// [`Requirement`]: how a provider's own conditions (Entra's authentication contexts) answer
/// through the same layer.
pub(crate) trait ClaimsCheck: Send + Sync + fmt::Debug {
    fn check(&self, claims: &Claims) -> Result<(), Rejection>;
}

/// What a [`RequireLayer`] checks.
#[derive(Clone, Debug)]
enum Condition {
    Requirement(Arc<Requirement>),
    Check(Arc<dyn ClaimsCheck>),
}

impl Condition {
    fn check(&self, claims: &Claims) -> Result<(), Rejection> {
        match self {
            Condition::Requirement(requirement) => requirement.check_shared(claims),
            Condition::Check(check) => check.check(claims),
        }
    }
}

impl RequireLayer {
    /// A layer that requires `requirement`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if no token could ever meet the requirement, or it requires nothing:
    /// an empty list, an empty scope or role, or one with a space (write
    /// `all_scopes(["a", "b"])`, not `scope("a b")`). [`GateBuilder::build`](crate::GateBuilder::build)
    /// refuses the same requirements.
    pub fn new(requirement: Requirement) -> Result<RequireLayer, ConfigError> {
        if let Some(problem) = requirement.problem() {
            return Err(ConfigError::new(vec![format!("RequireLayer: {problem}")]));
        }
        Ok(RequireLayer {
            requirement: Condition::Requirement(Arc::new(requirement)),
        })
    }

    /// A layer that applies a provider's own check.
    pub(crate) fn with_check(check: Arc<dyn ClaimsCheck>) -> RequireLayer {
        RequireLayer {
            requirement: Condition::Check(check),
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
    requirement: Condition,
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
        let layer_ran = request.extensions().get::<Arc<Responder>>().is_some();
        let verdict = match request.extensions().get::<Arc<Claims>>() {
            Some(claims) => self.requirement.check(claims),
            // An optional TokenLayer let an anonymous request through.
            None if layer_ran => Err(Rejection::MissingToken),
            None => {
                return RequireFuture {
                    state: RequireState::Misconfigured,
                };
            }
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
                        denial: Some(Denial::with(rejection, responder).for_request(
                            request.method(),
                            request.version(),
                            request.headers(),
                        )),
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
        Misconfigured,
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
            Projection::Misconfigured => {
                Poll::Ready(Ok(layer_missing().map(ResponseBody::refusal)))
            }
        }
    }
}

impl<F> fmt::Debug for RequireFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireFuture").finish_non_exhaustive()
    }
}
