//! The token's format (ATK-25 to ATK-29): size and nesting bombs, the JWS JSON serializations,
//! JWE, nested JWTs, duplicate JSON members.

use serde_json::{Value, json};
use tokengate::{Gate, Rejection};

use tokengate_testkit::{self as common, AUDIENCE, ISSUER, b64, valid_claims};

use crate::harness::{
    Good, OTHER_TENANT, TENANT, check_all, expect, gate, profile, raw_claims, segments, with,
};
use crate::header::atk_01_good;

pub(crate) fn atk_25_good() -> Vec<Good> {
    let key = common::rs256();
    let roomy = Gate::builder()
        .issuer(profile(&[key]))
        .max_token_size(4 << 20)
        .build()
        .unwrap();
    vec![
        Good::new(
            "ordinary token, default cap",
            &gate(&[key]),
            key.token(&valid_claims()),
        ),
        Good::new(
            "ordinary token, 4 MiB cap",
            &roomy,
            key.token(&valid_claims()),
        ),
    ]
}

/// ATK-25: size and complexity bombs (CVE-2025-30204, CVE-2024-21319). With the default 64 KiB
/// cap, the large ones are refused before any decoding; with the cap raised to 4 MiB each is
/// still refused, with a specific code and without panicking or overflowing the stack. No
/// timing assertions.
#[test]
fn atk_25_size_bombs() {
    let key = common::rs256();
    let goods = atk_25_good();
    check_all(&goods);
    let (default, roomy) = (&goods[0].gate, &goods[1].gate);
    let header = key.header().to_string();
    let claims = valid_claims();
    let nested = |depth: usize| {
        raw_claims(
            &claims,
            &[],
            &[format!(r#""x":{}{}"#, "[".repeat(depth), "]".repeat(depth))],
        )
    };
    let mut many = raw_claims(&claims, &[], &[]);
    many.pop();
    for i in 0..100_000 {
        many.push_str(&format!(r#","c{i}":0"#));
    }
    // The last member repeats the first: refusing it needs the whole duplicate check.
    many.push_str(r#","c0":0}"#);
    let big_number = raw_claims(
        &claims,
        &["exp"],
        &[format!(r#""exp":{}"#, "9".repeat(100_000))],
    );
    let big_kid = json!({"alg": "RS256", "typ": "JWT", "kid": "k".repeat(100_000)}).to_string();

    // (variant, token, code with the default cap, code with a 4 MiB cap)
    let cases = [
        (
            "1 MiB header",
            format!(
                "{}.{}.{}",
                "A".repeat(1 << 20),
                b64(claims.to_string()),
                b64("sig")
            ),
            Rejection::TokenTooLarge,
            Rejection::MalformedHeader,
        ),
        (
            "10^6 dots",
            ".".repeat(1_000_000),
            Rejection::TokenTooLarge,
            Rejection::MalformedToken,
        ),
        (
            // About 27 KB: under the default cap, so decoded, and refused by the nesting limit.
            "10,000 nested arrays",
            key.token_raw(&header, &nested(10_000)),
            Rejection::MalformedClaims,
            Rejection::MalformedClaims,
        ),
        (
            "100,000 nested arrays",
            key.token_raw(&header, &nested(100_000)),
            Rejection::TokenTooLarge,
            Rejection::MalformedClaims,
        ),
        (
            "100 KB number",
            key.token_raw(&header, &big_number),
            Rejection::TokenTooLarge,
            Rejection::MalformedClaims,
        ),
        (
            "100,000 claims",
            key.token_raw(&header, &many),
            Rejection::TokenTooLarge,
            Rejection::MalformedClaims,
        ),
        (
            "100 KB kid",
            key.token_raw(&big_kid, &claims.to_string()),
            Rejection::TokenTooLarge,
            Rejection::MalformedHeader,
        ),
    ];
    for (variant, token, with_default, with_roomy) in cases {
        assert!(token.len() < 4 << 20, "{variant}: {} bytes", token.len());
        expect(
            default,
            &token,
            &with_default,
            &format!("{variant}, 64 KiB cap"),
        );
        expect(roomy, &token, &with_roomy, &format!("{variant}, 4 MiB cap"));
    }
}

/// ATK-26: the JWS JSON serializations are not JWTs (RFC 7519 §1/§7.2; CVE-2022-39227).
#[test]
fn atk_26_json_serialization() {
    let goods = atk_01_good();
    check_all(&goods);
    let (gate, token) = (&goods[0].gate, &goods[0].token);
    let [h, p, s] = segments(token);
    let forged = b64(with(valid_claims(), "sub", json!("admin")).to_string());
    let general =
        json!({"payload": p, "signatures": [{"protected": h, "signature": s}]}).to_string();
    let flattened = json!({"payload": p, "protected": h, "signature": s}).to_string();
    let two_dots =
        json!({"payload": p, "protected": h, "header": {"kid": "a.b.c"}, "signature": s})
            .to_string();
    // python-jwt's confusion: the compact prefix `h.p.` as a member name (two dots).
    let mixed =
        format!(r#"{{"{h}.{p}.":"","protected":"{h}","payload":"{forged}","signature":"{s}"}}"#);
    let variants = [
        ("general", general),
        ("flattened", flattened.clone()),
        ("flattened, two dots", two_dots),
        ("compact prefix as a member name", mixed),
        ("flattened after a space", format!(" {flattened}")),
        ("flattened after a newline", format!("\n{flattened}")),
    ];
    for (variant, text) in variants {
        if variant.contains("two dots") || variant.contains("prefix") {
            assert_eq!(text.matches('.').count(), 2, "{variant}");
        }
        expect(gate, &text, &Rejection::UnsupportedTokenFormat, variant);
    }
}

/// ATK-27: a JWE is refused by its shape, without decrypting or inflating anything (RFC 7519
/// §7.2; CVE-2024-28176, CVE-2024-28122).
#[test]
fn atk_27_jwe() {
    let key = common::rs256();
    let gate = gate(&[key]);
    check_all(&atk_01_good());
    let segment = |len: usize| b64(vec![0x5a; len]);
    let jwe = |header: &Value, encrypted_key: &str| {
        format!(
            "{}.{encrypted_key}.{}.{}.{}",
            b64(header.to_string()),
            segment(12),
            segment(4096),
            segment(16)
        )
    };
    let oaep = json!({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": key.kid()});
    let deflate = json!({"alg": "RSA-OAEP-256", "enc": "A128GCM", "zip": "DEF", "kid": key.kid()});
    let direct = json!({"alg": "dir", "enc": "A128GCM", "zip": "DEF"});
    let variants = [
        ("RSA-OAEP to the RS's key", jwe(&oaep, &segment(256))),
        ("zip DEF", jwe(&deflate, &segment(256))),
        ("dir, empty encrypted key", jwe(&direct, "")),
        (
            "JWE header on three segments",
            format!("{}.{}.{}", b64(oaep.to_string()), segment(64), segment(16)),
        ),
        (
            "zip DEF on a signed JWS",
            key.token_with_header(
                &json!({"alg": "RS256", "typ": "JWT", "kid": key.kid(), "zip": "DEF"}),
                &valid_claims(),
            ),
        ),
    ];
    for (variant, token) in variants {
        expect(&gate, &token, &Rejection::UnsupportedTokenFormat, variant);
    }
}

/// ATK-28: nested JWTs (`cty: JWT`) are not supported (RFC 8725 §3.3/§3.11).
#[test]
fn atk_28_nested_jwt() {
    check_all(&atk_01_good());
    let key = common::rs256();
    let gate = gate(&[key]);
    let inner_signed = key.token(&valid_claims());
    let inner_unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none"}).to_string()),
        b64(valid_claims().to_string())
    );
    for cty in ["JWT", "jwt", "application/jwt", "at+jwt"] {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid(), "cty": cty});
        let variants = [
            ("a signed inner token", inner_signed.clone()),
            ("an unsigned inner token", inner_unsigned.clone()),
            ("JSON claims", valid_claims().to_string()),
        ];
        for (inner, payload) in variants {
            expect(
                &gate,
                &key.token_raw(&header.to_string(), &payload),
                &Rejection::UnsupportedTokenFormat,
                &format!("cty {cty} around {inner}"),
            );
        }
    }
}

pub(crate) fn atk_29_good() -> Vec<Good> {
    let key = common::rs256();
    let text = raw_claims(&valid_claims(), &[], &[]);
    let token = key.token_raw(&key.header().to_string(), &text);
    vec![Good::new("no duplicates", &gate(&[key]), token)]
}

/// ATK-29: duplicate JSON member names, in either order and through escapes (RFC 7515 §4,
/// RFC 7519 §4), signed correctly so that only the duplicate is wrong.
#[test]
fn atk_29_duplicate_members() {
    let key = common::rs256();
    let gate = gate(&[key]);
    let claims = valid_claims();
    check_all(&atk_29_good());
    let kid = key.kid();
    let headers = [
        format!(r#"{{"alg":"RS256","alg":"RS256","typ":"JWT","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}","alg":"RS256"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}","alg":"none"}}"#),
        format!(r#"{{"alg":"RS256","\u0061lg":"HS256","typ":"JWT","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"attacker","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}","kid":"attacker"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","typ":"dpop+jwt","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}","jwk":{{"kty":"RSA","kty":"oct"}}}}"#),
    ];
    for header in headers {
        expect(
            &gate,
            &key.token_raw(&header, &raw_claims(&claims, &[], &[])),
            &Rejection::MalformedHeader,
            &format!("header {header}"),
        );
    }
    let exp = claims["exp"].clone();
    let pairs: [(&str, Value, Value); 5] = [
        ("aud", json!(AUDIENCE), json!("api://attacker")),
        ("iss", json!(ISSUER), json!("https://attacker.example/")),
        ("exp", json!(1), exp),
        ("sub", json!("user-1"), json!("admin")),
        ("tid", json!(TENANT), json!(OTHER_TENANT)),
    ];
    for (name, first, second) in pairs {
        for (a, b) in [(&first, &second), (&second, &first)] {
            for spelled in [format!(r#""{name}""#), escaped_name(name)] {
                let members = [format!(r#""{name}":{a}"#), format!("{spelled}:{b}")];
                let text = raw_claims(&claims, &[name], &members);
                expect(
                    &gate,
                    &key.token_raw(&key.header().to_string(), &text),
                    &Rejection::MalformedClaims,
                    &format!("claims {}", members.join(",")),
                );
            }
        }
    }
    // Duplicates nested inside a claim value.
    let nested = raw_claims(&claims, &[], &[r#""cnf":{"jkt":"a","jkt":"b"}"#.to_owned()]);
    expect(
        &gate,
        &key.token_raw(&key.header().to_string(), &nested),
        &Rejection::MalformedClaims,
        "cnf.jkt twice",
    );
}

/// `"aud"` spelled with its first letter as a JSON escape: `"\u0061ud"`.
fn escaped_name(name: &str) -> String {
    let first = name.chars().next().unwrap();
    format!(r#""\u{:04x}{}""#, u32::from(first), &name[1..])
}
