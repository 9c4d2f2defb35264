//! ATK-39: several credentials at once (two `Authorization` headers, a header and a query
//! parameter, a header and a cookie, Bearer and DPoP), on both APIs; tokens in the query alone
//! and in a form body.

use crate::requests::{App, Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::tokens::with_signature;
use crate::world::Env;

pub static MULTIPLE: Family = Family {
    tag: "atk39",
    name: "ATK-39 several credentials",
    floor: 37,
};

#[test]
fn atk_39_multiple_credentials() {
    scan(&MULTIPLE, multiple_credentials);
}

/// ATK-39: more than one credential, on both APIs.
pub fn multiple_credentials(env: &Env, cases: &mut Cases) {
    let good = env.valid();
    let other = env.valid();
    let bearer = format!("Bearer {good}");
    let bearer2 = format!("Bearer {other}");
    let none = format!(
        "Bearer {}",
        with_signature(&env.tb().header("alg", "none").sign(), "")
    );
    let mt = Expect::Refused("multiple_tokens");
    let auth = "authorization";
    let two_in_one = format!("Bearer {good}, Bearer {other}");
    let fifty: Vec<(&str, &[u8])> = (0..50).map(|_| (auth, bearer.as_bytes())).collect();
    for (name, headers, expect) in [
        (
            "two Authorization headers, same token",
            vec![(auth, bearer.as_bytes()), (auth, bearer.as_bytes())],
            mt,
        ),
        (
            "two Authorization headers, two tokens",
            vec![(auth, bearer.as_bytes()), (auth, bearer2.as_bytes())],
            mt,
        ),
        (
            "Bearer and Basic",
            vec![
                (auth, bearer.as_bytes()),
                (auth, b"Basic dXNlcjpwYXNzd29yZA==".as_slice()),
            ],
            mt,
        ),
        (
            "Basic and Bearer",
            vec![
                (auth, b"Basic dXNlcjpwYXNzd29yZA==".as_slice()),
                (auth, bearer.as_bytes()),
            ],
            mt,
        ),
        (
            "Bearer and DPoP schemes",
            vec![
                (auth, bearer.as_bytes()),
                (auth, format!("DPoP {good}").as_bytes()),
            ],
            mt,
        ),
        (
            "Bearer and an empty Authorization",
            vec![(auth, bearer.as_bytes()), (auth, b"".as_slice())],
            mt,
        ),
        (
            "two Basic headers",
            vec![
                (auth, b"Basic dXNlcjpwYXNzd29yZA==".as_slice()),
                (auth, b"Basic YWRtaW46YWRtaW4=".as_slice()),
            ],
            mt,
        ),
        (
            "a hostile and a valid token",
            vec![(auth, none.as_bytes()), (auth, bearer.as_bytes())],
            mt,
        ),
        ("50 Authorization headers", fifty, mt),
        (
            "two tokens in one header",
            vec![(auth, two_in_one.as_bytes())],
            Expect::Refused("malformed_credentials"),
        ),
    ] {
        cases.http(name, App::Header, Route::Open, "", &headers, expect);
    }
    for (name, query, with_header, code) in [
        (
            "header and ?access_token=",
            format!("?access_token={other}"),
            true,
            "multiple_tokens",
        ),
        (
            "header and an empty ?access_token",
            "?access_token=".to_owned(),
            true,
            "multiple_tokens",
        ),
        (
            "header and ?access_token without value",
            "?access_token".to_owned(),
            true,
            "multiple_tokens",
        ),
        (
            "header and ?access%5Ftoken=",
            format!("?access%5Ftoken={other}"),
            true,
            "multiple_tokens",
        ),
        (
            "header and ?%61ccess_token=",
            format!("?%61ccess_token={other}"),
            true,
            "multiple_tokens",
        ),
        (
            "header and access_token among other parameters",
            format!("?a=1&access_token={other}&b=2"),
            true,
            "multiple_tokens",
        ),
        (
            "?access_token= only",
            format!("?access_token={good}"),
            false,
            "token_in_query",
        ),
        (
            "?access_token twice",
            format!("?access_token={good}&access_token={other}"),
            false,
            "token_in_query",
        ),
        (
            "?access%5Ftoken= only",
            format!("?access%5Ftoken={good}"),
            false,
            "token_in_query",
        ),
        (
            "?access_token with a plus-encoded name",
            format!("?access+token=x&access_token={good}"),
            false,
            "token_in_query",
        ),
        (
            "?Access_Token= (another name: no credential)",
            format!("?Access_Token={good}"),
            false,
            "missing_token",
        ),
    ] {
        let headers: Vec<(&str, &[u8])> = if with_header {
            vec![(auth, bearer.as_bytes())]
        } else {
            Vec::new()
        };
        cases.http(
            name,
            App::Header,
            Route::Open,
            &query,
            &headers,
            Expect::Refused(code),
        );
    }
    // Cookie and header.
    let cookie = format!("at={good}");
    let cookie_twice = format!("at={good}; at={other}");
    let cookie_quoted_twice = format!("at=\"{good}\"; a=1; at={good}");
    let tampered = env.tb().tampered().sign();
    for (name, headers, query, code) in [
        (
            "header and cookie",
            vec![(auth, bearer.as_bytes()), ("cookie", cookie.as_bytes())],
            "",
            "multiple_tokens",
        ),
        (
            "cookie and header, a hostile header",
            vec![("cookie", cookie.as_bytes()), (auth, none.as_bytes())],
            "",
            "multiple_tokens",
        ),
        (
            "the cookie twice in one header",
            vec![("cookie", cookie_twice.as_bytes())],
            "",
            "multiple_tokens",
        ),
        (
            "the cookie quoted and plain",
            vec![("cookie", cookie_quoted_twice.as_bytes())],
            "",
            "multiple_tokens",
        ),
        (
            "two Cookie headers",
            vec![
                ("cookie", cookie.as_bytes()),
                ("cookie", format!("at={other}").as_bytes()),
            ],
            "",
            "multiple_tokens",
        ),
        (
            "cookie and ?access_token=",
            vec![("cookie", cookie.as_bytes())],
            "?access_token=x",
            "multiple_tokens",
        ),
        (
            "cookie and a DPoP proof",
            vec![("cookie", cookie.as_bytes()), ("dpop", b"proof".as_slice())],
            "",
            "multiple_tokens",
        ),
        (
            "cookie, header and query",
            vec![("cookie", cookie.as_bytes()), (auth, bearer.as_bytes())],
            "?access_token=x",
            "multiple_tokens",
        ),
        (
            "a tampered token in the cookie",
            vec![("cookie", format!("a=1; at={tampered}; b=2").as_bytes())],
            "",
            "invalid_signature",
        ),
        (
            "alg none in the cookie",
            vec![("cookie", format!("at={}", &none[7..]).as_bytes())],
            "",
            "unsupported_algorithm",
        ),
        (
            "a cookie value with a space",
            vec![("cookie", format!("at={} x", &good[..20]).as_bytes())],
            "",
            "malformed_credentials",
        ),
        (
            "a cookie value with a comma",
            vec![(
                "cookie",
                format!("at={},{}", &good[..20], &good[20..40]).as_bytes(),
            )],
            "",
            "malformed_credentials",
        ),
        (
            "an empty cookie and a tampered header",
            vec![
                ("cookie", b"at=".as_slice()),
                (auth, format!("Bearer {tampered}").as_bytes()),
            ],
            "",
            "invalid_signature",
        ),
        (
            "the cookie under another name (AT)",
            vec![("cookie", format!("AT={good}").as_bytes())],
            "",
            "missing_token",
        ),
        ("no credentials at all", vec![], "", "missing_token"),
    ] {
        cases.http(
            format!("cookie API: {name}"),
            App::Cookie,
            Route::Open,
            query,
            &headers,
            Expect::Refused(code),
        );
    }
    // A token in a form body is never read: no credential.
    cases.form(
        "access_token in a form body",
        format!("access_token={good}"),
        &good,
        Expect::Refused("missing_token"),
    );
}
