//! Key-bound tokens (ATK-36, ATK-37): DPoP- and mTLS-bound tokens presented as bearer tokens
//! to `Gate::validate`.

use serde_json::json;
use tokengate::Rejection;

use tokengate_testkit::{self as common, valid_claims};

use crate::harness::{expect, gate, validate, with};

/// ATK-36 (first case) and ATK-37: a key-bound token (DPoP `cnf.jkt`, mTLS `cnf.x5t#S256`)
/// presented as a plain bearer token: any `cnf` refuses it, whatever its value (the proofs
/// themselves are tested through the layer in tests/dpop); without `cnf` the same token is
/// accepted.
#[test]
fn atk_36_37_key_bound_token_as_bearer() {
    let key = common::rs256();
    let gate = gate(&[key]);
    assert!(validate(&gate, &key.token(&valid_claims()), None).is_ok());
    for cnf in [
        json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({}),
        json!(null),
    ] {
        let token = key.token(&with(valid_claims(), "cnf", cnf.clone()));
        expect(
            &gate,
            &token,
            &Rejection::SenderConstrainedToken,
            &format!("cnf {cnf}"),
        );
    }
}
