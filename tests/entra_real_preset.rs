//! Real Microsoft-signed Entra ID tokens through the Entra preset ([`EntraApi`]), with the real
//! instance `https://login.microsoftonline.com` (issue 5, item 9: "through the Entra preset
//! wherever the preset applies"). `tests/entra_real.rs` validates the same tokens with plain
//! issuer profiles; here the gate learns each issuer from tenant metadata and fetches the key
//! set that metadata names, exactly as it would against Entra.
//!
//! Entra is played by an HTTPS server on 127.0.0.1 ([`EntraHost`]) with a certificate for
//! `login.microsoftonline.com` (and `login.microsoftonline.us`, `sts.windows.net`) from a test
//! CA. The gate's HTTP client resolves those hosts to the loopback server and trusts only that
//! CA, so nothing leaves the machine. The server answers:
//!
//! * `/{tid}/v2.0/.well-known/openid-configuration`: the real `common` v2 document (D06, the
//!   newest v2 snapshot) and `/{tid}/.well-known/openid-configuration`: the real `common` v1
//!   document (D02, the newest v1 snapshot), each made tenant-specific as Entra's
//!   tenant documents are: `{tenantid}` replaced by the tenant in the path, and `common` in
//!   the endpoint URLs too, so `jwks_uri` is `https://login.microsoftonline.com/{tid}/discovery/v2.0/keys`
//!   (v2) or `.../{tid}/discovery/keys` (v1);
//! * `/common/v2.0/.well-known/openid-configuration` and `/common/.well-known/openid-configuration`:
//!   the same two documents verbatim, with their templated issuers (Global host only);
//! * those key paths: the real key file that verifies that tenant's token, verbatim
//!   (K01 for T17, K14 for T20, K02 for T18, K06 for T04 and T05; Entra serves the same
//!   signing keys at its v1 and v2 key paths). T13's key file, K08, is a .NET fixture that
//!   cannot be loaded verbatim (see `key_hygiene_k08_verbatim_is_refused` in `entra_real.rs`),
//!   so its two keys are served as Entra publishes keys (no `alg`, no `key_ops`, base64url
//!   moduli). `common`'s key paths serve a set derived from K02 (see
//!   `entra_17_t18_v1_any_tenant_checks_the_v2_key_issuer`).
//!
//! Every token expired years ago: each is validated with `Gate::validate_at` at the midpoint
//! of its own lifetime (at least 30 minutes from either end, so the preset's 300 s leeway is
//! never what lets a token through). Tests are named after the ENTRA-* (and ATK-*) ids of the
//! requirements checklist they prove.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::{Value, json};
use tokengate::providers::entra::{EntraApi, TokenVersion};
use tokengate::{Claims, Gate, Rejection, Requirement, TokenKind};
use tokengate_testkit::b64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

// ---------------------------------------------------------------------------------------------
// The fixtures, embedded so the tests run from a clean clone.

const T04: &str = include_str!("entra-real/tokens/T04_v1-access-token_spn-aud_2016_passport.jwt");
const T05: &str = include_str!("entra-real/tokens/T05_v1-id-token_implicit_2016_passport.jwt");
const T13: &str = include_str!("entra-real/tokens/T13_v1-id-token_x5t-only_2014_IdentityModel.jwt");
const T17: &str =
    include_str!("entra-real/tokens/T17_v2-access-token_app-only-roles_2021_capstone.jwt");
const T18: &str =
    include_str!("entra-real/tokens/T18_v1-access-token_app-only_ms-tenant_2022_sellercohort.jwt");
const T20: &str =
    include_str!("entra-real/tokens/T20_v2-access-token_delegated_nav-test-tenant_2024-06-17a.jwt");

const K01: &str = include_str!("entra-real/keys/K01_common-v1-keys_2022_MSIdentityTools.json");
const K02: &str = include_str!("entra-real/keys/K02_common-keys_2023_wso2.json");
const K06: &str = include_str!("entra-real/keys/K06_YbRAQ_2016_passport-azure-ad.json");
const K08: &str = include_str!("entra-real/keys/K08_kriMP_2014_IdentityModel-JsonWebKeySet.json");
const K14: &str =
    include_str!("entra-real/keys/K14_common-v2-keys_2024-06-18_panva-wellknown.json");

