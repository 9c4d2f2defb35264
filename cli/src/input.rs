//! What the user gives: a token (an argument, or stdin for `-`), a time, algorithm names.

use std::io::{IsTerminal, Read};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokengate::Algorithm;

use crate::fail::Failure;

/// More than any token a gate accepts (its default limit is 16 KiB), to bound a piped file.
const MAX_INPUT: u64 = 1 << 20;

/// The token from the argument, or from stdin for `-`: surrounding whitespace and a `Bearer `
/// prefix (as copied from an `Authorization` header) are dropped.
pub fn token(argument: &str) -> Result<String, Failure> {
    let text = if argument == "-" {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!("reading the token from stdin: paste it, then press Enter and Ctrl-D");
        }
        let mut text = String::new();
        stdin
            .lock()
            .take(MAX_INPUT)
            .read_to_string(&mut text)
            .map_err(|_| Failure::undecided("stdin is not UTF-8 text; pipe the token itself"))?;
        text
    } else {
        argument.to_owned()
    };
    let mut token = text.trim();
    for prefix in ["Authorization:", "Bearer ", "bearer ", "DPoP "] {
        token = token.strip_prefix(prefix).unwrap_or(token).trim();
    }
    if token.is_empty() {
        return Err(Failure::undecided(
            "no token given: pass it as an argument, or `-` and pipe it on stdin",
        ));
    }
    Ok(token.to_owned())
}

/// `--at`: RFC 3339 (`2026-01-01T12:00:00Z`, seconds optional) or Unix seconds.
pub fn time(text: &str) -> Result<SystemTime, Failure> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return UNIX_EPOCH
            .checked_add(Duration::from_secs(seconds))
            .ok_or_else(|| Failure::undecided(format!("--at {text}: a time too far away")));
    }
    humantime::parse_rfc3339_weak(text).map_err(|_| {
        Failure::undecided(format!(
            "--at {text:?} is not a time: write RFC 3339 such as 2026-01-01T12:00:00Z, or Unix seconds"
        ))
    })
}

/// A list of JWA names, such as `RS256,ES256`; at least one.
pub fn algorithms(names: &[String]) -> Result<Vec<Algorithm>, Failure> {
    let mut algorithms = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        // Case-insensitive on the command line: `rs256` and `eddsa` mean what they say.
        let alg = Algorithm::ALL
            .iter()
            .copied()
            .find(|alg| alg.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
                Failure::undecided(format!(
                    "unknown or refused algorithm {name:?}: use one of {}",
                    known.join(", ")
                ))
            })?;
        if !algorithms.contains(&alg) {
            algorithms.push(alg);
        }
    }
    if algorithms.is_empty() {
        return Err(Failure::undecided(
            "no algorithm given: name at least one, such as RS256",
        ));
    }
    Ok(algorithms)
}

/// A timeout in seconds from the command line: positive and finite.
pub fn seconds(value: f64, option: &str) -> Result<Duration, Failure> {
    if value.is_finite() && value > 0.0 && value <= 3600.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Failure::undecided(format!(
            "{option} must be a number of seconds above 0 and at most 3600"
        )))
    }
}
