//! Shared display helpers: times relative to now, claim values, numbers.

use std::borrow::Cow;
use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// A duration in its two largest units: `3h 2m`, `45s`, `2days 4h`.
pub fn span(duration: Duration) -> String {
    let whole = Duration::from_secs(duration.as_secs());
    if whole.is_zero() {
        return "0s".into();
    }
    let text = humantime::format_duration(whole).to_string();
    text.split(' ').take(2).collect::<Vec<_>>().join(" ")
}

/// `in 3h 2m` or `3h 2m ago`, from `now`.
pub fn relative(at: SystemTime, now: SystemTime) -> String {
    match at.duration_since(now) {
        Ok(ahead) => format!("in {}", span(ahead)),
        Err(behind) => format!("{} ago", span(behind.duration())),
    }
}

/// Seconds since the epoch as a time, if in range.
pub fn epoch(seconds: i64) -> Option<SystemTime> {
    let seconds = u64::try_from(seconds).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// `1767268800 (2026-01-01T12:00:00Z, in 3h 2m)`.
pub fn timestamp(seconds: i64, now: SystemTime) -> String {
    match epoch(seconds) {
        Some(at) => format!(
            "{seconds} ({}, {})",
            humantime::format_rfc3339_seconds(at),
            relative(at, now)
        ),
        None => format!("{seconds} (out of range)"),
    }
}

/// A claim value: strings as they are, anything else as compact JSON.
pub fn value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The text with its control characters escaped (`\u{1b}`): what a token, a key set or a
/// server chose is shown, never obeyed by the terminal.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(safe("plain text"), "plain text");
        assert_eq!(safe("a\u{1b}[2Jb\rc\n"), "a\\u{1b}[2Jb\\u{d}c\\u{a}");
    }

    #[test]
    fn spans_keep_two_units() {
        assert_eq!(span(Duration::from_secs(3 * 3600 + 120 + 5)), "3h 2m");
        assert_eq!(span(Duration::from_millis(450)), "0s");
        assert_eq!(span(Duration::from_secs(45)), "45s");
    }

    #[test]
    fn relative_times_say_which_way() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(relative(now + Duration::from_secs(90), now), "in 1m 30s");
        assert_eq!(relative(now - Duration::from_secs(90), now), "1m 30s ago");
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
    }
}
