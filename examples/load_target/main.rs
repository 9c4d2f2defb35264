//! The target of the load and soak test (`scripts/load.sh`): an axum API behind `TokenLayer`,
//! a test issuer, and files of labelled tokens for the load generator.
//!
//! ```text
//! cargo run --release --example load_target -- --tokens-file /tmp/tokens.txt
//! cargo run --release --example load_target -- --help
//! ```
//!
//! It starts a `TestIssuer` (RS256, ES256, EdDSA and PS256 keys; discovery and JWKS on
//! 127.0.0.1) and an API whose `GET /orders` needs a valid token with the `orders.read` scope
//! (bearer or DPoP-bound). The gate finds the keys by discovery, as in production. It mints:
//!
//! * `--distinct` valid tokens (each with its own `sub` and `jti`), spread over the four
//!   algorithms: expected answer 200;
//! * `--expired` expired tokens: 401;
//! * forged tokens, `--forged-each` of every kind (forged.rs): 401, each refused for the
//!   reason it was made for;
//! * `--unscoped` valid tokens without the scope: 403 `insufficient_scope`;
//! * `--expiring` valid tokens whose `exp` falls inside the run (`--seconds`): 200 before it,
//!   401 `token_expired` after it plus the gate's `--leeway`;
//! * DPoP-bound tokens with `--dpop-rate` proofs a second for the run, in `--proofs-file`;
//!
//! and writes them to `--tokens-file`, one per line: `<expected status> <kind> <names>
//! <token> [<exp>]`, where `<names>` is what the answer's body must name (a valid token's
//! subject, or the rejection code of a refusal) and `<token>` is `-` for no token. Line
//! numbers (from 1) are the labels. At 30% of the run it rotates the issuer's ES256 key (a new
//! key published and signed with; the old one stays published, as its tokens still live) and
//! writes `--rotated` tokens signed with the new key to `--rotated-file`, after a first line
//! `rotation <ms since the epoch> <kid>`.
//!
//! The load generator sends a token's label in an `x-token` request header; a middleware
//! outside `TokenLayer` copies it to the response, with the times the server received and
//! answered the request (`x-arrived`, `x-answered`: ms since the epoch) and every
//! `WWW-Authenticate` value (`x-challenge`), so that every answer, the layer's own refusals
//! included, can be judged for its token on the server's clock. Then it prints `ready
//! port=<port> pid=<pid> tokens=<file>` and serves until killed.
//!
//! With `--reference` it serves the same API three times instead, for the throughput ratio:
//! behind the layer with the token cache (`port`), behind it without the cache
//! (`uncached_port`), and without the layer (`bare_port`, where the handler names the subject
//! sent in `x-sub`), and mints `--distinct` valid tokens only.

mod forged;
mod options;
mod tokens;

use std::error::Error;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use http::{HeaderMap, HeaderValue, header};
use tokengate::axum::Verified;
use tokengate::testing::TestIssuer;
use tokengate::{
    Algorithm, Dpop, DpopMode, Gate, KeyCacheSettings, RequireLayer, Requirement,
    TokenCacheSettings, TokenLayer,
};
use tokio::net::TcpListener;

use options::{Options, USAGE};

/// The request header with a token's label, copied to the response by [`judged`].
const LABEL: &str = "x-token";
/// When the server received the request, in ms since the epoch (rounded down).
const ARRIVED: &str = "x-arrived";
/// When it answered, in ms since the epoch (rounded up).
const ANSWERED: &str = "x-answered";
/// Every `WWW-Authenticate` value, joined: one header for wrk's Lua to read.
const CHALLENGE: &str = "x-challenge";
/// The subject the server without the layer names.
const SUBJECT: &str = "x-sub";
/// The scope `GET /orders` needs.
pub(crate) const SCOPE: &str = "orders.read";
/// The algorithm whose key rotates during the run.
const ROTATING: Algorithm = Algorithm::ES256;

/// The signature algorithms of the tokens (and of the issuer's keys).
pub(crate) const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::PS256,
];

/// Milliseconds since the epoch, rounded down or up.
fn epoch_ms(at: SystemTime, up: bool) -> u128 {
    let micros = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    if up {
        micros.div_ceil(1000)
    } else {
        micros / 1000
    }
}

/// Copies the request's [`LABEL`] to the response, with the times the request arrived and was
/// answered, and its challenges in one header. Outside `TokenLayer`, so that the layer's own
/// refusals carry them too.
async fn judged(request: Request, next: Next) -> Response {
    let arrived = epoch_ms(SystemTime::now(), false);
    let label = request.headers().get(LABEL).cloned();
    let mut response = next.run(request).await;
    let answered = epoch_ms(SystemTime::now(), true);
    let headers = response.headers_mut();
    if let Some(label) = label {
        headers.insert(LABEL, label);
    }
    headers.insert(ARRIVED, HeaderValue::from(arrived as u64));
    headers.insert(ANSWERED, HeaderValue::from(answered as u64));
    let challenges: Vec<&[u8]> = headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if !challenges.is_empty()
        && let Ok(value) = HeaderValue::from_bytes(&challenges.join(&b", "[..]))
    {
        headers.insert(CHALLENGE, value);
    }
    response
}

