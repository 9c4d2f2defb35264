//! `tokengate verify`: the validation a tokengate API would do, with the verdict, the stable
//! code and what to do about a refusal. The raw token is never printed.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use tokengate::{
    Claims, ErrorClass, Gate, IssuerProfile, Issuers, KeyCacheSettings, Rejection, Requirement,
    TokenKind,
};

use crate::cli::VerifyArgs;
use crate::fail::{Failure, REFUSED, UNDECIDED};
use crate::notes::Notes;
use crate::{hints, input, presets, show};

/// Where `--jwks` points.
enum Jwks {
    File(String),
    Url(String),
}

fn jwks(argument: &str) -> Result<Jwks, Failure> {
    if argument.starts_with("https://") || argument.starts_with("http://") {
        return Ok(Jwks::Url(argument.to_owned()));
    }
    std::fs::read_to_string(argument)
        .map(Jwks::File)
        .map_err(|error| {
            Failure::undecided(format!(
                "cannot read --jwks file {argument:?} ({error}); give a JWK Set file or a URL"
            ))
        })
}

/// The issuer as configured on the command line.
fn issuers(args: &VerifyArgs) -> Result<Issuers, Failure> {
    let jwks = args.jwks.as_deref().map(jwks).transpose()?;
    if let Some(name) = &args.preset {
        let preset = presets::preset(name, &args.issuer, &args.audience)?;
        return match jwks {
            None => Ok(preset),
            Some(Jwks::File(text)) => Ok(preset.with_test_keys(text)),
            Some(Jwks::Url(_)) => Err(Failure::undecided(
                "a preset finds its keys itself: give --jwks a file, or drop --preset",
            )),
        };
    }
    let profile = IssuerProfile::new(&args.issuer).audiences(&args.audience);
    Ok(match jwks {
        None => profile.discover(),
        Some(Jwks::File(text)) => profile.jwks(text),
        Some(Jwks::Url(url)) => profile.jwks_uri(url),
    }
    .into())
}

/// `--scope` and `--role`, all required.
fn requirement(args: &VerifyArgs) -> Option<Requirement> {
    let scopes = (!args.scope.is_empty()).then(|| Requirement::all_scopes(&args.scope));
    let roles = (!args.role.is_empty()).then(|| Requirement::all_roles(&args.role));
    match (scopes, roles) {
        (Some(scopes), Some(roles)) => Some(scopes.and(roles)),
        (scopes, roles) => scopes.or(roles),
    }
}

fn gate(args: &VerifyArgs, timeout: Duration) -> Result<Gate, Failure> {
    // Plain http is allowed on loopback only: for `tokengate dev-issuer` and test issuers.
    let keys = KeyCacheSettings::default()
        .allow_http_loopback()
        .connect_timeout(timeout)
        .request_timeout(timeout);
    let mut builder = Gate::builder().issuer(issuers(args)?).key_cache(keys);
    if let Some(requirement) = requirement(args) {
        builder = builder.require(requirement);
    }
    builder.build().map_err(|error| {
        let text = error.to_string().replace('\n', " ");
        Failure::undecided(format!("the configuration is refused: {text}"))
    })
}

/// Runs the command: exit 0 valid, 1 refused, 2 undecided.
pub async fn run(args: &VerifyArgs) -> Result<ExitCode, Failure> {
    let timeout = input::seconds(args.timeout, "--timeout")?;
    let at = args.at.as_deref().map(input::time).transpose()?;
    let token = input::token(&args.token)?;
    let notes = Notes::install();
    let gate = gate(args, timeout)?;
    let now = at.unwrap_or_else(SystemTime::now);
    // Discovery and the key set are two requests, each bounded by `timeout`.
    let budget = timeout * 2 + Duration::from_secs(1);
    let verdict = tokio::time::timeout(budget, gate.validate_at(&token, now)).await;
    match verdict {
        Err(_) => Err(Failure::undecided(format!(
            "no answer within {:.1} s from the issuer: check --issuer and the network, or raise --timeout",
            budget.as_secs_f64()
        ))),
        Ok(Ok(claims)) => {
            valid(&claims, now);
            print_notes(&notes.take());
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(rejection)) => Ok(refused(args, &gate, &token, &rejection, &notes, now)),
    }
}

fn valid(claims: &Claims, now: SystemTime) {
    let list = |items: Vec<&str>| {
        if items.is_empty() {
            "(none)".to_owned()
        } else {
            items.join(" ")
        }
    };
    safe_println!("valid");
    safe_println!("  issuer     {}", claims.issuer());
    safe_println!("  subject    {}", claims.subject().unwrap_or("(none)"));
    safe_println!("  client     {}", claims.client_id().unwrap_or("(none)"));
    safe_println!("  audience   {}", list(claims.audiences().collect()));
    safe_println!("  scopes     {}", list(claims.scopes().collect()));
    safe_println!("  roles      {}", list(claims.roles().collect()));
    let kind = match claims.token_kind() {
        TokenKind::App => "an application on its own behalf",
        TokenKind::User => "an application for a signed-in user",
        _ => "not said by the claims",
    };
    safe_println!("  acting     {kind}");
    safe_println!(
        "  expires    {} ({})",
        humantime::format_rfc3339_seconds(claims.expires_at()),
        show::relative(claims.expires_at(), now)
    );
}

fn print_notes(notes: &[String]) {
    for note in notes {
        safe_println!("  library      {note}");
    }
}

fn refused(
    args: &VerifyArgs,
    gate: &Gate,
    token: &str,
    rejection: &Rejection,
    notes: &Notes,
    now: SystemTime,
) -> ExitCode {
    let class = rejection.class();
    let undecided = class == ErrorClass::TemporarilyUnavailable;
    let verdict = if undecided {
        "could not decide"
    } else {
        "refused"
    };
    safe_println!("{verdict}: {}", rejection.code());
    safe_println!(
        "  class        {} (HTTP {})",
        class.error_code().unwrap_or("none"),
        class.status().as_u16()
    );
    safe_println!("  description  {}", rejection.description());
    if undecided {
        for status in gate.key_status() {
            if let Some(error) = status.last_error {
                safe_println!("  keys         {error}");
            }
        }
    }
    // What the library logged while judging (its hints, skipped keys), then ours where the
    // library did not already say it.
    let notes = notes.take();
    print_notes(&notes);
    for hint in hints::hints(token, rejection.code(), &args.issuer, &args.audience, now) {
        let said = hint.contains("trailing slash")
            && notes.iter().any(|note| note.contains("trailing slash"));
        if !said {
            safe_println!("  hint         {hint}");
        }
    }
    ExitCode::from(if undecided { UNDECIDED } else { REFUSED })
}
