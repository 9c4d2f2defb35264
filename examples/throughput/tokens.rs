//! The tokens to send, what each must get, and the gate that judges them.

use std::thread;

use tokengate::testing::TestIssuer;
use tokengate::{Algorithm, Gate, IssuerProfile, TokenCacheSettings};

use super::options::Options;

/// The answer a token must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    Valid,
    /// Refused, with this rejection code (`--gate`) or 401 (`--layer`).
    Refused(&'static str),
}

pub(crate) struct Token {
    /// `Bearer <token>`.
    pub(crate) authorization: String,
    pub(crate) alg: Algorithm,
    pub(crate) expect: Expect,
}

impl Token {
    pub(crate) fn text(&self) -> &str {
        &self.authorization["Bearer ".len()..]
    }
}

/// Mints the tokens and builds the gate for the test issuer's keys (given statically).
pub(crate) fn setup(options: &Options) -> Result<(Gate, Vec<Token>), Box<dyn std::error::Error>> {
    // The test issuer serves its keys on a runtime; the gate gets them as text, and the
    // runtime is gone before the measurement starts.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let issuer = runtime.block_on(TestIssuer::with_algorithms(
        options.algorithms.iter().copied(),
    ))?;

    let profile = IssuerProfile::new(issuer.issuer())
        .audience(issuer.audience())
        .algorithms(options.algorithms.iter().copied())
        .jwks(issuer.jwks());
    let mut builder = Gate::builder().issuer(profile);
    if !options.cache {
        builder = builder.token_cache(TokenCacheSettings::disabled());
    }
    let gate = builder.build()?;

    // Signing is slow for RSA (about a millisecond a token): mint on every core.
    let valid = options.distinct_tokens;
    let total = valid + options.invalid_tokens();
    let minters = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total);
    let algorithms = &options.algorithms;
    let mint = |i: usize| {
        let alg = algorithms[i % algorithms.len()];
        let builder = issuer.token().alg(alg).scope("orders.read");
        let (builder, expect) = match i.checked_sub(valid) {
            None => (builder, Expect::Valid),
            Some(j) if j.is_multiple_of(2) => {
                (builder.tampered(), Expect::Refused("invalid_signature"))
            }
            Some(_) => (builder.expired(), Expect::Refused("token_expired")),
        };
        Token {
            authorization: format!("Bearer {}", builder.sign()),
            alg,
            expect,
        }
    };
    let mut tokens: Vec<(usize, Token)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..minters)
            .map(|m| {
                let mint = &mint;
                scope.spawn(move || {
                    (m..total)
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
    tokens.sort_unstable_by_key(|(i, _)| *i);
    drop(issuer);
    drop(runtime);
    Ok((gate, tokens.into_iter().map(|(_, token)| token).collect()))
}