/// `GET /orders`: needs the `orders.read` scope. Names the token's subject, so that the load
/// generator can tell that an answer is for the right token, not merely a 200.
async fn orders(claims: Verified) -> String {
    format!("orders of {}\n", claims.subject().unwrap_or("-"))
}

/// `GET /orders` without the layer: the same answer, for the subject the request names.
async fn orders_bare(headers: HeaderMap) -> String {
    let subject = headers.get(SUBJECT).and_then(|v| v.to_str().ok());
    format!("orders of {}\n", subject.unwrap_or("-"))
}

/// The API: behind `layer` (and `RequireLayer`), or without either.
fn app(layer: Option<TokenLayer>) -> Router {
    let router = match layer {
        Some(layer) => Router::new()
            .route("/orders", get(orders))
            .route_layer(RequireLayer::new(Requirement::scope(SCOPE)).expect("one scope"))
            .layer(layer),
        None => Router::new().route("/orders", get(orders_bare)),
    };
    router.layer(middleware::from_fn(judged))
}

/// The gate: production settings, but plain HTTP to the issuer on loopback, the run's
/// leeway and key cooldown, and DPoP accepted.
async fn gate(
    issuer: &TestIssuer,
    options: &Options,
    cache: TokenCacheSettings,
) -> Result<Gate, Box<dyn Error>> {
    let gate = Gate::builder()
        .issuer(
            issuer
                .profile()
                .leeway(options.leeway)
                .dpop(DpopMode::Allowed),
        )
        .key_cache(
            KeyCacheSettings::default()
                .allow_http_loopback()
                .cooldown(options.key_cooldown),
        )
        .token_cache(cache)
        .dpop(Dpop::new())
        .build()?;
    gate.warm_up().await?;
    Ok(gate)
}

async fn bind(port: u16) -> std::io::Result<(TcpListener, u16)> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

fn layer(gate: Gate, port: u16) -> Result<TokenLayer, Box<dyn Error>> {
    Ok(TokenLayer::builder(gate)
        .realm("load")
        // What DPoP proofs name (`htu`), never taken from the request.
        .public_url(format!("http://127.0.0.1:{port}"))
        .build()?)
}

fn ready(line: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready {line} pid={}", std::process::id())?;
    stdout.flush()
}

async fn run(options: Options) -> Result<(), Box<dyn Error>> {
    let issuer = TestIssuer::with_algorithms(ALGORITHMS).await?;
    // Same algorithms, so the same `kid`s (`test-rs256-1`, ...), with other keys.
    let foreign = TestIssuer::with_algorithms(ALGORITHMS).await?;
    // A second key per algorithm, unpublished at once (`test-<alg>-2`): the issuer can sign
    // with it, the gate never sees it. The foreign issuer gets the same `kid`s, published.
    let mut unpublished = Vec::new();
    for alg in ALGORITHMS {
        let kid = issuer.add_key(alg);
        issuer.remove_key(&kid);
        assert_eq!(foreign.add_key(alg), kid, "both issuers number keys alike");
        unpublished.push((alg, kid));
    }
    let cache = TokenCacheSettings::default().max_entries(options.cache_entries);
    let gate = gate(&issuer, &options, cache).await?;
    let (listener, port) = bind(options.port).await?;
    let url = format!("http://127.0.0.1:{port}/orders");

    let mut all =
        tokens::valid_and_expired(&issuer, options.distinct, options.expired, options.lifetime);
    all.extend(forged::mint_forged(
        &issuer,
        &foreign,
        &unpublished,
        options.forged_each,
    ));
    let forged = all.len() - options.distinct - options.expired;
    all.extend(tokens::unscoped(
        &issuer,
        options.unscoped,
        options.lifetime,
    ));
    // The run starts about when the target is ready: time what happens during it from now.
    let start = SystemTime::now() + Duration::from_secs(1);
    let run = Duration::from_secs(options.seconds);
    all.extend(tokens::expiring(
        &issuer,
        options.expiring,
        start + run.mul_f64(0.25),
        start + run.mul_f64(0.45),
    ));
    let proofs_file = options.beside(&options.proofs_file, ".proofs");
    let plan = tokens::dpop(
        &issuer,
        options.dpop_clients,
        options.dpop_rate,
        start,
        // Proofs for longer than the run: wrk may start a little late.
        options.seconds + 10,
        &url,
    );
    // The proofs file names its tokens by index from the first DPoP line.
    let first_dpop = all.len() + 1;
    all.extend(plan.tokens);
    tokens::write(&options.tokens_file, "", &all)?;
    std::fs::write(&proofs_file, plan.proofs)?;

    let app = app(Some(layer(gate, port)?));
    eprintln!(
        "load_target: {} valid ({}), {} expired, {forged} forged, {} unscoped, {} expiring \
         tokens; DPoP tokens from line {first_dpop}, {} proofs/s; token cache {} entries; \
         leeway {} s, key cooldown {} s",
        options.distinct,
        ALGORITHMS.map(Algorithm::name).join(", "),
        options.expired,
        options.unscoped,
        options.expiring,
        options.dpop_rate,
        options.cache_entries,
        options.leeway.as_secs(),
        options.key_cooldown.as_secs(),
    );
    tokio::spawn(rotate(
        issuer.clone(),
        start + run.mul_f64(0.3),
        options.rotated,
        options.beside(&options.rotated_file, ".rotated"),
    ));
    watch(issuer.clone());
    ready(&format!(
        "port={port} tokens={} proofs={}",
        options.tokens_file.display(),
        proofs_file.display()
    ))?;
    // The issuers live as long as the server: the gate refreshes its keys from `issuer`.
    let _issuers = (issuer, foreign);
    axum::serve(listener, app).await?;
    Ok(())
}