/// The newest real `common` v1 document (2024-02-02).
const D02_V1: &str = include_str!(
    "entra-real/discovery/D02_common-v1-openid-configuration_2024-02-02_IdentityModel.json"
);
/// The newest real `common` v2 document (2024-06-18).
const D06_V2: &str = include_str!(
    "entra-real/discovery/D06_common-v2-openid-configuration_2024-06-18_panva-wellknown.json"
);

const GLOBAL_HOST: &str = "login.microsoftonline.com";
const US_GOV_HOST: &str = "login.microsoftonline.us";
/// The host of v1 issuers: never fetched from (ENTRA-3); resolved to the loopback server only
/// so that a request to it would be seen rather than sent to Microsoft.
const STS_HOST: &str = "sts.windows.net";
const US_GOV_INSTANCE: &str = "https://login.microsoftonline.us";

/// One real token: its tenant, audience, lifetime and the clock it is judged at.
struct Case {
    name: &'static str,
    file: &'static str,
    /// `iss`, as the token has it.
    iss: &'static str,
    tid: &'static str,
    /// `aud`, as the token has it.
    aud: &'static str,
    /// The API's client id: `aud`, or the GUID inside it (T04's `spn:` audience).
    client_id: &'static str,
    /// `iat`, equal to `nbf` in every one of these tokens.
    iat: u64,
    exp: u64,
    /// The real key file that verifies it, as the tenant's key set.
    keys: &'static str,
}

impl Case {
    /// The token text (the files end with a newline, which is not part of the token).
    fn token(&self) -> &'static str {
        self.file.trim_end()
    }

    /// The fixed clock: the midpoint of `iat` .. `exp`.
    fn at(&self) -> SystemTime {
        at((self.iat + self.exp) / 2)
    }

    /// The preset as the API the token was issued for would configure it.
    fn api(&self) -> EntraApi {
        EntraApi::single_tenant(self.tid, self.client_id)
    }
}

const T04_CASE: Case = Case {
    name: "T04",
    file: T04,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    tid: "268da1a1-9db4-48b9-b1fe-683250ba90cc",
    aud: "spn:6514a8ca-d9e4-4155-b292-65258398f3aa",
    client_id: "6514a8ca-d9e4-4155-b292-65258398f3aa",
    iat: 1_467_311_248,
    exp: 1_467_315_148,
    keys: K06,
};

const T05_CASE: Case = Case {
    name: "T05",
    file: T05,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    tid: "268da1a1-9db4-48b9-b1fe-683250ba90cc",
    aud: "2abf3a52-7d86-460b-a1ef-77dc43de8aad",
    client_id: "2abf3a52-7d86-460b-a1ef-77dc43de8aad",
    iat: 1_471_313_417,
    exp: 1_471_317_317,
    keys: K06,
};

/// `keys` is unused for T13: see [`k08_as_entra`].
const T13_CASE: Case = Case {
    name: "T13",
    file: T13,
    iss: "https://sts.windows.net/add29489-7269-41f4-8841-b63c95564420/",
    tid: "add29489-7269-41f4-8841-b63c95564420",
    aud: "fe78e0b4-6fe7-47e6-812c-fb75cee266a4",
    client_id: "fe78e0b4-6fe7-47e6-812c-fb75cee266a4",
    iat: 1_419_268_520,
    exp: 1_419_272_420,
    keys: K08,
};

const T17_CASE: Case = Case {
    name: "T17",
    file: T17,
    iss: "https://login.microsoftonline.com/41cb5478-1f8a-4a8e-a2b7-58bbc1198c52/v2.0",
    tid: "41cb5478-1f8a-4a8e-a2b7-58bbc1198c52",
    aud: "a55b004f-3e93-434f-800b-476edb7602db",
    client_id: "a55b004f-3e93-434f-800b-476edb7602db",
    iat: 1_626_783_201,
    exp: 1_626_787_101,
    keys: K01,
};

const T18_CASE: Case = Case {
    name: "T18",
    file: T18,
    iss: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    tid: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    aud: "fa502207-b9c5-4400-bb1c-fa23c20422af",
    client_id: "fa502207-b9c5-4400-bb1c-fa23c20422af",
    iat: 1_664_112_565,
    exp: 1_664_199_265,
    keys: K02,
};

