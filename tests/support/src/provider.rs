//! A small identity provider for tests: serves OpenID Connect discovery and a JWKS over real
//! HTTP (or HTTPS with a test certificate) on 127.0.0.1, counts requests, and can be told to
//! misbehave. For fault injection; interoperability with real providers is tested elsewhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokengate::reqwest;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Where the key set is served.
pub const JWKS_PATH: &str = "/keys";
/// Where OpenID Connect discovery finds the metadata.
pub const OIDC_PATH: &str = "/.well-known/openid-configuration";
/// Where RFC 8414 finds the metadata.
pub const RFC8414_PATH: &str = "/.well-known/oauth-authorization-server";

/// How the provider misbehaves.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Behaves.
    None,
    /// Answers every request with this status and no body.
    Status(u16),
    /// Answers 200 with a body that is not JSON.
    Garbage,
    /// Answers 200 with a JSON body of this many bytes.
    Huge(usize),
    /// Answers normally after this delay.
    Delay(Duration),
    /// Answers normally once [`Provider::release`] is called.
    Hold,
    /// Answers 302 to this location.
    Redirect(String),
    /// Answers discovery with this body; the keys as usual.
    Discovery(String),
}

/// What the provider serves.
#[derive(Clone, Debug)]
pub struct State {
    /// The key set, served as it is.
    pub jwks: String,
    /// Sent as `ETag`; a matching `If-None-Match` gets 304.
    pub etag: Option<String>,
    /// Sent as `Cache-Control`, with the key set and with 304 answers.
    pub cache_control: Option<String>,
    /// How the provider misbehaves.
    pub fault: Fault,
    /// The `issuer` the discovery document names (default: the provider's own URL).
    pub issuer: Option<String>,
    /// Where discovery points for keys (default: this provider's `/keys`).
    pub jwks_uri: Option<String>,
    /// Whether the OpenID Connect location exists (RFC 8414's always does).
    pub oidc: bool,
    /// Whether discovery is also answered under any path prefix
    /// (`/{tenant}/{policy}/v2.0/.well-known/openid-configuration`, say).
    pub discovery_anywhere: bool,
}

struct Shared {
    state: Mutex<State>,
    hits: Mutex<HashMap<String, usize>>,
    not_modified: AtomicUsize,
    released: watch::Sender<bool>,
}

/// A running provider; it stops when dropped.
pub struct Provider {
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// A self-signed certificate for 127.0.0.1 and localhost, and its key.
pub struct TestCertificate {
    /// The certificate, DER.
    pub der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestCertificate {
    /// A new certificate and key pair (P-256), made by rcgen.
    pub fn generate() -> TestCertificate {
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .unwrap();
        TestCertificate {
            der: certified.cert.der().to_vec(),
            key_der: certified.signing_key.serialize_der(),
        }
    }

    /// A client that trusts only this certificate, following redirects its own way.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_der(&self.der).unwrap()])
            .build()
            .unwrap()
    }
}

impl Provider {
    /// Starts a provider over plain HTTP.
    pub async fn start(jwks: String) -> Provider {
        Provider::listen(jwks, None).await
    }

