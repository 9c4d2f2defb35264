//! The validator through its public API: configuration checks, issuers, keys, claims rules,
//! profiles and requirements.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokengate::{
    Algorithm, ErrorClass, Gate, IssuerProfile, Rejection, Requirement, TokenKind, TokenProfile,
};
use tokengate_testkit::{
    AUDIENCE, ISSUER, TestKey, b64, jwks, key_for, now, ready, rs256, valid_claims,
};

fn issuer(keys: &[&TestKey]) -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(jwks(keys))
}

fn gate(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .build()
        .expect("valid configuration")
}

fn validate(gate: &Gate, token: &str) -> Result<std::sync::Arc<tokengate::Claims>, Rejection> {
    ready(gate.validate(token))
}

fn code(gate: &Gate, token: &str) -> &'static str {
    match validate(gate, token) {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds as u64)
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

#[test]
fn every_algorithm_validates_from_jwks_and_from_pem() {
    for &alg in Algorithm::ALL {
        let key = key_for(alg);
        let token = key.token(&valid_claims());
        let from_jwks = gate(issuer(&[key]));
        assert_eq!(code(&from_jwks, &token), "accepted", "{alg} via JWKS");
        let from_pem = gate(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .public_key_pem_with_kid(key.kid(), key.public_pem(), alg),
        );
        assert_eq!(code(&from_pem, &token), "accepted", "{alg} via PEM");
    }
}

#[test]
fn a_pem_key_without_kid_serves_tokens_with_or_without_kid() {
    let key = rs256();
    let gate = gate(
        IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .public_key_pem(key.public_pem(), Algorithm::RS256),
    );
    assert_eq!(code(&gate, &key.token(&valid_claims())), "accepted");
    let no_kid = key.token_with_header(&json!({"alg": "RS256", "typ": "JWT"}), &valid_claims());
    assert_eq!(code(&gate, &no_kid), "accepted");
    let other = key_for(Algorithm::RS256).token(&valid_claims());
    assert_eq!(
        code(&gate, &other),
        "invalid_signature",
        "a kid-less key is still only that key"
    );
}

#[test]
fn tokens_minted_by_jsonwebtoken_validate() {
    use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let cases: Vec<(jsonwebtoken::Algorithm, jsonwebtoken::EncodingKey, Value)> = {
        let mut cases = Vec::new();
        for (alg, signing, crv, size) in [
            (
                jsonwebtoken::Algorithm::ES256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                "P-256",
                32,
            ),
            (
                jsonwebtoken::Algorithm::ES384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                "P-384",
                48,
            ),
        ] {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
            let point = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec();
            let jwk = json!({"kty": "EC", "crv": crv, "kid": "jwt", "x": b64(&point[1..1 + size]),
                             "y": b64(&point[1 + size..])});
            cases.push((
                alg,
                jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
                jwk,
            ));
        }
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let public = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .unwrap()
            .public_key()
            .as_ref()
            .to_vec();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "jwt", "x": b64(public)});
        cases.push((
            jsonwebtoken::Algorithm::EdDSA,
            jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk,
        ));
        cases
    };
    for (alg, encoding_key, jwk) in cases {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = Some("jwt".into());
        let token = jsonwebtoken::encode(&header, &valid_claims(), &encoding_key).unwrap();
        let gate = gate(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(json!({"keys": [jwk]}).to_string()),
        );
        assert_eq!(code(&gate, &token), "accepted", "{alg:?}");
    }
}

#[test]
fn build_reports_every_problem_at_once() {
    let err = Gate::builder()
        .issuer(IssuerProfile::new(" https://a/").leeway(Duration::from_secs(3600)))
        .issuer(
            IssuerProfile::new("https://b/")
                .audience("")
                .algorithms([])
                .require_claim("bad\"name")
                .max_token_age(Duration::ZERO)
                .jwks("{not json"),
        )
        .issuer(
            IssuerProfile::new("https://b/")
                .audience("x")
                .jwks(jwks(&[rs256()])),
        )
        .max_token_size(10)
        .require(Requirement::any_scope(Vec::<String>::new()))
        .build()
        .unwrap_err();
    let problems: Vec<&str> = err.problems().collect();
    let expect = [
        "surrounding whitespace",
        "no audience configured",
        "leeway",
        "no keys configured",
        "an audience is empty",
        "no algorithm allowed",
        "required claim name",
        "max_token_age is zero",
        "JWKS refused",
        "configured twice",
        "max_token_size 10 is outside",
        "no alternative",
    ];
    for needle in expect {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "no problem mentions {needle:?}: {problems:#?}"
        );
    }
    assert!(
        err.to_string()
            .starts_with("invalid tokengate configuration")
    );
    assert!(
        Gate::builder()
            .build()
            .unwrap_err()
            .problems()
            .any(|p| p == "no issuer configured")
    );
}

