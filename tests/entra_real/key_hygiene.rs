//! Key hygiene on every real key file.

use std::time::SystemTime;

use serde_json::json;
use tokengate::{Algorithm, Gate, IssuerProfile};
use tokengate_testkit::b64;

use super::fixtures::{K01, K08, K14, T04_CASE, T13_CASE, T17_CASE, T18_CASE, T20_CASE};
use super::support::{
    KRIMP, NGTF, base64url_modulus, build, entra, jwks_keys, jwks_of, k08_as_entra, kids, outcome,
    without,
};

/// Whether the gate holds a key with this `kid`: a token naming it with a signature that
/// cannot verify is `invalid_signature` when it does and `unknown_key` when it does not.
fn holds_kid(gate: &Gate, iss: &str, aud: &str, kid: &str) -> bool {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": kid}).to_string();
    let claims = json!({"iss": iss, "aud": aud, "exp": 4_102_444_800_u64}).to_string();
    let token = format!("{}.{}.{}", b64(header), b64(claims), b64([1u8; 256]));
    match outcome(gate, &token, SystemTime::now()) {
        "invalid_signature" => true,
        "unknown_key" => false,
        other => panic!("probe for {kid}: {other}"),
    }
}

/// Every real Entra key file (all of `tests/entra-real/keys/` except K08, a .NET fixture, see
/// below) builds into an RS256-only gate, and every key in it is usable: each kid is found by
/// a probe.
/// K01: 2 of 2 keys, K02: 3 of 3, K06: 1 of 1, K14: 10 of 10.
#[test]
fn key_hygiene_every_real_entra_key_is_loaded() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/entra-real/keys");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5);
    let (iss, aud) = ("https://login.microsoftonline.com/probe/v2.0", "probe");
    let mut loaded = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let jwks = std::fs::read_to_string(&path).unwrap();
        let built = Gate::builder().issuer(entra(iss, aud, &jwks)).build();
        if name.starts_with("K08_") {
            assert!(built.is_err(), "see key_hygiene_k08_verbatim_is_refused");
            continue;
        }
        let gate = built.unwrap_or_else(|e| panic!("{name}: {e}"));
        let kids = kids(&jwks);
        let found = kids
            .iter()
            .filter(|kid| holds_kid(&gate, iss, aud, kid))
            .count();
        println!("{name}: {found} of {} keys loaded", kids.len());
        assert_eq!(found, kids.len(), "{name}");
        loaded.push((name[..3].to_owned(), found));
    }
    let counts: Vec<(&str, usize)> = loaded.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    assert_eq!(counts, [("K01", 2), ("K02", 3), ("K06", 1), ("K14", 10)]);
}

