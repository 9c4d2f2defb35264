//! 4. Re-signed tokens with arbitrary claims.

use std::time::{SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use tokengate_testkit::{AUDIENCE, ISSUER, now, rs256};

use super::generators::{arbitrary_json, number};
use super::support::{DOCUMENTED, config, es256, validate};

// `noise` weighs mistyped and arbitrary values against plausible ones (out of about 50).

/// A NumericDate near `now`, or an edge, out-of-range or mistyped one.
fn date(now: i64, noise: u32) -> impl Strategy<Value = Value> {
    prop_oneof![
        36 => (-4000i64..4000).prop_map(move |d| Value::from(now + d)),
        12 => (-4000.0f64..4000.0).prop_map(move |d| number(now as f64 + d)),
        2 => proptest::sample::select(vec![
            Value::from(0),
            Value::from(253_402_300_799_u64),
            number(0.5),
        ]),
        noise => proptest::sample::select(vec![
            Value::from(-1),
            Value::from(253_402_300_800_u64),
            number(1e300),
            Value::from(u64::MAX),
            Value::from(now.to_string()),
            Value::Null,
        ]),
        noise => arbitrary_json(),
    ]
}

fn text_or_any(likely: Vec<&'static str>, noise: u32) -> impl Strategy<Value = Value> {
    prop_oneof![
        36 => proptest::sample::select(likely).prop_map(Value::from),
        14 => "\\PC{0,16}".prop_map(Value::String),
        noise => arbitrary_json(),
    ]
}

/// A string or an array of strings (`scope`, `scp`; `roles` takes only the array).
fn strings_or_any(
    likely: Vec<&'static str>,
    noise: u32,
    array_only: bool,
) -> impl Strategy<Value = Value> {
    let string = if array_only { noise } else { 25 };
    prop_oneof![
        25 => proptest::collection::vec(proptest::sample::select(likely.clone()), 0..4)
            .prop_map(|v| json!(v)),
        string => proptest::sample::select(likely).prop_map(Value::from),
        noise => arbitrary_json(),
    ]
}

/// A claim set: each registered claim perhaps present, usually with a plausible value, plus
/// arbitrary other members (whose names may also be registered names). Two thirds of the sets
/// have little noise, so that many validate; the rest have much.
pub(crate) fn claims(now: i64) -> impl Strategy<Value = Map<String, Value>> {
    prop_oneof![2 => claims_with(now, 1), 1 => claims_with(now, 8)]
}

fn claims_with(now: i64, noise: u32) -> impl Strategy<Value = Map<String, Value>> {
    let issuer = prop_oneof![
        40 => Just(json!(ISSUER)),
        2 => proptest::sample::select(vec![
            "https://issuer.example.com",
            "https://issuer.example.com//",
            "HTTPS://issuer.example.com/",
            "https://issuer.example.com/\u{0}",
        ])
        .prop_map(Value::from),
        noise => text_or_any(vec![ISSUER], noise),
    ];
    let audience = prop_oneof![
        25 => Just(json!(AUDIENCE)),
        15 => Just(json!([AUDIENCE, "api://other"])),
        3 => proptest::sample::select(vec![
            json!(["api://other"]),
            json!([]),
            json!("api://orders/"),
            json!("API://orders"),
        ]),
        noise => proptest::sample::select(vec![json!([AUDIENCE, 7]), json!([[AUDIENCE]])]),
        noise => arbitrary_json(),
    ];
    // Markers of other token kinds: rare, so that most sets are access tokens.
    let marker = move || proptest::option::weighted(0.02 * f64::from(noise), arbitrary_json());
    let w = |p: f64, s: BoxedStrategy<Value>| proptest::option::weighted(p, s);
    let registered = (
        (
            w(0.95, issuer.boxed()),
            w(0.95, audience.boxed()),
            // exp mostly ahead, nbf and iat mostly behind, each within about an hour.
            w(0.95, date(now + 2000, noise).boxed()),
            w(0.5, date(now - 2000, noise).boxed()),
            w(0.5, date(now - 2000, noise).boxed()),
            w(0.5, text_or_any(vec!["user-1", "app-1"], noise).boxed()),
            w(0.3, text_or_any(vec!["app-1", "user-1"], noise).boxed()),
            w(0.3, text_or_any(vec!["app-1"], noise).boxed()),
        ),
        (
            w(0.2, text_or_any(vec!["app-1"], noise).boxed()),
            w(0.2, text_or_any(vec!["tenant"], noise).boxed()),
            w(0.3, text_or_any(vec!["user-1", "app-1"], noise).boxed()),
            w(
                0.2,
                text_or_any(vec!["app", "user", "device"], noise).boxed(),
            ),
            w(
                0.1,
                text_or_any(vec!["access", "id", "Access"], noise).boxed(),
            ),
            w(
                0.3,
                strings_or_any(vec!["orders.read", "a b", " ", ""], noise, false).boxed(),
            ),
            w(
                0.3,
                strings_or_any(vec!["orders.read", "user_impersonation"], noise, false).boxed(),
            ),
            w(
                0.3,
                strings_or_any(vec!["Admin", "Reader"], noise, true).boxed(),
            ),
        ),
        (
            marker(),
            marker(),
            marker(),
            marker(),
            marker(),
            w(0.2, text_or_any(vec!["jti-1"], noise).boxed()),
        ),
    );
    let names = prop_oneof![
        30 => "[a-z_]{1,8}",
        15 => "\\PC{0,8}",
        noise => proptest::sample::select(vec!["iss", "aud", "exp", "nonce", "roles", "cid"])
            .prop_map(str::to_owned),
    ];
    let others = proptest::collection::btree_map(names, arbitrary_json(), 0..4);
    (registered, others).prop_map(|((a, b, c), others)| {
        let (iss, aud, exp, nbf, iat, sub, client_id, azp) = a;
        let (appid, tid, oid, idtyp, token_use, scope, scp, roles) = b;
        let (nonce, at_hash, c_hash, s_hash, events, jti) = c;
        let mut map = Map::new();
        // Others first, so the registered values usually win a name clash.
        for (k, v) in others {
            map.insert(k, v);
        }
        let slots = [
            ("iss", iss),
            ("aud", aud),
            ("exp", exp),
            ("nbf", nbf),
            ("iat", iat),
            ("sub", sub),
            ("client_id", client_id),
            ("azp", azp),
            ("appid", appid),
            ("tid", tid),
            ("oid", oid),
            ("idtyp", idtyp),
            ("token_use", token_use),
            ("scope", scope),
            ("scp", scp),
            ("roles", roles),
            ("nonce", nonce),
            ("at_hash", at_hash),
            ("c_hash", c_hash),
            ("s_hash", s_hash),
            ("events", events),
            ("jti", jti),
        ];
        for (k, v) in slots {
            if let Some(v) = v {
                map.insert(k.to_owned(), v);
            }
        }
        map
    })
}

const LEEWAY: f64 = 60.0;
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

fn numeric_date(value: &Value) -> Option<f64> {
    let v = value.as_f64()?;
    (v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&v)).then_some(v)
}

