//! The attack suite: one test per case of the requirements checklist (section C, ATK-01 to
//! ATK-45) that concerns the core validator, [`Gate::validate`](tokengate::Gate::validate).
//!
//! Every refusal is asserted as the exact [`Rejection`], never only `is_err()`, and every input
//! variant the checklist lists is tried (the assertion message names the variant). Where a
//! refused token has a "good sibling" (the same token without the attack, or the other side of a
//! boundary), that sibling is asserted to validate, so no refusal can come from a broken fixture.
//! The siblings are collected per test in `atk_NN_good()` functions, and
//! `every_accepted_variant_validates` re-checks all of them, including that each one is refused
//! once its signature is damaged. A variant is meant to reach the check it names: where an
//! earlier check refuses it (an HMAC `alg` never gets to a key), the test says so.
//!
//! One module per family of attacks, roughly in checklist order: [`header`] (`alg`, `crit`),
//! [`key_confusion`], [`kid`], [`header_keys`] (`jku`, `x5u`, `jwk`, `x5c`), [`signatures`],
//! [`time_claims`], [`audience_issuer`], [`entra`], [`token_format`], [`encoding`],
//! [`token_kinds`], [`key_bound`], [`published_keys`]; [`harness`] and [`key_material`] hold
//! what they share.
//!
//! Out of scope here: ATK-36/37 beyond a bearer presentation (DPoP, mTLS), ATK-38 (JWKS
//! fetching) and ATK-39/40 (the HTTP layer). ATK-23 and ATK-34 run through the Entra preset
//! against `testing::TestEntra`; ATK-43 (discovery) is in `tests/key_fetch`.

mod audience_issuer;
mod encoding;
mod entra;
mod harness;
mod header;
mod header_keys;
mod key_bound;
mod key_confusion;
mod key_material;
mod kid;
mod published_keys;
mod signatures;
mod time_claims;
mod token_format;
mod token_kinds;

use std::panic::{AssertUnwindSafe, catch_unwind};

use tokengate::Rejection;

use tokengate_testkit::{self as common, valid_claims};

use harness::{
    Good, assert_rejection, code, expect, gate, missing, signature, validate, with_signature,
    without,
};

/// Every accepted sibling of the suite really validates (and hands out exactly its payload),
/// and the same token with one signature bit flipped is refused with `invalid_signature`: the
/// boundary tests cannot pass because a gate accepts or refuses everything.
#[test]
fn every_accepted_variant_validates() {
    let groups = [
        header::atk_01_good(),
        header::atk_02_good(),
        header::atk_03_good(),
        key_confusion::atk_04_good(),
        key_confusion::atk_05_good(),
        key_confusion::atk_06_good(),
        kid::atk_07_good(),
        header_keys::atk_08_good(),
        header::atk_12_good(),
        signatures::atk_13_good(),
        signatures::atk_14_good(),
        signatures::atk_16_good(),
        signatures::atk_17_good(),
        time_claims::atk_18_good(),
        time_claims::atk_19_good(),
        time_claims::atk_20_good(),
        audience_issuer::atk_21_good(),
        audience_issuer::atk_22_good(),
        audience_issuer::atk_24_good(),
        token_format::atk_25_good(),
        token_format::atk_29_good(),
        encoding::atk_30_good(),
        encoding::atk_31_good(),
        token_kinds::atk_32_good(),
        token_kinds::atk_35_good(),
        published_keys::atk_41_good(),
        published_keys::atk_42_good(),
        kid::atk_44_good(),
        audience_issuer::atk_45_good(),
    ];
    let mut count = 0;
    for good in groups.iter().flatten() {
        good.check();
        let mut sig = signature(&good.token);
        sig[0] ^= 0x01;
        let damaged = with_signature(&good.token, &sig);
        assert_rejection(
            validate(&good.gate, &damaged, good.now),
            &Rejection::InvalidSignature,
            &format!("{}, signature damaged", good.variant),
        );
        count += 1;
    }
    assert!(count >= 80, "only {count} accepted variants");
}

/// The assertion helpers fail when they should, so no test here can pass vacuously.
#[test]
fn assertion_helpers_can_fail() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let good = key.token(&valid_claims());
    let bad = with_signature(&good, b"");
    assert_eq!(code(&gate, &good), "accepted");
    assert_eq!(code(&gate, &bad), "invalid_signature");
    let fails = |f: &dyn Fn()| catch_unwind(AssertUnwindSafe(f)).is_err();
    assert!(fails(&|| expect(
        &gate,
        &good,
        &Rejection::InvalidSignature,
        "accepted token"
    )));
    assert!(fails(&|| expect(
        &gate,
        &bad,
        &Rejection::MalformedToken,
        "wrong code"
    )));
    assert!(fails(&|| expect(
        &gate,
        &good.replace("eyJ", "eyK"),
        &missing("exp"),
        "other claim"
    )));
    assert!(fails(&|| {
        Good::new("refused token", &gate, bad.clone()).check();
    }));
    assert!(!fails(&|| expect(
        &gate,
        &bad,
        &Rejection::InvalidSignature,
        "right code"
    )));
    assert!(!fails(&|| {
        Good::new("accepted token", &gate, good.clone()).check();
    }));
    // MissingClaim compares its claim name, not only its code.
    assert!(fails(&|| {
        expect(
            &gate,
            &key.token(&without(valid_claims(), "aud")),
            &missing("exp"),
            "claim name",
        );
    }));
}
