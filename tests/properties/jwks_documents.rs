//! 5. Arbitrary JWKS documents.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};
use tokengate::{Algorithm, Gate, IssuerProfile};

use tokengate_testkit::{AUDIENCE, ISSUER, b64, ready, rs256};

use super::generators::arbitrary_json;
use super::support::{DOCUMENTED, config, es256, good_tokens};

/// A JWK-like object: a real public key with members replaced or removed, or one assembled
/// from plausible and arbitrary members.
fn jwk_like() -> impl Strategy<Value = Value> {
    let real = prop_oneof![
        Just(rs256().jwk()),
        Just(rs256().jwk_without_alg()),
        Just(es256().jwk()),
        Just(es256().jwk_without_alg()),
    ];
    let member = proptest::sample::select(vec![
        "kty", "alg", "kid", "use", "key_ops", "n", "e", "crv", "x", "y", "d", "k", "p", "oth",
    ]);
    let edits = proptest::collection::vec((member, proptest::option::of(member_value())), 0..4);
    let edited = (real, edits).prop_map(|(mut jwk, edits)| {
        let object = jwk.as_object_mut().unwrap();
        for (name, value) in edits {
            match value {
                Some(value) => object.insert(name.to_owned(), value),
                None => object.remove(name),
            };
        }
        jwk
    });
    let assembled = proptest::collection::btree_map(
        proptest::sample::select(vec![
            "kty", "alg", "kid", "use", "key_ops", "n", "e", "crv", "x", "y", "d", "k",
        ]),
        member_value(),
        0..9,
    )
    .prop_map(|m: BTreeMap<&str, Value>| {
        Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    });
    prop_oneof![4 => edited, 4 => assembled, 1 => arbitrary_json()]
}

fn member_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "RSA", "EC", "OKP", "oct", "", "rsa", "RS256", "ES256", "PS256", "EdDSA", "HS256",
            "none", "SHA256", "sig", "enc", "P-256", "P-384", "P-521", "Ed25519", "X25519",
            "secp256k1", "AQAB", "AQAB=", "AAEAAQ", "AQ", "Aw", "AA", "+/+/",
        ])
        .prop_map(Value::from),
        3 => proptest::collection::vec(any::<u8>(), 0..600)
            .prop_map(|b| Value::from(b64(b))),
        1 => proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|b| Value::from(base64_simd::STANDARD.encode_to_string(b))),
        1 => proptest::collection::vec(
            proptest::sample::select(vec!["verify", "sign", "signing", "encrypt", "verify"]),
            0..4,
        )
        .prop_map(|v| json!(v)),
        1 => arbitrary_json(),
    ]
}

pub(crate) fn jwks_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(jwk_like(), 0..5)
            .prop_map(|keys| json!({ "keys": keys }).to_string()),
        1 => arbitrary_json().prop_map(|v| v.to_string()),
        1 => arbitrary_json().prop_map(|v| json!({ "keys": v }).to_string()),
        1 => proptest::collection::vec(any::<u8>(), 0..400)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => proptest::collection::vec(jwk_like(), 1..3)
            .prop_map(|keys| format!(r#"{{"keys":{},"keys":[]}}"#, json!(keys))),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    /// Any JSON (or not) as a JWKS, under any algorithm allowlist: building never panics, and a
    /// gate that builds validates (or refuses, with a documented code) without panicking.
    #[test]
    fn arbitrary_jwks_never_panics(
        jwks in jwks_text(),
        algorithms in proptest::option::of(
            proptest::sample::subsequence(Algorithm::ALL.to_vec(), 0..=10)
        ),
    ) {
        let mut profile = IssuerProfile::new(ISSUER).audience(AUDIENCE).jwks(jwks.as_str());
        if let Some(algorithms) = algorithms {
            profile = profile.algorithms(algorithms);
        }
        if let Ok(gate) = Gate::builder().issuer(profile).build() {
            // A token verifies only with its own key: the set must hold that key's material.
            let material = [
                rs256().jwk()["n"].as_str().unwrap().to_owned(),
                es256().jwk()["x"].as_str().unwrap().to_owned(),
            ];
            for (token, material) in good_tokens().iter().zip(material) {
                match ready(gate.validate(token)) {
                    Ok(_) => prop_assert!(jwks.contains(&material), "verified with foreign keys"),
                    Err(rejection) => prop_assert!(DOCUMENTED.contains(&rejection.code())),
                }
            }
        }
    }
}
