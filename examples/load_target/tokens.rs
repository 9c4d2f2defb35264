//! The labelled tokens of the load test, other than the forged ones: valid, expired, without
//! the route's scope, expiring during the run, DPoP-bound with their proofs, and those signed
//! with the key the issuer rotates to during the run.

use std::fmt::Write as _;
use std::path::Path;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use tokengate::Algorithm;
use tokengate::testing::{DpopKey, TestIssuer};

use crate::{ALGORITHMS, SCOPE};

/// One line of a tokens file: `<status> <kind> <names> <token> [<exp>]`.
pub(crate) struct Labelled {
    /// The status the API must answer with (for an expiring token: before its `exp`).
    pub(crate) status: u16,
    /// What kind of token it is, such as `valid-RS256` or `forged-alg-none-unsigned`.
    pub(crate) kind: String,
    /// What the answer's body must name: a valid token's `sub` (`orders of <sub>`), or the
    /// rejection code of a refusal (`{"code":"<code>",...}`).
    pub(crate) names: String,
    /// `None`: no `Authorization` header at all.
    pub(crate) token: Option<String>,
    /// An expiring token's `exp` (seconds since the epoch): the load generator judges its
    /// answers against the time the server handled each request.
    pub(crate) exp: Option<u64>,
}

impl Labelled {
    pub(crate) fn new(status: u16, kind: String, names: &str, token: String) -> Labelled {
        Labelled {
            status,
            kind,
            names: names.to_owned(),
            token: Some(token),
            exp: None,
        }
    }
}