/// At `at`, rotates the issuer's ES256 key as an identity provider does: publishes a new key
/// and signs with it from then on. The old key stays published: the tokens it signed are
/// still valid (a provider withdraws a key only once its tokens have expired). Then writes
/// tokens signed with the new key for the load generator, which starts sending them.
async fn rotate(issuer: TestIssuer, at: SystemTime, count: usize, file: PathBuf) {
    let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
    tokio::time::sleep(wait).await;
    let rotated_at = SystemTime::now();
    let kid = issuer.add_key(ROTATING);
    let minted = tokio::task::spawn_blocking({
        let issuer = issuer.clone();
        move || tokens::rotated(&issuer, ROTATING, count)
    })
    .await
    .expect("minting the rotated tokens panicked");
    let ms = epoch_ms(rotated_at, false);
    match tokens::write(&file, &format!("rotation {ms} {kid}\n"), &minted) {
        Ok(()) => eprintln!("load_target: rotated {} to {kid} at {ms}", ROTATING.name()),
        Err(error) => eprintln!("error: writing {}: {error}", file.display()),
    }
}

/// How often the gate went back to the issuer (forged tokens with unknown `kid`s ask for a
/// refresh, which the key cache's cooldown limits): a line on stderr whenever it changes.
fn watch(issuer: TestIssuer) {
    tokio::spawn(async move {
        let mut last = (usize::MAX, usize::MAX);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let now = (issuer.discovery_requests(), issuer.jwks_requests());
            if now != last {
                eprintln!(
                    "load_target: issuer requests so far: {} discovery, {} JWKS",
                    now.0, now.1
                );
                last = now;
            }
        }
    });
}

/// `--reference`: the same API with the token cache, without it, and without the layer.
async fn run_reference(options: Options) -> Result<(), Box<dyn Error>> {
    let issuer = TestIssuer::with_algorithms(ALGORITHMS).await?;
    // The default capacity, and room for every token twice over: all of them stay cached (a
    // cache exactly as large as the set may keep refusing admission to some).
    let entries = (2 * options.distinct as u64).max(10_000);
    let cached = TokenCacheSettings::default().max_entries(entries);
    let cached = gate(&issuer, &options, cached).await?;
    let uncached = gate(&issuer, &options, TokenCacheSettings::disabled()).await?;
    let (cached_listener, port) = bind(options.port).await?;
    let (uncached_listener, uncached_port) = bind(0).await?;
    let (bare_listener, bare_port) = bind(0).await?;
    let valid = tokens::valid_and_expired(&issuer, options.distinct, 0, options.lifetime);
    tokens::write(&options.tokens_file, "", &valid)?;
    let servers = (
        axum::serve(cached_listener, app(Some(layer(cached, port)?))),
        axum::serve(
            uncached_listener,
            app(Some(layer(uncached, uncached_port)?)),
        ),
        axum::serve(bare_listener, app(None)),
    );
    ready(&format!(
        "port={port} uncached_port={uncached_port} bare_port={bare_port} tokens={}",
        options.tokens_file.display()
    ))?;
    let _issuer = issuer;
    tokio::try_join!(
        servers.0.into_future(),
        servers.1.into_future(),
        servers.2.into_future()
    )?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("error: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; load-test with `--release`");
    }
    let outcome = if options.reference {
        run_reference(options).await
    } else {
        run(options).await
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