#[test]
fn a_key_set_without_usable_keys_is_a_configuration_error() {
    let small_rsa = {
        let mut jwk = rs256().jwk();
        let (n, _) = rs256().rsa_modulus_exponent();
        jwk["n"] = json!(b64(&n[..128])); // 1024 bits
        jwk
    };
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .jwks(json!({"keys": [small_rsa]}).to_string()),
        )
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no usable key") && text.contains("2048"),
        "{text}"
    );
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .algorithms([Algorithm::ES256])
                .public_key_pem(rs256().public_pem(), Algorithm::RS256),
        )
        .build()
        .unwrap_err();
    assert!(
        err.problems()
            .any(|p| p.contains("not an allowed algorithm")),
        "{err}"
    );
    // A refused PEM is reported once, not again as "no usable key".
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .public_key_pem("garbage", Algorithm::RS256),
        )
        .build()
        .unwrap_err();
    let problems: Vec<&str> = err.problems().collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("PEM key refused: not a PEM block"),
        "{problems:?}"
    );
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(ISSUER)
                .audience(AUDIENCE)
                .require_claim("sub"),
        )
        .require(Requirement::all_scopes(Vec::<String>::new()))
        .build()
        .unwrap_err();
    assert!(
        err.problems()
            .any(|p| p.contains("names no scope and no role")),
        "{err}"
    );
}

#[test]
fn issuers_are_matched_exactly_and_keys_stay_with_their_issuer() {
    let x = key_for(Algorithm::ES256);
    let y = key_for(Algorithm::ES384);
    let gate = Gate::builder()
        .issuer(issuer(&[x]))
        .issuer(
            IssuerProfile::new("https://accounts.example.org")
                .alternate_issuer("accounts.example.org")
                .audience(AUDIENCE)
                .jwks(jwks(&[y])),
        )
        .build()
        .unwrap();
    assert_eq!(code(&gate, &x.token(&valid_claims())), "accepted");
    for iss in ["https://accounts.example.org", "accounts.example.org"] {
        assert_eq!(
            code(&gate, &y.token(&with(valid_claims(), json!({"iss": iss})))),
            "accepted",
            "{iss}"
        );
        // X's key does not speak for Y (RFC 8725 §3.8).
        assert_eq!(
            code(&gate, &x.token(&with(valid_claims(), json!({"iss": iss})))),
            "unknown_key",
            "{iss}"
        );
    }
    for iss in [
        "https://issuer.example.com",
        "HTTPS://issuer.example.com/",
        "https://issuer.example.com//",
    ] {
        assert_eq!(
            code(&gate, &x.token(&with(valid_claims(), json!({"iss": iss})))),
            "untrusted_issuer",
            "{iss}"
        );
    }
    let err = validate(&gate, &x.token(&with(valid_claims(), json!({"iss": null})))).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "iss".into()
        }
    );
}

#[test]
fn the_algorithm_allowlist_is_per_issuer() {
    let key = rs256();
    let gate = gate(issuer(&[key]).algorithms([Algorithm::RS256]));
    assert_eq!(code(&gate, &key.token(&valid_claims())), "accepted");
    let ps = key_for(Algorithm::PS256);
    let gate = gate_with_two(&[Algorithm::RS256]);
    assert_eq!(
        code(&gate, &ps.token(&valid_claims())),
        "unsupported_algorithm"
    );

    fn gate_with_two(algs: &[Algorithm]) -> Gate {
        let profile = IssuerProfile::new(ISSUER)
            .audience(AUDIENCE)
            .algorithms(algs.iter().copied())
            .jwks(jwks(&[rs256()]));
        Gate::builder().issuer(profile).build().unwrap()
    }
}

