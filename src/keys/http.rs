//! Fetching documents over HTTP: https only, bounded in time and size, freshness from
//! `Cache-Control`, conditional requests with `ETag`.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use reqwest::header::{ACCEPT, AGE, CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};

use super::KeyCacheSettings;

/// Why a fetch failed. Messages name URLs and statuses, never key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FetchError {
    /// The URL, or one a redirect led to, is not one tokengate will use.
    Url(String),
    Status(u16),
    TooLarge,
    Timeout,
    Network(String),
    /// The body is not the document it should be.
    Malformed(String),
    /// OpenID Connect Discovery §4.3, RFC 8414 §3.3 (ATK-43).
    IssuerMismatch {
        found: String,
    },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Url(reason) => write!(f, "URL refused: {reason}"),
            FetchError::Status(code) => write!(f, "HTTP status {code}"),
            FetchError::TooLarge => f.write_str("response larger than max_response_size"),
            FetchError::Timeout => f.write_str("timed out"),
            FetchError::Network(reason) => write!(f, "network error: {reason}"),
            FetchError::Malformed(reason) => write!(f, "malformed response: {reason}"),
            FetchError::IssuerMismatch { found } => write!(
                f,
                "the discovery document names issuer {found:?}, not the configured one; \
                 its metadata is not used"
            ),
        }
    }
}

impl From<reqwest::Error> for FetchError {
    fn from(error: reqwest::Error) -> FetchError {
        if error.is_timeout() {
            return FetchError::Timeout;
        }
        if error.is_redirect() {
            return FetchError::Url("a redirect led to a URL that is not https".to_owned());
        }
        // Only the kind and the URL: the error's sources can be long and say little more.
        let url = error.url().map(Url::as_str).unwrap_or("?");
        let kind = if error.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        FetchError::Network(format!("{kind} ({url})"))
    }
}

/// A successful response. `ttl` is `None` when the response says nothing about freshness.
pub(crate) enum Fetched {
    Body {
        body: Vec<u8>,
        ttl: Option<Duration>,
        etag: Option<String>,
    },
    /// 304: the set we hold is still the provider's.
    NotModified { ttl: Option<Duration> },
}

