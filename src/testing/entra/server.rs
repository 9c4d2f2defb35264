//! The stand-in's two HTTP servers (HTTP/1.1 on 127.0.0.1, one task per connection): the
//! instance, which serves metadata and keys, and the v1 STS host, which serves nothing.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::{Shared, Tenant, TokenVersion, aadsts_error};

/// Which of the two hosts a server is.
#[derive(Clone, Copy)]
pub(super) enum Host {
    /// The login host: metadata and keys.
    Instance,
    /// The v1 STS host: the host of v1 issuers, which serves nothing.
    Sts,
}

/// Accepts connections until the task is aborted; each connection is served by its own task,
/// which ends with this one (the `JoinSet` aborts them when dropped).
pub(super) async fn run(listener: TcpListener, shared: Arc<Shared>, host: Host) {
    let mut connections = JoinSet::new();
    loop {
        // Forget connections that have ended.
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors, say: try again shortly rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let response = match host {
                    Host::Instance => respond(&shared, &request),
                    Host::Sts => {
                        shared.sts_requests.fetch_add(1, Ordering::SeqCst);
                        plain(StatusCode::NOT_FOUND, "not found")
                    }
                };
                async move { Ok::<_, Infallible>(response) }
            });
            // A connection that fails or is closed early concerns nobody else.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// What a path serves.
enum Resource {
    Metadata(TokenVersion),
    Keys(TokenVersion),
}

/// The resource and the `{tenant}` segment of a path.
fn route(path: &str) -> Option<(Resource, &str)> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let (tenant, rest) = segments.split_first()?;
    let resource = match rest {
        ["v2.0", ".well-known", "openid-configuration"] => Resource::Metadata(TokenVersion::V2),
        [".well-known", "openid-configuration"] => Resource::Metadata(TokenVersion::V1),
        ["discovery", "v2.0", "keys"] => Resource::Keys(TokenVersion::V2),
        ["discovery", "keys"] => Resource::Keys(TokenVersion::V1),
        _ => return None,
    };
    (!tenant.is_empty()).then_some((resource, *tenant))
}

/// The `appid` query parameter, percent-decoded; an empty one counts as none.
fn appid(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "appid")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

fn respond(shared: &Shared, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let uri = request.uri();
    shared.count(uri.path(), uri.query());
    let Some((resource, segment)) = route(uri.path()) else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    if request.method() != Method::GET {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    if shared.outage.load(Ordering::Relaxed) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "simulated outage");
    }
    let Some(tenant) = Tenant::parse(segment) else {
        // What Entra answers for a tenant it does not know.
        let body = aadsts_error(
            &shared.instance,
            "invalid_tenant",
            90002,
            &format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        );
        return json(StatusCode::BAD_REQUEST, body);
    };
    let appid = appid(uri.query());
    let body = match resource {
        Resource::Metadata(version) => shared.metadata(version, &tenant, appid.as_deref()),
        Resource::Keys(version) => shared.key_set(version, &tenant, appid.as_deref()),
    };
    json(StatusCode::OK, body)
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_by_version_and_tenant() {
        let tenant = |path| route(path).map(|(_, tenant)| tenant);
        assert_eq!(
            tenant("/common/v2.0/.well-known/openid-configuration"),
            Some("common")
        );
        assert_eq!(tenant("/x/.well-known/openid-configuration"), Some("x"));
        assert_eq!(tenant("/x/discovery/v2.0/keys"), Some("x"));
        assert_eq!(tenant("/x/discovery/keys"), Some("x"));
        assert_eq!(tenant("//discovery/keys"), None);
        assert_eq!(tenant("/x/discovery/keys/"), None);
        assert_eq!(tenant("/.well-known/openid-configuration"), None);
        assert_eq!(tenant("/x/y/discovery/keys"), None);
        assert!(matches!(
            route("/x/discovery/keys"),
            Some((Resource::Keys(TokenVersion::V1), _))
        ));
        assert!(matches!(
            route("/x/v2.0/.well-known/openid-configuration"),
            Some((Resource::Metadata(TokenVersion::V2), _))
        ));
    }

    #[test]
    fn appid_is_read_from_the_query() {
        assert_eq!(appid(Some("appid=abc")), Some("abc".to_owned()));
        assert_eq!(appid(Some("x=1&appid=a%20b")), Some("a b".to_owned()));
        assert_eq!(appid(Some("appid=")), None);
        assert_eq!(appid(Some("app=1")), None);
        assert_eq!(appid(None), None);
    }
}
