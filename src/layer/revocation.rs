//! [`RevocationLayer`]: an asynchronous revocation check after validation.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

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

/// What a revocation check says about a verified token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// Not revoked: the request goes on.
    NotRevoked,
    /// This token is revoked, whenever it was issued: a token id (`jti`) on a deny list, a
    /// token known to have leaked.
    Revoked,
    /// The principal's tokens issued before this moment are revoked: a disabled account, a
    /// revoked session, a changed password; answer with the time of the event. The token is
    /// refused if its `iat` (plus [`RevocationLayerBuilder::backdated_iat`]) is earlier or absent;
    /// `iat` has whole seconds, so a token issued later within the event's own second is
    /// refused too. A token issued afterwards passes, so a client that fetched a new token is
    /// not caught in a loop. A moment ahead of this server's clock counts as now (a store whose
    /// clock runs fast would otherwise refuse fresh tokens too).
    IssuedBefore(SystemTime),
    /// Whether the token is revoked cannot be told now (the revocation store does not
    /// answer). The request is refused with `503` and `Retry-After`, never let through.
    Unknown {
        /// When to try again.
        retry_after: Duration,
    },
}

/// A tower [`Layer`] that asks your own asynchronous check whether a token that a
/// [`TokenLayer`](crate::TokenLayer) verified has been revoked before its `exp` (a resource
/// may refuse a token before it expires: a disabled account, a leaked token).
///
/// The check gets the verified [`Claims`] and answers a [`Revocation`]; it runs on every
/// request with a token (cache inside it if its store is remote), after validation and
/// before the service. The service that was polled ready waits for it, holding its capacity
/// (a concurrency permit, a buffer slot): bound your store call (`tokio::time::timeout`) and
/// answer [`Revocation::Unknown`] when it runs out, and log store failures in the check (the
/// layer logs refusals at `DEBUG` only). A revoked token gets `401 invalid_token` (code
/// `token_revoked`), or what [`RevocationLayerBuilder::on_revoked`] answers instead (Microsoft
/// Entra's claims challenge for clients that can handle one: see
/// `providers::entra::ChallengeTarget::revocation_answer`). A check that cannot decide
/// gives `503` (code `revocation_unavailable`). Requests that an optional `TokenLayer` let
/// through without a token are not checked; without any `TokenLayer` around it, the answer
/// is a bare `500` and an error is logged, as for [`RequireLayer`](crate::RequireLayer).
///
/// The check is a closure returning a future (an `async` block that owns what it uses: clone
/// shared state into it, as below) or anything else that is `Fn(Arc<Claims>) -> impl Future`.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, RwLock};
/// use std::time::{Duration, SystemTime};
///
/// use axum::{Router, routing::get};
/// use tokengate::{Claims, Revocation, RevocationLayer, TokenLayer};
///
/// /// When each user's sessions were revoked, by issuer and subject.
/// type Revoked = Arc<RwLock<HashMap<(String, String), SystemTime>>>;
///
/// # fn app(gate: tokengate::Gate) -> Result<Router, tokengate::ConfigError> {
/// let revoked = Revoked::default();
/// let check = move |claims: Arc<Claims>| {
///     let revoked = revoked.clone();
///     async move {
///         let Some(subject) = claims.subject() else {
///             return Revocation::NotRevoked; // no user to revoke
///         };
///         let user = (claims.issuer().to_owned(), subject.to_owned());
///         match revoked.read().map(|map| map.get(&user).copied()) {
///             Ok(Some(at)) => Revocation::IssuedBefore(at),
///             Ok(None) => Revocation::NotRevoked,
///             Err(_) => Revocation::Unknown { retry_after: Duration::from_secs(5) },
///         }
///     }
/// };
/// let revocation = RevocationLayer::builder(check)
///     .backdated_iat(Duration::from_secs(300)) // Microsoft Entra ID
///     .build()?;
/// let app = Router::new()
///     .route("/orders", get(|| async { "orders" }))
///     .layer(revocation)
///     .layer(TokenLayer::new(gate));
/// # Ok(app)
/// # }
/// ```
#[derive(Clone)]
pub struct RevocationLayer<C> {
    check: C,
    settings: Arc<Settings>,
}