/// Makes the HTTP requests for every issuer of a gate.
pub(crate) struct Fetcher {
    /// The user's client ([`GateBuilder::http_client`](crate::GateBuilder::http_client)),
    /// kept for the gate's life.
    users: Option<reqwest::Client>,
    /// Ours, alive only while some fetch holds it: a TLS client holds the platform's root
    /// certificates (about 170 KiB) and idle connections, while keys are fetched rarely
    /// (routinely once per freshness lifetime). Building one costs a few milliseconds, on the
    /// blocking pool, and reads the system's certificate store again (so updates to it are
    /// seen; a process that loses access to it after start-up passes its own client, kept for
    /// good, with `GateBuilder::http_client`).
    ours: Mutex<Weak<reqwest::Client>>,
    /// For introspection: a token and our client credentials go to the endpoint and nowhere
    /// else, so this one follows no redirect (a 307 would re-send the form to its target).
    /// Always tokengate's own, since a user's client follows redirects as it likes. Built on
    /// the first call and kept: introspection calls are frequent.
    no_redirects: OnceLock<reqwest::Client>,
    pub(crate) settings: KeyCacheSettings,
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Our client for documents: at most five redirects, none of them away from https, and no
/// idle connection kept (the next fetch is minutes or hours away).
fn documents_client(settings: &KeyCacheSettings) -> Result<reqwest::Client, String> {
    let allow_loopback = settings.allow_http_loopback;
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            attempt.error("more than five redirects")
        } else if url_policy(attempt.url(), allow_loopback).is_err() {
            attempt.error("redirect to a URL that is not https")
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .redirect(redirects)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("tokengate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("the HTTP client cannot be built: {e}"))
}

impl Fetcher {
    /// Uses `client` if given; otherwise builds one for each round of fetches (see `ours`).
    /// Checks now that ours can be built, so that a broken TLS setup is a configuration
    /// error rather than a failure of every fetch.
    pub(crate) fn new(
        settings: KeyCacheSettings,
        client: Option<reqwest::Client>,
    ) -> Result<Fetcher, String> {
        if client.is_none() {
            documents_client(&settings)?;
        }
        Ok(Fetcher {
            users: client,
            ours: Mutex::new(Weak::new()),
            no_redirects: OnceLock::new(),
            settings,
        })
    }

    /// The client for documents: the user's, or ours, shared by the fetches running now and
    /// built (on the blocking pool) if none is.
    pub(crate) async fn client(&self) -> Result<Arc<reqwest::Client>, FetchError> {
        if let Some(users) = &self.users {
            return Ok(Arc::new(users.clone()));
        }
        if let Some(client) = self.ours.lock().ok().and_then(|held| held.upgrade()) {
            return Ok(client);
        }
        let settings = self.settings.clone();
        // Bounded like a connection: a busy blocking pool must not hold a round (and every
        // request waiting on it) for ever.
        let building = tokio::task::spawn_blocking(move || documents_client(&settings));
        let built = tokio::time::timeout(self.settings.connect_timeout, building)
            .await
            .map_err(|_| FetchError::Timeout)?
            .map_err(|_| FetchError::Network("the HTTP client could not be built".into()))?
            .map_err(FetchError::Network)?;
        let client = Arc::new(built);
        if let Ok(mut held) = self.ours.lock() {
            *held = Arc::downgrade(&client);
        }
        Ok(client)
    }

    /// Parses a URL and applies the https policy.
    pub(crate) fn url(&self, text: &str) -> Result<Url, FetchError> {
        let url = Url::parse(text)
            .map_err(|e| FetchError::Url(format!("{text:?} is not a URL ({e})")))?;
        url_policy(&url, self.settings.allow_http_loopback).map_err(FetchError::Url)?;
        Ok(url)
    }

    /// GETs `url`, conditionally on `etag`.
    pub(crate) async fn get(&self, url: &Url, etag: Option<&str>) -> Result<Fetched, FetchError> {
        let client = self.client().await?;
        let mut request = client
            .get(url.clone())
            .timeout(self.settings.request_timeout)
            .header(ACCEPT, "application/json");
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await?;
        // Whatever redirects were followed, a response that did not arrive over https is not
        // used.
        url_policy(response.url(), self.settings.allow_http_loopback).map_err(FetchError::Url)?;
        // A user's client may have followed redirects through plain http, where anyone on the
        // path could send it on to their own https server: only the origin asked is trusted.
        if self.users.is_some() && response.url().origin() != url.origin() {
            return Err(FetchError::Url(format!(
                "redirected from {} to another origin, {}",
                url.origin().ascii_serialization(),
                response.url().origin().ascii_serialization()
            )));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
        };
        let ttl = freshness(header(CACHE_CONTROL), header(AGE), &self.settings);
        if response.status() == StatusCode::NOT_MODIFIED && etag.is_some() {
            return Ok(Fetched::NotModified { ttl });
        }
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let limit = self.settings.max_response_size;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 256)
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { body, ttl, etag })
    }

    /// POSTs a form to `url` (introspection, RFC 7662 §2.1), with HTTP Basic credentials if
    /// given; the status and at most `limit` bytes of body. With a client that follows no
    /// redirect: a token is sent to the endpoint configured or discovered, nowhere else (a
    /// redirect is an answer of its own status, which makes the request `503`).
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        accept: &'static str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
        timeout: Duration,
        limit: usize,
    ) -> Result<(u16, Vec<u8>), FetchError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let no_redirects = match self.no_redirects.get() {
            Some(client) => client,
            None => {
                let built = reqwest::Client::builder()
                    .connect_timeout(self.settings.connect_timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("tokengate/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| {
                        FetchError::Network(format!("the HTTP client cannot be built: {e}"))
                    })?;
                self.no_redirects.get_or_init(|| built)
            }
        };
        let mut request = no_redirects
            .post(url.clone())
            .timeout(timeout)
            .header(ACCEPT, accept)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        if let Some((user, password)) = basic {
            request = request.basic_auth(user, Some(password));
        }
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes))
    }

    /// The body of the document at `url`, unconditionally.
    pub(crate) async fn document(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        match self.get(url, None).await? {
            Fetched::Body { body, .. } => Ok(body),
            Fetched::NotModified { .. } => Err(FetchError::Status(304)),
        }
    }
}

