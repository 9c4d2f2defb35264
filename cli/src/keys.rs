//! `tokengate keys`: an issuer's discovery document and key set, each key with what a gate
//! would make of it, and the caching headers that decide how long a gate keeps them.

use std::process::ExitCode;

use serde_json::{Map, Value};
use tokengate::reqwest::{self, header};
use tokengate::{KeyCacheSettings, judge_jwks};

use crate::cli::KeysArgs;
use crate::fail::{Failure, REFUSED};
use crate::input;

/// A gate's default `max_response_size`: larger documents are refused.
const MAX_RESPONSE: usize = 256 * 1024;

/// A document fetched, with the headers that matter for caching.
struct Fetched {
    body: String,
    caching: Vec<String>,
}

/// Whether a gate fetches from this URL: https, or plain http to loopback only where a test
/// allows it.
fn gate_fetches(url: &reqwest::Url) -> bool {
    url.scheme() == "https"
        || (url.scheme() == "http"
            && url.host_str().is_some_and(|host| {
                host == "localhost"
                    || host
                        .trim_matches(|c| c == '[' || c == ']')
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }))
}

async fn fetch(client: &reqwest::Client, url: &str, what: &str) -> Result<Fetched, Failure> {
    let could_not = |reason: String| {
        Failure::undecided(format!(
            "cannot fetch the {what} at {url} ({reason}); check the URL and that it is reachable from here"
        ))
    };
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|error| could_not(without_url(&error)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(could_not(format!("HTTP {status}")));
    }
    // A gate uses nothing that did not arrive over https (or loopback http).
    if !gate_fetches(response.url()) {
        return Err(Failure::refused(format!(
            "the {what} came from {}, which a gate never fetches from (https only)",
            response.url()
        )));
    }
    let caching = caching(response.headers());
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE as u64)
    {
        return Err(Failure::refused(format!(
            "the {what} is larger than a gate accepts (256 KiB, max_response_size)"
        )));
    }
    let body = response
        .text()
        .await
        .map_err(|error| could_not(without_url(&error)))?;
    if body.len() > MAX_RESPONSE {
        return Err(Failure::refused(format!(
            "the {what} is larger than a gate accepts (256 KiB, max_response_size)"
        )));
    }
    Ok(Fetched { body, caching })
}

/// reqwest's error, whose text repeats the URL, without it; with its cause (refused, timed out).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = std::error::Error::source(error);
    let mut last = None;
    while let Some(inner) = cause {
        last = Some(inner.to_string());
        cause = inner.source();
    }
    match last {
        Some(detail) => format!("{kind}: {detail}"),
        None => kind.to_owned(),
    }
}

/// `Cache-Control`, `Expires`, `ETag`, `Last-Modified`, `Age`: what a gate reads to know how
/// long a document stays fresh and how to ask whether it changed.
fn caching(headers: &header::HeaderMap) -> Vec<String> {
    let names = [
        header::CACHE_CONTROL,
        header::EXPIRES,
        header::ETAG,
        header::LAST_MODIFIED,
        header::AGE,
    ];
    names
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some(format!("{name}: {value}"))
        })
        .collect()
}

fn print_caching(caching: &[String]) {
    if caching.is_empty() {
        safe_println!(
            "  caching    no caching headers (a gate keeps such keys for its default TTL)"
        );
    }
    for line in caching {
        safe_println!("  caching    {line}");
    }
}

