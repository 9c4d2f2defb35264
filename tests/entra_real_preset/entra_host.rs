//! Entra on loopback: an HTTPS server on 127.0.0.1 with certificates for Entra's hosts from a test
//! CA, serving the recorded documents and key files made tenant-specific.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::Value;
use tokengate::Gate;
use tokengate::providers::entra::EntraApi;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::fixtures::{D02_V1, D06_V2, GLOBAL_HOST, STS_HOST, US_GOV_HOST};

/// A test CA and a server certificate it signed for the Entra hosts.
struct Certificates {
    ca_der: Vec<u8>,
    server_der: Vec<u8>,
    server_key_der: Vec<u8>,
}

impl Certificates {
    fn generate() -> Certificates {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "tokengate test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec![
            GLOBAL_HOST.to_owned(),
            US_GOV_HOST.to_owned(),
            STS_HOST.to_owned(),
        ])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
        Certificates {
            ca_der: ca.der().to_vec(),
            server_der: server.der().to_vec(),
            server_key_der: server_key.serialize_der(),
        }
    }
}

/// What the loopback Entra serves, and what it was asked.
#[derive(Default)]
pub(crate) struct HostState {
    /// Each tenant's key set (served at both its v1 and v2 key paths); other tenants get 404.
    keys: HashMap<String, String>,
    /// Serve the Global cloud's documents at every host (a misrouted or spoofed answer),
    /// instead of documents for the host asked.
    global_documents_everywhere: bool,
    /// Serve the tenant documents without their `cloud_instance_name`.
    without_cloud_instance_name: bool,
    /// Every request: `(host, path)`.
    requests: Vec<(String, String)>,
}

/// Microsoft Entra ID on 127.0.0.1, over HTTPS, for the real host names; stops when dropped.
pub(crate) struct EntraHost {
    pub(crate) addr: SocketAddr,
    pub(crate) ca_der: Vec<u8>,
    pub(crate) state: Arc<Mutex<HostState>>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl EntraHost {
    /// Serves `keys` for each `(tenant id, key set)`.
    pub(crate) async fn start(keys: &[(&str, &str)]) -> EntraHost {
        let certificates = Certificates::generate();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificates.server_der.clone().into()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(certificates.server_key_der.clone().into()),
        )
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(HostState {
            keys: keys
                .iter()
                .map(|(tid, jwks)| ((*tid).to_owned(), (*jwks).to_owned()))
                .collect(),
            ..HostState::default()
        }));
        let task = tokio::spawn({
            let state = Arc::clone(&state);
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            serve(stream, &state).await;
                        }
                    });
                }
            }
        });
        EntraHost {
            addr,
            ca_der: certificates.ca_der,
            state,
            task,
        }
    }

    /// A client that reaches the Entra hosts at this server (the port in a `resolve` entry is
    /// used when the URL has none), trusts only the test CA, and uses no proxy.
    pub(crate) fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_der(&self.ca_der).unwrap()])
            .resolve(GLOBAL_HOST, self.addr)
            .resolve(US_GOV_HOST, self.addr)
            .resolve(STS_HOST, self.addr)
            .build()
            .unwrap()
    }

    /// A gate for `api`, fetching from this server.
    pub(crate) fn gate(&self, api: EntraApi) -> Gate {
        Gate::builder()
            .issuer(api)
            .http_client(self.client())
            .build()
            .unwrap_or_else(|e| panic!("gate refused: {e}"))
    }

    pub(crate) fn serve_global_documents_everywhere(&self) {
        self.state.lock().unwrap().global_documents_everywhere = true;
    }

    pub(crate) fn serve_documents_without_cloud_instance_name(&self) {
        self.state.lock().unwrap().without_cloud_instance_name = true;
    }

    /// The requests received so far, as `host path`.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|(host, path)| format!("{host} {path}"))
            .collect()
    }
}

impl Drop for EntraHost {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve<S>(mut stream: S, state: &Mutex<HostState>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
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
    let host = text
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("host").then(|| value.trim())
        })
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let (status, body) = {
        let mut state = state.lock().unwrap();
        state.requests.push((host.clone(), path.clone()));
        answer(&state, &host, &path)
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn answer(state: &HostState, host: &str, path: &str) -> (u16, String) {
    if host != GLOBAL_HOST && host != US_GOV_HOST {
        return (404, String::new());
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        // The tenant-independent documents, verbatim (templated issuers).
        ["common", "v2.0", ".well-known", "openid-configuration"] if host == GLOBAL_HOST => {
            (200, D06_V2.to_owned())
        }
        ["common", ".well-known", "openid-configuration"] if host == GLOBAL_HOST => {
            (200, D02_V1.to_owned())
        }
        [tid, "v2.0", ".well-known", "openid-configuration"] => {
            (200, tenant_document(D06_V2, host, tid, state))
        }
        [tid, ".well-known", "openid-configuration"] => {
            (200, tenant_document(D02_V1, host, tid, state))
        }
        [tid, "discovery", "v2.0", "keys"] | [tid, "discovery", "keys"] => {
            match state.keys.get(*tid) {
                Some(jwks) => (200, jwks.clone()),
                None => (404, String::new()),
            }
        }
        _ => (404, String::new()),
    }
}

/// A real `common` document made tenant-specific: `{tenantid}` and the `common` segment of the
/// endpoint URLs replaced by the tenant, as in Entra's tenant documents. At the US Gov host the
/// login host becomes that cloud's (`login.microsoftonline.us`, cloud instance
/// `microsoftonline.us`); the fixtures hold no real US Gov document, so this one is derived.
/// The v1 issuer host (`sts.windows.net`) is left as the Global document has it: only v2
/// tokens are judged by the US Gov documents here.
fn tenant_document(common: &str, host: &str, tid: &str, state: &HostState) -> String {
    let mut text = common.replace("{tenantid}", tid).replace(
        "https://login.microsoftonline.com/common/",
        &format!("https://login.microsoftonline.com/{tid}/"),
    );
    if host == US_GOV_HOST && !state.global_documents_everywhere {
        text = text
            .replace(GLOBAL_HOST, US_GOV_HOST)
            .replace("\"microsoftonline.com\"", "\"microsoftonline.us\"");
    }
    if state.without_cloud_instance_name {
        let mut document: Value = serde_json::from_str(&text).unwrap();
        document
            .as_object_mut()
            .unwrap()
            .remove("cloud_instance_name");
        text = document.to_string();
    }
    text
}