#[test]
fn audiences_match_exactly_any_of_them() {
    let key = rs256();
    let gate =
        gate(issuer(&[key]).audiences(["api://second", "6e74172b-be56-4843-9ff4-e66a39bb12e3"]));
    for aud in [
        json!(AUDIENCE),
        json!("api://second"),
        json!(["other", AUDIENCE]),
        json!(["6e74172b-be56-4843-9ff4-e66a39bb12e3"]),
    ] {
        assert_eq!(
            code(
                &gate,
                &key.token(&with(valid_claims(), json!({"aud": aud})))
            ),
            "accepted",
            "{aud}"
        );
    }
    for aud in [
        json!("api://orders/"),
        json!("API://ORDERS"),
        json!("api://order"),
        json!([]),
        json!(["other"]),
    ] {
        assert_eq!(
            code(
                &gate,
                &key.token(&with(valid_claims(), json!({"aud": aud})))
            ),
            "invalid_audience",
            "{aud}"
        );
    }
    let missing = validate(
        &gate,
        &key.token(&with(valid_claims(), json!({"aud": null}))),
    )
    .unwrap_err();
    assert_eq!(
        missing,
        Rejection::MissingClaim {
            claim: "aud".into()
        }
    );
}

#[test]
fn leeway_applies_to_exp_nbf_and_iat() {
    let key = rs256();
    let now = 1_800_000_000;
    let check =
        |gate: &Gate, claims: Value| match ready(gate.validate_at(&key.token(&claims), at(now))) {
            Ok(_) => "accepted",
            Err(r) => r.code(),
        };
    let base = json!({"iss": ISSUER, "aud": AUDIENCE});
    for (leeway, gate) in [
        (60, gate(issuer(&[key]))),
        (300, gate(issuer(&[key]).leeway(Duration::from_secs(300)))),
    ] {
        let cases = [
            (json!({"exp": now - leeway + 1}), "accepted"),
            (json!({"exp": now - leeway}), "token_expired"),
            (json!({"exp": now + 10, "nbf": now + leeway}), "accepted"),
            (
                json!({"exp": now + 10, "nbf": now + leeway + 1}),
                "token_not_yet_valid",
            ),
            (json!({"exp": now + 10, "iat": now + leeway}), "accepted"),
            (
                json!({"exp": now + 10, "iat": now + leeway + 1}),
                "issued_in_future",
            ),
        ];
        for (changes, expected) in cases {
            let claims = with(base.clone(), changes.clone());
            assert_eq!(check(&gate, claims), expected, "leeway {leeway}: {changes}");
        }
    }
    // Fractional NumericDates are JSON numbers too (RFC 7519 §2).
    let gate = gate(issuer(&[key]).leeway(Duration::ZERO));
    assert_eq!(
        check(&gate, with(base.clone(), json!({"exp": now as f64 + 0.5}))),
        "accepted"
    );
    assert_eq!(
        check(&gate, with(base.clone(), json!({"exp": now as f64 - 0.5}))),
        "token_expired"
    );
}

#[test]
fn maximum_token_age() {
    let key = rs256();
    let now = 1_800_000_000;
    let gate = gate(issuer(&[key]).max_token_age(Duration::from_secs(3600)));
    let check = |claims: Value| match ready(gate.validate_at(&key.token(&claims), at(now))) {
        Ok(_) => "accepted",
        Err(r) => r.code(),
    };
    let base = json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 600});
    assert_eq!(
        check(with(base.clone(), json!({"iat": now - 3600 - 60}))),
        "accepted"
    );
    assert_eq!(
        check(with(base.clone(), json!({"iat": now - 3600 - 61}))),
        "token_too_old"
    );
    let err = ready(gate.validate_at(&key.token(&base), at(now))).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "iat".into()
        }
    );
}

#[test]
fn required_claims() {
    let key = rs256();
    let gate = gate(
        issuer(&[key])
            .require_claim("sub")
            .require_claim("x-tenant"),
    );
    let claims = with(valid_claims(), json!({"x-tenant": "t1"}));
    assert_eq!(code(&gate, &key.token(&claims)), "accepted");
    let err = validate(&gate, &key.token(&valid_claims())).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "x-tenant".into()
        }
    );
    assert_eq!(
        err.description(),
        "The access token lacks a required claim: x-tenant."
    );
    // `null` counts as absent.
    let err = validate(
        &gate,
        &key.token(&with(claims.clone(), json!({"x-tenant": Value::Null}))),
    )
    .unwrap_err();
    assert_eq!(err.code(), "missing_claim");
    let mut null_tenant = claims;
    null_tenant["x-tenant"] = Value::Null;
    let err = validate(&gate, &key.token(&null_tenant)).unwrap_err();
    assert_eq!(
        err,
        Rejection::MissingClaim {
            claim: "x-tenant".into()
        }
    );
}