const T20_CASE: Case = Case {
    name: "T20",
    file: T20,
    iss: "https://login.microsoftonline.com/966ac572-f5b7-4bbe-aa88-c76419c0f851/v2.0",
    tid: "966ac572-f5b7-4bbe-aa88-c76419c0f851",
    aud: "bff62dcb-88dc-4a13-9e26-1cbffb96ec64",
    client_id: "bff62dcb-88dc-4a13-9e26-1cbffb96ec64",
    iat: 1_718_609_937,
    exp: 1_718_614_377,
    keys: K14,
};

const ALL_CASES: [&Case; 6] = [
    &T04_CASE, &T05_CASE, &T13_CASE, &T17_CASE, &T18_CASE, &T20_CASE,
];

// ---------------------------------------------------------------------------------------------
// Entra on loopback.

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
struct HostState {
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
struct EntraHost {
    addr: SocketAddr,
    ca_der: Vec<u8>,
    state: Arc<Mutex<HostState>>,
    task: tokio::task::JoinHandle<()>,
}

impl EntraHost {
    /// Serves `keys` for each `(tenant id, key set)`.
    async fn start(keys: &[(&str, &str)]) -> EntraHost {
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
    fn client(&self) -> reqwest::Client {
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
    fn gate(&self, api: EntraApi) -> Gate {
        Gate::builder()
            .issuer(api)
            .http_client(self.client())
            .build()
            .unwrap_or_else(|e| panic!("gate refused: {e}"))
    }

    fn serve_global_documents_everywhere(&self) {
        self.state.lock().unwrap().global_documents_everywhere = true;
    }

    fn serve_documents_without_cloud_instance_name(&self) {
        self.state.lock().unwrap().without_cloud_instance_name = true;
    }

    /// The requests received so far, as `host path`.
    fn requests(&self) -> Vec<String> {
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

// ---------------------------------------------------------------------------------------------
// Helpers.

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// `"ok"` or the rejection code: compact to compare.
fn outcome(result: &Result<Arc<Claims>, Rejection>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(rejection) => rejection.code(),
    }
}

async fn check(gate: &Gate, case: &Case) -> &'static str {
    outcome(&gate.validate_at(case.token(), case.at()).await)
}

fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).unwrap()
}

/// One of K08's keys as Entra would publish it: no `alg` (K08's is `"SHA256"`, not a JWS
/// algorithm), no `key_ops` (`["signing"]` is not a JWK operation), and its modulus
/// re-encoded from standard base64 to base64url. Same key bytes.
fn k08_as_entra(kid: &str) -> Value {
    let doc: Value = serde_json::from_str(K08).unwrap();
    let mut jwk = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .clone();
    let object = jwk.as_object_mut().unwrap();
    object.remove("alg");
    object.remove("key_ops");
    let n = base64_simd::STANDARD
        .decode_to_vec(jwk["n"].as_str().unwrap())
        .unwrap();
    jwk["n"] = Value::from(b64(n));
    jwk
}

const KRIMP: &str = "kriMPdmBvx68skT8-mPAB3BseeA";
const NGTF: &str = "NGTFvdK-fythEuLwjpwAJOM9n-A";

fn metadata_paths(tid: &str) -> [String; 2] {
    [
        format!("{GLOBAL_HOST} /{tid}/v2.0/.well-known/openid-configuration"),
        format!("{GLOBAL_HOST} /{tid}/.well-known/openid-configuration"),
    ]
}

fn key_paths(tid: &str) -> [String; 2] {
    [
        format!("{GLOBAL_HOST} /{tid}/discovery/v2.0/keys"),
        format!("{GLOBAL_HOST} /{tid}/discovery/keys"),
    ]
}

/// Nothing was fetched from a token's issuer host (ENTRA-3), only from the configured instance.
fn assert_only_instance_fetched(host: &EntraHost, instance_host: &str) {
    for request in host.requests() {
        assert!(
            request.starts_with(&format!("{instance_host} /")),
            "{request}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The harness itself.

/// The constants above are the tokens' own claims; the clocks are inside their lifetimes.
#[test]
fn cases_come_from_the_tokens() {
    for case in ALL_CASES {
        let claims = payload_of(case.token());
        assert_eq!(claims["iss"], case.iss, "{}", case.name);
        assert_eq!(claims["tid"], case.tid, "{}", case.name);
        assert_eq!(claims["aud"], case.aud, "{}", case.name);
        assert!(case.aud.ends_with(case.client_id), "{}", case.name);
        assert_eq!(claims["iat"], case.iat, "{}", case.name);
        assert_eq!(claims["nbf"], case.iat, "{}", case.name);
        assert_eq!(claims["exp"], case.exp, "{}", case.name);
        let clock = case.at().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(clock - case.iat >= 1800 && case.exp - clock >= 1800);
    }
}

/// The loopback Entra answers for the real host names with the real documents made
/// tenant-specific, and the real key files at the paths those documents name.
#[tokio::test(flavor = "current_thread")]
async fn served_documents_are_the_real_ones_made_tenant_specific() {
    let case = &T17_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let client = host.client();
    let get = |url: String| {
        let client = client.clone();
        async move {
            let response = client.get(&url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let tid = case.tid;
    let (status, v2) = get(format!(
        "https://{GLOBAL_HOST}/{tid}/v2.0/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(status, 200);
    let v2: Value = serde_json::from_str(&v2).unwrap();
    assert_eq!(v2["issuer"], case.iss, "the v2 issuer is T17's own");
    assert_eq!(
        v2["jwks_uri"],
        format!("https://{GLOBAL_HOST}/{tid}/discovery/v2.0/keys")
    );
    assert_eq!(
        v2["token_endpoint"],
        format!("https://{GLOBAL_HOST}/{tid}/oauth2/v2.0/token")
    );
    // Everything else is D06 as Microsoft served it.
    let d06: Value = serde_json::from_str(D06_V2).unwrap();
    assert_eq!(v2["claims_supported"], d06["claims_supported"]);
    assert_eq!(v2["cloud_instance_name"], "microsoftonline.com");

    let (status, v1) = get(format!(
        "https://{GLOBAL_HOST}/{tid}/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(status, 200);
    let v1: Value = serde_json::from_str(&v1).unwrap();
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(
        v1["jwks_uri"],
        format!("https://{GLOBAL_HOST}/{tid}/discovery/keys")
    );

    for path in ["discovery/v2.0/keys", "discovery/keys"] {
        let (status, keys) = get(format!("https://{GLOBAL_HOST}/{tid}/{path}")).await;
        assert_eq!((status, keys.as_str()), (200, K01), "verbatim");
    }
    // Tenants without keys configured have none.
    let (status, _) = get(format!(
        "https://{GLOBAL_HOST}/{}/discovery/keys",
        T20_CASE.tid
    ))
    .await;
    assert_eq!(status, 404);

    // The US Gov host: the same documents in that cloud.
    let (_, gov) = get(format!(
        "https://{US_GOV_HOST}/{tid}/v2.0/.well-known/openid-configuration"
    ))
    .await;
    let gov: Value = serde_json::from_str(&gov).unwrap();
    assert_eq!(
        gov["issuer"],
        format!("https://{US_GOV_HOST}/{tid}/v2.0"),
        "a US Gov v2 issuer"
    );
    assert_eq!(gov["cloud_instance_name"], "microsoftonline.us");
}

// ---------------------------------------------------------------------------------------------
// Valid access tokens.

/// T17 (ENTRA-2, ENTRA-3, ENTRA-29): a v2 app-only token with `roles`, from tenant
/// 41cb5478-..., through `EntraApi::single_tenant(tid, aud)`: the gate learns the v2 issuer
/// `https://login.microsoftonline.com/{tid}/v2.0` from the tenant's v2 document, verifies with
/// the key set that document names (K01), and the token is an app token (`sub` = `oid`).
#[tokio::test(flavor = "current_thread")]
async fn entra_2_3_29_t17_v2_app_only_roles_validates() {
    let case = &T17_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api());
    gate.warm_up()
        .await
        .expect("both tenant documents accepted");
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();

    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.tenant_id(), Some(case.tid));
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.client_id(), Some(case.aud), "azp: the app itself");
    assert_eq!(claims.subject(), claims.object_id());
    assert_eq!(claims.token_kind(), TokenKind::App);
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(claims.roles().count(), 8);
    assert!(claims.has_role("dpmm.orders.read"));
    assert!(
        Requirement::any_scope(["dpmm.orders.read"])
            .or(Requirement::any_role(["dpmm.orders.read"]))
            .check(&claims)
            .is_ok()
    );
    assert_eq!(payload_of(case.token())["ver"], "2.0");

    // Both of the tenant's documents and their key sets came from the instance; nothing
    // from anywhere else.
    let requests = host.requests();
    for path in metadata_paths(case.tid).iter().chain(&key_paths(case.tid)) {
        assert!(requests.contains(path), "{path} in {requests:?}");
    }
    assert_only_instance_fetched(&host, GLOBAL_HOST);

    // The fixed clock is what lets it through.
    assert_eq!(
        outcome(&gate.validate_at(case.token(), SystemTime::now()).await),
        "token_expired"
    );
}

/// T20 (ENTRA-2, ENTRA-29): a v2 delegated token (`scp`), verified with the real v2 key set
/// (K14, whose keys carry `issuer` `https://login.microsoftonline.com/{tenantid}/v2.0`): a
/// user token its scope authorizes.
#[tokio::test(flavor = "current_thread")]
async fn entra_2_29_t20_v2_delegated_scp_validates() {
    let case = &T20_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api());
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.tenant_id(), Some(case.tid));
    assert_eq!(
        claims.client_id(),
        Some("5f28c10f-ecd5-45ef-96b8-db4311802e89"),
        "azp: the client, not the API"
    );
    assert_eq!(claims.token_kind(), TokenKind::User);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["defaultaccess"]);
    assert_eq!(claims.roles().count(), 0);
    assert!(Requirement::scope("defaultaccess").check(&claims).is_ok());
    assert_only_instance_fetched(&host, GLOBAL_HOST);
}

/// T18 (ENTRA-2, ENTRA-27, ENTRA-29): a v1 app-only token from the Microsoft tenant with
/// neither `scp` nor `roles`. Its issuer `https://sts.windows.net/{tid}/` is learned from the
/// tenant's v1 document (the v1 issuer rule accepts it), its key (K02) has no `alg` and is
/// bound to RS256; then the preset refuses it with 403 `no_scope_or_role`, unless the API
/// authorizes by ACL.
#[tokio::test(flavor = "current_thread")]
async fn entra_27_t18_v1_app_only_without_scp_or_roles_is_403_unless_acl() {
    let case = &T18_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;

    let gate = host.gate(case.api());
    let refused = gate.validate_at(case.token(), case.at()).await.unwrap_err();
    assert_eq!(refused, Rejection::NoScopeOrRole);
    assert_eq!(refused.code(), "no_scope_or_role");
    assert_eq!(refused.class().status(), 403);

    let acl = host.gate(case.api().allow_acl_authorization());
    let claims = acl.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(payload_of(case.token())["ver"], "1.0");
    assert_eq!(claims.token_kind(), TokenKind::App, "sub = oid");
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(claims.roles().count(), 0);
    assert_eq!(
        claims.client_id(),
        Some("80df99f6-bfc9-4c47-b726-42b67cce3503"),
        "appid"
    );
    // With ACL authorization on, any scope or role requirement still refuses it.
    assert!(Requirement::any_role(["Data.Read"]).check(&claims).is_err());
    assert_only_instance_fetched(&host, GLOBAL_HOST);
}

/// T04 (ENTRA-6): a v1 delegated token whose `aud` is `spn:{client id}`. The preset's
/// default audiences (the client id and `api://{client id}`) do not include it: refused
/// `invalid_audience`. `app_id_uri` accepts `spn:...` (it refuses only empty values, values
/// with surrounding whitespace and values ending in `/`), and with it configured the token
/// validates: exact match, no prefix or scheme tolerance.
#[tokio::test(flavor = "current_thread")]
async fn entra_6_t04_v1_spn_audience_only_when_configured() {
    let case = &T04_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;

    let gate = host.gate(case.api());
    assert_eq!(check(&gate, case).await, "invalid_audience");

    let gate = host.gate(case.api().app_id_uri(case.aud));
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["user_impersonation"]);
    assert_eq!(claims.token_kind(), TokenKind::User);

    // Other spellings are other audiences.
    for other in [
        "SPN:6514a8ca-d9e4-4155-b292-65258398f3aa",
        "spn:6514a8ca-d9e4-4155-b292-65258398f3a",
    ] {
        let gate = host.gate(case.api().app_id_uri(other));
        assert_eq!(check(&gate, case).await, "invalid_audience", "{other}");
    }
    // And the configuration check refuses a trailing slash.
    let refused = Gate::builder()
        .issuer(case.api().app_id_uri(format!("{}/", case.aud)))
        .http_client(host.client())
        .build()
        .unwrap_err();
    assert!(
        refused.to_string().contains("ends with a slash"),
        "{refused}"
    );
}

// ---------------------------------------------------------------------------------------------
// ID tokens.

/// T05 (ATK-32): a real v1 ID token (implicit flow, `nonce`) for a client id configured as
/// the API's: its issuer is learned, its signature verifies with K06, and the first claim
/// check refuses it as `not_an_access_token` (a `nonce`).
#[tokio::test(flavor = "current_thread")]
async fn atk_32_t05_v1_id_token_is_not_an_access_token() {
    let case = &T05_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api());
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::NotAnAccessToken
    );
    // Even for an API that authorizes by ACL (the ID token has no `scp` or `roles` either).
    let acl = host.gate(case.api().allow_acl_authorization());
    assert_eq!(check(&acl, case).await, "not_an_access_token");
}

/// T13 (ATK-32, ATK-44): the 2014 v1 ID token whose header names its key by `x5t` only.
///
/// With both K08 keys in the tenant's key set (as Entra publishes keys), the pipeline stops
/// before the claims: a token without `kid` facing two RSA keys is `missing_key_id`
/// (tokengate never selects keys by `x5t`); a refresh does not change that (the cooldown
/// holds it to the set just fetched). That is the code the pipeline gives first, so it is
/// asserted here instead of `not_an_access_token`.
///
/// With only its own key in the set, the one RS256 key is selected, the signature verifies,
/// and the claims refuse it as `not_an_access_token` (`nonce`, `c_hash`).
#[tokio::test(flavor = "current_thread")]
async fn atk_32_44_t13_v1_id_token_without_kid() {
    let case = &T13_CASE;
    let both = json!({"keys": [k08_as_entra(NGTF), k08_as_entra(KRIMP)]}).to_string();
    let host = EntraHost::start(&[(case.tid, both.as_str())]).await;
    let gate = host.gate(case.api());
    gate.warm_up().await.unwrap();
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::MissingKeyId
    );

    let only = json!({"keys": [k08_as_entra(KRIMP)]}).to_string();
    let host = EntraHost::start(&[(case.tid, only.as_str())]).await;
    let gate = host.gate(case.api());
    assert_eq!(check(&gate, case).await, "not_an_access_token");
}

// ---------------------------------------------------------------------------------------------
// Tenants, versions and clouds.

/// ENTRA-16: T17 presented to an API configured for another tenant (T20's, whose metadata
/// names that tenant's issuers), with the very same signing keys (K01) served for it, as Entra
/// shares keys across tenants: the issuer separates them, `untrusted_issuer`.
#[tokio::test(flavor = "current_thread")]
async fn entra_16_t17_for_another_tenant_is_untrusted_issuer() {
    let case = &T17_CASE;
    let other = T20_CASE.tid;
    let host = EntraHost::start(&[(case.tid, case.keys), (other, case.keys)]).await;
    let gate = host.gate(EntraApi::single_tenant(other, case.client_id));
    gate.warm_up().await.expect("the other tenant's documents");
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::UntrustedIssuer
    );
    // Only the configured tenant's metadata was asked for, never the token's.
    let requests = host.requests();
    assert!(
        requests.iter().all(|r| !r.contains(case.tid)),
        "{requests:?}"
    );

