//! Real servers: HTTP/1.1 (axum, and raw TCP where a client library would normalise the request)
//! and HTTP/2 (hyper) on 127.0.0.1.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokengate::{ProtectedResource, TokenLayer, TokenSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use tokengate_testkit::{ISSUER, challenge, valid_claims};

use super::support::{
    Answer, BAD_SIGNATURE, IN_QUERY, MALFORMED, MULTIPLE, NO_ERROR, app, bearer, gate, impostor,
    insufficient, ok, scoped, scoped_token, token, valid, with,
};

/// Serves `app` over HTTP/1.1 with axum on 127.0.0.1.
async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, app)
}

fn serve_on(listener: TcpListener, app: Router) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Serves `app` over HTTP/2 (prior knowledge) with hyper on 127.0.0.1.
async fn serve_h2(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let app = app.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        app.clone().oneshot(request.map(Body::new))
                    });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Sends a GET with exactly these header lines over a fresh TCP connection and parses the
/// HTTP/1.1 answer.
async fn raw(addr: SocketAddr, path: &str, lines: &[String]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for line in lines {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut bytes))
        .await
        .expect("answer in time")
        .unwrap();
    parse_http1(&bytes)
}

fn parse_http1(bytes: &[u8]) -> Answer {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = std::str::from_utf8(&bytes[..end]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut words = status_line.splitn(3, ' ');
    assert_eq!(words.next(), Some("HTTP/1.1"), "{status_line}");
    let status = StatusCode::from_bytes(words.next().unwrap().as_bytes()).unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    let mut body = bytes[end + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        body = dechunk(&body);
    } else if let Some(length) = headers.get("content-length") {
        let length: usize = length.to_str().unwrap().parse().unwrap();
        assert_eq!(body.len(), length, "body length");
    }
    Answer {
        status,
        headers,
        body: Bytes::from(body),
    }
}

fn dechunk(mut input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = input.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&input[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap(), 16).unwrap();
        input = &input[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&input[..size]);
        input = &input[size + 2..];
    }
}

fn line(name: &str, value: &str) -> String {
    format!("{name}: {value}")
}

#[tokio::test]
async fn http1_server_accepts_and_refuses() {
    let addr = serve(scoped(TokenLayer::new(gate()))).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let get = |path: &str, auth: Option<String>| {
        let mut request = Request::builder().uri(format!("http://{addr}{path}"));
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth);
        }
        client.request(request.body(Full::default()).unwrap())
    };
    let answer = Answer::from(get("/orders", Some(bearer(&valid()))).await.unwrap()).await;
    assert_eq!(answer.ok(), "ok");
    Answer::from(get("/orders", None).await.unwrap())
        .await
        .refused(401, "missing_token", NO_ERROR);
    let writer = token(&with(json!({"scope": "orders.write"})));
    Answer::from(get("/orders", Some(bearer(&writer))).await.unwrap())
        .await
        .refused(403, "insufficient_scope", &insufficient("orders.read"));
    let forged = impostor().token(&valid_claims());
    Answer::from(get("/orders", Some(bearer(&forged))).await.unwrap())
        .await
        .refused(401, "invalid_signature", BAD_SIGNATURE);
}

