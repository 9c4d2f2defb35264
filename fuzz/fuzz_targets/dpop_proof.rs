//! DPoP proofs (RFC 9449 §4.3) as the gate checks them, bound to the key in the proof's own
//! `jwk` so that inputs reach the key parsing and the signature check.
//!
//! Input: the proof text (UTF-8).
//!
//! Invariants: no panic; nothing is accepted, since no input carries a signature made with a
//! private key the fuzzer could know (the seeds' signatures are altered).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokengate::fuzzing::check_dpop_proof;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = std::str::from_utf8(data) {
        assert!(
            check_dpop_proof(proof).is_err(),
            "a proof without a real signature was accepted"
        );
    }
});
