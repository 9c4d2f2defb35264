//! What the thin presets share: checking the URLs and names users give them.

use url::Url;

/// `url` as an issuer base: an `http(s)` URL without query or fragment, returned without a
/// trailing slash. Plain `http` is refused later by the key fetcher unless loopback http is
/// allowed (for local development).
pub(super) fn base_url(preset: &str, what: &str, url: &str, problems: &mut Vec<String>) -> String {
    match Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "https" | "http")
                && parsed.query().is_none()
                && parsed.fragment().is_none()
                && parsed.username().is_empty()
                && url.trim() == url =>
        {
            url.trim_end_matches('/').to_owned()
        }
        _ => {
            problems.push(format!(
                "{preset}: {what} {url:?} is not an https URL without query or fragment"
            ));
            String::new()
        }
    }
}

/// Whether `name` can stand in a URL path segment or host label as given: letters, digits
/// and `-`, `_`, `.` only.
pub(super) fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Reports an empty list of audiences or client ids, which `build()` would report less
/// helpfully.
pub(super) fn need(preset: &str, what: &str, values: &[String], problems: &mut Vec<String>) {
    if values.is_empty() {
        problems.push(format!("{preset}: no {what} configured"));
    }
}
