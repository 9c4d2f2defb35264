//! The target of the load and soak test (`scripts/load.sh`): an axum API behind `TokenLayer`,
//! a test issuer, and a file of labelled tokens for the load generator.
//!
//! ```text
//! cargo run --release --example load_target -- --tokens-file /tmp/tokens.txt
//! cargo run --release --example load_target -- --help
//! ```
//!
//! It starts a `TestIssuer` (RS256, ES256, EdDSA and PS256 keys; discovery and JWKS on
//! 127.0.0.1) and an API whose `GET /orders` needs a valid token with the `orders.read` scope.
//! The gate finds the keys by discovery, as in production. It then mints:
//!
//! * `--distinct` valid tokens (each with its own `sub` and `jti`), spread over the four
//!   algorithms: expected answer 200;
//! * `--expired` expired tokens, over the four algorithms: 401;
//! * forged tokens, `--forged-each` of every kind for every algorithm where the kind depends on
//!   one: a flipped signature bit; the right `kid` but a key the issuer never published; a key
//!   the issuer generated but does not publish; a foreign issuer; the wrong audience; `alg`
//!   `none` with and without a signature; header and payload swapped; one token's claims under
//!   another's signature; the header's `alg` changed; HS256 keyed with the published public
//!   key; a foreign key offered in `jwk` and `jku` header parameters; a truncated signature;
//!   not a JWT at all; and no `Authorization` header: 401;
//!
//! and writes them to `--tokens-file`, one per line: `<expected status> <kind> <names>
//! <token>`, where `<names>` is what the answer's body must name (a valid token's subject, or
//! the rejection code a refused one must get: each forgery refused for the reason it was made
//! for) and `<token>` is `-` for no token. Line numbers (from 1) are the labels: the load
//! generator sends a token's
//! label in an `x-token` request header, and an outer layer, outside `TokenLayer`, copies it to
//! the response, so that every answer, refusals by the layer included, can be matched with the
//! token it answers. Then it prints `ready port=<port> pid=<pid> tokens=<file>` and serves until
//! killed.
//!
//! The verified-token cache holds at most `--cache-entries` tokens; with more distinct valid
//! tokens than that, it is full and evicting for the whole run (see docs/load.md).

use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use aws_lc_rs::hmac;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tokengate::axum::Verified;
use tokengate::testing::TestIssuer;
use tokengate::{
    Algorithm, Gate, KeyCacheSettings, RequireLayer, Requirement, TokenCacheSettings, TokenLayer,
};

const USAGE: &str = "\
The target of scripts/load.sh: an API behind TokenLayer and a file of labelled tokens.

usage: cargo run --release --example load_target -- [options]

options:
  --port P            port on 127.0.0.1 (0: any free port)                     [0]
  --tokens-file PATH  where to write the tokens             [<temp dir>/tokengate-load-<pid>.txt]
  --distinct N        distinct valid tokens                                  [2000]
  --expired N         expired tokens                                          [100]
  --forged-each N     forged tokens of each kind (and algorithm)                [2]
  --cache-entries N   capacity of the verified-token cache                   [1000]
  --lifetime S        seconds the valid tokens stay valid                   [86400]
  -h, --help          this text";

/// The request header with a token's label, copied to the response by [`echo_label`].
const LABEL: &str = "x-token";

/// The signature algorithms of the tokens (and of the issuer's keys).
const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::PS256,
];

#[derive(Debug)]
struct Options {
    port: u16,
    tokens_file: PathBuf,
    distinct: usize,
    expired: usize,
    forged_each: usize,
    cache_entries: u64,
    lifetime: Duration,
}