fn all_strings(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|a| a.iter().all(Value::is_string))
}

/// The documented outcome for a correctly signed token with these claims, validated at some
/// time in `[t0, t1]`; `None` when a time check is too close to call within that window.
fn expected(claims: &Map<String, Value>, t0: f64, t1: f64) -> Option<&'static str> {
    let get = |k: &str| claims.get(k);
    // malformed_claims: a registered claim of the wrong type or out of range.
    let strings = [
        "iss",
        "sub",
        "client_id",
        "azp",
        "appid",
        "cid",
        "tid",
        "oid",
        "idtyp",
        "token_use",
        "jti",
    ];
    for k in strings {
        if get(k).is_some_and(|v| !v.is_string()) {
            return Some("malformed_claims");
        }
    }
    for k in ["aud", "scope", "scp"] {
        if get(k).is_some_and(|v| !v.is_string() && !all_strings(v)) {
            return Some("malformed_claims");
        }
    }
    if get("roles").is_some_and(|v| !all_strings(v)) {
        return Some("malformed_claims");
    }
    for k in ["exp", "nbf", "iat"] {
        if get(k).is_some_and(|v| numeric_date(v).is_none()) {
            return Some("malformed_claims");
        }
    }
    let Some(iss) = get("iss") else {
        return Some("missing_claim");
    };
    if iss != ISSUER {
        return Some("untrusted_issuer");
    }
    let marker = ["nonce", "at_hash", "c_hash", "s_hash", "events"]
        .iter()
        .any(|k| get(k).is_some());
    if marker || get("token_use").is_some_and(|v| v != "access") {
        return Some("not_an_access_token");
    }
    let Some(aud) = get("aud") else {
        return Some("missing_claim");
    };
    let ours = aud == AUDIENCE
        || aud
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == AUDIENCE));
    if !ours {
        return Some("invalid_audience");
    }
    let Some(exp) = get("exp").and_then(numeric_date) else {
        return Some("missing_claim");
    };
    // Each time rule, decided at t0 and at t1: if they disagree, the outcome depends on the
    // exact instant and the case is skipped.
    let expired = |now: f64| now >= exp + LEEWAY;
    let early = |now: f64| {
        get("nbf")
            .and_then(numeric_date)
            .is_some_and(|nbf| now < nbf - LEEWAY)
    };
    let future = |now: f64| {
        get("iat")
            .and_then(numeric_date)
            .is_some_and(|iat| iat > now + LEEWAY)
    };
    let rules: [(&dyn Fn(f64) -> bool, &str); 3] = [
        (&expired, "token_expired"),
        (&early, "token_not_yet_valid"),
        (&future, "issued_in_future"),
    ];
    for (rule, code) in rules {
        match (rule(t0), rule(t1)) {
            (true, true) => return Some(code),
            (false, false) => {}
            _ => return None,
        }
    }
    Some("ok")
}

