//! What the library itself says while it validates: the hints and warnings it logs (at WARN)
//! for whoever runs a gate, such as an issuer that differs only by its scheme or letter case,
//! a personal Microsoft account at a work-accounts API, or a key it skipped. `verify` collects
//! them and prints them with its verdict. They never hold token content or key material.

use std::fmt::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The collected lines, shared with the subscriber.
#[derive(Clone, Default)]
pub struct Notes(Arc<Mutex<Vec<String>>>);

impl Notes {
    /// Installs a collector for the whole process (validation logs from runtime threads too).
    /// If one is installed already, nothing is collected.
    pub fn install() -> Notes {
        let notes = Notes::default();
        let _ = tracing::subscriber::set_global_default(Collector(notes.clone()));
        notes
    }

    /// Each distinct line, in the order first seen.
    pub fn take(&self) -> Vec<String> {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut distinct: Vec<String> = Vec::new();
        for line in lines.drain(..) {
            if !distinct.contains(&line) {
                distinct.push(line);
            }
        }
        distinct
    }
}

struct Collector(Notes);

/// The message, then `name=value` for the other fields.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}

impl Subscriber for Collector {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN && metadata.target().starts_with("tokengate")
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!("{}{}", line.message, line.fields);
        (self.0)
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(text);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
