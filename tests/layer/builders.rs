//! Builder checks: `TokenLayer` settings and `RequireLayer` requirements refused at build.

use http::HeaderName;
use http::header::{AUTHORIZATION, COOKIE};
use tokengate::{RequireLayer, Requirement, TokenLayer, TokenSource};

use super::support::{gate, resource};

#[test]
fn builder_refuses_bad_settings_and_lists_every_problem() {
    let err = TokenLayer::builder(gate())
        .token_sources([])
        .realm("a\"b")
        .build()
        .unwrap_err();
    let problems: Vec<_> = err.problems().map(str::to_owned).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("no token source"), "{problems:?}");
    assert!(problems[1].contains("realm"), "{problems:?}");

    let err = TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::authorization_header(),
            TokenSource::cookie("bad name"),
            TokenSource::header(AUTHORIZATION),
            TokenSource::header(COOKIE),
            TokenSource::cookie(""),
        ])
        .realm("back\\slash")
        .build()
        .unwrap_err();
    let problems: Vec<_> = err.problems().map(str::to_owned).collect();
    assert_eq!(problems.len(), 6, "{problems:#?}");
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(has("given twice"), "{problems:#?}");
    assert!(has("\"bad name\""), "{problems:#?}");
    assert!(has("\"authorization\""), "{problems:#?}");
    assert!(has("\"cookie\""), "{problems:#?}");
    assert!(has("cookie \"\""), "{problems:#?}");
    assert!(has("realm"), "{problems:#?}");
    // Every problem is in the message.
    let message = err.to_string();
    for problem in &problems {
        assert!(message.contains(problem.as_str()), "{message}");
    }

    for realm in ["", "caf\u{e9}", "tab\there", "new\nline"] {
        assert!(
            TokenLayer::builder(gate()).realm(realm).build().is_err(),
            "{realm:?}"
        );
    }
    // Good settings build.
    TokenLayer::builder(gate())
        .token_sources([
            TokenSource::authorization_header(),
            TokenSource::cookie("__Host-at"),
            TokenSource::header(HeaderName::from_static("x-access-token")),
        ])
        .realm("orders API")
        .resource_metadata(&resource())
        .optional()
        .build()
        .expect("valid settings");
}

#[test]
fn require_layer_refuses_a_scope_with_a_space() {
    let error = RequireLayer::new(Requirement::scope("orders.read orders.write")).unwrap_err();
    let problems: Vec<&str> = error.problems().collect();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("RequireLayer: "), "{problems:?}");
    assert!(problems[0].contains("space"), "{problems:?}");
    assert!(RequireLayer::new(Requirement::any_scope(Vec::<String>::new())).is_err());
    assert!(RequireLayer::new(Requirement::all_roles(Vec::<String>::new())).is_err());
    assert!(RequireLayer::new(Requirement::scope("orders.read")).is_ok());
}
