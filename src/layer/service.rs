//! [`TokenService`]: the tower glue around [`Gate`](crate::Gate); no validation logic here.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;

use super::future::Validation;
use super::token::Settings;
use super::{ResponseBody, ResponseFuture};
use crate::denial::Denial;
use crate::error::Rejection;
use crate::gate::{Checked, Presented};
use crate::observe::Started;
use crate::source;

/// The service made by [`TokenLayer`](super::TokenLayer).
pub struct TokenService<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> TokenService<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> TokenService<S> {
        TokenService { inner, settings }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Clone> Clone for TokenService<S> {
    fn clone(&self) -> Self {
        TokenService {
            inner: self.inner.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for TokenService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TokenService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let settings = &*self.settings;
        source::mark_sensitive(&settings.sources, request.headers_mut());
        // Layers and extractors inside answer refusals as this layer does; without one in
        // the extensions they answer as a default layer, so a default one is not inserted.
        if settings.share_responder {
            request.extensions_mut().insert(settings.responder.clone());
        }
        let cache = settings.cache.clone();
        let found = source::find(
            &settings.sources,
            request.headers(),
            request.uri(),
            settings.dpop,
        );
        let credential = match found {
            Ok(Some(credential)) => credential,
            Ok(None) if settings.optional => {
                // Anonymous: the responder also tells extractors that this layer ran.
                if !settings.share_responder {
                    request.extensions_mut().insert(settings.responder.clone());
                }
                return ResponseFuture::inner(self.inner.call(request), cache);
            }
            Ok(None) => return self.refuse(Rejection::MissingToken, &request),
            Err(rejection) => return self.refuse(rejection, &request),
        };
        let token = credential.token;
        let target;
        let mut presented = match credential.proof {
            Some(proof) => {
                target = settings.target_uri(&request);
                Presented::dpop(token, proof, request.method(), &target)
            }
            None => Presented::bearer(token),
        };
        if settings.require_dpop {
            presented = presented.require_dpop();
        }
        if let Some(certificate) = settings.certificate(&request) {
            presented = presented.client_certificate(certificate);
        }
        let address = settings
            .watch
            .as_ref()
            .and_then(|watch| watch.address(request.extensions()));
        let now = SystemTime::now();
        let started = Started::now();
        let validation: Validation = match settings.gate.check_now(&presented, now) {
            Checked::Done(Ok(claims)) => {
                settings.gate.done(started);
                settings.admitted(token, &claims, address);
                request.extensions_mut().insert(claims);
                return ResponseFuture::inner(self.inner.call(request), cache);
            }
            // The gate noted its own rejection already; the layer's grammar verdict replaces
            // the answer, not the record.
            Checked::Done(Err(rejection)) => {
                settings.gate.done(started);
                let rejection = source::grammar(token, rejection);
                return ResponseFuture::refused(self.denial(rejection, &request));
            }
            Checked::Pending(pending) => {
                // The issuer's keys may be out of date: finish once a refresh has been tried.
                let settings = Arc::clone(&self.settings);
                let presented = presented.to_owned();
                // The clock is read again once the refresh is done, which may take seconds.
                Box::pin(async move {
                    let outcome = settings.gate.finish(&presented, None, pending).await;
                    settings.gate.done(started);
                    let token = &presented.token;
                    match outcome {
                        Ok(claims) => {
                            settings.admitted(token, &claims, address);
                            Ok(claims)
                        }
                        Err(rejection) => Err(source::grammar(token, rejection)),
                    }
                })
            }
            // A good DPoP proof: the replay store must say it is new.
            Checked::Replay(check) => {
                let settings = Arc::clone(&self.settings);
                let token = watched(&settings, token);
                Box::pin(async move {
                    let outcome = settings.gate.record(check).await;
                    settings.gate.done(started);
                    if let Ok(claims) = &outcome {
                        settings.admitted(&token, claims, address);
                    }
                    outcome
                })
            }
        };
        // Finished with the inner service that was polled ready (a clone stays here).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let responder = settings.responder.clone();
        ResponseFuture::validating(validation, request, inner, responder, cache)
    }
}

/// The token, where the shared-token watch needs it after an await; empty otherwise (no
/// copy).
fn watched(settings: &Settings, token: &str) -> Box<str> {
    match settings.watch {
        Some(_) => Box::from(token),
        None => Box::default(),
    }
}

impl<S> TokenService<S> {
    fn refuse<ReqBody>(
        &self,
        rejection: Rejection,
        request: &Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        // The request's own problems (no token, two, a malformed one); the gate notes the
        // token's.
        tracing::debug!(code = rejection.code(), "request refused");
        ResponseFuture::refused(self.denial(rejection, request))
    }

    fn denial<ReqBody>(&self, rejection: Rejection, request: &Request<ReqBody>) -> Denial {
        Denial::with(rejection, self.settings.responder.clone()).for_request(
            request.method(),
            request.version(),
            request.headers(),
        )
    }
}
