//! The tokens to send, what each must get, and the gate that judges them.

use std::thread;

use tokengate::testing::TestIssuer;
use tokengate::{Algorithm, Gate, IssuerProfile, TokenCacheSettings};

use super::Plan;
use crate::fail::Failure;

/// The answer a token must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Valid,
    /// Refused with this code.
    Refused(&'static str),
}

pub struct Token {
    pub text: String,
    pub alg: Algorithm,
    pub expect: Expect,
}

/// Mints the tokens and builds a gate holding the test issuer's keys as configured text.
pub fn setup(plan: &Plan) -> Result<(Gate, Vec<Token>), Failure> {
    let failed = |what: &str, error: &dyn std::fmt::Display| {
        Failure::undecided(format!("{what} failed: {error}"))
    };
    // The issuer's server needs a runtime; it is gone before the measurement starts.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed("starting a runtime", &e))?;
    let issuer = runtime
        .block_on(TestIssuer::with_algorithms(plan.algorithms.iter().copied()))
        .map_err(|e| failed("starting the test issuer", &e))?;
    let profile = IssuerProfile::new(issuer.issuer())
        .audience(issuer.audience())
        .algorithms(plan.algorithms.iter().copied())
        .jwks(issuer.jwks());
    let mut builder = Gate::builder().issuer(profile);
    if !plan.cache {
        builder = builder.token_cache(TokenCacheSettings::disabled());
    }
    let gate = builder
        .build()
        .map_err(|e| failed("building the gate", &e))?;

    // RSA signing takes about a millisecond: mint on every core.
    let valid = plan.distinct_tokens;
    let total = valid + plan.invalid_tokens;
    let minters = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total);
    let mint = |i: usize| {
        let alg = plan.algorithms[i % plan.algorithms.len()];
        let builder = issuer.token().alg(alg).scope("orders.read");
        let (builder, expect) = match i.checked_sub(valid) {
            None => (builder, Expect::Valid),
            Some(j) if j.is_multiple_of(2) => {
                (builder.tampered(), Expect::Refused("invalid_signature"))
            }
            Some(_) => (builder.expired(), Expect::Refused("token_expired")),
        };
        Token {
            text: builder.sign(),
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
            .filter_map(|handle| handle.join().ok())
            .flatten()
            .collect()
    });
    if tokens.len() != total {
        return Err(Failure::undecided("minting the tokens failed"));
    }
    tokens.sort_unstable_by_key(|(i, _)| *i);
    Ok((gate, tokens.into_iter().map(|(_, token)| token).collect()))
}
