//! Key ids (ATK-07, ATK-44): hostile `kid` values are opaque and compared exactly, and a token
//! without one must not make the validator try every key.

use serde_json::json;
use tokengate::{Algorithm, Gate, Rejection};

use tokengate_testkit::{self as common, TestKey, valid_claims};

use crate::harness::{Good, check_all, expect, gate, profile, rs256_b};

pub(crate) fn atk_07_good() -> Vec<Good> {
    let key = common::rs256();
    vec![Good::new(
        "the real kid",
        &gate(&[key]),
        key.token(&valid_claims()),
    )]
}

/// ATK-07: hostile `kid` values are opaque strings compared exactly (RFC 7515 §4.1.4, RFC 8725
/// §3.10). The tokens are signed by the issuer's real key, so a lookalike that selected it
/// would be accepted: `unknown_key` proves it did not.
#[test]
fn atk_07_hostile_kid() {
    let key = common::rs256();
    let gate = gate(&[key]);
    check_all(&atk_07_good());
    let token_with_kid = |kid: &str| {
        key.token_with_header(
            &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
            &valid_claims(),
        )
    };
    let hostile = [
        "../../../../dev/null",
        "/proc/sys/kernel/randomize_va_space",
        "' OR '1'='1",
        "rs256-1' --",
        "$(id)",
        "`id`",
        "%s%s%s%n",
        "http://127.0.0.1/jwks",
        "file:///etc/passwd",
        "\0",
        "rs256-1\0",
        "rs256-1\n",
        "\u{1b}[31m",
        // Lookalikes of the real kid "rs256-1".
        "RS256-1",
        "rs256-1 ",
        " rs256-1",
        "rs256_1",
        "rs256\u{2010}1",
        "r\u{0455}256-1",
        "rs256-\u{ff11}",
        "rs256-1\u{200b}",
        "",
    ];
    for kid in hostile {
        expect(
            &gate,
            &token_with_kid(kid),
            &Rejection::UnknownKey,
            &format!("kid {kid:?}"),
        );
    }
    let longest = "k".repeat(256);
    expect(
        &gate,
        &token_with_kid(&longest),
        &Rejection::UnknownKey,
        "kid of 256 bytes",
    );
    expect(
        &gate,
        &token_with_kid(&"k".repeat(257)),
        &Rejection::MalformedHeader,
        "kid of 257 bytes",
    );
    let huge = token_with_kid(&"k".repeat(64 * 1024));
    expect(
        &gate,
        &huge,
        &Rejection::TokenTooLarge,
        "kid of 64 KiB, default size cap",
    );
    let roomy = Gate::builder()
        .issuer(profile(&[key]))
        .max_token_size(1 << 20)
        .build()
        .unwrap();
    expect(
        &roomy,
        &huge,
        &Rejection::MalformedHeader,
        "kid of 64 KiB, 1 MiB size cap",
    );
}

pub(crate) fn atk_44_good() -> Vec<Good> {
    let rsa = common::rs256();
    let es256 = common::key_for(Algorithm::ES256);
    let no_kid = |key: &TestKey| {
        key.token_with_header(
            &json!({"alg": key.alg().name(), "typ": "JWT"}),
            &valid_claims(),
        )
    };
    let one = gate(&[rsa]);
    let mixed = gate(&[rsa, es256]);
    let two = gate(&[rsa, rs256_b()]);
    vec![
        Good::new("no kid, exactly one key", &one, no_kid(rsa)),
        Good::new("no kid, one RS256 key among others", &mixed, no_kid(rsa)),
        Good::new("no kid, one ES256 key among others", &mixed, no_kid(es256)),
        Good::new(
            "kid given, two RS256 keys",
            &two,
            rsa.token(&valid_claims()),
        ),
        Good::new(
            "second key by kid, two RS256 keys",
            &two,
            rs256_b().token(&valid_claims()),
        ),
    ]
}

/// ATK-44: a token without `kid` when the issuer has several keys for its algorithm
/// (ENTRA-22: no trying every key).
#[test]
fn atk_44_missing_kid() {
    check_all(&atk_44_good());
    let rsa = common::rs256();
    let no_kid = json!({"alg": "RS256", "typ": "JWT"});
    let two = gate(&[rsa, rs256_b()]);
    for key in [rsa, rs256_b()] {
        expect(
            &two,
            &key.token_with_header(&no_kid, &valid_claims()),
            &Rejection::MissingKeyId,
            &format!("no kid, two RS256 keys, signed by {}", key.kid()),
        );
    }
    let three = gate(&[rsa, rs256_b(), common::key_for(Algorithm::ES256)]);
    expect(
        &three,
        &rsa.token_with_header(&no_kid, &valid_claims()),
        &Rejection::MissingKeyId,
        "no kid, two RS256 keys and an ES256 key",
    );
    // The only key is bound to another algorithm.
    let one = gate(&[rsa]);
    let ps256 = common::key_for(Algorithm::PS256);
    expect(
        &one,
        &ps256.token_with_header(&json!({"alg": "PS256", "typ": "JWT"}), &valid_claims()),
        &Rejection::KeyAlgorithmMismatch,
        "no kid, PS256 token, the only key is RS256",
    );
}
