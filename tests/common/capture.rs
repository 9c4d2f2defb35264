//! Everything `tracing` records in a test binary, at TRACE level, kept in memory: for tests
//! that prove nothing secret is logged (STD-6750-8).
//!
//! Included with `#[path = "common/capture.rs"] mod capture;`. The subscriber is global, so that
//! events from tasks on other threads (key refreshes, servers) are captured too; a binary that
//! uses this must not install another one.
#![allow(dead_code)]

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
    /// that thousands of secrets against megabytes of output stay fast in debug builds.
    pub fn leaked<'s>(&self, secrets: impl IntoIterator<Item = &'s str>) -> Vec<&'s str> {
        const PREFIX: usize = 8;
        let text = self.text();
        let mut by_prefix: HashMap<&'s [u8], Vec<&'s str>> = HashMap::new();
        let mut found = BTreeSet::new();
        for secret in secrets {
            match secret.as_bytes().get(..PREFIX) {
                Some(prefix) => by_prefix.entry(prefix).or_default().push(secret),
                None if !secret.is_empty() && text.contains(secret) => {
                    found.insert(secret);
                }
                None => {}
            }
        }
        let bytes = text.as_bytes();
        for start in 0..bytes.len().saturating_sub(PREFIX - 1) {
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

/// Installs the binary's global subscriber (TRACE, every target, no colours) on the first call;
/// every call returns what it captured.
pub fn global() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber in this test binary");
        captured
    })
}