/// How a refusal of a revoked token is answered, given the claims and the moment from
/// which tokens are revoked.
pub(crate) type RevokedAnswer = dyn Fn(&Claims, SystemTime) -> Rejection + Send + Sync;

/// What a [`RevocationLayer`] shares with its services.
struct Settings {
    backdating: Duration,
    answer: Option<Arc<RevokedAnswer>>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("backdating", &self.backdating)
            .field("on_revoked", &self.answer.is_some())
            .finish()
    }
}

/// The most an issuer is taken to backdate `iat`.
const MAX_BACKDATING: Duration = Duration::from_secs(3600);

impl<C> RevocationLayer<C> {
    /// A layer that asks `check` about every verified token, with the default settings: no
    /// `iat` backdating, revoked tokens answered `token_revoked`.
    pub fn new(check: C) -> RevocationLayer<C> {
        RevocationLayer {
            check,
            settings: Arc::new(Settings {
                backdating: Duration::ZERO,
                answer: None,
            }),
        }
    }

    /// Starts a configuration; [`RevocationLayerBuilder::build`] checks it.
    pub fn builder(check: C) -> RevocationLayerBuilder<C> {
        RevocationLayerBuilder {
            check,
            backdating: Duration::ZERO,
            answer: None,
        }
    }
}

/// Configures a [`RevocationLayer`]; [`build`](Self::build) checks the settings.
#[must_use = "a builder does nothing until `build` is called"]
pub struct RevocationLayerBuilder<C> {
    check: C,
    backdating: Duration,
    answer: Option<Arc<RevokedAnswer>>,
}

impl<C> RevocationLayerBuilder<C> {
    /// How far the issuer dates `iat` before the moment it issues a token: Microsoft Entra
    /// ID writes `iat` (and `nbf`) 5 minutes early, so give it `Duration::from_secs(300)`, or
    /// tokens fetched in the 5 minutes after a [`Revocation::IssuedBefore`] event are refused
    /// too (and clients asked for new tokens again and again). The price: tokens issued up to
    /// that long before the event pass. Default: none; at most an hour.
    pub fn backdated_iat(mut self, backdating: Duration) -> Self {
        self.backdating = backdating;
        self
    }

    /// Answers revoked tokens with `answer` (given the claims and the moment from which tokens
    /// are revoked) instead of `token_revoked`: for a provider's own answer, such as Microsoft
    /// Entra's claims challenge to clients that can handle one.
    pub fn on_revoked<F>(mut self, answer: F) -> Self
    where
        F: Fn(&Claims, SystemTime) -> Rejection + Send + Sync + 'static,
    {
        self.answer = Some(Arc::new(answer));
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the backdating is more than an hour.
    pub fn build(self) -> Result<RevocationLayer<C>, ConfigError> {
        if self.backdating > MAX_BACKDATING {
            return Err(ConfigError::new(vec![format!(
                "RevocationLayer: backdated_iat {:?} is more than an hour",
                self.backdating
            )]));
        }
        Ok(RevocationLayer {
            check: self.check,
            settings: Arc::new(Settings {
                backdating: self.backdating,
                answer: self.answer,
            }),
        })
    }
}

impl<C> fmt::Debug for RevocationLayerBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationLayerBuilder")
            .field("backdating", &self.backdating)
            .field("on_revoked", &self.answer.is_some())
            .finish_non_exhaustive()
    }
}

impl<C> fmt::Debug for RevocationLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationLayer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<S, C: Clone> Layer<S> for RevocationLayer<C> {
    type Service = RevocationService<S, C>;