    /// Starts a provider over HTTPS with `certificate`.
    pub async fn start_tls(jwks: String, certificate: &TestCertificate) -> Provider {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der.clone().into()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(certificate.key_der.clone().into()),
        )
        .unwrap();
        Provider::listen(jwks, Some(TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn listen(jwks: String, tls: Option<TlsAcceptor>) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base = format!("{scheme}://127.0.0.1:{port}");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                jwks,
                etag: None,
                cache_control: None,
                fault: Fault::None,
                issuer: None,
                jwks_uri: None,
                oidc: true,
                discovery_anywhere: false,
            }),
            hits: Mutex::new(HashMap::new()),
            not_modified: AtomicUsize::new(0),
            released: watch::channel(false).0,
        });
        let task = tokio::spawn({
            let shared = Arc::clone(&shared);
            let base = base.clone();
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let shared = Arc::clone(&shared);
                    let base = base.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        match tls {
                            Some(tls) => {
                                if let Ok(stream) = tls.accept(stream).await {
                                    serve(stream, &shared, &base).await;
                                }
                            }
                            None => serve(stream, &shared, &base).await,
                        }
                    });
                }
            }
        });
        Provider { base, shared, task }
    }

    /// The issuer identifier: the provider's base URL.
    pub fn issuer(&self) -> String {
        self.base.clone()
    }

    /// The URL of the key set: [`base`](Self::base) + [`JWKS_PATH`].
    pub fn jwks_uri(&self) -> String {
        format!("{}{JWKS_PATH}", self.base)
    }

    /// Changes what the provider serves.
    pub fn set(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.shared.state.lock().unwrap());
    }

    /// Requests received for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Key set requests received so far.
    pub fn jwks_hits(&self) -> usize {
        self.hits(JWKS_PATH)
    }

    /// 304 answers given so far.
    pub fn not_modified(&self) -> usize {
        self.shared.not_modified.load(Ordering::SeqCst)
    }

    /// Lets held requests ([`Fault::Hold`]) be answered, and stops holding new ones.
    pub fn release(&self) {
        self.set(|state| state.fault = Fault::None);
        self.shared.released.send_replace(true);
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, shared: &Shared, base: &str) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let if_none_match = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("if-none-match")
            .then(|| value.trim().to_owned())
    });
    *shared.hits.lock().unwrap().entry(path.clone()).or_default() += 1;

    let state = shared.state.lock().unwrap().clone();
    let response = match state.fault {
        Fault::Status(code) => respond(code, &[], ""),
        Fault::Garbage => respond(
            200,
            &[("Content-Type", "application/json")],
            "<html>not json",
        ),
        Fault::Huge(size) => {
            let body = format!(
                "{{\"keys\":[],\"pad\":\"{}\"}}",
                "x".repeat(size.saturating_sub(20))
            );
            respond(200, &[("Content-Type", "application/json")], &body)
        }
        Fault::Redirect(location) => respond(302, &[("Location", &location)], ""),
        Fault::Discovery(ref body) if path == OIDC_PATH || path == RFC8414_PATH => {
            respond(200, &[("Content-Type", "application/json")], body)
        }
        Fault::Discovery(_) => answer(&state, &path, if_none_match.as_deref(), shared, base),
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            answer(&state, &path, if_none_match.as_deref(), shared, base)
        }
        Fault::Hold => {
            let mut released = shared.released.subscribe();
            let _ = released.wait_for(|released| *released).await;
            let state = shared.state.lock().unwrap().clone();
            answer(&state, &path, if_none_match.as_deref(), shared, base)
        }
        Fault::None => answer(&state, &path, if_none_match.as_deref(), shared, base),
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn answer(
    state: &State,
    path: &str,
    if_none_match: Option<&str>,
    shared: &Shared,
    base: &str,
) -> String {
    let json = [("Content-Type", "application/json")];
    match path {
        OIDC_PATH if !state.oidc => respond(404, &[], ""),
        path if path == OIDC_PATH
            || path == RFC8414_PATH
            || (state.discovery_anywhere && path.ends_with(OIDC_PATH)) =>
        {
            let document = serde_json::json!({
                "issuer": state.issuer.clone().unwrap_or_else(|| base.to_owned()),
                "jwks_uri": state.jwks_uri.clone().unwrap_or_else(|| format!("{base}{JWKS_PATH}")),
            });
            respond(200, &json, &document.to_string())
        }
        JWKS_PATH => {
            if state.etag.is_some() && if_none_match == state.etag.as_deref() {
                shared.not_modified.fetch_add(1, Ordering::SeqCst);
                let mut headers = Vec::new();
                if let Some(cache) = &state.cache_control {
                    headers.push(("Cache-Control", cache.as_str()));
                }
                return respond(304, &headers, "");
            }
            let mut headers = vec![("Content-Type", "application/json")];
            if let Some(etag) = &state.etag {
                headers.push(("ETag", etag.as_str()));
            }
            if let Some(cache) = &state.cache_control {
                headers.push(("Cache-Control", cache.as_str()));
            }
            respond(200, &headers, &state.jwks)
        }
        _ => respond(404, &[], ""),
    }
}

fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    let mut response = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(body);
    response
}
