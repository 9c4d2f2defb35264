//! ATK-35 and route requirements: valid tokens without the required scope get 403, whatever
//! looks like it (a longer or shorter scope, another case, another claim); hostile tokens on the
//! scoped route are refused as anywhere else.

use serde_json::json;

use crate::requests::{App, Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::tokens::{json_str, object, set, with_signature};
use crate::world::{Env, SCOPE};

pub static SCOPES: Family = Family {
    tag: "atk35",
    name: "ATK-35 scope",
    floor: 19,
};

#[test]
fn atk_35_insufficient_scope() {
    scan(&SCOPES, scopes);
}

/// ATK-35 and route requirements: valid tokens without the required scope get 403; hostile
/// tokens on the scoped route are refused as anywhere else.
pub fn scopes(env: &Env, cases: &mut Cases) {
    let insufficient = Expect::Refused("insufficient_scope");
    for (name, builder) in [
        ("scope orders.read", env.tb()),
        ("no scope claim", env.tb().without_claim("scope")),
        ("an empty scope", env.tb().scope("")),
        ("scope orders.write.all", env.tb().scope("orders.write.all")),
        ("scope xorders.write", env.tb().scope("xorders.write")),
        ("scope orders.writex", env.tb().scope("orders.writex")),
        ("scope uppercased", env.tb().scope("ORDERS.WRITE")),
        ("scope with a tab", env.tb().scope("orders.write\t")),
        (
            "comma-separated scopes",
            env.tb().scope("orders.read,orders.write"),
        ),
        ("scope orders:write", env.tb().scope("orders:write")),
        ("the scope as a role", env.tb().roles([SCOPE])),
        (
            "the scope in another claim",
            env.tb().claim("scopes", SCOPE),
        ),
        ("scp orders.read", env.tb().claim("scp", "orders.read")),
    ] {
        cases.token(name, Route::Scoped, &builder.sign(), insufficient);
    }
    let mut claims = env.raw_claims();
    set(
        &mut claims,
        "scope",
        json_str("orders.read orders.write.all"),
    );
    cases.token(
        "raw issuer: scope orders.write.all",
        Route::Scoped,
        &env.raw_token(&env.raw_header(), &object(&claims)),
        insufficient,
    );
    for (name, token, code) in [
        (
            "alg none",
            with_signature(&env.tb().scope(SCOPE).header("alg", "none").sign(), ""),
            "unsupported_algorithm",
        ),
        (
            "tampered",
            env.tb().scope(SCOPE).tampered().sign(),
            "invalid_signature",
        ),
        (
            "expired",
            env.tb().scope(SCOPE).expired().sign(),
            "token_expired",
        ),
        (
            "a scope claim as an object",
            env.tb()
                .claim("scope", json!({"orders.write": true}))
                .sign(),
            "malformed_claims",
        ),
    ] {
        cases.token(
            format!("scoped route: {name}"),
            Route::Scoped,
            &token,
            Expect::Refused(code),
        );
    }
    cases.http(
        "scoped route: no credentials",
        App::Header,
        Route::Scoped,
        "",
        &[],
        Expect::Refused("missing_token"),
    );
}
