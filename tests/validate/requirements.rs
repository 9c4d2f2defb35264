//! Requirements: scopes and roles, per gate, combined.

use serde_json::json;
use tokengate::{ErrorClass, Gate, Rejection, Requirement};
use tokengate_testkit::{rs256, valid_claims};

use super::support::{code, gate, issuer, validate, with};

#[test]
fn requirements_scopes_and_roles() {
    let key = rs256();
    let gate = gate(issuer(&[key]));
    let claims = validate(
        &gate,
        &key.token(&with(
            valid_claims(),
            json!({"scope": "a b", "roles": ["R1", "R2"]}),
        )),
    )
    .unwrap();
    let met = [
        Requirement::scope("a"),
        Requirement::all_scopes(["a", "b"]),
        Requirement::any_scope(["z", "b"]),
        Requirement::role("R1"),
        Requirement::all_roles(["R1", "R2"]),
        Requirement::any_role(["R9", "R2"]),
        Requirement::scope("z").or(Requirement::role("R2")),
        Requirement::scope("c")
            .or(Requirement::all_scopes(["a", "b"]))
            .or(Requirement::role("x")),
    ];
    for requirement in &met {
        assert!(requirement.check(&claims).is_ok(), "{requirement:?}");
    }
    let unmet = [
        Requirement::scope("c"),
        Requirement::all_scopes(["a", "c"]),
        Requirement::any_scope(["c", "d"]),
        Requirement::any_scope(Vec::<String>::new()),
        Requirement::all_scopes(Vec::<String>::new()),
        Requirement::role("r1"),
        // Scopes are whole tokens: one containing a space can never be granted.
        Requirement::scope("a b"),
    ];
    for requirement in &unmet {
        assert_eq!(
            requirement
                .check(&claims)
                .map_err(|r| Rejection::from(r).code()),
            Err("insufficient_scope"),
            "{requirement:?}"
        );
    }
    let err = Requirement::any_scope(["orders.read", "orders.admin"])
        .or(Requirement::all_scopes(["orders.read", "x"]))
        .check(&claims)
        .unwrap_err();
    let scopes: Vec<&str> = err.requirement().scopes().collect();
    assert_eq!(scopes, ["orders.read", "orders.admin", "x"]);
    let err = Rejection::from(err);
    assert_eq!(err.class(), ErrorClass::InsufficientScope);
    let scopes: Vec<&str> = err.required_scopes().collect();
    assert_eq!(scopes, ["orders.read", "orders.admin", "x"]);
}

#[test]
fn a_gate_requirement_applies_to_every_token() {
    let key = rs256();
    let gate = Gate::builder()
        .issuer(issuer(&[key]))
        .require(Requirement::scope("orders.read"))
        .build()
        .unwrap();
    assert_eq!(code(&gate, &key.token(&valid_claims())), "accepted");
    let err = validate(
        &gate,
        &key.token(&with(valid_claims(), json!({"scope": "orders.write"}))),
    )
    .unwrap_err();
    assert_eq!(err.code(), "insufficient_scope");
    assert_eq!(err.required_scopes().collect::<Vec<_>>(), ["orders.read"]);
}

#[test]
fn requiring_twice_requires_both() {
    let key = rs256();
    let gate = Gate::builder()
        .issuer(issuer(&[key]))
        .require(Requirement::role("Admin"))
        .require(Requirement::scope("orders.read"))
        .build()
        .unwrap();
    let scope_only = key.token(&valid_claims());
    assert_eq!(code(&gate, &scope_only), "insufficient_scope");
    let role_only = key.token(&with(
        valid_claims(),
        json!({"scope": null, "roles": ["Admin"]}),
    ));
    assert_eq!(code(&gate, &role_only), "insufficient_scope");
    let both = key.token(&with(valid_claims(), json!({"roles": ["Admin"]})));
    assert_eq!(code(&gate, &both), "accepted");
    // Each call is checked on its own: an empty one is a mistake even next to a good one.
    let err = Gate::builder()
        .issuer(issuer(&[key]))
        .require(Requirement::all_scopes(Vec::<String>::new()))
        .require(Requirement::scope("orders.read"))
        .build()
        .unwrap_err();
    assert!(
        err.problems()
            .any(|p| p.contains("names nothing to require")),
        "{err}"
    );
}

#[test]
fn requirement_and_distributes_over_or() {
    let key = rs256();
    let gate = gate(issuer(&[key]));
    let claims_with = |scope: &str, roles: &[&str]| {
        validate(
            &gate,
            &key.token(&with(
                valid_claims(),
                json!({"scope": scope, "roles": roles}),
            )),
        )
        .unwrap()
    };
    // (a or b) and (R1 or R2)
    let requirement = Requirement::any_scope(["a", "b"]).and(Requirement::any_role(["R1", "R2"]));
    assert!(requirement.is_met_by(&claims_with("b", &["R1"])));
    assert!(requirement.is_met_by(&claims_with("a", &["R2"])));
    assert!(!requirement.is_met_by(&claims_with("a b", &[])));
    assert!(!requirement.is_met_by(&claims_with("c", &["R1", "R2"])));
    assert_eq!(requirement.scopes().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(requirement.roles().collect::<Vec<_>>(), ["R1", "R2"]);
    // Anything and an impossible requirement is impossible.
    let impossible = Requirement::scope("a").and(Requirement::any_role(Vec::<String>::new()));
    assert!(!impossible.is_met_by(&claims_with("a", &["R1"])));
}

/// A route may require one of the audiences the issuer accepts, or a check of its own; both
/// are refused as `insufficient_scope` (403), like scopes, and combine with them.
#[test]
fn audience_and_custom_requirements() {
    let key = rs256();
    let gate = gate(issuer(&[key]));
    let claims = validate(
        &gate,
        &key.token(&with(
            valid_claims(),
            json!({"aud": [tokengate_testkit::AUDIENCE, "api://other"], "department": "sales"}),
        )),
    )
    .unwrap();
    let sales = Requirement::custom("sales department", |claims| {
        claims.claim::<&str>("department").ok().flatten() == Some("sales")
    });
    let hr = Requirement::custom("hr department", |claims| {
        claims.claim::<&str>("department").ok().flatten() == Some("hr")
    });
    for met in [
        Requirement::audience("api://other"),
        Requirement::audience(tokengate_testkit::AUDIENCE),
        sales.clone(),
        Requirement::scope("orders.read").and(sales.clone()),
        hr.clone().or(Requirement::audience("api://other")),
    ] {
        assert!(met.check(&claims).is_ok(), "{met:?}");
    }
    for unmet in [
        Requirement::audience("api://OTHER"),
        Requirement::audience("api://oth"),
        hr.clone(),
        Requirement::scope("orders.read").and(hr),
        sales.and(Requirement::audience("api://third")),
    ] {
        let refused = Rejection::from(unmet.check(&claims).unwrap_err());
        assert_eq!(refused.code(), "insufficient_scope", "{unmet:?}");
        assert_eq!(refused.class(), ErrorClass::InsufficientScope);
    }
    // An empty audience is a configuration mistake, reported by build().
    let err = Gate::builder()
        .issuer(issuer(&[key]))
        .require(Requirement::audience(""))
        .build()
        .unwrap_err();
    assert!(
        err.problems().any(|p| p.contains("audience is empty")),
        "{err}"
    );
}