fn seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

proptest! {
    #![proptest_config(config(512))]

    /// Correctly signed tokens with arbitrary claims: never a panic; the outcome is exactly the
    /// documented one; and whatever validates satisfies the rules (iss, aud, exp with leeway,
    /// nbf, iat, no ID-token or logout markers), with accessors that agree with the JSON.
    #[test]
    fn resigned_arbitrary_claims_follow_the_rules(
        rsa in any::<bool>(),
        claims in claims(now()),
    ) {
        let key = if rsa { rs256() } else { es256() };
        let text = Value::Object(claims.clone()).to_string();
        let token = key.token_raw(&key.header().to_string(), &text);
        let t0 = seconds(SystemTime::now());
        let result = validate(&token);
        let t1 = seconds(SystemTime::now());
        let code = match &result {
            Ok(_) => "ok",
            Err(rejection) => rejection.code(),
        };
        prop_assert!(code == "ok" || DOCUMENTED.contains(&code), "undocumented {code}");
        if let Some(want) = expected(&claims, t0, t1) {
            prop_assert_eq!(code, want, "claims {}", text);
        }
        if let Ok(verified) = result {
            prop_assert_eq!(claims.get("iss"), Some(&json!(ISSUER)));
            prop_assert_eq!(verified.issuer(), ISSUER);
            prop_assert!(verified.audiences().any(|a| a == AUDIENCE));
            let exp = claims.get("exp").and_then(numeric_date).expect("exp");
            prop_assert!(exp + LEEWAY > t0, "expired: exp {exp}, now {t0}");
            let at = seconds(verified.expires_at());
            prop_assert!((at - exp).abs() < 1e-3, "expires_at {at} for exp {exp}");
            if let Some(nbf) = claims.get("nbf") {
                prop_assert!(numeric_date(nbf).expect("nbf") - LEEWAY <= t1);
            }
            if let Some(iat) = claims.get("iat") {
                prop_assert!(numeric_date(iat).expect("iat") <= t1 + LEEWAY);
            }
            for marker in ["nonce", "at_hash", "c_hash", "s_hash", "events"] {
                prop_assert!(!claims.contains_key(marker), "{marker} accepted");
            }
            prop_assert!(claims.get("token_use").is_none_or(|u| u == "access"));
            prop_assert_eq!(verified.json(), text.as_str());
        }
    }

    /// Correctly signed payloads that are any JSON value (or not JSON): only objects can be
    /// claims.
    #[test]
    fn resigned_non_object_payloads_are_malformed_claims(
        payload in prop_oneof![
            arbitrary_json()
                .prop_filter("not an object", |v| !v.is_object())
                .prop_map(|v| v.to_string()),
            "\\PC{0,40}",
        ],
    ) {
        let key = es256();
        let token = key.token_raw(&key.header().to_string(), &payload);
        let result = validate(&token);
        let Err(rejection) = result else {
            return Err(TestCaseError::fail(format!("payload {payload:?} accepted")));
        };
        let is_object = serde_json::from_str::<Value>(&payload).is_ok_and(|v| v.is_object());
        if payload.is_empty() {
            // An empty payload segment is detached content, refused as a format.
            prop_assert_eq!(rejection.code(), "unsupported_token_format");
        } else if !is_object {
            prop_assert_eq!(rejection.code(), "malformed_claims", "payload {:?}", payload);
        }
    }
}