/// https, or http to a loopback address when that is allowed.
pub(crate) fn url_policy(url: &Url, allow_http_loopback: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http_loopback && is_loopback(url) => Ok(()),
        "http" if allow_http_loopback => Err(format!(
            "{url} is plain http to a host that is not loopback"
        )),
        "http" => Err(format!(
            "{url} is plain http; https is required (KeyCacheSettings::allow_http_loopback admits loopback addresses)"
        )),
        other => Err(format!("{url} uses {other}, not https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// The freshness lifetime from `Cache-Control` and `Age` (RFC 9111 §4.2), within the
/// configured bounds; `None` when the response says nothing about it.
pub(crate) fn freshness(
    cache_control: Option<&str>,
    age: Option<&str>,
    settings: &KeyCacheSettings,
) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control?.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(settings.min_ttl);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            let digits = seconds.trim_matches('"');
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                // Too many digits for u64 is "a very long time", not "nothing said".
                max_age = Some(digits.parse::<u64>().unwrap_or(u64::MAX));
            }
        }
    }
    let age = age.and_then(|a| a.trim().parse::<u64>().ok()).unwrap_or(0);
    let remaining = Duration::from_secs(max_age?.saturating_sub(age));
    Some(remaining.clamp(settings.min_ttl, settings.max_ttl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        let settings = KeyCacheSettings::default();
        let ttl =
            |v: Option<&str>, age: Option<&str>| freshness(v, age, &settings).map(|d| d.as_secs());
        assert_eq!(ttl(None, None), None);
        assert_eq!(ttl(Some("public, max-age=7200"), None), Some(7200));
        assert_eq!(ttl(Some("Max-Age=600, must-revalidate"), None), Some(600));
        assert_eq!(
            ttl(Some("max-age=10"), None),
            Some(300),
            "clamped up to min_ttl"
        );
        assert_eq!(
            ttl(Some("max-age=999999"), None),
            Some(86400),
            "clamped to max_ttl"
        );
        assert_eq!(
            ttl(Some("max-age=99999999999999999999999"), None),
            Some(86400)
        );
        assert_eq!(ttl(Some("no-store"), None), Some(300));
        assert_eq!(
            ttl(Some("private, no-cache, max-age=7200"), None),
            Some(300)
        );
        assert_eq!(ttl(Some("max-age=abc"), None), None);
        assert_eq!(ttl(Some("max-age=-5"), None), None);
        assert_eq!(ttl(Some("public"), None), None);
        // A cached response's age counts against its max-age (RFC 9111 §4.2.3).
        assert_eq!(ttl(Some("max-age=7200"), Some("3600")), Some(3600));
        assert_eq!(ttl(Some("max-age=7200"), Some("9000")), Some(300));
        assert_eq!(ttl(Some("max-age=7200"), Some("soon")), Some(7200));
    }

    #[test]
    fn only_https_or_allowed_loopback() {
        let check = |url: &str, allow: bool| url_policy(&Url::parse(url).unwrap(), allow).is_ok();
        assert!(check("https://login.example.com/keys", false));
        assert!(!check("http://login.example.com/keys", false));
        assert!(!check("http://127.0.0.1:8080/keys", false));
        assert!(!check("ftp://login.example.com/keys", true));
        assert!(!check("file:///etc/passwd", true));
        for loopback in [
            "http://127.0.0.1:8080/k",
            "http://127.9.9.9/k",
            "http://[::1]:9/k",
            "http://localhost/k",
            "http://LOCALHOST:1/k",
        ] {
            assert!(check(loopback, true), "{loopback}");
        }
        for remote in [
            "http://10.0.0.1/k",
            "http://localhost.evil.com/k",
            "http://[::2]/k",
            "http://0.0.0.0/k",
        ] {
            assert!(!check(remote, true), "{remote}");
        }
    }
}
