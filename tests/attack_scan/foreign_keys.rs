//! Keys the token names or carries, and keys of the other issuer: `jku`, `x5u`, an embedded
//! `jwk` and an `x5c` chain (ATK-08 to ATK-11) are never fetched or trusted, and the counting
//! server they point at gets no connection (checked for every family: see `scan`); a token of
//! one issuer relabelled with the other's name is refused (ATK-24).

use serde_json::{Value, json};
use tokengate::Algorithm;
use tokengate::testing::TestKey;

use tokengate_testkit::b64;

use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::tokens::{hmac_token, json_str, object, set, split3, std_b64, unb64};
use crate::world::{Env, MARK_HMAC, MARK_JKU, MARK_URL, MARK_X5U, RAW_AUDIENCE};

pub static FOREIGN_KEYS: Family = Family {
    tag: "atk08",
    name: "ATK-08..11 foreign keys",
    floor: 26,
};
pub static CROSS_ISSUER: Family = Family {
    tag: "atk24",
    name: "ATK-24 cross-issuer",
    floor: 4,
};

#[test]
fn atk_08_09_10_11_jku_x5u_jwk_x5c() {
    scan(&FOREIGN_KEYS, foreign_keys);
}

#[test]
fn atk_24_cross_issuer_keys() {
    scan(&CROSS_ISSUER, cross_issuer);
}

/// ATK-08 to ATK-11: keys named or embedded by the token (`jku`, `x5u`, `jwk`, `x5c`) are
/// never fetched or trusted.
pub fn foreign_keys(env: &Env, cases: &mut Cases) {
    let claims = String::from_utf8(unb64(split3(&env.valid()).1)).unwrap();
    let real_rs = env.kid("RS256");
    let real_es = env.kid("ES256");
    let jku = env.counting_url(&format!("{MARK_JKU}.json"));
    let x5u = env.counting_url(&format!("{MARK_X5U}.pem"));
    let rsa = &env.attackers.rsa;
    let ec = &env.attackers.ec;
    let forge = |key: &TestKey, header: Value| key.token_raw(&header.to_string(), &claims);
    let mut jwk_rsa = rsa.jwk();
    let mut jwk_ec = ec.jwk();
    let x5c = json!([std_b64(&env.attackers.cert_der)]);
    // `http://<the issuer's host>@<the counting server>/jwks`: the host is the second one.
    let issuer_host = env.issuer.issuer().trim_start_matches("http://");
    let userinfo_jku = format!("http://{issuer_host}@{}/jwks", env.counting.addr);
    let thumb = b64(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &env.attackers.cert_der,
    ));
    let list: Vec<(&str, String, &'static str)> = vec![
        (
            "jku, attacker kid",
            forge(
                rsa,
                json!({"alg":"RS256","typ":"at+jwt","kid":rsa.kid(),"jku":jku}),
            ),
            "unknown_key",
        ),
        (
            "jku, real kid",
            forge(
                rsa,
                json!({"alg":"RS256","typ":"at+jwt","kid":real_rs,"jku":jku}),
            ),
            "invalid_signature",
        ),
        (
            "jku, no kid",
            forge(rsa, json!({"alg":"RS256","typ":"at+jwt","jku":jku})),
            "invalid_signature",
        ),
        (
            "jku with userinfo trick",
            forge(
                rsa,
                json!({"alg": "RS256", "kid": rsa.kid(), "jku": userinfo_jku}),
            ),
            "unknown_key",
        ),
        (
            "jku of the issuer's own key set",
            forge(
                rsa,
                json!({"alg":"RS256","kid":rsa.kid(),"jku":env.issuer.jwks_uri()}),
            ),
            "unknown_key",
        ),
        (
            "x5u, attacker kid",
            forge(
                rsa,
                json!({"alg":"RS256","typ":"at+jwt","kid":rsa.kid(),"x5u":x5u}),
            ),
            "unknown_key",
        ),
        (
            "x5u, real kid",
            forge(
                rsa,
                json!({"alg":"RS256","typ":"at+jwt","kid":real_rs,"x5u":x5u}),
            ),
            "invalid_signature",
        ),
        (
            "embedded RSA jwk, no kid",
            forge(rsa, json!({"alg":"RS256","typ":"at+jwt","jwk":jwk_rsa})),
            "invalid_signature",
        ),
        (
            "embedded RSA jwk, its kid",
            forge(rsa, json!({"alg":"RS256","kid":rsa.kid(),"jwk":jwk_rsa})),
            "unknown_key",
        ),
        (
            "embedded RSA jwk, real kid",
            forge(rsa, json!({"alg":"RS256","kid":real_rs,"jwk":jwk_rsa})),
            "invalid_signature",
        ),
        (
            "embedded EC jwk, no kid",
            forge(ec, json!({"alg":"ES256","typ":"at+jwt","jwk":jwk_ec})),
            "invalid_signature",
        ),
        (
            "embedded EC jwk, its kid",
            forge(ec, json!({"alg":"ES256","kid":ec.kid(),"jwk":jwk_ec})),
            "unknown_key",
        ),
        (
            "embedded EC jwk, real kid",
            forge(ec, json!({"alg":"ES256","kid":real_es,"jwk":jwk_ec})),
            "invalid_signature",
        ),
        (
            "x5c self-signed, real kid",
            env.attackers
                .cert_token(&json!({"alg":"ES256","kid":real_es,"x5c":x5c}), &claims),
            "invalid_signature",
        ),
        (
            "x5c self-signed, no kid",
            env.attackers
                .cert_token(&json!({"alg":"ES256","x5c":x5c}), &claims),
            "invalid_signature",
        ),
        (
            "x5c and x5t#S256, no kid",
            env.attackers
                .cert_token(&json!({"alg":"ES256","x5c":x5c,"x5t#S256":thumb}), &claims),
            "invalid_signature",
        ),
        (
            "x5t#S256 only, no kid",
            env.attackers
                .cert_token(&json!({"alg":"ES256","x5t#S256":thumb}), &claims),
            "invalid_signature",
        ),
        (
            "jku, x5u, jwk and x5c at once",
            forge(
                rsa,
                json!({"alg": "RS256", "kid": rsa.kid(), "jku": jku, "x5u": x5u,
                       "jwk": jwk_rsa, "x5c": x5c}),
            ),
            "unknown_key",
        ),
        (
            "jku with alg none",
            format!(
                "{}.{}.",
                b64(json!({"alg":"none","jku":jku}).to_string()),
                b64(&claims)
            ),
            "unsupported_algorithm",
        ),
        (
            "jku with HS256",
            hmac_token(
                "HS256",
                MARK_HMAC.as_bytes(),
                &json!({"alg":"HS256","jku":jku}),
                &b64(&claims),
            ),
            "unsupported_algorithm",
        ),
        (
            "real key, attacker kid, jku",
            env.tb().header("kid", rsa.kid()).header("jku", &jku).sign(),
            "unknown_key",
        ),
        (
            "real key, attacker kid, x5u",
            env.tb().header("kid", rsa.kid()).header("x5u", &x5u).sign(),
            "unknown_key",
        ),
        (
            "iss is the counting server",
            env.tb().claim("iss", env.counting_url("")).sign(),
            "untrusted_issuer",
        ),
        (
            "iss is the counting server, with jku",
            env.tb()
                .claim("iss", env.counting_url(&format!("iss-{MARK_URL}")))
                .header("jku", &jku)
                .sign(),
            "untrusted_issuer",
        ),
    ];
    jwk_rsa["jku"] = json!(jku);
    jwk_rsa["x5u"] = json!(x5u);
    jwk_ec["x5u"] = json!(x5u);
    let mut list = list;
    list.push((
        "embedded jwk with jku and x5u members, no kid",
        forge(rsa, json!({"alg":"RS256","jwk":jwk_rsa})),
        "invalid_signature",
    ));
    list.push((
        "embedded EC jwk with x5u member, attacker kid",
        forge(ec, json!({"alg":"ES256","kid":ec.kid(),"jwk":jwk_ec})),
        "unknown_key",
    ));
    for (name, token, code) in list {
        cases.bearer(name, &token, code);
    }
}

