//! The command line: every command, its options, and the example its `--help` shows.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Look inside access tokens, verify them, list an issuer's keys, measure validation, and run
/// a development issuer.
#[derive(Parser, Debug)]
#[command(name = "tokengate", version, about, max_term_width = 100)]
#[command(after_help = "Examples:
  pbpaste | tokengate inspect -
  tokengate verify --issuer https://login.example.com/ --audience api://orders -
  tokengate keys --issuer https://login.example.com/
  tokengate bench --alg RS256,ES256 --seconds 5
  tokengate dev-issuer --port 8080")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Decode a token without trusting it: header, claims, what kind of token, warnings.
    Inspect(InspectArgs),
    /// Validate a token as a tokengate API would: verdict, stable code, hints.
    Verify(VerifyArgs),
    /// List an issuer's keys, which would be skipped and why, and its caching headers.
    Keys(KeysArgs),
    /// Measure validation throughput and latency on this machine.
    Bench(BenchArgs),
    /// Run a local identity provider for development (loopback only).
    DevIssuer(DevIssuerArgs),
}

/// `tokengate inspect`.
#[derive(Args, Debug)]
#[command(after_help = "Never contacts anything and never checks the signature.

Example (the token stays out of your shell history):
  pbpaste | tokengate inspect -
  tokengate inspect eyJhbGciOiJSUzI1NiIs...")]
pub struct InspectArgs {
    /// The token, or `-` (the default) to read it from stdin. A `Bearer ` prefix is ignored.
    #[arg(value_name = "TOKEN|-", default_value = "-")]
    pub token: String,
    /// Print header and claims as one JSON object instead of the readable view.
    #[arg(long)]
    pub json: bool,
}

/// `tokengate verify`.
#[derive(Args, Debug)]
#[command(
    after_help = "Exit codes: 0 valid, 1 refused, 2 could not decide (keys unavailable, bad arguments).

Examples:
  tokengate verify --issuer https://login.example.com/ --audience api://orders --scope orders.read -
  tokengate verify --preset keycloak --issuer https://sso.example.com/realms/shop --audience orders -
  tokengate verify --issuer https://login.example.com/ --audience api://orders --jwks keys.json --at 2026-01-01T12:00:00Z -"
)]
pub struct VerifyArgs {
    /// The issuer: the token's `iss`, exactly (a trailing slash counts).
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// An accepted audience (repeat for several). For `--preset entra`: the API's client id.
    #[arg(long, value_name = "A", required = true)]
    pub audience: Vec<String>,
    /// A provider preset: entra, keycloak, auth0, okta, cognito, google, firebase.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Keys from this JWK Set file or URL instead of discovery.
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// Validate as if the time were TIME: RFC 3339 (2026-01-01T12:00:00Z) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// A scope the token must carry (repeat for several; all are required).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Vec<String>,
    /// A role the token must carry (repeat for several; all are required).
    #[arg(long, value_name = "ROLE")]
    pub role: Vec<String>,
    /// How long to wait for discovery and keys, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
    /// The token, or `-` (the default) to read it from stdin. A `Bearer ` prefix is ignored.
    #[arg(value_name = "TOKEN|-", default_value = "-")]
    pub token: String,
}

/// `tokengate keys`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  tokengate keys --issuer https://login.example.com/
  tokengate keys --jwks https://login.example.com/keys
  tokengate keys --jwks keys.json --alg RS256")]
#[command(group = clap::ArgGroup::new("source").required(true).args(["issuer", "jwks"]))]
pub struct KeysArgs {
    /// Find the key set by OpenID Connect discovery at this issuer.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// The key set itself: a URL or a file.
    #[arg(long, value_name = "URL|FILE")]
    pub jwks: Option<String>,
    /// The algorithms the issuer is allowed (comma-separated); default every one tokengate
    /// supports.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub alg: Vec<String>,
    /// How long to wait for each document, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
}

/// `tokengate bench`.
#[derive(Args, Debug)]
#[command(
    after_help = "Keys and tokens come from an in-process test issuer: nothing touches the network.
Build with --release (cargo install does): a debug build measures the compiler.

Examples:
  tokengate bench --alg RS256,ES256,EdDSA --threads 2 --distinct-tokens 1000 --seconds 10
  tokengate bench --invalid-share 0.1 --no-cache --json --svg latency.svg"
)]
pub struct BenchArgs {
    /// Signature algorithms of the tokens, comma-separated, mixed evenly (RS256, PS256,
    /// ES256, EdDSA, ...).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "RS256"
    )]
    pub alg: Vec<String>,
    /// Worker threads (default: available parallelism).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Distinct valid tokens: with the number of requests, decides the cache hit ratio.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub distinct_tokens: usize,
    /// How long to run, in seconds.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub seconds: f64,
    /// Share of invalid tokens, from 0 to 0.9: half tampered signatures, half expired.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub invalid_share: f64,
    /// Turn the verified-token cache off: every request verifies a signature.
    #[arg(long)]
    pub no_cache: bool,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG chart of the latency distribution to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `tokengate dev-issuer`.
#[derive(Args, Debug)]
#[command(
    after_help = "For development only: anyone on this machine can mint tokens it signs.

Examples:
  tokengate dev-issuer --port 8080
  curl -s -d grant_type=client_credentials -d client_id=me -d scope=orders.read http://127.0.0.1:8080/token
  curl -s -d '{\"sub\": \"alice\", \"roles\": [\"admin\"]}' http://127.0.0.1:8080/mint"
)]
pub struct DevIssuerArgs {
    /// The port on 127.0.0.1 (0 for a free one; the first line of output names it).
    #[arg(long, value_name = "P", default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on: loopback only, anything else is refused.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: String,
    /// Signature algorithms of its keys, comma-separated; tokens use the first.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "RS256"
    )]
    pub alg: Vec<String>,
}