impl Options {
    /// Parses the arguments (without the program name); `Ok(None)` for `--help`.
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        let mut options = Options {
            port: 0,
            tokens_file: std::env::temp_dir()
                .join(format!("tokengate-load-{}.txt", std::process::id())),
            distinct: 2000,
            expired: 100,
            forged_each: 2,
            cache_entries: 1000,
            lifetime: Duration::from_secs(86_400),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--port" | "--tokens-file" | "--distinct" | "--expired" | "--forged-each"
                | "--cache-entries" | "--lifetime" => {}
                _ => return Err(format!("unknown argument {arg:?}")),
            }
            let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
            let number = |max: u64| -> Result<u64, String> {
                match value.parse::<u64>() {
                    Ok(n) if n <= max => Ok(n),
                    _ => Err(format!("{arg} {value:?}: not a whole number up to {max}")),
                }
            };
            match arg.as_str() {
                "--port" => options.port = number(65_535)? as u16,
                "--tokens-file" => options.tokens_file = PathBuf::from(&value),
                "--distinct" => options.distinct = number(10_000_000)?.max(1) as usize,
                "--expired" => options.expired = number(10_000_000)? as usize,
                "--forged-each" => options.forged_each = number(1000)?.max(1) as usize,
                "--cache-entries" => options.cache_entries = number(100_000_000)?.max(1),
                "--lifetime" => {
                    options.lifetime = Duration::from_secs(number(10 * 365 * 86_400)?.max(60));
                }
                _ => unreachable!("every option is listed above"),
            }
        }
        Ok(Some(options))
    }
}

/// One line of the tokens file.
struct Labelled {
    /// The status the API must answer with.
    status: u16,
    /// What kind of token it is, such as `valid-RS256` or `forged-alg-none-unsigned`.
    kind: String,
    /// What the answer's body must name: a valid token's `sub` (`orders of <sub>`), or the
    /// rejection code of a refusal (`{"code":"<code>",...}`).
    names: String,
    /// `None`: no `Authorization` header at all.
    token: Option<String>,
}

impl Labelled {
    fn new(status: u16, kind: String, names: &str, token: String) -> Labelled {
        Labelled {
            status,
            kind,
            names: names.to_owned(),
            token: Some(token),
        }
    }
}

/// The rejection code a refused token must get, by kind: each forgery must be refused for the
/// reason it was made for.
fn refusal(kind: &str) -> &'static str {
    const CODES: &[(&str, &str)] = &[
        ("expired-", "token_expired"),
        ("forged-tampered-", "invalid_signature"),
        ("forged-foreign-key-same-kid-", "invalid_signature"),
        ("forged-wrong-audience-", "invalid_audience"),
        ("forged-unpublished-key-", "unknown_key"),
        ("forged-header-payload-swap-", "malformed_header"),
        ("forged-signature-splice-", "invalid_signature"),
        ("forged-truncated-signature-", "invalid_signature"),
        ("forged-foreign-issuer", "untrusted_issuer"),
        ("forged-alg-none-", "unsupported_algorithm"),
        ("forged-alg-mismatch", "invalid_signature"),
        ("forged-hs256-public-key", "unsupported_algorithm"),
        ("forged-embedded-jwk", "unknown_key"),
        ("forged-jku", "unknown_key"),
        ("forged-not-a-jwt", "malformed_token"),
        ("forged-no-token", "missing_token"),
    ];
    CODES
        .iter()
        .find(|(prefix, _)| kind.starts_with(prefix))
        .map(|(_, code)| *code)
        .unwrap_or_else(|| panic!("no rejection code for {kind}"))
}

/// Copies the request's [`LABEL`] header to the response. Outside `TokenLayer`, so that the
/// layer's own refusals carry it too.
async fn echo_label(request: Request, next: Next) -> Response {
    let label = request.headers().get(LABEL).cloned();
    let mut response = next.run(request).await;
    if let Some(label) = label {
        response.headers_mut().insert(LABEL, label);
    }
    response
}