/// The key set's text, from discovery, a URL or a file.
async fn key_set(args: &KeysArgs, client: &reqwest::Client) -> Result<String, Failure> {
    if let Some(issuer) = &args.issuer {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let fetched = fetch(client, &url, "discovery document").await?;
        let document: Map<String, Value> = serde_json::from_str(&fetched.body).map_err(|_| {
            Failure::undecided(format!(
                "the discovery document at {url} is not a JSON object"
            ))
        })?;
        safe_println!("discovery  {url}");
        match document.get("issuer").and_then(Value::as_str) {
            Some(named) if named == issuer => safe_println!("  issuer     {named}"),
            Some(named) => {
                safe_println!("  issuer     {named}");
                return Err(Failure::refused(format!(
                    "the discovery document names issuer {named:?}, not {issuer:?}: a gate \
                     refuses it; use --issuer {named}"
                )));
            }
            None => {
                return Err(Failure::refused(
                    "the discovery document names no issuer: a gate refuses it",
                ));
            }
        }
        print_caching(&fetched.caching);
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Failure::undecided(format!("the discovery document at {url} names no jwks_uri"))
            })?;
        return jwks_from_url(client, jwks_uri).await;
    }
    match args.jwks.as_deref() {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            jwks_from_url(client, url).await
        }
        Some(path) => {
            safe_println!("jwks       {path}");
            std::fs::read_to_string(path).map_err(|error| {
                Failure::undecided(format!(
                    "cannot read {path:?} ({error}); give a JWK Set file or URL"
                ))
            })
        }
        None => Err(Failure::undecided("give --issuer URL or --jwks URL|FILE")),
    }
}

async fn jwks_from_url(client: &reqwest::Client, url: &str) -> Result<String, Failure> {
    let fetched = fetch(client, url, "key set").await?;
    safe_println!("jwks       {url}");
    if url.starts_with("http://") {
        safe_println!(
            "  warning    plain http: a gate fetches keys over https only (http on loopback when allowed)"
        );
    }
    print_caching(&fetched.caching);
    Ok(fetched.body)
}

/// Runs the command: exit 0 if some key is usable, 1 if none is, 2 if the keys cannot be had.
pub async fn run(args: &KeysArgs) -> Result<ExitCode, Failure> {
    let timeout = input::seconds(args.timeout, "--timeout")?;
    let algorithms = if args.alg.is_empty() {
        tokengate::Algorithm::ALL.to_vec()
    } else {
        input::algorithms(&args.alg)?
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|error| Failure::undecided(format!("cannot set up HTTP: {error}")))?;
    let text = key_set(args, &client).await?;
    let verdicts =
        judge_jwks(&text, &algorithms, &KeyCacheSettings::default()).map_err(|reason| {
            Failure::undecided(format!("the key set is refused as a whole: {reason}"))
        })?;
    let entries: Vec<Value> = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|set| set.get("keys")?.as_array().cloned())
        .unwrap_or_default();
    safe_println!("keys       {} in the set", entries.len());
    let mut usable = 0;
    for (entry, verdict) in entries.iter().zip(&verdicts) {
        let member = |name: &str| entry.get(name).and_then(Value::as_str);
        safe_println!(
            "  {}  kty {}  {}  alg {}  use {}",
            member("kid").map_or("(no kid)".to_owned(), |kid| format!("kid {kid}")),
            member("kty").unwrap_or("?"),
            size(entry),
            member("alg").unwrap_or("(none)"),
            member("use").unwrap_or("(none)"),
        );
        match verdict {
            Ok(alg) => {
                usable += 1;
                safe_println!("      used for {}", alg.name());
            }
            Err(reason) => safe_println!("      skipped: {reason}"),
        }
    }
    safe_println!("usable     {usable} of {}", entries.len());
    Ok(if usable == 0 {
        ExitCode::from(REFUSED)
    } else {
        ExitCode::SUCCESS
    })
}

/// `2048 bits` for RSA, the curve for EC and OKP keys.
fn size(entry: &Value) -> String {
    if let Some(crv) = entry.get("crv").and_then(Value::as_str) {
        return format!("crv {crv}");
    }
    let Some(n) = entry.get("n").and_then(Value::as_str) else {
        return "size ?".into();
    };
    match base64_simd::URL_SAFE_NO_PAD.decode_to_vec(n.trim_end_matches('=')) {
        Ok(bytes) => {
            let bytes: Vec<u8> = bytes.into_iter().skip_while(|b| *b == 0).collect();
            let bits = bytes
                .first()
                .map_or(0, |top| bytes.len() * 8 - top.leading_zeros() as usize);
            format!("{bits} bits")
        }
        Err(_) => "size ?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caching_headers_are_kept_by_name() {
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            "public, max-age=3600".parse().unwrap(),
        );
        headers.insert(header::ETAG, "\"v1\"".parse().unwrap());
        let lines = caching(&headers);
        assert_eq!(
            lines,
            ["cache-control: public, max-age=3600", "etag: \"v1\""]
        );
    }
}
