//! The claims that say whom a token is for, who issued it and when it is valid: audience
//! confusion (ATK-21, ATK-45), issuer confusion (ATK-22) and lifetimes beyond the leeway
//! (ATK-18 to ATK-20), in tokens signed with the real key.

use serde_json::json;

use tokengate_testkit::now;

use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::world::{Env, LEEWAY, MAX_NUMERIC_DATE, RAW_AUDIENCE};

pub static AUDIENCE: Family = Family {
    tag: "atk21",
    name: "ATK-21/45 audience",
    floor: 17,
};
pub static ISSUER: Family = Family {
    tag: "atk22",
    name: "ATK-22 issuer",
    floor: 16,
};
pub static LIFETIMES: Family = Family {
    tag: "atk18",
    name: "ATK-18..20 lifetime",
    floor: 13,
};

#[test]
fn atk_21_45_audience() {
    scan(&AUDIENCE, audience);
}

#[test]
fn atk_22_issuer() {
    scan(&ISSUER, issuer);
}

#[test]
fn atk_18_19_20_lifetimes() {
    scan(&LIFETIMES, lifetimes);
}

/// ATK-21, ATK-45: audience confusion.
pub fn audience(env: &Env, cases: &mut Cases) {
    let ours = env.issuer.audience();
    cases.bearer(
        "aud missing",
        &env.tb().without_claim("aud").sign(),
        "missing_claim",
    );
    for (name, aud, code) in [
        ("aud []", json!([]), "invalid_audience"),
        ("aud [123]", json!([123]), "malformed_claims"),
        ("aud [[ours]]", json!([[ours]]), "malformed_claims"),
        ("aud [null, ours]", json!([null, ours]), "malformed_claims"),
        (
            "aud uppercased",
            json!(ours.to_uppercase()),
            "invalid_audience",
        ),
        (
            "aud with a suffix",
            json!(format!("{ours}.evil")),
            "invalid_audience",
        ),
        (
            "aud with a character more",
            json!(format!("{ours}x")),
            "invalid_audience",
        ),
        (
            "aud a prefix of ours",
            json!(&ours[..ours.len() - 2]),
            "invalid_audience",
        ),
        (
            "aud with a trailing space",
            json!(format!("{ours} ")),
            "invalid_audience",
        ),
        (
            "aud with a leading space",
            json!(format!(" {ours}")),
            "invalid_audience",
        ),
        (
            "aud with a trailing slash",
            json!(format!("{ours}/")),
            "invalid_audience",
        ),
        (
            "aud with a NUL",
            json!(format!("{ours}\u{0}")),
            "invalid_audience",
        ),
        (
            "aud of the other issuer",
            json!(RAW_AUDIENCE),
            "invalid_audience",
        ),
        (
            "aud others only",
            json!(["api://other", ours.to_uppercase()]),
            "invalid_audience",
        ),
        (
            "aud the issuer",
            json!(env.issuer.issuer()),
            "invalid_audience",
        ),
        ("aud the client", json!("test-client"), "invalid_audience"),
    ] {
        cases.bearer(name, &env.tb().claim("aud", aud).sign(), code);
    }
    // ATK-45 (no aud, Keycloak style) for the raw issuer: "raw issuer: aud absent" in the
    // claim matrix.
}

/// ATK-22: issuer confusion.
pub fn issuer(env: &Env, cases: &mut Cases) {
    let iss = env.issuer.issuer();
    let port = iss.rsplit(':').next().unwrap();
    let port_plus: u16 = port.parse::<u16>().unwrap().wrapping_add(1);
    cases.bearer(
        "iss missing",
        &env.tb().without_claim("iss").sign(),
        "missing_claim",
    );
    for (name, value) in [
        ("with a trailing slash", format!("{iss}/")),
        ("uppercase scheme", iss.replace("http://", "HTTP://")),
        ("localhost", format!("http://localhost:{port}")),
        ("with a trailing space", format!("{iss} ")),
        ("with a leading space", format!(" {iss}")),
        ("another port", format!("http://127.0.0.1:{port_plus}")),
        (
            "discovery URL",
            format!("{iss}/.well-known/openid-configuration"),
        ),
        ("with a fragment", format!("{iss}#")),
        ("with a query", format!("{iss}?x=1")),
        ("https", iss.replace("http://", "https://")),
        ("short IPv4", format!("http://127.1:{port}")),
        ("IPv6 loopback", format!("http://[::1]:{port}")),
        ("decimal IPv4", format!("http://2130706433:{port}")),
        ("with userinfo", format!("http://user@127.0.0.1:{port}")),
        ("with a NUL", format!("{iss}\u{0}")),
    ] {
        cases.bearer(
            format!("iss {name}"),
            &env.tb().claim("iss", value).sign(),
            "untrusted_issuer",
        );
    }
}

/// ATK-18 to ATK-20: lifetimes beyond the leeway.
pub fn lifetimes(env: &Env, cases: &mut Cases) {
    let now = now();
    for (name, builder, code) in [
        ("expired an hour ago", env.tb().expired(), "token_expired"),
        (
            "exp = now - leeway - 1",
            env.tb().claim("exp", now - LEEWAY - 1),
            "token_expired",
        ),
        (
            "exp = iat = now - 10 minutes",
            env.tb().claim("iat", now - 600).claim("exp", now - 600),
            "token_expired",
        ),
        (
            "exp as a numeric string",
            env.tb().claim("exp", "1999999999"),
            "malformed_claims",
        ),
        (
            "exp after year 9999",
            env.tb().claim("exp", MAX_NUMERIC_DATE + 1),
            "malformed_claims",
        ),
        (
            "exp 1e300",
            env.tb().claim("exp", 1e300),
            "malformed_claims",
        ),
        (
            "nbf = now + 10 minutes",
            env.tb().claim("nbf", now + 600),
            "token_not_yet_valid",
        ),
        (
            "nbf = now + leeway + 60",
            env.tb().claim("nbf", now + LEEWAY + 60),
            "token_not_yet_valid",
        ),
        (
            "nbf as a string",
            env.tb().claim("nbf", (now - 5).to_string()),
            "malformed_claims",
        ),
        (
            "iat = now + 10 minutes",
            env.tb().claim("iat", now + 600),
            "issued_in_future",
        ),
        (
            "iat = now + leeway + 60",
            env.tb().claim("iat", now + LEEWAY + 60),
            "issued_in_future",
        ),
        (
            "iat as a string",
            env.tb().claim("iat", now.to_string()),
            "malformed_claims",
        ),
        (
            "expired and not yet valid",
            env.tb().claim("exp", now - 600).claim("nbf", now + 600),
            "token_expired",
        ),
    ] {
        cases.bearer(name, &builder.sign(), code);
    }
    // `iat` missing under RFC 9068: "raw issuer: iat absent" in the claim matrix.
}