    // The right tenant, same server, same keys: accepted.
    let gate = host.gate(case.api());
    assert_eq!(check(&gate, case).await, "ok");

    // The same for a v1 token: T18 (Microsoft's tenant) at an API of T04's tenant, whose v1
    // document names `https://sts.windows.net/268da1a1-.../`, with T18's keys (K02) served.
    let v1 = &T18_CASE;
    let other = T04_CASE.tid;
    let host = EntraHost::start(&[(other, v1.keys)]).await;
    let gate = host.gate(EntraApi::single_tenant(other, v1.client_id).allow_acl_authorization());
    assert_eq!(check(&gate, v1).await, "untrusted_issuer");
}

/// ENTRA-3, ENTRA-4: each token is judged by the metadata of its own version. A v2-only API
/// accepts T17 without ever fetching the v1 document and refuses T18 (a v1 token) as
/// `untrusted_issuer`; a v1-only API the reverse.
#[tokio::test(flavor = "current_thread")]
async fn entra_3_4_each_version_against_its_own_metadata() {
    let host =
        EntraHost::start(&[(T17_CASE.tid, T17_CASE.keys), (T18_CASE.tid, T18_CASE.keys)]).await;

    let v2 = host.gate(T17_CASE.api().versions([TokenVersion::V2]));
    assert_eq!(check(&v2, &T17_CASE).await, "ok");
    let [v2_document, v1_document] = metadata_paths(T17_CASE.tid);
    let requests = host.requests();
    assert!(requests.contains(&v2_document), "{requests:?}");
    assert!(!requests.contains(&v1_document), "{requests:?}");

    let v2 = host.gate(
        T18_CASE
            .api()
            .versions([TokenVersion::V2])
            .allow_acl_authorization(),
    );
    assert_eq!(check(&v2, &T18_CASE).await, "untrusted_issuer");

    let v1 = host.gate(
        T18_CASE
            .api()
            .versions([TokenVersion::V1])
            .allow_acl_authorization(),
    );
    assert_eq!(check(&v1, &T18_CASE).await, "ok");
    let v1 = host.gate(T17_CASE.api().versions([TokenVersion::V1]));
    assert_eq!(check(&v1, &T17_CASE).await, "untrusted_issuer");
    assert_only_instance_fetched(&host, GLOBAL_HOST);
}