/// `GET /orders`: needs the `orders.read` scope. Names the token's subject, so that the load
/// generator can tell that an answer is for the right token, not merely a 200.
async fn orders(claims: Verified) -> String {
    format!("orders of {}\n", claims.subject().unwrap_or("-"))
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// The three parts of a compact JWS.
fn parts(token: &str) -> [&str; 3] {
    let mut parts = token.splitn(3, '.');
    let mut next = || parts.next().expect("a compact JWS has three parts");
    [next(), next(), next()]
}

/// The issuer's current `kid` for `alg` (its first key: `test-<alg>-1`).
fn kid(alg: Algorithm) -> String {
    format!("test-{}-1", alg.name().to_ascii_lowercase())
}

/// The published JWK with this `kid`, from a JWK Set's text.
fn jwk(jwks: &str, kid: &str) -> serde_json::Value {
    let set: serde_json::Value = serde_json::from_str(jwks).expect("the test issuer's JWK Set");
    set["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|key| key["kid"] == kid))
        .cloned()
        .unwrap_or_else(|| panic!("no published key {kid}"))
}

/// Valid and expired tokens: minted on every core (RSA signing takes about a millisecond).
fn mint_valid_and_expired(issuer: &TestIssuer, options: &Options) -> Vec<Labelled> {
    let total = options.distinct + options.expired;
    let mint = |i: usize| -> Labelled {
        let alg = ALGORITHMS[i % ALGORITHMS.len()];
        let subject = format!("user-{i}");
        let builder = issuer
            .token()
            .alg(alg)
            .subject(&subject)
            .scope("orders.read");
        if i < options.distinct {
            let token = builder.expires_in(options.lifetime).sign();
            Labelled::new(200, format!("valid-{}", alg.name()), &subject, token)
        } else {
            let token = builder.expired().sign();
            let kind = format!("expired-{}", alg.name());
            Labelled::new(401, kind.clone(), refusal(&kind), token)
        }
    };
    let minters = thread::available_parallelism().map_or(1, |n| n.get());
    let mut minted: Vec<(usize, Labelled)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..minters)
            .map(|m| {
                let mint = &mint;
                scope.spawn(move || {
                    (m..total)
                        .step_by(minters)
                        .map(|i| (i, mint(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("minting a token panicked"))
            .collect()
    });
    minted.sort_unstable_by_key(|(i, _)| *i);
    minted.into_iter().map(|(_, labelled)| labelled).collect()
}

/// The forged tokens: each must be refused with 401.
fn mint_forged(
    issuer: &TestIssuer,
    foreign: &TestIssuer,
    unpublished: &[(Algorithm, String)],
    each: usize,
) -> Vec<Labelled> {
    let mut out = Vec::new();
    let mut forged = |kind: String, token: String| {
        let code = refusal(&kind);
        out.push(Labelled::new(401, kind, code, token));
    };
    let good = |alg: Algorithm| issuer.token().alg(alg).scope("orders.read");
    for _ in 0..each {
        for alg in ALGORITHMS {
            let name = alg.name();
            forged(
                format!("forged-tampered-{name}"),
                good(alg).tampered().sign(),
            );
            // The issuer's own `kid` (the foreign issuer numbers its keys the same way) and
            // claims, signed with a key it never had.
            forged(
                format!("forged-foreign-key-same-kid-{name}"),
                foreign
                    .token()
                    .key(&kid(alg))
                    .claim("iss", issuer.issuer())
                    .scope("orders.read")
                    .sign(),
            );
            forged(
                format!("forged-wrong-audience-{name}"),
                good(alg).audience("api://someone-else").sign(),
            );
            // A key of the issuer's that is not in its JWK Set (an unknown `kid` to the gate).
            let (_, kid) = unpublished
                .iter()
                .find(|(a, _)| *a == alg)
                .expect("an unpublished key for every algorithm");
            forged(
                format!("forged-unpublished-key-{name}"),
                issuer.token().key(kid).scope("orders.read").sign(),
            );
            // A valid token with its header and payload swapped.
            let token = good(alg).sign();
            let [header, payload, signature] = parts(&token);
            forged(
                format!("forged-header-payload-swap-{name}"),
                format!("{payload}.{header}.{signature}"),
            );
            // Elevated claims under another token's genuine signature.
            let elevated = good(alg).subject("admin").scope("orders.read admin").sign();
            forged(
                format!("forged-signature-splice-{name}"),
                format!("{header}.{}.{signature}", parts(&elevated)[1]),
            );
            // A signature three bytes short: cut at a whole base64url quantum, so that what is
            // left always decodes (a cut elsewhere may leave non-zero trailing bits, which is
            // `malformed_token` instead, depending on the signature's bytes).
            let signature_len = parts(&token)[2].len();
            let cut = signature_len - (signature_len / 4 - 1) * 4;
            forged(
                format!("forged-truncated-signature-{name}"),
                token[..token.len() - cut].to_owned(),
            );
        }
        // The foreign issuer's own token: the wrong `iss`.
        forged(
            "forged-foreign-issuer".into(),
            foreign.token().scope("orders.read").sign(),
        );
        // `alg: none`, without a signature and with the RS256 one.
        let token = good(Algorithm::RS256)
            .header("alg", "none")
            .without_header("kid")
            .sign();
        let [header, payload, _] = parts(&token);
        forged(
            "forged-alg-none-unsigned".into(),
            format!("{header}.{payload}."),
        );
        forged("forged-alg-none-signed".into(), token.clone());
        // The header names another algorithm than the key's (an ES256 signature, header RS256).
        forged(
            "forged-alg-mismatch".into(),
            good(Algorithm::ES256)
                .header("alg", "RS256")
                .header("kid", kid(Algorithm::RS256))
                .sign(),
        );
        // Algorithm confusion: HS256 keyed with the RS256 public key as published.
        let secret = jwk(&issuer.jwks(), &kid(Algorithm::RS256)).to_string();
        let header =
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": kid(Algorithm::RS256)});
        let claims = parts(&good(Algorithm::RS256).sign())[1].to_owned();
        let input = format!("{}.{claims}", b64(header.to_string()));
        let mac = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
            input.as_bytes(),
        );
        forged(
            "forged-hs256-public-key".into(),
            format!("{input}.{}", b64(mac.as_ref())),
        );
        // A foreign key offered in the header, under a `kid` the issuer does not publish.
        let (_, foreign_kid) = unpublished
            .iter()
            .find(|(a, _)| *a == Algorithm::RS256)
            .expect("an unpublished RS256 key");
        let foreign_kid = foreign_kid.clone();
        forged(
            "forged-embedded-jwk".into(),
            foreign
                .token()
                .key(&foreign_kid)
                .claim("iss", issuer.issuer())
                .scope("orders.read")
                .header("jwk", jwk(&foreign.jwks(), &foreign_kid))
                .sign(),
        );
        forged(
            "forged-jku".into(),
            foreign
                .token()
                .key(&foreign_kid)
                .claim("iss", issuer.issuer())
                .scope("orders.read")
                .header("jku", foreign.jwks_uri())
                .sign(),
        );
        forged("forged-not-a-jwt".into(), "not-a-jwt".into());
    }
    out.push(Labelled {
        token: None,
        ..Labelled::new(
            401,
            "forged-no-token".into(),
            refusal("forged-no-token"),
            String::new(),
        )
    });
    out
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

    let gate = Gate::builder()
        .issuer(issuer.profile())
        // Production settings, but plain HTTP to the issuer on loopback.
        .key_cache(KeyCacheSettings::default().allow_http_loopback())
        .token_cache(TokenCacheSettings::default().max_entries(options.cache_entries))
        .build()?;
    gate.warm_up().await?;

    let mut tokens = mint_valid_and_expired(&issuer, &options);
    tokens.extend(mint_forged(
        &issuer,
        &foreign,
        &unpublished,
        options.forged_each,
    ));
    let mut text = String::new();
    for labelled in &tokens {
        let token = labelled.token.as_deref().unwrap_or("-");
        writeln!(
            text,
            "{} {} {} {token}",
            labelled.status, labelled.kind, labelled.names
        )?;
    }
    std::fs::write(&options.tokens_file, text)
        .map_err(|error| format!("writing {}: {error}", options.tokens_file.display()))?;

    let app = Router::new()
        .route("/orders", get(orders))
        .route_layer(RequireLayer::new(Requirement::scope("orders.read")).unwrap())
        .layer(TokenLayer::builder(gate).realm("load").build()?)
        .layer(middleware::from_fn(echo_label));
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port))).await?;
    let port = listener.local_addr()?.port();
    let forged = tokens.len() - options.distinct - options.expired;
    eprintln!(
        "load_target: {} valid ({}), {} expired, {} forged tokens; token cache {} entries",
        options.distinct,
        ALGORITHMS.map(Algorithm::name).join(", "),
        options.expired,
        forged,
        options.cache_entries
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "ready port={port} pid={} tokens={}",
        std::process::id(),
        options.tokens_file.display()
    )?;
    stdout.flush()?;
    drop(stdout);
    // How often the gate went back to the issuer (forged tokens with unknown `kid`s ask for a
    // refresh, which the key cache's cooldown limits): a line on stderr whenever it changes.
    let watched = issuer.clone();
    tokio::spawn(async move {
        let mut last = (usize::MAX, usize::MAX);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let now = (watched.discovery_requests(), watched.jwks_requests());
            if now != last {
                eprintln!(
                    "load_target: issuer requests so far: {} discovery, {} JWKS",
                    now.0, now.1
                );
                last = now;
            }
        }
    });
    // The issuers live as long as the server: the gate refreshes its keys from `issuer`.
    let _issuers = (issuer, foreign);
    axum::serve(listener, app).await?;
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
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
