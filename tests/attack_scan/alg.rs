//! `alg` attacks: `none` in every casing and spelling (ATK-01, ATK-02), `alg` missing, of the
//! wrong type or not an allowed algorithm (ATK-03), and a token naming a key of another
//! algorithm or no key at all (ATK-05, ATK-44).

use serde_json::{Value, json};
use tokengate::Algorithm;

use tokengate_testkit::b64;

use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::tokens::{json_str, split3, with_signature};
use crate::world::Env;

pub static ALG_NONE: Family = Family {
    tag: "atk01",
    name: "ATK-01/02 alg none",
    floor: 64,
};
pub static ALG_TYPE: Family = Family {
    tag: "atk03",
    name: "ATK-03 alg type",
    floor: 26,
};
pub static ALG_KEY: Family = Family {
    tag: "atk05",
    name: "ATK-05/44 alg vs key",
    floor: 25,
};

#[test]
fn atk_01_02_alg_none() {
    scan(&ALG_NONE, alg_none);
}

#[test]
fn atk_03_alg_type() {
    scan(&ALG_TYPE, alg_type);
}

#[test]
fn atk_05_44_alg_key_mismatch() {
    scan(&ALG_KEY, alg_key_mismatch);
}

/// ATK-01, ATK-02: `none` in every casing and spelling, with any signature.
pub fn alg_none(env: &Env, cases: &mut Cases) {
    let real_sig = split3(&env.valid()).2.to_owned();
    for mask in 0..16u8 {
        let casing: String = "none"
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if mask & (1 << i) != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        for (sig_name, sig) in [
            ("empty signature", ""),
            ("junk signature", "junk-signature"),
            ("a real RS256 signature", real_sig.as_str()),
        ] {
            let token = with_signature(&env.tb().header("alg", &casing).sign(), sig);
            cases.bearer(
                format!("alg {casing:?}, {sig_name}"),
                &token,
                "unsupported_algorithm",
            );
        }
    }
    let payload = split3(&env.valid()).1.to_owned();
    for (name, header) in [
        ("none without kid or typ", r#"{"alg":"none"}"#.to_owned()),
        (
            "none with a trailing space",
            r#"{"alg":"none ","typ":"at+jwt"}"#.to_owned(),
        ),
        (
            "none with a leading space",
            r#"{"alg":" none","typ":"at+jwt"}"#.to_owned(),
        ),
        (
            "none as a JSON escape",
            r#"{"alg":"n\u006fne","typ":"at+jwt"}"#.to_owned(),
        ),
        (
            "none fully escaped",
            r#"{"alg":"\u006e\u006f\u006e\u0065"}"#.to_owned(),
        ),
        ("none with a NUL", r#"{"alg":"none\u0000"}"#.to_owned()),
        (
            "none with a Cyrillic o",
            "{\"alg\":\"n\u{43e}ne\"}".to_owned(),
        ),
        (
            "none, kid of the real key",
            format!(r#"{{"alg":"none","kid":{}}}"#, json_str(env.raw_key.kid())),
        ),
    ] {
        for (sig_name, sig) in [("empty signature", ""), ("junk signature", "junk")] {
            let token = format!("{}.{payload}.{sig}", b64(&header));
            cases.bearer(
                format!("{name}, {sig_name}"),
                &token,
                "unsupported_algorithm",
            );
        }
    }
}

/// ATK-03: `alg` missing or of the wrong type; other names that are not allowed algorithms.
pub fn alg_type(env: &Env, cases: &mut Cases) {
    for (name, value) in [
        ("alg null", Value::Null),
        ("alg a number", json!(256)),
        ("alg true", json!(true)),
        ("alg an array", json!(["RS256"])),
        ("alg an object", json!({"alg": "RS256"})),
    ] {
        cases.bearer(
            name,
            &env.tb().header("alg", value).sign(),
            "malformed_header",
        );
    }
    cases.bearer(
        "alg missing",
        &env.tb().without_header("alg").sign(),
        "malformed_header",
    );
    for alg in [
        "",
        "rs256",
        "Rs256",
        "RS256 ",
        " RS256",
        "RS1",
        "RS",
        "ES256K",
        "ES256k",
        "RSA-OAEP",
        "RSA1_5",
        "dir",
        "A256GCMKW",
        "ECDH-ES",
        "Ed25519",
        "ED25519",
        "eddsa",
        "EDDSA",
        "PS256\u{0}",
        "HS256",
    ] {
        cases.bearer(
            format!("alg {alg:?} (real RS256 signature)"),
            &env.tb().header("alg", alg).sign(),
            "unsupported_algorithm",
        );
    }
}

/// ATK-05, ATK-44: a token naming a key of another algorithm; no `kid` where the issuer
/// does not have exactly one key for the algorithm.
pub fn alg_key_mismatch(env: &Env, cases: &mut Cases) {
    for (key_alg, claimed) in [
        (
            Algorithm::RS256,
            ["PS256", "RS384", "RS512", "PS512", "ES256", "EdDSA"].as_slice(),
        ),
        (Algorithm::PS256, &["RS256", "PS384", "ES384"]),
        (Algorithm::ES256, &["ES384", "ES512", "RS256", "EdDSA"]),
        (Algorithm::ES384, &["ES256", "ES512", "PS256"]),
        (Algorithm::EdDSA, &["ES256", "RS256"]),
    ] {
        let kid = env.kid(key_alg.name());
        for alg in claimed {
            let token = env.tb().alg(key_alg).header("alg", alg).sign();
            cases.bearer(
                format!("alg {alg} with the {kid} key"),
                &token,
                "key_algorithm_mismatch",
            );
        }
    }
    for alg in ["RS384", "RS512", "PS384", "PS512", "ES512"] {
        let token = env.tb().without_header("kid").header("alg", alg).sign();
        cases.bearer(
            format!("no kid, alg {alg} (no such key)"),
            &token,
            "missing_key_id",
        );
    }
    let token = env.tb().without_header("kid").tampered().sign();
    cases.bearer(
        "no kid, the one RS256 key, bad signature",
        &token,
        "invalid_signature",
    );
    let token = env
        .tb()
        .alg(Algorithm::ES256)
        .without_header("kid")
        .header("alg", "ES384")
        .sign();
    cases.bearer(
        "no kid, ES256 signature labelled ES384",
        &token,
        "invalid_signature",
    );
}
