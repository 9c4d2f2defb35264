//! The strict RFC 9110 `WWW-Authenticate` parser of the test harness
//! (`tokengate_testkit::challenge`), which the layer, revocation, tonic and attack tests judge
//! every challenge with, tested against the RFCs' examples and the grammar's edges.

use tokengate_testkit::challenge::{check_bearer, parse, parse_bearer};

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn rfc6750_examples() {
    // RFC 6750 §3.
    let one = parse("Bearer realm=\"example\"").unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].scheme, "Bearer");
    assert_eq!(one[0].params, params(&[("realm", "example")]));
    check_bearer(&one[0]).unwrap();

    // RFC 6750 §3, with folding removed.
    let expired = parse(
        "Bearer realm=\"example\", error=\"invalid_token\", \
         error_description=\"The access token expired\"",
    )
    .unwrap();
    assert_eq!(
        expired[0].params,
        params(&[
            ("realm", "example"),
            ("error", "invalid_token"),
            ("error_description", "The access token expired"),
        ])
    );
    check_bearer(&expired[0]).unwrap();

    let scope = parse_bearer("Bearer error=\"insufficient_scope\", scope=\"a b:c d/e\"").unwrap();
    assert_eq!(scope[0].param("scope"), Some("a b:c d/e"));
    assert_eq!(parse_bearer("Bearer").unwrap()[0].params, vec![]);
}

#[test]
fn rfc9110_examples() {
    // RFC 9110 §11.6.1: two challenges, one with a token68-less param list.
    let two = parse(
        "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
    )
    .unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].scheme, "Newauth");
    assert_eq!(
        two[0].params,
        params(&[
            ("realm", "apps"),
            ("type", "1"),
            ("title", "Login to \"apps\"")
        ])
    );
    assert_eq!(two[0].bare, vec!["type".to_owned()]);
    assert_eq!(two[1].scheme, "Basic");
    assert_eq!(two[1].params, params(&[("realm", "simple")]));

    // token68, bare schemes, BWS around "=", case of names, OWS around commas.
    let mixed = parse("Negotiate abc+/9==, Basic,Bearer REALM = \"x\" ,  Foo").unwrap();
    let schemes: Vec<_> = mixed.iter().map(|c| c.scheme.as_str()).collect();
    assert_eq!(schemes, ["Negotiate", "Basic", "Bearer", "Foo"]);
    assert_eq!(mixed[0].token68.as_deref(), Some("abc+/9=="));
    assert_eq!(mixed[2].params, params(&[("realm", "x")]));
    assert_eq!(
        parse("Basic abc=").unwrap()[0].token68.as_deref(),
        Some("abc=")
    );
    // quoted-pair of any VCHAR, and HTAB in a quoted-string.
    assert_eq!(
        parse("X a=\"\\a\\\\b\tc\"").unwrap()[0].params,
        params(&[("a", "a\\b\tc")])
    );
    assert_eq!(parse("X a=\"\"").unwrap()[0].params, params(&[("a", "")]));
    // `realm=` with no value is a token68 with padding, not an auth-param...
    assert_eq!(
        parse("Bearer realm=").unwrap()[0].token68.as_deref(),
        Some("realm=")
    );
}

#[test]
fn refuses_off_grammar() {
    for bad in [
        "",
        " Bearer",
        "Bearer ",
        "Bearer\trealm=\"x\"",
        "Bearer realm=\"x\" ",
        "Bearer realm=\"x\",",
        "Bearer realm=\"x\",,error=\"y\"",
        ", Bearer",
        "Bearer realm=\"x",
        "Bearer realm=\"x\"\"",
        "Bearer realm=\"a\"b\"",
        "Bearer realm=\"a\\",
        "Bearer realm=,",
        "Bearer realm=a b",
        "Bearer realm=\"a\" error=\"b\"",
        "Bearer realm=\"a\"; error=\"b\"",
        "Bearer realm=\"x\", realm=\"y\"",
        "Bearer REALM=\"x\", realm=\"y\"",
        "Bearer realm=\"\u{1}\"",
        "Bearer realm=\"a\u{7f}\"",
        "Bearer a==b",
        "Bearer abc==def",
        "Bearer abc=, x=\"1\"=",
        "Bearer (x)",
        "Bear(er",
        "\"Bearer\"",
        "=x",
        "Bearer =x",
        "Basic abc abc",
        "Basic abc=, =",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}: {:?}", parse(bad));
    }
}

#[test]
fn rfc6750_rules() {
    let check = |v: &str| parse_bearer(v);
    for ok in [
        "Bearer",
        "bearer realm=\"x\"",
        "Bearer error=\"invalid_token\", error_description=\"The token! #[]{}~ expired.\"",
        "Bearer scope=\"a\"",
        "Bearer error_uri=\"https://e.example/x?y=1\"",
        "Bearer resource_metadata=\"https://h/.well-known/oauth-protected-resource\"",
    ] {
        check(ok).unwrap_or_else(|e| panic!("refused {ok:?}: {e}"));
    }
    for bad in [
        "Basic realm=\"x\"",
        "Bearer abc.def",
        // ...which RFC 6750 does not allow.
        "Bearer realm=",
        "Bearer realm=x",
        "Bearer error=\"bad\\\"quote\"",
        "Bearer error_description=\"back\\\\slash\"",
        "Bearer error_description=\"tab\there\"",
        "Bearer error_description=\"caf\u{e9}\"",
        "Bearer error=\"\"",
        "Bearer scope=\"\"",
        "Bearer scope=\"a  b\"",
        "Bearer scope=\" a\"",
        "Bearer scope=\"a \"",
        "Bearer scope=\"a\\\\b\"",
        "Bearer error_uri=\"has space\"",
        "Bearer realm=\"x\", Basic realm=\"y\"",
    ] {
        assert!(check(bad).is_err(), "accepted {bad:?}");
    }
}
