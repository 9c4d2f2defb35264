//! Full validation through the public API: one `Gate` with fixed in-memory key sets (the
//! documentation example's ES256 key and real Entra ID RSA key sets) and the default token
//! cache. Each input is validated at the clock of each signed seed token (when that token is
//! valid), twice, so that an accepted token is also answered from the cache.
//!
//! Invariants: no panic; validation with fixed keys never waits; a token is accepted only if
//! its header and payload are those of a token the fixed keys really signed; the cache gives
//! the same answer as the full pipeline.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tokengate::Gate;
use tokengate_fuzz::{SIGNED, at, outcome, ready, signed_gate, signing_input};

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let gate = signed_gate();
    // The fixture is what makes the invariant worth checking: each signed token is accepted
    // at its own clock.
    for signed in &SIGNED {
        let accepted = ready(gate.validate_at(signed.token(), at(signed.clock)));
        assert!(
            accepted.is_ok(),
            "seed token {} refused: {:?}",
            signed.name,
            accepted.err()
        );
    }
    gate
});

static KNOWN: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    SIGNED
        .iter()
        .map(|signed| signing_input(signed.token()).expect("a compact JWS"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    // Tokens come from HTTP header values, which the layer hands over as text only.
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    for signed in &SIGNED {
        let now = at(signed.clock);
        let first = ready(GATE.validate_at(token, now));
        let again = ready(GATE.validate_at(token, now));
        assert_eq!(
            outcome(&first),
            outcome(&again),
            "the cache changed the answer"
        );
        if first.is_ok() {
            let input = signing_input(token).expect("an accepted token has a signature");
            assert!(
                KNOWN.contains(&input),
                "accepted a token that no fixed key signed"
            );
        }
    }
});
