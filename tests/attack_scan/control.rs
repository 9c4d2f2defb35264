//! The positive control: requests that a correct validator accepts (a valid token of each
//! algorithm and issuer, the header variations the standards allow, ignored `jku`, `x5u` and
//! `jwk` headers, values at the edges of the leeway) reach the handler, so that the families'
//! refusals mean something.

use serde_json::json;
use tokengate::Algorithm;

use tokengate_testkit::now;

use crate::requests::{App, Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::world::{Env, MARK_JKU, MARK_X5U, MAX_NUMERIC_DATE, SCOPE};

pub static CONTROL: Family = Family {
    tag: "control",
    name: "control",
    floor: 0,
};

#[test]
fn accepted_requests_pass_through() {
    scan(&CONTROL, controls);
}

/// The positive control: requests a correct validator accepts.
pub fn controls(env: &Env, cases: &mut Cases) {
    let ok = Expect::Accepted;
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        cases.token(format!("valid {alg}"), Route::Open, &env.valid_alg(alg), ok);
        cases.token(
            format!("valid {alg}, scoped"),
            Route::Scoped,
            &env.tb().alg(alg).scope(SCOPE).sign(),
            ok,
        );
    }
    cases.token("raw issuer, valid", Route::Open, &env.raw_valid(), ok);
    // The same keys' DER signatures are refused (ATK-14, the signatures family).
    for key in &env.raw_ec {
        let name = format!("raw issuer, valid {}", key.alg);
        cases.token(name, Route::Open, &env.raw_ec_token(key, false), ok);
    }
    let now = now();
    for (name, builder) in [
        ("typ JWT", env.tb().header("typ", "JWT")),
        (
            "typ AT+JWT (media types are case-insensitive)",
            env.tb().header("typ", "AT+JWT"),
        ),
        (
            "typ application/at+jwt",
            env.tb().header("typ", "application/at+jwt"),
        ),
        ("typ absent", env.tb().without_header("typ")),
        ("no kid, the one RS256 key", env.tb().without_header("kid")),
        (
            "x5t present (Entra v1)",
            env.tb().header("x5t", "bm90LWEtdGh1bWJwcmludA"),
        ),
        (
            "jku ignored",
            env.tb()
                .header("jku", env.counting_url(&format!("control-{MARK_JKU}.json"))),
        ),
        (
            "x5u ignored",
            env.tb()
                .header("x5u", env.counting_url(&format!("control-{MARK_X5U}.pem"))),
        ),
        (
            "embedded jwk ignored",
            env.tb().header("jwk", env.keys[0].jwk.clone()),
        ),
        (
            "aud array with ours and another",
            env.tb()
                .claim("aud", json!(["api://other", env.issuer.audience()])),
        ),
        ("exp within the leeway", env.tb().claim("exp", now - 20)),
        ("nbf within the leeway", env.tb().claim("nbf", now + 20)),
        ("iat within the leeway", env.tb().claim("iat", now + 20)),
        (
            "exp at the end of year 9999",
            env.tb().claim("exp", MAX_NUMERIC_DATE),
        ),
        (
            "2000 claims",
            (0..2000).fold(env.tb(), |b, i| b.claim(&format!("c{i}"), i)),
        ),
    ] {
        cases.token(name, Route::Open, &builder.sign(), ok);
    }
    for (name, builder) in [
        (
            "scope with a double space",
            env.tb().scope("orders.read  orders.write"),
        ),
        (
            "scp string",
            env.tb().without_claim("scope").claim("scp", SCOPE),
        ),
        (
            "scp array (JWT profile)",
            env.tb().without_claim("scope").claim("scp", [SCOPE]),
        ),
        (
            "scope array (JWT profile)",
            env.tb().claim("scope", ["orders.read", SCOPE]),
        ),
    ] {
        cases.token(
            format!("scoped: {name}"),
            Route::Scoped,
            &builder.sign(),
            ok,
        );
    }
    let good = env.valid();
    let auth = "authorization";
    for (name, app, value) in [
        ("lowercase scheme", App::Header, format!("bearer {good}")),
        ("uppercase scheme", App::Header, format!("BEARER {good}")),
        ("several spaces", App::Header, format!("Bearer     {good}")),
        (
            "header on the cookie API",
            App::Cookie,
            format!("Bearer {good}"),
        ),
    ] {
        cases.http(name, app, Route::Open, "", &[(auth, value.as_bytes())], ok);
    }
    let cookie = format!("a=1; at={good}; b=2");
    let quoted = format!("at=\"{good}\"");
    let bearer = format!("Bearer {good}");
    let pad = "p".repeat(50_000);
    for (name, app, headers, query) in [
        (
            "cookie",
            App::Cookie,
            vec![("cookie", cookie.as_bytes())],
            "",
        ),
        (
            "quoted cookie",
            App::Cookie,
            vec![("cookie", quoted.as_bytes())],
            "",
        ),
        (
            "cookie and Basic (not a bearer credential)",
            App::Cookie,
            vec![
                ("cookie", cookie.as_bytes()),
                (auth, b"Basic dXNlcjpwYXNz".as_slice()),
            ],
            "",
        ),
        (
            "empty cookie and header",
            App::Cookie,
            vec![
                ("cookie", b"at=; x=1".as_slice()),
                (auth, bearer.as_bytes()),
            ],
            "",
        ),
        (
            "a cookie on the header-only API",
            App::Header,
            vec![("cookie", cookie.as_bytes()), (auth, bearer.as_bytes())],
            "",
        ),
        (
            "?my_access_token is another parameter",
            App::Header,
            vec![(auth, bearer.as_bytes())],
            "?my_access_token=x",
        ),
        (
            "a 50 KB unrelated header",
            App::Header,
            vec![(auth, bearer.as_bytes()), ("x-pad", pad.as_bytes())],
            "",
        ),
    ] {
        cases.http(name, app, Route::Open, query, &headers, ok);
    }
    let trailing = format!("Authorization: Bearer {good}   ").into_bytes();
    cases.raw(
        "raw: trailing whitespace is not part of the value",
        App::Header,
        Route::Open,
        &[&trailing],
        &[&good],
        ok,
    );
}
