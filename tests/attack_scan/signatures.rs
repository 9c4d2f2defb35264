//! ATK-13 to ATK-17: empty, truncated, extended, zeroed, re-used, transplanted and
//! bit-flipped signatures of every algorithm, ECDSA's special values ("psychic signatures")
//! and the DER encoding, and payloads changed under the original signature.

use tokengate::Algorithm;

use tokengate_testkit::b64;

use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::tokens::{split3, unb64, with_signature};
use crate::world::{Env, MARK_SUB};

pub static SIGNATURES: Family = Family {
    tag: "atk13",
    name: "ATK-13..17 signatures",
    floor: 138,
};

#[test]
fn atk_13_14_15_16_17_signatures() {
    scan(&SIGNATURES, signatures);
}

/// ATK-13 to ATK-17: empty, truncated, extended, zeroed, re-used, transplanted and
/// bit-flipped signatures, and ECDSA's special values.
pub fn signatures(env: &Env, cases: &mut Cases) {
    let algs = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
    let bad = "invalid_signature";
    for alg in algs {
        let token = env.valid_alg(alg);
        let other = env.valid_alg(alg);
        let (h, p, s) = split3(&token);
        let sig = unb64(s);
        let len = sig.len();
        let name = |what: &str| format!("{alg}: {what}");
        let mut variants: Vec<(String, Vec<u8>)> = vec![
            (name("empty"), Vec::new()),
            (name("one byte"), sig[..1].to_vec()),
            (name("half"), sig[..len / 2].to_vec()),
            (name("one byte short"), sig[..len - 1].to_vec()),
            (name("one byte long"), [&sig[..], &[0]].concat()),
            (name("doubled"), [&sig[..], &sig[..]].concat()),
            (name("all zero"), vec![0; len]),
            (name("all ones"), vec![0xff; len]),
            (name("1025 bytes (over the largest key)"), vec![7; 1025]),
            (
                name("re-used from another token of the same key"),
                unb64(split3(&other).2),
            ),
        ];
        for bit in 0..8 {
            let mut flipped = sig.clone();
            flipped[0] ^= 1 << bit;
            variants.push((
                name(&format!("bit {bit} of the first byte flipped")),
                flipped,
            ));
        }
        for (at, label) in [(len / 2, "middle"), (len - 1, "last")] {
            let mut flipped = sig.clone();
            flipped[at] ^= 0x80;
            variants.push((
                name(&format!("top bit of the {label} byte flipped")),
                flipped,
            ));
        }
        if matches!(alg, Algorithm::ES256 | Algorithm::ES384) {
            let half = len / 2;
            // The group orders of P-256 and P-384.
            let order = if alg == Algorithm::ES256 {
                "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
            } else {
                concat!(
                    "ffffffffffffffffffffffffffffffffffffffffffffffff",
                    "c7634d81f4372ddf581a0db248b0a77aecec196accc52973"
                )
            };
            let n: Vec<u8> = (0..order.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&order[i..i + 2], 16).unwrap())
                .collect();
            let mut zero_one = vec![0; len];
            zero_one[len - 1] = 1;
            let (r, s_) = sig.split_at(half);
            variants.extend([
                (name("r = n, s = n"), [&n[..], &n[..]].concat()),
                (name("r = 0, s = 1"), zero_one),
                (name("r = n, real s"), [&n[..], s_].concat()),
                (name("s and r swapped"), [s_, r].concat()),
            ]);
        }
        for (what, bytes) in variants {
            cases.bearer(what, &with_signature(&token, &b64(bytes)), bad);
        }
        // One character removed from a segment whose length is 2 mod 4: never base64url.
        if s.len() % 4 == 2 {
            cases.bearer(
                name("one character removed"),
                &with_signature(&token, &s[..s.len() - 1]),
                "malformed_token",
            );
        }
        // Transplants (ATK-16).
        let (_, op, _) = split3(&other);
        cases.bearer(
            name("A's header, B's payload, A's signature"),
            &format!("{h}.{op}.{s}"),
            bad,
        );
        // A payload byte flipped inside a planted value, the original signature (ATK-17).
        let payload = unb64(p);
        let at = payload
            .windows(MARK_SUB.len())
            .position(|w| w == MARK_SUB.as_bytes())
            .unwrap();
        for offset in [0, 4, MARK_SUB.len() - 1] {
            let mut flipped = payload.clone();
            flipped[at + offset] ^= 1;
            cases.bearer(
                name(&format!("payload byte {offset} of sub flipped")),
                &format!("{h}.{}.{s}", b64(&flipped)),
                bad,
            );
        }
    }
    let rs = env.valid_alg(Algorithm::RS256);
    let es = env.valid_alg(Algorithm::ES256);
    let ed = env.valid_alg(Algorithm::EdDSA);
    cases.bearer(
        "RS256 token with an ES256 token's signature",
        &with_signature(&rs, split3(&es).2),
        bad,
    );
    cases.bearer(
        "ES256 token with an EdDSA token's signature",
        &with_signature(&es, split3(&ed).2),
        bad,
    );
    cases.bearer(
        "EdDSA token with an RS256 token's signature",
        &with_signature(&ed, split3(&rs).2),
        bad,
    );
    // ATK-14: an ASN.1 DER signature (as X.509 and most libraries write ECDSA) by the real key
    // over the same input, where JWS takes the fixed `r || s`. The raw issuer's ECDSA keys
    // sign in both formats; their fixed-format tokens pass in the positive control.
    for key in &env.raw_ec {
        let token = env.raw_ec_token(key, true);
        let (h, p, s) = split3(&token);
        assert!(
            key.verifies_der(&format!("{h}.{p}"), &unb64(s)),
            "a valid DER signature"
        );
        cases.bearer(
            format!(
                "raw issuer {}: DER-encoded signature of the real key",
                key.alg
            ),
            &token,
            bad,
        );
    }
    cases.bearer(
        "raw issuer, empty signature",
        &with_signature(&env.raw_valid(), ""),
        bad,
    );
}
