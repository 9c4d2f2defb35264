//! [`ResponseFuture`]: answers at once, or waits for a key refresh, then runs the inner
//! service.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::ResponseBody;
use crate::challenge::{Denial, Responder};
use crate::claims::Claims;
use crate::error::Rejection;

type Validation = Pin<Box<dyn Future<Output = Result<Arc<Claims>, Rejection>> + Send>>;

pin_project! {
    /// The response future of [`TokenService`](super::TokenService).
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, S::Future, ReqBody>,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<S, F, ReqBody> {
        Refused {
            denial: Option<Denial>,
        },
        // Only after a key miss: validation needs a refresh, which may take a while.
        Validating {
            validation: Validation,
            request: Option<Request<ReqBody>>,
            inner: S,
            responder: Arc<Responder>,
        },
        Inner {
            #[pin]
            future: F,
        },
    }
}

impl<S: Service<Request<ReqBody>>, ReqBody> ResponseFuture<S, ReqBody> {
    pub(crate) fn inner(future: S::Future) -> Self {
        ResponseFuture {
            state: State::Inner { future },
        }
    }

    pub(crate) fn refused(denial: Denial) -> Self {
        ResponseFuture {
            state: State::Refused {
                denial: Some(denial),
            },
        }
    }

    pub(crate) fn validating(
        validation: Validation,
        request: Request<ReqBody>,
        inner: S,
        responder: Arc<Responder>,
    ) -> Self {
        ResponseFuture {
            state: State::Validating {
                validation,
                request: Some(request),
                inner,
                responder,
            },
        }
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProjection::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProjection::Refused { denial } => {
                    let denial = denial.take().expect("polled after completion");
                    return Poll::Ready(Ok(refusal(denial)));
                }
                StateProjection::Validating {
                    validation,
                    request,
                    inner,
                    responder,
                } => {
                    let outcome = ready!(validation.as_mut().poll(cx));
                    let mut request = request.take().expect("polled after completion");
                    match outcome {
                        Ok(claims) => {
                            request.extensions_mut().insert(claims);
                            let future = inner.call(request);
                            state.set(State::Inner { future });
                        }
                        Err(rejection) => {
                            let denial = Denial::with(rejection, responder.clone())
                                .for_request(request.headers());
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