/// K08 is not an Entra key document but a .NET IdentityModel test fixture that wraps the
/// 2014 Entra key. It breaks three JWK rules, and tokengate refuses each key for the first
/// problem it finds, so the verbatim file has no usable key and the build fails:
///
/// * both keys: `"alg": "SHA256"`, a hash name, not a JWS algorithm (RFC 7518 §3.1);
/// * the first key: `"key_ops": ["signing"]`, not a JWK operation (RFC 7517 §4.3 says `verify`);
/// * both keys: `n` in standard base64 (`+`, `/`, `=`), not base64url (RFC 7518 §6.3.1.1).
///
/// Fixing them one at a time shows each check at work; with all three fixed both keys load.
#[test]
fn key_hygiene_k08_verbatim_is_refused() {
    let (iss, aud) = (T13_CASE.iss, T13_CASE.aud);
    let refused = |jwks: &str| {
        Gate::builder()
            .issuer(entra(iss, aud, jwks))
            .build()
            .unwrap_err()
            .to_string()
    };
    let text = refused(K08);
    assert!(text.contains("no usable key"), "{text}");
    assert!(
        text.contains(r#"key "kriMPdmBvx68skT8-mPAB3BseeA": alg "SHA256""#),
        "{text}"
    );
    assert!(
        text.contains(r#"key "NGTFvdK-fythEuLwjpwAJOM9n-A": key_ops"#),
        "{text}"
    );

    // Without `alg`: the 2014 key is now refused for its standard-base64 modulus.
    let no_alg = jwks_of(jwks_keys(K08).into_iter().map(|k| without(k, &["alg"])));
    let text = refused(&no_alg);
    assert!(
        text.contains(r#"key "kriMPdmBvx68skT8-mPAB3BseeA": n is not base64url"#),
        "{text}"
    );

    // And with a base64url modulus it loads; the first key is still refused for `key_ops`.
    let one = jwks_of(
        jwks_keys(K08)
            .into_iter()
            .map(|k| base64url_modulus(without(k, &["alg"]))),
    );
    let gate = build(entra(iss, aud, &one));
    assert!(holds_kid(&gate, iss, aud, KRIMP));
    assert!(!holds_kid(&gate, iss, aud, NGTF));
    // So T13, which names no key, meets a single RS256 key and verifies (ATK-32 decides).
    assert_eq!(
        outcome(&gate, T13_CASE.token(), T13_CASE.at()),
        "not_an_access_token"
    );

    // All three fixed: both keys load.
    let clean = jwks_of([k08_as_entra(NGTF), k08_as_entra(KRIMP)]);
    let gate = build(entra(iss, aud, &clean));
    assert!(holds_kid(&gate, iss, aud, KRIMP));
    assert!(holds_kid(&gate, iss, aud, NGTF));
}

/// Entra keys have no `alg`. Under the default allowlist (every algorithm) they verify RS256,
/// what Entra signs with, and nothing else; several RSA algorithms chosen explicitly leave the
/// binding a guess, and the build says so instead of guessing.
#[test]
fn entra_keys_need_exactly_one_rsa_algorithm() {
    let gate = build(
        IssuerProfile::new(T20_CASE.iss)
            .audience(T20_CASE.aud)
            .jwks(K14),
    );
    assert_eq!(outcome(&gate, T20_CASE.token(), T20_CASE.at()), "ok");
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(T20_CASE.iss)
                .audience(T20_CASE.aud)
                .algorithms([Algorithm::RS256, Algorithm::PS256])
                .jwks(K14),
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("allow exactly one"), "{err}");
    // RS256 alone, or RS256 with non-RSA algorithms, binds them.
    let gate = build(
        IssuerProfile::new(T20_CASE.iss)
            .audience(T20_CASE.aud)
            .algorithms([Algorithm::RS256, Algorithm::ES256])
            .jwks(K14),
    );
    assert_eq!(outcome(&gate, T20_CASE.token(), T20_CASE.at()), "ok");
    // Bound to PS256 instead, the real RS256 token is refused before any key is tried.
    let gate = build(entra(T20_CASE.iss, T20_CASE.aud, K14).algorithms([Algorithm::PS256]));
    assert_eq!(
        outcome(&gate, T20_CASE.token(), T20_CASE.at()),
        "unsupported_algorithm"
    );
}

/// All the real tokens through one gate that trusts all their issuers at once, each with its
/// own keys: every issuer's tokens are verified with that issuer's keys only.
#[test]
fn entra_issuers_side_by_side() {
    let gate = Gate::builder()
        .issuer(T17_CASE.profile())
        .issuer(T18_CASE.profile())
        .issuer(T20_CASE.profile())
        .issuer(T04_CASE.profile())
        .build()
        .unwrap();
    for case in [&T04_CASE, &T17_CASE, &T18_CASE, &T20_CASE] {
        assert_eq!(
            outcome(&gate, case.token(), case.at()),
            "ok",
            "{}",
            case.name
        );
    }
    // T20's issuer configured with T17's keys (K01): T20's key is not among them.
    let crossed = build(entra(T20_CASE.iss, T20_CASE.aud, K01));
    assert_eq!(
        outcome(&crossed, T20_CASE.token(), T20_CASE.at()),
        "unknown_key"
    );
}