    fn layer(&self, inner: S) -> RevocationService<S, C> {
        RevocationService {
            inner,
            check: self.check.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// The service made by [`RevocationLayer`].
#[derive(Clone)]
pub struct RevocationService<S, C> {
    inner: S,
    check: C,
    settings: Arc<Settings>,
}

impl<S: fmt::Debug, C> fmt::Debug for RevocationService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, C, Fut, ReqBody, ResBody> Service<Request<ReqBody>> for RevocationService<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    C: Fn(Arc<Claims>) -> Fut,
    Fut: Future<Output = Revocation>,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = RevocationFuture<S, Fut, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let layer_ran = request.extensions().get::<Arc<Responder>>().is_some();
        let state = match request.extensions().get::<Arc<Claims>>().cloned() {
            Some(claims) => {
                // The check runs before the service is called: the clone waits, and the
                // service that was polled ready goes with the request (tower's rule).
                let clone = self.inner.clone();
                State::Checking {
                    check: (self.check)(claims.clone()),
                    pending: Some(Pending {
                        service: std::mem::replace(&mut self.inner, clone),
                        request,
                        claims,
                        settings: self.settings.clone(),
                    }),
                }
            }
            // An optional TokenLayer let an anonymous request through: nothing to revoke.
            None if layer_ran => State::Inner {
                future: self.inner.call(request),
            },
            None => State::Misconfigured,
        };
        RevocationFuture { state }
    }
}

/// What a request waiting for its revocation check holds.
struct Pending<S, ReqBody> {
    service: S,
    request: Request<ReqBody>,
    claims: Arc<Claims>,
    settings: Arc<Settings>,
}

pin_project! {
    /// The response future of [`RevocationService`].
    pub struct RevocationFuture<S, Fut, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, S::Future, Fut, ReqBody>,
    }
}

pin_project! {
    #[project = Projection]
    enum State<S, F, Fut, ReqBody> {
        Checking {
            #[pin]
            check: Fut,
            pending: Option<Pending<S, ReqBody>>,
        },
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

impl<S, Fut, ReqBody, ResBody> Future for RevocationFuture<S, Fut, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    Fut: Future<Output = Revocation>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            let next = match state.as_mut().project() {
                Projection::Checking { check, pending } => {
                    let verdict = ready!(check.poll(cx));
                    let Pending {
                        mut service,
                        request,
                        claims,
                        settings,
                    } = pending.take().expect("polled after completion");
                    match judge(verdict, &claims, &settings) {
                        None => State::Inner {
                            future: service.call(request),
                        },
                        Some(rejection) => {
                            tracing::debug!(
                                code = rejection.code(),
                                "request refused by the revocation check"
                            );
                            let responder = request
                                .extensions()
                                .get::<Arc<Responder>>()
                                .cloned()
                                .unwrap_or_else(Responder::plain);
                            State::Refused {
                                denial: Some(Denial::with(rejection, responder).for_request(
                                    request.method(),
                                    request.version(),
                                    request.headers(),
                                )),
                            }
                        }
                    }
                }
                Projection::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                Projection::Refused { denial } => {
                    let denial = denial.take().expect("polled after completion");
                    return Poll::Ready(Ok(refusal(denial)));
                }
                Projection::Misconfigured => {
                    return Poll::Ready(Ok(layer_missing().map(ResponseBody::refusal)));
                }
            };
            state.set(next);
        }
    }
}

impl<S: Service<Request<ReqBody>>, Fut, ReqBody> fmt::Debug for RevocationFuture<S, Fut, ReqBody> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationFuture").finish_non_exhaustive()
    }
}

/// The rejection for a verdict, if any.
fn judge(verdict: Revocation, claims: &Claims, settings: &Settings) -> Option<Rejection> {
    let now = SystemTime::now();
    let revoked = |since: SystemTime| match &settings.answer {
        Some(answer) => answer(claims, since),
        None => Rejection::TokenRevoked,
    };
    match verdict {
        Revocation::NotRevoked => None,
        Revocation::Unknown { retry_after } => {
            Some(Rejection::RevocationUnavailable { retry_after })
        }
        Revocation::Revoked => Some(revoked(now)),
        Revocation::IssuedBefore(since) => {
            let since = since.min(now);
            let issued = claims
                .issued_at()
                .map(|iat| iat.checked_add(settings.backdating).unwrap_or(iat));
            if issued.is_some_and(|issued| issued >= since) {
                return None;
            }
            Some(revoked(since))
        }
    }
}