#[tokio::test]
async fn atk_39_raw_http1_two_authorization_headers() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let token = valid();
    raw(
        addr,
        "/me",
        &[
            line("Authorization", &bearer(&token)),
            line("Authorization", &bearer(&token)),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    raw(
        addr,
        "/me",
        &[
            line("Authorization", "Basic dXNlcjpwYXNz"),
            line("authorization", &bearer(&token)),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    // One header, as a control.
    let answer = raw(addr, "/me", &[line("Authorization", &bearer(&token))]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["sub"], "user-1");
}

#[tokio::test]
async fn atk_40_raw_http1_whitespace_and_syntax() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let token = valid();
    // Accepted: lower-case scheme, several spaces, OWS around the field value (not part of
    // it, RFC 9110 §5.5), a header name in any case.
    for lines in [
        vec![format!("Authorization: bearer {token}")],
        vec![format!("Authorization: Bearer   {token}")],
        vec![format!("Authorization:    Bearer {token}   ")],
        vec![format!("Authorization:\tBearer {token}\t")],
        vec![format!("AUTHORIZATION: Bearer {token}")],
    ] {
        let answer = raw(addr, "/me", &lines).await;
        assert_eq!(answer.status, 200, "{lines:?}: {answer:?}");
        assert_eq!(answer.json()["sub"], "user-1");
    }
    // Refused as malformed: a tab after the scheme, the scheme alone, characters outside
    // b64token.
    for value in [
        format!("Bearer\t{token}"),
        format!("Bearer \t{token}"),
        "Bearer".to_owned(),
        format!("Bearer {token}\tx"),
        format!("Bearer {token}%"),
        format!("Bearer {}", token.replace('.', ",")),
    ] {
        raw(addr, "/me", &[line("Authorization", &value)])
            .await
            .refused(400, "malformed_credentials", MALFORMED);
    }
    // Basic: no bearer credential.
    raw(addr, "/me", &[line("Authorization", "Basic dXNlcjpwYXNz")])
        .await
        .refused(401, "missing_token", NO_ERROR);
    // No Authorization at all.
    raw(addr, "/me", &[])
        .await
        .refused(401, "missing_token", NO_ERROR);
}

#[tokio::test]
async fn std_6750_3_4_raw_http1_query_tokens() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let token = valid();
    raw(
        addr,
        &format!("/me?access_token={token}"),
        &[line("Authorization", &bearer(&token))],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    raw(addr, &format!("/me?access_token={token}"), &[])
        .await
        .refused(400, "token_in_query", IN_QUERY);
}

#[tokio::test]
async fn std_6750_4_raw_http1_header_and_cookie() {
    let layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .build()
        .unwrap();
    let addr = serve(app(layer)).await;
    let token = valid();
    raw(
        addr,
        "/me",
        &[
            line("Authorization", &bearer(&token)),
            line("Cookie", &format!("at={token}")),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    // Two Cookie header lines (HTTP/1.1 allows only one, but servers see both).
    raw(
        addr,
        "/me",
        &[
            line("Cookie", &format!("at={token}")),
            line("Cookie", &format!("at={token}")),
        ],
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    let answer = raw(addr, "/me", &[line("Cookie", &format!("a=1; at={token}"))]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn std_9728_5_discovery_over_a_real_server() {
    // The identifier is this server's own URL, so the challenge's URL can be fetched.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let identifier = format!("http://127.0.0.1:{port}/api");
    let resource = ProtectedResource::builder(identifier.clone())
        .authorization_server(ISSUER)
        .build()
        .unwrap();
    let layer = TokenLayer::builder(gate())
        .resource_metadata(&resource)
        .build()
        .unwrap();
    let protected = Router::new().route("/api", get(ok)).layer(layer);
    let app = Router::new()
        .route_service(resource.well_known_path(), resource.service())
        .merge(protected);
    let addr = serve_on(listener, app);

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let fetch =
        |url: String| client.request(Request::builder().uri(url).body(Full::default()).unwrap());
    let answer = Answer::from(fetch(format!("http://{addr}/api")).await.unwrap()).await;
    let metadata_url = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/api");
    answer.refused(
        401,
        "missing_token",
        &format!(r#"Bearer resource_metadata="{metadata_url}""#),
    );
    let parsed = challenge::parse_bearer(answer.header(WWW_AUTHENTICATE).unwrap()).unwrap();
    let url = parsed[0].param("resource_metadata").unwrap().to_owned();
    assert_eq!(url, resource.metadata_url());

    let document = Answer::from(fetch(url).await.unwrap()).await;
    assert_eq!(document.status, 200, "{document:?}");
    assert_eq!(document.header(CONTENT_TYPE), Some("application/json"));
    assert_eq!(document.json()["resource"], identifier);
    assert_eq!(document.json()["authorization_servers"], json!([ISSUER]));
}

#[tokio::test]
async fn authorization_is_sensitive_behind_a_real_server() {
    let addr = serve(app(TokenLayer::new(gate()))).await;
    let answer = raw(
        addr,
        "/sensitive",
        &[line("Authorization", &bearer(&valid()))],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["authorization"], true);
}

#[tokio::test]
async fn http2_server_accepts_and_refuses() {
    let addr = serve_h2(scoped(TokenLayer::new(gate()))).await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let send = |path: &str, auth: &[String]| {
        let mut request = Request::builder().uri(format!("http://{addr}{path}"));
        for value in auth {
            request = request.header(AUTHORIZATION, value);
        }
        client.request(request.body(Full::default()).unwrap())
    };
    let token = valid();
    let answer = Answer::from(send("/orders", &[bearer(&token)]).await.unwrap()).await;
    assert_eq!(answer.ok(), "ok");
    Answer::from(send("/orders", &[]).await.unwrap())
        .await
        .refused(401, "missing_token", NO_ERROR);
    Answer::from(
        send("/orders", &[bearer(&token), bearer(&token)])
            .await
            .unwrap(),
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
    Answer::from(
        send("/orders", &[format!("Bearer\t{token}")])
            .await
            .unwrap(),
    )
    .await
    .refused(400, "malformed_credentials", MALFORMED);
    let nobody = bearer(&scoped_token("profile"));
    Answer::from(send("/v2/items", &[nobody]).await.unwrap())
        .await
        .refused(403, "insufficient_scope", &insufficient("items.read"));
}

#[tokio::test]
async fn http2_cookie_crumbs() {
    // HTTP/2 clients may split the Cookie header into one field per cookie (RFC 9113
    // §8.2.3); the token is found in whichever field it is.
    let layer = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("at"),
        ])
        .build()
        .unwrap();
    let addr = serve_h2(app(layer)).await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let send = |cookies: &[String]| {
        let mut request = Request::builder().uri(format!("http://{addr}/me"));
        for value in cookies {
            request = request.header(COOKIE, value);
        }
        client.request(request.body(Full::default()).unwrap())
    };
    let token = valid();
    let answer = Answer::from(
        send(&[
            "theme=dark".to_owned(),
            format!("at={token}"),
            "lang=en".to_owned(),
        ])
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["sub"], "user-1");
    Answer::from(
        send(&[format!("at={token}"), format!("at={token}")])
            .await
            .unwrap(),
    )
    .await
    .refused(400, "multiple_tokens", MULTIPLE);
}
