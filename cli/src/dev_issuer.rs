//! `tokengate dev-issuer`: the library's test issuer as a local identity provider for
//! development, on 127.0.0.1 only, until Ctrl-C. Its keys are generated at start and die
//! with it.

use std::io::Write;
use std::process::ExitCode;

use tokengate::testing::TestIssuer;

use crate::cli::DevIssuerArgs;
use crate::fail::Failure;
use crate::input;

/// `println!` that carries on when stdout is closed: a script that read the first line and
/// went away must not stop the issuer.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Loopback names the issuer accepts for `--bind`; it always listens on 127.0.0.1.
const LOOPBACK: [&str; 2] = ["127.0.0.1", "localhost"];

/// Runs until interrupted; exit 2 if it cannot start.
pub async fn run(args: &DevIssuerArgs) -> Result<ExitCode, Failure> {
    if !LOOPBACK.contains(&args.bind.as_str()) {
        return Err(Failure::undecided(format!(
            "dev-issuer listens on 127.0.0.1 only (it signs whatever anyone asks), not {:?}; \
             drop --bind",
            args.bind
        )));
    }
    let algorithms = input::algorithms(&args.alg)?;
    let issuer = TestIssuer::on_port(args.port, algorithms)
        .await
        .map_err(|error| {
            Failure::undecided(format!(
                "cannot listen on 127.0.0.1:{} ({error}); choose another --port, or 0 for a free one",
                args.port
            ))
        })?;
    print_banner();
    // The first line on stdout is for programs (tests, scripts): the issuer's URL alone.
    say!("{}", issuer.issuer());
    print_endpoints(&issuer);
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|error| Failure::undecided(format!("cannot wait for Ctrl-C: {error}")))?;
    eprintln!("dev-issuer stopped; its keys are gone");
    Ok(ExitCode::SUCCESS)
}

/// On stderr, before anything else.
fn print_banner() {
    let rule = "=".repeat(78);
    eprintln!("{rule}");
    eprintln!("  DEVELOPMENT ISSUER: NOT FOR PRODUCTION");
    eprintln!("  It signs any token anyone on this machine asks for, with keys generated now");
    eprintln!("  and lost when it stops. Never configure an API that others can reach to");
    eprintln!("  trust it.");
    eprintln!("{rule}");
}

fn print_endpoints(issuer: &TestIssuer) {
    let url = issuer.issuer();
    say!("issuer     {url}");
    say!("audience   {}", issuer.audience());
    say!("discovery  {}", issuer.discovery_url());
    say!("jwks       {}", issuer.jwks_uri());
    say!("token      {url}/token      (client_credentials; any client id)");
    say!("mint       {url}/mint       (POST a JSON object of claims)");
    say!();
    say!("try:");
    say!(
        "  curl -s -d grant_type=client_credentials -d client_id=me -d scope=orders.read {url}/token"
    );
    say!("  curl -s -d '{{\"sub\": \"alice\", \"roles\": [\"admin\"]}}' {url}/mint \\");
    say!(
        "    | tokengate verify --issuer {url} --audience {} -",
        issuer.audience()
    );
    say!("stop with Ctrl-C");
}
