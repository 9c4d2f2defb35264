//! The fleet-wide [`ReplayStore`]: used DPoP proofs remembered in Redis.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Value};

use super::replay::{FirstUse, ProofId, ReplayStore, ReplayStoreError};

/// A [`ReplayStore`] in Redis (feature `redis`), for a fleet of instances behind a load
/// balancer.
///
/// Why Redis: each instance's embedded [`MemoryReplayStore`](crate::MemoryReplayStore)
/// remembers only the proofs that instance saw, so a proof replayed to another instance
/// would be accepted there. Every instance given a `RedisReplayStore` on the same server
/// shares one memory of used proofs, and a replay is caught wherever it lands.
///
/// Each check is one atomic command, `SET {prefix}{id hex} 1 NX PX {ttl ms}`: `OK` is a first
/// use, nil a replay, so of any number of concurrent checks of one id across the fleet
/// exactly one answers `true`. The connection is a redis-rs [`ConnectionManager`], which
/// reconnects by itself after a failure.
///
/// It fails closed: a call that gets no answer within [`timeout`](Self::timeout) (500 ms by
/// default), or any error or unexpected reply, answers `Err`, which the layer turns into
/// `503` with `Retry-After`; it never answers `Ok(true)` unsure.
///
/// Operating it: configure Redis with `maxmemory-policy noeviction`, so that a full Redis
/// refuses new proofs (`Err`, `503`) rather than evicting remembered ones, which could then be
/// replayed. A Redis without persistence forgets every proof when it restarts: proofs still
/// within their time to live could be replayed once after that.
///
/// Proof ids are logged at TRACE level only, and the password of the URL never: `Debug` and
/// errors show the URL with it replaced by `***`.
///
/// ```no_run
/// use std::time::Duration;
/// use tokengate::{ProofId, RedisReplayStore, ReplayStore};
///
/// # async fn example() -> Result<(), tokengate::ReplayStoreError> {
/// let store = RedisReplayStore::connect("redis://:password@redis.internal:6379/0")
///     .await?
///     .key_prefix("orders-api:dpop:")
///     .timeout(Duration::from_millis(200));
///
/// let id = ProofId::new("thumbprint of the proof key", "the proof's jti");
/// assert!(store.first_use(&id, Duration::from_secs(300)).await?);
/// assert!(!store.first_use(&id, Duration::from_secs(300)).await?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisReplayStore {
    manager: ConnectionManager,
    prefix: String,
    timeout: Duration,
    /// The URL with its password replaced, for `Debug`; `None` after `from_manager`.
    redacted_url: Option<String>,
}

impl RedisReplayStore {
    /// The default key prefix: keys are `tokengate:dpop:` and the id in hexadecimal.
    pub const DEFAULT_KEY_PREFIX: &'static str = "tokengate:dpop:";

    /// The default time a check may take before it answers `Err`.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

    /// How long [`connect`](Self::connect) waits for a first connection, retries included.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    /// Connects to the Redis at `url` (`redis://[[user]:password@]host[:port][/db]`, or
    /// `redis+unix:///path`), waiting at most [`CONNECT_TIMEOUT`](Self::CONNECT_TIMEOUT) for
    /// it to answer, so that a wrong URL shows at startup. Later failures are the
    /// [`ConnectionManager`]'s to repair: it reconnects in the background, with backoff.
    /// TLS (`rediss://`) is not compiled in; give [`from_manager`](Self::from_manager) a
    /// manager of your own for that.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), tokengate::ReplayStoreError> {
    /// let store = tokengate::RedisReplayStore::connect("redis://127.0.0.1:6379").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<RedisReplayStore, ReplayStoreError> {
        let redacted_url = redact_url(url);
        let secrets = url_secrets(url);
        let fail = |what: &str, error: &dyn fmt::Display| {
            ReplayStoreError::new(redact(
                &format!("{what} Redis at {redacted_url}: {error}"),
                &secrets,
            ))
        };
        let client = Client::open(url).map_err(|e| fail("invalid URL for", &e))?;
        // The connection's own response timeout only frees the slots of requests a hung Redis
        // never answers; each check's `timeout` is what callers see.
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(Self::CONNECT_TIMEOUT))
            // Backoff between reconnection attempts at most 1 s, so that a Redis back from a
            // restart is used again within about a second.
            .set_max_delay(Duration::from_secs(1));
        let manager = tokio::time::timeout(
            Self::CONNECT_TIMEOUT,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| fail("no answer in time from", &"timed out"))?
        .map_err(|e| fail("cannot connect to", &e))?;
        Ok(RedisReplayStore {
            redacted_url: Some(redacted_url),
            ..RedisReplayStore::from_manager(manager)
        })
    }

    /// A store over a [`ConnectionManager`] made by you (redis-rs 1.x), for TLS, Sentinel or
    /// connection settings of your own. The store's [`timeout`](Self::timeout) still bounds
    /// every check.
    ///
    /// ```no_run
    /// use redis::aio::ConnectionManager;
    /// use tokengate::RedisReplayStore;
    ///
    /// # async fn example() -> redis::RedisResult<()> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let store = RedisReplayStore::from_manager(ConnectionManager::new(client).await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_manager(manager: ConnectionManager) -> RedisReplayStore {
        RedisReplayStore {
            manager,
            prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
            redacted_url: None,
        }
    }

    /// Keys start with `prefix` ([`DEFAULT_KEY_PREFIX`](Self::DEFAULT_KEY_PREFIX) unless set):
    /// APIs that must not see each other's proofs in one Redis each take their own. Proofs
    /// are bound to their API's URL anyway (`htu`), so sharing a prefix is safe too.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), tokengate::ReplayStoreError> {
    /// let store = tokengate::RedisReplayStore::connect("redis://127.0.0.1:6379")
    ///     .await?
    ///     .key_prefix("billing:dpop:");
    /// # Ok(())
    /// # }
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> RedisReplayStore {
        self.prefix = prefix.into();
        self
    }

    /// How long a check may take, reconnecting included, before it answers `Err`
    /// ([`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT) unless set; with [`connect`](Self::connect),
    /// at most 5 s take effect, the connection's own response timeout). A check that timed out may
    /// still have recorded the proof: a retry of the same proof is then a replay, refused
    /// rather than accepted twice.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # async fn example() -> Result<(), tokengate::ReplayStoreError> {
    /// let store = tokengate::RedisReplayStore::connect("redis://127.0.0.1:6379")
    ///     .await?
    ///     .timeout(Duration::from_millis(100));
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> RedisReplayStore {
        self.timeout = timeout;
        self
    }

    /// `SET {prefix}{id} 1 NX PX {ttl}`, within the timeout.
    async fn set_if_new(&self, id: &ProofId, ttl: Duration) -> Result<bool, ReplayStoreError> {
        let mut command = redis::cmd("SET");
        command
            .arg(format!("{}{}", self.prefix, id.to_hex()))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(ttl_millis(ttl));
        // The manager is a handle on one shared connection; a clone per call is cheap.
        let mut manager = self.manager.clone();
        let reply = tokio::time::timeout(self.timeout, command.query_async::<Value>(&mut manager))
            .await
            .map_err(|_| {
                ReplayStoreError::new(format!("Redis did not answer within {:?}", self.timeout))
            })?
            .map_err(|e| ReplayStoreError::new(format!("Redis: {e}")))?;
        match reply {
            Value::Okay => Ok(true),
            Value::SimpleString(text) if text == "OK" => Ok(true),
            Value::Nil => Ok(false),
            other => Err(ReplayStoreError::new(format!(
                "unexpected reply from Redis to SET NX: {}",
                reply_kind(&other)
            ))),
        }
    }
}

