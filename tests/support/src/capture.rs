//! Everything `tracing` records in a test binary, at TRACE level, kept in memory: for tests
//! that prove nothing secret is logged (STD-6750-8).
//!
//! The subscriber is global, so that events from tasks on other threads (key refreshes,
//! servers) are captured too; a binary that uses this must not install another one.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The text written by the subscriber so far.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The `secrets` that occur in the captured text, each once. One pass over the text, so
    /// that thousands of secrets against megabytes of output stay fast in debug builds; a
    /// table of the secrets' first two bytes spares the hash lookup at most positions.
    pub fn leaked<'s>(&self, secrets: impl IntoIterator<Item = &'s str>) -> Vec<&'s str> {
        const PREFIX: usize = 8;
        let text = self.text();
        let mut by_prefix: HashMap<&'s [u8], Vec<&'s str>> = HashMap::new();
        let mut starts = vec![false; 1 << 16];
        let mut found = BTreeSet::new();
        for secret in secrets {
            match secret.as_bytes().get(..PREFIX) {
                Some(prefix) => {
                    starts[usize::from(u16::from_be_bytes([prefix[0], prefix[1]]))] = true;
                    by_prefix.entry(prefix).or_default().push(secret);
                }
                None if !secret.is_empty() && text.contains(secret) => {
                    found.insert(secret);
                }
                None => {}
            }
        }
        let bytes = text.as_bytes();
        for start in 0..bytes.len().saturating_sub(PREFIX - 1) {
            if !starts[usize::from(u16::from_be_bytes([bytes[start], bytes[start + 1]]))] {
                continue;
            }
            if let Some(candidates) = by_prefix.get(&bytes[start..start + PREFIX]) {
                for secret in candidates {
                    if bytes[start..].starts_with(secret.as_bytes()) {
                        found.insert(*secret);
                    }
                }
            }
        }
        found.into_iter().collect()
    }
}

/// A subscriber writing every event at TRACE level, without colours, into what it returns.
fn subscriber() -> (Captured, impl tracing::Subscriber + Send + Sync) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (captured, subscriber)
}

/// Installs the binary's global subscriber (TRACE, every target, no colours) on the first call;
/// every call returns what it captured.
pub fn global() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let (captured, subscriber) = subscriber();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber in this test binary");
        captured
    })
}

/// A subscriber for the calling thread only (TRACE, every target, no colours), until the guard
/// drops: for a test on a current-thread runtime, whose tasks all run on that thread, so that
/// tests running side by side each see only their own events.
pub fn scoped() -> (Captured, tracing::subscriber::DefaultGuard) {
    let (captured, subscriber) = subscriber();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// What a test handled and must never see logged: credentials and their segments, key
/// material, claim values. For the end-to-end tests (`tests/interop/`,
/// `tests/faults_under_load.rs`); the attack scan and `tests/logs.rs` collect their own.
#[derive(Debug, Default)]
pub struct Secrets(BTreeSet<String>);

/// Claims whose values name configuration (issuers, audiences, scopes and roles that routes
/// require), which tokengate may log: not secrets of a token.
const CONFIGURED_CLAIMS: [&str; 5] = ["iss", "aud", "scope", "scp", "roles"];

impl Secrets {
    /// A secret as it is, such as a client secret.
    pub fn add(&mut self, secret: &str) {
        if !secret.is_empty() {
            self.0.insert(secret.to_owned());
        }
    }

    /// A compact JWS: the whole token, each of its segments longer than 8 characters, and
    /// the string values of 8 characters or more in its payload (nested ones too), but for
    /// [`CONFIGURED_CLAIMS`].
    pub fn token(&mut self, token: &str) {
        self.add(token);
        for segment in token.split('.').filter(|segment| segment.len() > 8) {
            self.add(segment);
        }
        let payload = token
            .split('.')
            .nth(1)
            .and_then(|part| base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).ok())
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        let Some(serde_json::Value::Object(claims)) = payload else {
            panic!("not a compact JWS with a JSON payload: {token:.40}...");
        };
        for (name, value) in &claims {
            if !CONFIGURED_CLAIMS.contains(&name.as_str()) {
                self.strings(value);
            }
        }
    }

    fn strings(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) if text.len() >= 8 => self.add(text),
            serde_json::Value::Array(items) => items.iter().for_each(|item| self.strings(item)),
            serde_json::Value::Object(members) => members.values().for_each(|v| self.strings(v)),
            _ => {}
        }
    }

    /// The key material of every key of a JWK Set (JSON text): `n`, `x`, `y`, and the private
    /// members `d`, `p`, `q`, `dp`, `dq`, `qi`, `k` where present. Not `e`: short and common.
    pub fn jwks(&mut self, jwks: &str) {
        let set: serde_json::Value = serde_json::from_str(jwks).expect("a JWK Set");
        let keys = set["keys"].as_array().expect("a JWK Set with keys");
        assert!(!keys.is_empty(), "an empty JWK Set");
        for key in keys {
            for member in ["n", "x", "y", "d", "p", "q", "dp", "dq", "qi", "k"] {
                if let Some(value) = key[member].as_str() {
                    self.add(value);
                }
            }
        }
    }

    /// How many distinct secrets have been added.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no secret has been added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Asserts that the capture holds tokengate's events (`needles`, and at least one event of a
/// `tokengate::` target), so that the check cannot pass on an empty or foreign log, and none
/// of `secrets`. Returns the bytes captured so far.
#[track_caller]
pub fn assert_secret_free(secrets: &Secrets, needles: &[&str]) -> usize {
    let captured = global();
    let text = captured.text();
    assert!(!text.is_empty(), "nothing was captured");
    assert!(
        text.contains(" tokengate::"),
        "no event of tokengate in {} bytes captured",
        text.len()
    );
    for needle in needles {
        assert!(text.contains(needle), "no log event with {needle:?}");
    }
    let leaked = captured.leaked(secrets.0.iter().map(String::as_str));
    eprintln!(
        "logs: {} bytes captured, {} secrets checked, {} found",
        text.len(),
        secrets.len(),
        leaked.len()
    );
    assert!(
        leaked.is_empty(),
        "{} of {} secrets were logged, e.g. {:?}",
        leaked.len(),
        secrets.len(),
        leaked
            .iter()
            .take(5)
            .map(|secret| secret.chars().take(60).collect::<String>())
            .collect::<Vec<_>>()
    );
    text.len()
}