/// ENTRA-17 step 3 with a real v1 token in the any-tenant mode: T18 (v1, Microsoft's own
/// tenant) is matched against the template of the real `common` v1 document and verified with
/// the keys the real `common` v2 document names, where each key carries an `issuer` (v1 key
/// sets carry none). No fixture holds T18's key as a v2 set publishes it, so K02's key is
/// served with the `issuer` every shared key of K14 (the real v2 set) has,
/// `https://login.microsoftonline.com/{tenantid}/v2.0`: accepted, the v2 issuer of T18's
/// tenant may use it. Served with the literal issuer of the personal-account tenant instead
/// (as K14's personal-account keys have it), the same key may not sign an organization's v1
/// token: `key_issuer_mismatch`. The v1 key set is never fetched.
#[tokio::test(flavor = "current_thread")]
async fn entra_17_t18_v1_any_tenant_checks_the_v2_key_issuer() {
    let case = &T18_CASE;
    let with_issuer = |issuer: &str| {
        let mut keys: Value = serde_json::from_str(case.keys).unwrap();
        for key in keys["keys"].as_array_mut().unwrap() {
            key["issuer"] = Value::from(issuer);
        }
        keys.to_string()
    };
    let api = || {
        EntraApi::multi_tenant(case.client_id)
            .any_tenant()
            .versions([TokenVersion::V1])
            .allow_acl_authorization()
    };
    let shared = with_issuer("https://login.microsoftonline.com/{tenantid}/v2.0");
    let host = EntraHost::start(&[("common", &shared)]).await;
    assert_eq!(payload_of(case.token())["ver"], "1.0");
    let gate = host.gate(api());
    let claims = gate.validate_at(case.token(), case.at()).await.unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(claims.tenant_id(), Some(case.tid));
    let requests = host.requests();
    for fetched in [
        "/common/.well-known/openid-configuration",
        "/common/v2.0/.well-known/openid-configuration",
        "/common/discovery/v2.0/keys",
    ] {
        assert!(
            requests.contains(&format!("{GLOBAL_HOST} {fetched}")),
            "{fetched}: {requests:?}"
        );
    }
    assert!(
        !requests.contains(&format!("{GLOBAL_HOST} /common/discovery/keys")),
        "{requests:?}"
    );
    assert_only_instance_fetched(&host, GLOBAL_HOST);

    let msa =
        with_issuer("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0");
    let host = EntraHost::start(&[("common", &msa)]).await;
    let refused = host.gate(api()).validate_at(case.token(), case.at()).await;
    assert_eq!(outcome(&refused), "key_issuer_mismatch");
}