impl ReplayStore for RedisReplayStore {
    fn first_use<'a>(&'a self, id: &'a ProofId, ttl: Duration) -> FirstUse<'a> {
        Box::pin(async move {
            let answer = self.set_if_new(id, ttl).await;
            match &answer {
                Ok(first) => tracing::trace!(id = %id.to_hex(), first, "DPoP replay store (Redis)"),
                Err(error) => tracing::debug!(%error, "DPoP replay store (Redis) failed"),
            }
            answer
        })
    }
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field(
                "url",
                &self.redacted_url.as_deref().unwrap_or("(own manager)"),
            )
            .field("key_prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The time to live in whole milliseconds, rounded up and at least 1 (Redis refuses `PX 0`),
/// so that an id is never kept for less than asked.
fn ttl_millis(ttl: Duration) -> u64 {
    let millis = ttl.as_nanos().div_ceil(1_000_000).max(1);
    u64::try_from(millis).unwrap_or(u64::MAX)
}

/// The kind of an unexpected reply, not its content.
fn reply_kind(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "an integer",
        Value::BulkString(_) | Value::SimpleString(_) | Value::VerbatimString { .. } => "a string",
        Value::Array(_) | Value::Set(_) | Value::Map(_) => "a collection",
        Value::ServerError(_) => "an error",
        _ => "another type",
    }
}

/// The URL with its password (userinfo, or a `pass`/`password` query parameter) replaced by
/// `***`; a URL that does not parse is not shown at all.
fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(unparsable URL)".to_owned();
    };
    if parsed.password().is_some() {
        // Fails only for URLs that cannot have a password, which this one has.
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_password_parameter(&name) {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.into()
}

fn is_password_parameter(name: &str) -> bool {
    name == "pass" || name == "password"
}

/// The password of `url` as written and decoded, to scrub from error text (the driver's
/// messages do not quote the URL, but a future version might).
fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Ok(parsed) = url::Url::parse(url) {
        if let Some(password) = parsed.password() {
            secrets.push(password.to_owned());
        }
        for (name, value) in parsed.query_pairs() {
            if is_password_parameter(&name) {
                secrets.push(value.into_owned());
            }
        }
    }
    // Percent-decoded too (form decoding also turns `+` into a space: one more to scrub).
    let decoded: Vec<String> = secrets
        .iter()
        .filter_map(|secret| {
            let query = format!("p={secret}");
            let decoded = url::form_urlencoded::parse(query.as_bytes()).next();
            decoded.map(|(_, value)| value.into_owned())
        })
        .collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    secrets
}

fn redact(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |text, secret| text.replace(secret, "***"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_to_live_rounds_up_to_whole_milliseconds() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1)), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1_001)), 2);
        assert_eq!(ttl_millis(Duration::from_secs(300)), 300_000);
        assert_eq!(ttl_millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("redis://user:s3cr%40t@host:6379/2"),
            "redis://user:***@host:6379/2"
        );
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?db=1&pass=s3cret"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(redact_url("not a url s3cret"), "(unparsable URL)");
        let secrets = url_secrets("redis://:s3cr%40t@host");
        assert_eq!(redact("a s3cr%40t b s3cr@t", &secrets), "a *** b ***");
    }
}
