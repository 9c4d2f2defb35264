//! [`ResponseFuture`]: answers at once, or waits for a key refresh, then runs the inner
//! service.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, VARY};
use http::{HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::ResponseBody;
use crate::claims::Claims;
use crate::denial::{Denial, Responder};
use crate::error::Rejection;

pub(crate) type Validation = Pin<Box<dyn Future<Output = Result<Arc<Claims>, Rejection>> + Send>>;

/// Headers added to the inner service's responses when they depend on more than
/// `Authorization` (a cookie or header of the layer's, or whether a token was sent at all).
pub(crate) struct CacheHeaders {
    /// Appended to `Vary`.
    pub(crate) vary: HeaderValue,
    /// `Cache-Control: private` unless the response has a `Cache-Control`: shared caches store
    /// responses to requests with cookies, unlike those with `Authorization`.
    pub(crate) private: bool,
}

pin_project! {
    /// The response future of [`TokenService`](super::TokenService).
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, S::Future, ReqBody>,
        cache: Option<Arc<CacheHeaders>>,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<S, F, ReqBody> {
        Refused {
            denial: Option<Denial>,
        },
        // Only after a key miss: validation needs a refresh, which may take a while. Boxed,
        // so that the common future stays small.
        Validating {
            waiting: Box<Waiting<S, ReqBody>>,
        },
        Inner {
            #[pin]
            future: F,
        },
    }
}

struct Waiting<S, ReqBody> {
    validation: Validation,
    request: Option<Request<ReqBody>>,
    inner: S,
    responder: Arc<Responder>,
}

impl<S: Service<Request<ReqBody>>, ReqBody> ResponseFuture<S, ReqBody> {
    pub(crate) fn inner(future: S::Future, cache: Option<Arc<CacheHeaders>>) -> Self {
        ResponseFuture {
            state: State::Inner { future },
            cache,
        }
    }

    pub(crate) fn refused(denial: Denial) -> Self {
        ResponseFuture {
            state: State::Refused {
                denial: Some(denial),
            },
            cache: None,
        }
    }

    pub(crate) fn validating(
        validation: Validation,
        request: Request<ReqBody>,
        inner: S,
        responder: Arc<Responder>,
        cache: Option<Arc<CacheHeaders>>,
    ) -> Self {
        ResponseFuture {
            state: State::Validating {
                waiting: Box::new(Waiting {
                    validation,
                    request: Some(request),
                    inner,
                    responder,
                }),
            },
            cache,
        }
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut state = this.state;
        loop {
            match state.as_mut().project() {
                StateProjection::Inner { future } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(cache) = this.cache.as_deref() {
                        let headers = response.headers_mut();
                        headers.append(VARY, cache.vary.clone());
                        if cache.private && !headers.contains_key(CACHE_CONTROL) {
                            headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
                        }
                    }
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProjection::Refused { denial } => {
                    let denial = denial.take().expect("polled after completion");
                    return Poll::Ready(Ok(refusal(denial)));
                }
                StateProjection::Validating { waiting } => {
                    let outcome = ready!(waiting.validation.as_mut().poll(cx));
                    let mut request = waiting.request.take().expect("polled after completion");
                    match outcome {
                        Ok(claims) => {
                            request.extensions_mut().insert(claims);
                            let future = waiting.inner.call(request);
                            state.set(State::Inner { future });
                        }
                        Err(rejection) => {
                            let denial = Denial::with(rejection, waiting.responder.clone())
                                .for_request(
                                    request.method(),
                                    request.version(),
                                    request.headers(),
                                );
                            state.set(State::Refused {
                                denial: Some(denial),
                            });
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn refusal<B>(denial: Denial) -> Response<ResponseBody<B>> {
    denial
        .into_response()
        .map(|body: Bytes| ResponseBody::refusal(body))
}

impl<S: Service<Request<ReqBody>>, ReqBody> fmt::Debug for ResponseFuture<S, ReqBody> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