#[test]
fn the_rfc9068_profile() {
    let key = rs256();
    let gate = gate(issuer(&[key]).token_profile(TokenProfile::Rfc9068));
    let header = json!({"alg": "RS256", "kid": key.kid(), "typ": "at+jwt"});
    let claims = with(valid_claims(), json!({"client_id": "app", "jti": "id-1"}));
    assert_eq!(
        code(&gate, &key.token_with_header(&header, &claims)),
        "accepted"
    );
    let media_type = json!({"alg": "RS256", "kid": key.kid(), "typ": "application/AT+JWT"});
    assert_eq!(
        code(&gate, &key.token_with_header(&media_type, &claims)),
        "accepted"
    );
    assert_eq!(
        code(&gate, &key.token(&claims)),
        "invalid_token_type",
        "typ JWT"
    );
    let untyped = json!({"alg": "RS256", "kid": key.kid()});
    assert_eq!(
        code(&gate, &key.token_with_header(&untyped, &claims)),
        "invalid_token_type"
    );
    for missing in ["sub", "client_id", "iat", "jti"] {
        let err = validate(
            &gate,
            &key.token_with_header(&header, &with(claims.clone(), json!({missing: null}))),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Rejection::MissingClaim {
                claim: missing.into()
            },
            "{missing}"
        );
    }
    let array_scope = with(claims.clone(), json!({"scope": ["a", "b"]}));
    assert_eq!(
        code(&gate, &key.token_with_header(&header, &array_scope)),
        "malformed_claims"
    );
    // The default profile accepts all of these.
    let lenient = self::gate(issuer(&[key]));
    assert_eq!(
        code(&lenient, &key.token_with_header(&header, &array_scope)),
        "accepted"
    );
    assert_eq!(
        code(&lenient, &key.token_with_header(&untyped, &valid_claims())),
        "accepted"
    );
}

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
            .any(|p| p.contains("names no scope and no role")),
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

#[test]
fn claims_are_normalized() {
    let key = rs256();
    let gate = gate(issuer(&[key]));
    let claims = validate(
        &gate,
        &key.token(
            &json!({"iss": ISSUER, "aud": [AUDIENCE, "other"], "exp": now() + 60, "sub": "app-1",
                           "azp": "app-1", "tid": "t", "oid": "o", "scp": "a  b", "roles": ["r"]}),
        ),
    )
    .unwrap();
    assert_eq!(claims.issuer(), ISSUER);
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [AUDIENCE, "other"]);
    assert_eq!(claims.client_id(), Some("app-1"));
    assert_eq!(claims.token_kind(), TokenKind::App);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["a", "b"]);
    assert!(claims.json().starts_with('{'));
    let debug = format!("{claims:?}");
    assert!(
        !debug.contains("app-1") && !debug.contains(ISSUER),
        "{debug}"
    );
}

#[test]
fn the_size_cap_is_checked_first_and_configurable() {
    let key = rs256();
    let big = with(
        valid_claims(),
        json!({"groups": vec!["00000000-0000-0000-0000-000000000000"; 2000]}),
    );
    let token = key.token(&big);
    assert!(token.len() > 64 * 1024);
    let default = gate(issuer(&[key]));
    assert_eq!(code(&default, &token), "token_too_large");
    assert_eq!(
        code(&default, &"x".repeat(64 * 1024 + 1)),
        "token_too_large"
    );
    let large = Gate::builder()
        .issuer(issuer(&[key]))
        .max_token_size(256 * 1024)
        .build()
        .unwrap();
    assert_eq!(code(&large, &token), "accepted");
}

#[test]
fn gates_are_cheap_to_share_across_threads() {
    let key = rs256();
    let gate = gate(issuer(&[key]));
    let token = key.token(&valid_claims());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let gate = gate.clone();
            let token = token.clone();
            scope.spawn(move || {
                for _ in 0..20 {
                    assert!(ready(gate.validate(&token)).is_ok());
                }
            });
        }
    });
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Gate>();
    // The future is Send, so the HTTP layer can run it on any worker.
    fn assert_send<T: Send>(_: T) {}
    assert_send(gate.validate(&token));
}