/// Writes tokens, one line each, through a temporary file renamed into place: a reader polling
/// for the file (the load generator, for the rotated tokens) never sees half of it.
pub(crate) fn write(path: &Path, header: &str, tokens: &[Labelled]) -> std::io::Result<()> {
    let mut text = header.to_owned();
    for labelled in tokens {
        let token = labelled.token.as_deref().unwrap_or("-");
        let _ = write!(
            text,
            "{} {} {} {token}",
            labelled.status, labelled.kind, labelled.names
        );
        if let Some(exp) = labelled.exp {
            let _ = write!(text, " {exp}");
        }
        text.push('\n');
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

/// The rejection code a refused token must get, by kind: each forgery must be refused for the
/// reason it was made for.
pub(crate) fn refusal(kind: &str) -> &'static str {
    const CODES: &[(&str, &str)] = &[
        ("expired-", "token_expired"),
        ("unscoped-", "insufficient_scope"),
        ("forged-tampered-", "invalid_signature"),
        ("forged-foreign-key-same-kid-", "invalid_signature"),
        ("forged-wrong-audience-", "invalid_audience"),
        ("forged-unpublished-key-", "unknown_key"),
        ("forged-header-payload-swap-", "malformed_header"),
        ("forged-signature-splice-", "invalid_signature"),
        ("forged-truncated-signature-", "invalid_signature"),
        ("forged-foreign-issuer", "untrusted_issuer"),
        ("forged-alg-none-", "unsupported_algorithm"),
        ("forged-alg-mismatch", "invalid_signature"),
        ("forged-hs256-public-key", "unsupported_algorithm"),
        ("forged-embedded-jwk", "unknown_key"),
        ("forged-jku", "unknown_key"),
        ("forged-not-a-jwt", "malformed_token"),
        ("forged-no-token", "missing_token"),
        ("forged-dpop-bound-as-bearer", "sender_constrained_token"),
    ];
    CODES
        .iter()
        .find(|(prefix, _)| kind.starts_with(prefix))
        .map(|(_, code)| *code)
        .unwrap_or_else(|| panic!("no rejection code for {kind}"))
}

/// Mints `count` tokens (or proofs) on every core, in order (RSA signing takes about a
/// millisecond).
fn mint_parallel<T: Send>(count: usize, mint: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let minters = thread::available_parallelism().map_or(1, |n| n.get());
    let mut minted: Vec<(usize, T)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..minters)
            .map(|m| {
                let mint = &mint;
                scope.spawn(move || {
                    (m..count)
                        .step_by(minters)
                        .map(|i| (i, mint(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("minting a token panicked"))
            .collect()
    });
    minted.sort_unstable_by_key(|(i, _)| *i);
    minted.into_iter().map(|(_, minted)| minted).collect()
}

/// `distinct` valid tokens (each with its own `sub` and `jti`), then `expired` expired ones,
/// over the four algorithms.
pub(crate) fn valid_and_expired(
    issuer: &TestIssuer,
    distinct: usize,
    expired: usize,
    lifetime: Duration,
) -> Vec<Labelled> {
    mint_parallel(distinct + expired, |i| {
        let alg = ALGORITHMS[i % ALGORITHMS.len()];
        let subject = format!("user-{i}");
        let builder = issuer.token().alg(alg).subject(&subject).scope(SCOPE);
        if i < distinct {
            let token = builder.expires_in(lifetime).sign();
            Labelled::new(200, format!("valid-{}", alg.name()), &subject, token)
        } else {
            let kind = format!("expired-{}", alg.name());
            Labelled::new(401, kind.clone(), refusal(&kind), builder.expired().sign())
        }
    })
}

/// Valid tokens without the route's scope: another scope, or none at all. Few, so that each
/// is sent often and answered from the verified-token cache: `RequireLayer` must refuse cache
/// hits as it refuses fresh verifications.
pub(crate) fn unscoped(issuer: &TestIssuer, count: usize, lifetime: Duration) -> Vec<Labelled> {
    mint_parallel(count, |i| {
        let alg = ALGORITHMS[i % ALGORITHMS.len()];
        let builder = issuer
            .token()
            .alg(alg)
            .subject(&format!("unscoped-{i}"))
            .expires_in(lifetime);
        // A scope that contains the required one as a prefix, one beside it, or none.
        let (what, builder) = match i % 3 {
            0 => ("other", builder.scope("orders.readonly profile")),
            1 => ("write", builder.scope("orders.write")),
            _ => ("none", builder.without_claim("scope")),
        };
        let kind = format!("unscoped-{what}-{}", alg.name());
        Labelled::new(403, kind.clone(), refusal(&kind), builder.sign())
    })
}

/// Seconds since the epoch, rounded up.
fn ceil_seconds(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}

/// Valid tokens whose `exp` falls between `from` and `to` (spread evenly, whole seconds).
pub(crate) fn expiring(
    issuer: &TestIssuer,
    count: usize,
    from: SystemTime,
    to: SystemTime,
) -> Vec<Labelled> {
    let span = to.duration_since(from).unwrap_or_default();
    (0..count)
        .map(|i| {
            let alg = ALGORITHMS[i % ALGORITHMS.len()];
            let subject = format!("expiring-{i}");
            let exp = ceil_seconds(from + span.mul_f64(i as f64 / count.max(1) as f64));
            let token = issuer
                .token()
                .alg(alg)
                .subject(&subject)
                .scope(SCOPE)
                .claim("exp", exp)
                .sign();
            Labelled {
                exp: Some(exp),
                ..Labelled::new(200, format!("expiring-{}", alg.name()), &subject, token)
            }
        })
        .collect()
}

/// Valid tokens signed with the issuer's current key for `alg`: after a rotation, the new one.
pub(crate) fn rotated(issuer: &TestIssuer, alg: Algorithm, count: usize) -> Vec<Labelled> {
    mint_parallel(count, |i| {
        let subject = format!("rotated-{i}");
        let token = issuer
            .token()
            .alg(alg)
            .subject(&subject)
            .scope(SCOPE)
            .sign();
        Labelled::new(200, format!("rotated-{}", alg.name()), &subject, token)
    })
}

/// DPoP-bound tokens and their proofs, made in advance since the load generator cannot sign.
pub(crate) struct DpopPlan {
    /// One bound token per client key, kind `dpop-<alg>`: appended to the tokens file.
    pub(crate) tokens: Vec<Labelled>,
    /// The proofs file: `<not before, ms since the epoch> <token index> <proof>` per line,
    /// in time order; the token index counts from 0 within `tokens`.
    pub(crate) proofs: String,
}

/// `clients` DPoP keys (ES256 and EdDSA) with a token bound to each, and `rate` proofs a
/// second from `start` for `seconds`, each for `GET <url>` with its own `jti`, spread over
/// the keys. A proof's `iat` is the second of its slot, and the load generator sends it no
/// earlier than the slot (by the server's clock): every proof is fresh when it arrives,
/// within the default proof lifetime (60 s), whatever the length of the run, and the replay
/// store holds only the last minute's proofs.
pub(crate) fn dpop(
    issuer: &TestIssuer,
    clients: usize,
    rate: u32,
    start: SystemTime,
    seconds: u64,
    url: &str,
) -> DpopPlan {
    let clients = clients.max(1);
    let keys: Vec<DpopKey> = (0..clients)
        .map(|i| DpopKey::generate([Algorithm::ES256, Algorithm::EdDSA][i % 2]))
        .collect();
    let tokens: Vec<Labelled> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let subject = format!("dpop-user-{i}");
            let token = issuer
                .token()
                .alg(ALGORITHMS[i % ALGORITHMS.len()])
                .subject(&subject)
                .scope(SCOPE)
                .bound_to(key)
                .expires_in(Duration::from_secs(seconds + 86_400))
                .sign();
            Labelled::new(200, format!("dpop-{}", key_alg(i)), &subject, token)
        })
        .collect();
    let count = u64::from(rate) * seconds;
    let lines = mint_parallel(count as usize, |i| {
        let slot = start + Duration::from_millis(i as u64 * 1000 / u64::from(rate.max(1)));
        let client = i % clients;
        let token = tokens[client].token.as_deref().unwrap_or_default();
        let proof = keys[client]
            .proof(&Method::GET, url)
            .token(token)
            .issued_at(slot)
            .sign();
        let ms = slot
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        format!("{ms} {client} {proof}\n")
    });
    DpopPlan {
        tokens,
        proofs: lines.concat(),
    }
}

fn key_alg(i: usize) -> &'static str {
    [Algorithm::ES256, Algorithm::EdDSA][i % 2].name()
}