/// ENTRA-40 with real documents and keys: the tenant documents name `"cloud_instance_name":
/// "microsoftonline.com"` and K14's keys name none (as Entra published them in 2024). With
/// T20's key marked as another cloud's (`microsoftonline.us`), it is skipped when the key set
/// is loaded and T20 is refused `unknown_key`; marked as the documents' own cloud, or served by
/// documents that name no cloud instance, it verifies T20 as before.
#[tokio::test(flavor = "current_thread")]
async fn entra_40_t20_key_of_another_cloud_instance_is_refused() {
    let case = &T20_CASE;
    let kid = "L1KfKFI_jnXbwWc22xZxw1sUHH0";
    assert_eq!(
        serde_json::from_str::<Value>(D06_V2).unwrap()["cloud_instance_name"],
        "microsoftonline.com"
    );
    let marked = |cloud: &str| {
        let mut keys: Value = serde_json::from_str(case.keys).unwrap();
        for key in keys["keys"].as_array_mut().unwrap() {
            assert!(key.get("cloud_instance_name").is_none(), "fixture");
            if key["kid"] == kid {
                key["cloud_instance_name"] = Value::from(cloud);
            }
        }
        keys.to_string()
    };
    let cases = [
        ("microsoftonline.us", false, "unknown_key"),
        ("microsoftonline.com", false, "ok"),
        ("microsoftonline.us", true, "ok"),
    ];
    for (cloud, without, expected) in cases {
        let keys = marked(cloud);
        let host = EntraHost::start(&[(case.tid, &keys)]).await;
        if without {
            host.serve_documents_without_cloud_instance_name();
        }
        let gate = host.gate(case.api().versions([TokenVersion::V2]));
        assert_eq!(check(&gate, case).await, expected, "{cloud} {without}");
    }
}

