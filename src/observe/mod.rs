//! What tokengate tells operators besides its answers: metrics through the `metrics` facade
//! (feature `metrics`; without it every recording here compiles to nothing), signals of
//! suspicious use (rate-limited WARN events, each with a counter), the caller's identity in the
//! request's tracing span, and the watch for tokens shared between client addresses.
//! Names, labels and events: docs/observability.md.

mod record;
mod signals;
mod trace;
mod watch;

pub(crate) use record::{
    Cause, Fetched, Started, Verdicts, introspection, introspection_cache, key_refresh, refusal,
    replay_check,
};
pub(crate) use signals::{Signal, Signals};
pub use trace::TraceFields;
pub use watch::SharedTokenWatch;
pub(crate) use watch::Watch;

/// Metric names, one place for the table in docs/observability.md.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) mod names {
    pub const VALIDATIONS: &str = "tokengate_validations_total";
    pub const REFUSALS: &str = "tokengate_refusals_total";
    pub const TOKEN_CACHE: &str = "tokengate_token_cache_lookups_total";
    pub const DURATION: &str = "tokengate_validation_duration_seconds";
    pub const KEY_REFRESHES: &str = "tokengate_key_refreshes_total";
    pub const KEYS: &str = "tokengate_keys";
    pub const KEYS_FETCHED: &str = "tokengate_key_set_fetched_timestamp_seconds";
    pub const SIGNALS: &str = "tokengate_signals_total";
    pub const REPLAY_CHECKS: &str = "tokengate_dpop_replay_checks_total";
    pub const INTROSPECTIONS: &str = "tokengate_introspection_requests_total";
    pub const INTROSPECTION_CACHE: &str = "tokengate_introspection_cache_lookups_total";
    pub const INTROSPECTION_DURATION: &str = "tokengate_introspection_duration_seconds";
}