/// ATK-24: a token of one issuer relabelled with the other's `iss` (and `kid`): keys are
/// scoped per issuer.
pub fn cross_issuer(env: &Env, cases: &mut Cases) {
    let real_rs = env.kid("RS256");
    let raw_iss = env.raw.issuer();
    cases.bearer(
        "test issuer's RS256 key, iss of the raw issuer",
        &env.tb()
            .claim("iss", &raw_iss)
            .audience(RAW_AUDIENCE)
            .sign(),
        "unknown_key",
    );
    cases.bearer(
        "test issuer's PS256 key, iss of the raw issuer",
        &env.tb()
            .alg(Algorithm::PS256)
            .claim("iss", &raw_iss)
            .audience(RAW_AUDIENCE)
            .sign(),
        "unsupported_algorithm",
    );
    cases.bearer(
        "test issuer's ES256 key, iss of the raw issuer (which takes ES256)",
        &env.tb()
            .alg(Algorithm::ES256)
            .claim("iss", &raw_iss)
            .audience(RAW_AUDIENCE)
            .sign(),
        "unknown_key",
    );
    let mut claims = env.raw_claims();
    set(&mut claims, "iss", json_str(env.issuer.issuer()));
    set(&mut claims, "aud", json_str(env.issuer.audience()));
    let header = env.raw_header();
    cases.bearer(
        "raw issuer's key, iss of the test issuer",
        &env.raw_token(&header, &object(&claims)),
        "unknown_key",
    );
    let header = format!(
        r#"{{"alg":"RS256","typ":"at+jwt","kid":{}}}"#,
        json_str(&real_rs)
    );
    cases.bearer(
        "raw issuer's key, iss and kid of the test issuer",
        &env.raw_token(&header, &object(&claims)),
        "invalid_signature",
    );
    // The raw issuer's ES256 key under the test issuer's name, then also its ES256 kid.
    let ec = &env.raw_ec[0];
    for (name, kid, code) in [
        (
            "raw issuer's ES256 key, iss of the test issuer",
            ec.kid.clone(),
            "unknown_key",
        ),
        (
            "raw issuer's ES256 key, iss and kid of the test issuer",
            env.kid("ES256"),
            "invalid_signature",
        ),
    ] {
        let header = format!(
            r#"{{"alg":"ES256","typ":"at+jwt","kid":{}}}"#,
            json_str(&kid)
        );
        let input = format!("{}.{}", b64(header), b64(object(&claims)));
        let token = format!("{input}.{}", b64(ec.sign(&input, false)));
        cases.bearer(name, &token, code);
    }
}
