//! The metrics, through the `metrics` facade: thin functions whose bodies exist only with the
//! feature, so a build without it pays nothing. On the per-request path every key is built
//! ahead (a static, or one per issuer at build time): recording allocates nothing, and asks the
//! recorder installed *now*, so a recorder installed after the gate was built still sees it.

#[cfg(feature = "metrics")]
use std::sync::Arc;

#[cfg(feature = "metrics")]
use metrics::{Key, Label, Level, Metadata, SharedString};

#[cfg(feature = "metrics")]
use super::names;
#[cfg(feature = "metrics")]
use crate::error::ErrorClass;
use crate::error::Rejection;

#[cfg(feature = "metrics")]
static META: Metadata<'static> = Metadata::new("tokengate", Level::INFO, Some(module_path!()));

#[cfg(feature = "metrics")]
fn counter(key: &Key) {
    metrics::with_recorder(|recorder| recorder.register_counter(key, &META)).increment(1);
}

/// The two series of a cache's lookups: `result="hit"`, then `result="miss"`.
#[cfg(feature = "metrics")]
const fn lookups(name: &'static str) -> [Key; 2] {
    const HIT: &[Label] = &[Label::from_static_parts("result", "hit")];
    const MISS: &[Label] = &[Label::from_static_parts("result", "miss")];
    [
        Key::from_static_parts(name, HIT),
        Key::from_static_parts(name, MISS),
    ]
}

#[cfg(feature = "metrics")]
fn labelled(name: &'static str, labels: Vec<Label>) -> Key {
    Key::from_parts(name, labels)
}

/// When a validation started, for the latency histogram (nothing without the feature).
#[derive(Clone, Copy)]
pub(crate) struct Started {
    #[cfg(feature = "metrics")]
    at: quanta::Instant,
}

impl Started {
    #[inline]
    pub(crate) fn now() -> Started {
        Started {
            #[cfg(feature = "metrics")]
            at: quanta::Instant::now(),
        }
    }
}

/// A gate's metrics of its own work: verdicts by issuer (`tokengate_validations_total`),
/// cache lookups, the latency histogram.
pub(crate) struct Verdicts {
    /// The configured issuers, as label values.
    #[cfg(feature = "metrics")]
    issuers: Box<[SharedString]>,
    /// The per-request handles, bound to the recorder installed at the gate's first
    /// validation: a recorder's lookup by key costs about 120 ns, an increment of a bound
    /// handle a few.
    #[cfg(feature = "metrics")]
    handles: std::sync::OnceLock<Handles>,
}

#[cfg(feature = "metrics")]
struct Handles {
    /// By issuer index.
    accepted: Box<[metrics::Counter]>,
    hit: metrics::Counter,
    miss: metrics::Counter,
    duration: metrics::Histogram,
}

impl Verdicts {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(issuers: &[String]) -> Verdicts {
        #[cfg(feature = "metrics")]
        {
            describe();
            // The clock calibrates on first use: here, not on a request.
            let _ = quanta::Instant::now();
            let issuers = issuers
                .iter()
                .map(|name| SharedString::from(Arc::<str>::from(name.as_str())))
                .collect();
            Verdicts {
                issuers,
                handles: std::sync::OnceLock::new(),
            }
        }
        #[cfg(not(feature = "metrics"))]
        Verdicts {}
    }

    #[cfg(feature = "metrics")]
    #[inline]
    fn handles(&self) -> &Handles {
        self.handles.get_or_init(|| {
            static LOOKUPS: [Key; 2] = lookups(names::TOKEN_CACHE);
            static DURATION: Key = Key::from_static_name(names::DURATION);
            metrics::with_recorder(|recorder| Handles {
                accepted: self
                    .issuers
                    .iter()
                    .map(|issuer| {
                        let key = labelled(
                            names::VALIDATIONS,
                            vec![
                                Label::new("issuer", issuer.clone()),
                                Label::from_static_parts("outcome", "accepted"),
                                Label::from_static_parts("code", "ok"),
                            ],
                        );
                        recorder.register_counter(&key, &META)
                    })
                    .collect(),
                hit: recorder.register_counter(&LOOKUPS[0], &META),
                miss: recorder.register_counter(&LOOKUPS[1], &META),
                duration: recorder.register_histogram(&DURATION, &META),
            })
        })
    }