/// ENTRA-39: a Global-cloud token (T17) is refused by an API configured for US Gov
/// (`instance("https://login.microsoftonline.us")`). The gate asks only the US Gov host for
/// the tenant's metadata, learns the US Gov v2 issuer `https://login.microsoftonline.us/{tid}/v2.0`
/// (and the v1 issuer), and T17's `https://login.microsoftonline.com/{tid}/v2.0` is neither:
/// `untrusted_issuer`, although the same key set (K01) is served there.
///
/// If the US Gov host answered with the Global cloud's documents (a misrouted or spoofed
/// response), the v2 issuer rule (`{instance}/{tid}/v2.0` for the configured instance) refuses
/// the document, the v2 issuer stays unknown; the Global token is still refused as untrusted,
/// since no US Gov issuer could be `https://login.microsoftonline.com/..`.
#[tokio::test(flavor = "current_thread")]
async fn entra_39_t17_global_token_refused_by_us_gov_api() {
    let case = &T17_CASE;
    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    let gate = host.gate(case.api().instance(US_GOV_INSTANCE));
    gate.warm_up().await.expect("the US Gov documents");
    assert_eq!(
        gate.validate_at(case.token(), case.at()).await.unwrap_err(),
        Rejection::UntrustedIssuer
    );
    assert_only_instance_fetched(&host, US_GOV_HOST);
    let requests = host.requests();
    assert!(
        requests.contains(&format!(
            "{US_GOV_HOST} /{}/v2.0/.well-known/openid-configuration",
            case.tid
        )),
        "{requests:?}"
    );

    let host = EntraHost::start(&[(case.tid, case.keys)]).await;
    host.serve_global_documents_everywhere();
    let gate = host.gate(case.api().instance(US_GOV_INSTANCE));
    let failed = gate.warm_up().await.unwrap_err().to_string();
    assert!(failed.contains(case.iss), "{failed}");
    // No US Gov issuer, learned or not, could be `https://login.microsoftonline.com/..`:
    // untrusted (401), without waiting for the documents that failed.
    let refused = gate.validate_at(case.token(), case.at()).await.unwrap_err();
    assert_eq!(refused, Rejection::UntrustedIssuer);
}
