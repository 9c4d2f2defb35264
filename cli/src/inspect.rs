//! `tokengate inspect`: a token decoded for reading, never trusted, never sent anywhere.

use std::process::ExitCode;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::cli::InspectArgs;
use crate::decode::{Shape, decode};
use crate::fail::Failure;
use crate::kind::{kind, warnings};
use crate::{input, show};

/// Claims that hold times in seconds since the epoch.
const TIME_CLAIMS: [&str; 5] = ["exp", "nbf", "iat", "auth_time", "updated_at"];

/// Runs the command: exit 0 once the token is decoded, warnings or not; 2 if it cannot be.
pub fn run(args: &InspectArgs) -> Result<ExitCode, Failure> {
    let token = input::token(&args.token)?;
    let now = SystemTime::now();
    let shape = decode(&token)?;
    if args.json {
        safe_println!("{}", as_json(&shape, now));
        return Ok(ExitCode::SUCCESS);
    }
    match shape {
        Shape::Jws {
            header,
            claims,
            signature_bytes,
        } => {
            safe_println!("kind       {}", kind(&header, &claims).describe());
            safe_println!("header");
            section(&header, now);
            safe_println!("claims");
            section(&claims, now);
            safe_println!(
                "signature  {signature_bytes} bytes, not checked (inspect trusts nothing; \
                 `tokengate verify` checks it)"
            );
            let warnings = warnings(&header, &claims, now);
            if !warnings.is_empty() {
                safe_println!("warnings");
                for warning in warnings {
                    safe_println!("  ! {warning}");
                }
            }
        }
        Shape::Jwe { header } => {
            safe_println!(
                "kind       encrypted token (JWE): only its recipient can read the claims"
            );
            safe_println!("header");
            section(&header, now);
        }
        Shape::Opaque { length } => {
            safe_println!(
                "kind       opaque token ({length} characters, not a JWT): a refresh token, or \
                 an access token only its issuer can read (RFC 7662 introspection)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per member; times also as dates, relative to now.
fn section(map: &Map<String, Value>, now: SystemTime) {
    let width = map.keys().map(String::len).max().unwrap_or(0).min(24);
    for (name, value) in map {
        let shown = match value.as_i64() {
            Some(seconds) if TIME_CLAIMS.contains(&name.as_str()) => show::timestamp(seconds, now),
            _ => show::value(value),
        };
        safe_println!("  {name:width$}  {shown}");
    }
}

/// `--json`: the decoded parts, the kind and the warnings.
fn as_json(shape: &Shape, now: SystemTime) -> Value {
    match shape {
        Shape::Jws {
            header,
            claims,
            signature_bytes,
        } => json!({
            "format": "jws",
            "kind": format!("{:?}", kind(header, claims)),
            "header": header,
            "claims": claims,
            "signature_bytes": signature_bytes,
            "warnings": warnings(header, claims, now),
        }),
        Shape::Jwe { header } => json!({"format": "jwe", "header": header}),
        Shape::Opaque { length } => json!({"format": "opaque", "length": length}),
    }
}