    /// A validation's duration.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn done(&self, started: Started) {
        #[cfg(feature = "metrics")]
        self.handles()
            .duration
            .record(started.at.elapsed().as_secs_f64());
    }

    /// A lookup in the verified-token cache: `tokengate_token_cache_lookups_total`.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn token_cache(&self, hit: bool) {
        #[cfg(feature = "metrics")]
        {
            let handles = self.handles();
            if hit { &handles.hit } else { &handles.miss }.increment(1);
        }
    }

    /// A token accepted, of the issuer at `issuer`.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn accepted(&self, issuer: usize) {
        #[cfg(feature = "metrics")]
        if let Some(counter) = self.handles().accepted.get(issuer) {
            counter.increment(1);
        }
    }

    /// A token refused; `issuer` is the configured issuer it named, if any.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn refused(&self, rejection: &Rejection, issuer: Option<usize>) {
        #[cfg(feature = "metrics")]
        {
            let issuer = issuer
                .and_then(|index| self.issuers.get(index))
                .cloned()
                .unwrap_or(SharedString::const_str("unknown"));
            let outcome = match rejection.class() {
                ErrorClass::TemporarilyUnavailable => "unavailable",
                _ => "refused",
            };
            counter(&labelled(
                names::VALIDATIONS,
                vec![
                    Label::new("issuer", issuer),
                    Label::from_static_parts("outcome", outcome),
                    Label::new("code", rejection.code()),
                ],
            ));
        }
    }
}

/// A request refused by one of tokengate's layers or extractors, in either form of answer:
/// `tokengate_refusals_total`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn refusal(rejection: &Rejection, grpc: bool) {
    #[cfg(feature = "metrics")]
    {
        let status = match rejection.class().status().as_u16() {
            400 => "400",
            401 => "401",
            403 => "403",
            503 => "503",
            _ => "other",
        };
        counter(&labelled(
            names::REFUSALS,
            vec![
                Label::new("code", rejection.code()),
                Label::from_static_parts("status", status),
                Label::from_static_parts("form", if grpc { "grpc" } else { "http" }),
            ],
        ));
    }
}

/// Why a key set was fetched.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cause {
    /// [`Gate::warm_up`](crate::Gate::warm_up).
    WarmUp,
    /// The first request that needed the keys.
    FirstUse,
    /// The keys' freshness running out.
    Routine,
    /// A token whose `kid` the set lacks, or whose signature failed under a held key.
    KeyMiss,
}

/// What came of a fetch.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fetched {
    /// A key set, changed or not.
    Ok,
    /// `304 Not Modified`.
    NotModified,
    /// Nothing usable.
    Error,
}

/// A key-set fetch: `tokengate_key_refreshes_total`; with `keys` (the issuer's own set, not a
/// provider's side store) also the key count and the time of the fetch (`tokengate_keys`,
/// `tokengate_key_set_fetched_timestamp_seconds`).
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn key_refresh(issuer: &str, cause: Cause, result: Fetched, keys: Option<usize>) {
    #[cfg(feature = "metrics")]
    {
        let cause = match cause {
            Cause::WarmUp => "warm_up",
            Cause::FirstUse => "first_use",
            Cause::Routine => "routine",
            Cause::KeyMiss => "key_miss",
        };
        let (result, ok) = match result {
            Fetched::Ok => ("ok", true),
            Fetched::NotModified => ("not_modified", true),
            Fetched::Error => ("error", false),
        };
        let issuer = SharedString::from(issuer.to_owned());
        counter(&labelled(
            names::KEY_REFRESHES,
            vec![
                Label::new("issuer", issuer.clone()),
                Label::from_static_parts("cause", cause),
                Label::from_static_parts("result", result),
            ],
        ));
        if ok && let Some(keys) = keys {
            let labels = vec![Label::new("issuer", issuer)];
            let since_epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |since| since.as_secs_f64());
            metrics::with_recorder(|recorder| {
                let fetched = labelled(names::KEYS_FETCHED, labels.clone());
                recorder.register_gauge(&fetched, &META).set(since_epoch);
                let count = labelled(names::KEYS, labels);
                recorder.register_gauge(&count, &META).set(keys as f64);
            });
        }
    }
}

/// A signal of suspicious use: `tokengate_signals_total`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn signal(name: &'static str) {
    #[cfg(feature = "metrics")]
    counter(&labelled(
        names::SIGNALS,
        vec![Label::from_static_parts("signal", name)],
    ));
}

/// A DPoP proof's first use asked of the replay store: `tokengate_dpop_replay_checks_total`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn replay_check(answer: Result<bool, ()>) {
    #[cfg(feature = "metrics")]
    {
        let result = match answer {
            Ok(true) => "new",
            Ok(false) => "replayed",
            Err(()) => "error",
        };
        counter(&labelled(
            names::REPLAY_CHECKS,
            vec![Label::from_static_parts("result", result)],
        ));
    }
}

/// A call to an introspection endpoint, and how long it took:
/// `tokengate_introspection_requests_total`, `tokengate_introspection_duration_seconds`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn introspection(issuer: &str, result: &'static str, took: std::time::Duration) {
    #[cfg(feature = "metrics")]
    {
        let issuer = SharedString::from(issuer.to_owned());
        counter(&labelled(
            names::INTROSPECTIONS,
            vec![
                Label::new("issuer", issuer.clone()),
                Label::from_static_parts("result", result),
            ],
        ));
        let key = labelled(
            names::INTROSPECTION_DURATION,
            vec![Label::new("issuer", issuer)],
        );
        metrics::with_recorder(|recorder| recorder.register_histogram(&key, &META))
            .record(took.as_secs_f64());
    }
}

/// A lookup in the introspection answers' cache: `tokengate_introspection_cache_lookups_total`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn introspection_cache(hit: bool) {
    #[cfg(feature = "metrics")]
    {
        static LOOKUPS: [Key; 2] = lookups(names::INTROSPECTION_CACHE);
        counter(&LOOKUPS[usize::from(!hit)]);
    }
}

/// The descriptions and units exporters show (Prometheus `# HELP`), given to the recorder
/// installed when a gate is built.
#[cfg(feature = "metrics")]
fn describe() {
    use metrics::Unit;
    let counters = [
        (
            names::VALIDATIONS,
            "Tokens judged by the gate, by issuer, outcome and code.",
        ),
        (
            names::REFUSALS,
            "Requests refused by tokengate's layers and extractors, by code, status and form (http or grpc).",
        ),
        (
            names::TOKEN_CACHE,
            "Lookups in the verified-token cache, by result (hit or miss).",
        ),
        (
            names::KEY_REFRESHES,
            "Key-set fetches, by issuer, cause and result.",
        ),
        (names::SIGNALS, "Signals of suspicious use, by signal."),
        (
            names::REPLAY_CHECKS,
            "DPoP proofs checked against the replay store, by result.",
        ),
        (
            names::INTROSPECTIONS,
            "Calls to introspection endpoints, by issuer and result.",
        ),
        (
            names::INTROSPECTION_CACHE,
            "Lookups in the introspection answers' cache, by result.",
        ),
    ];
    metrics::with_recorder(|recorder| {
        for (name, help) in counters {
            recorder.describe_counter(name.into(), Some(Unit::Count), help.into());
        }
        recorder.describe_gauge(
            names::KEYS.into(),
            Some(Unit::Count),
            "Keys in the issuer's current key set.".into(),
        );
        recorder.describe_gauge(
            names::KEYS_FETCHED.into(),
            Some(Unit::Seconds),
            "When the issuer's key set was last fetched or confirmed (Unix time): its age is time() minus this.".into(),
        );
        recorder.describe_histogram(
            names::DURATION.into(),
            Some(Unit::Seconds),
            "Time to judge a token, cache hits included.".into(),
        );
        recorder.describe_histogram(
            names::INTROSPECTION_DURATION.into(),
            Some(Unit::Seconds),
            "Time of a call to an introspection endpoint.".into(),
        );
    });
}
