//! The proof checks, one refusal per RFC 9449 §4.3 step (ATK-36, ATK-37).

use serde_json::{Value, json};
use url::Url;

use super::*;
use crate::dpop::keys::ProofKeys;
use crate::test_fixtures::key_for;
use crate::testing::TestKey;

const NOW: f64 = 1_800_000_000.0;
const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";

fn client() -> &'static TestKey {
    key_for(Algorithm::ES256)
}

fn jkt(key: &TestKey) -> String {
    thumbprint(&key.jwk().to_string()).unwrap()
}

fn header(key: &TestKey) -> Value {
    let mut jwk = key.jwk();
    jwk.as_object_mut().unwrap().remove("kid");
    json!({"typ": "dpop+jwt", "alg": key.alg().name(), "jwk": jwk})
}

fn claims() -> Value {
    json!({
        "jti": "e1j3V_bKic8-LAEB",
        "htm": "GET",
        "htu": "https://api.example.com/orders/7",
        "iat": NOW - 5.0,
        "ath": token_hash(TOKEN),
    })
}

fn proof(key: &TestKey, header: &Value, claims: &Value) -> String {
    key.token_raw(&header.to_string(), &claims.to_string())
}

/// What a GET of `uri` with `TOKEN`, bound to `jkt`, at `NOW` expects: a 60 s window with 5 s
/// of leeway, any algorithm, no nonce, no key cache.
fn expecting<'a>(uri: &'a Url, jkt: &'a str) -> Expected<'a> {
    Expected {
        method: "GET",
        uri,
        token: TOKEN,
        jkt,
        algorithms: Algorithm::ALL,
        now: NOW,
        max_age: 60.0,
        leeway: 5.0,
        nonce: None,
        keys: None,
    }
}

/// Checks a proof against a GET of https://api.example.com/orders/7 with `TOKEN`, bound to
/// the client key, at `NOW`.
fn check_with(proof: &str, nonce: Option<&str>) -> Result<Checked, ProofError> {
    let uri = Url::parse("https://api.example.com/orders/7").unwrap();
    let jkt = jkt(client());
    let accepts = |value: &str| Some(value) == nonce;
    let nonce = nonce.map(|_| &accepts as &dyn Fn(&str) -> bool);
    check(
        proof,
        &Expected {
            nonce,
            ..expecting(&uri, &jkt)
        },
    )
}

fn verdict(header: Value, claims: Value) -> Result<(), ProofError> {
    check_with(&proof(client(), &header, &claims), None).map(|_| ())
}

fn with(mut value: Value, name: &str, member: Value) -> Value {
    if member.is_null() {
        value.as_object_mut().unwrap().remove(name);
    } else {
        value[name] = member;
    }
    value
}

#[test]
fn a_valid_proof_passes_with_its_id_and_time_to_live() {
    let checked = check_with(&proof(client(), &header(client()), &claims()), None).unwrap();
    assert_eq!(checked.id, ProofId::new(&jkt(client()), "e1j3V_bKic8-LAEB"));
    // iat 5 s ago, window 60 s + 5 s leeway: kept 60 s more, plus a second.
    assert_eq!(checked.ttl, Duration::from_secs(61));
    // Every asymmetric algorithm.
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let key = key_for(alg);
        let uri = Url::parse("https://api.example.com/orders/7").unwrap();
        let jkt = jkt(key);
        let expected = expecting(&uri, &jkt);
        assert!(
            check(&proof(key, &header(key), &claims()), &expected).is_ok(),
            "{alg:?}"
        );
    }
}

#[test]
fn atk_36_type_and_algorithm() {
    let h = header(client());
    assert_eq!(
        verdict(with(h.clone(), "typ", json!("JWT")), claims()),
        Err(ProofError::Type)
    );
    assert_eq!(
        verdict(with(h.clone(), "typ", json!("at+jwt")), claims()),
        Err(ProofError::Type)
    );
    assert_eq!(
        verdict(with(h.clone(), "typ", Value::Null), claims()),
        Err(ProofError::Type)
    );
    assert_eq!(
        verdict(with(h.clone(), "typ", json!("DPoP+JWT")), claims()),
        Ok(())
    );
    // An algorithm of another key type names a key the proof's `jwk` is not.
    assert_eq!(
        verdict(with(h.clone(), "alg", json!("RS256")), claims()),
        Err(ProofError::Key)
    );
    for alg in ["none", "HS256", "es256", ""] {
        assert_eq!(
            verdict(with(h.clone(), "alg", json!(alg)), claims()),
            Err(ProofError::Algorithm),
            "{alg}"
        );
    }
    assert_eq!(
        verdict(with(h, "crit", json!(["x"])), claims()),
        Err(ProofError::Malformed)
    );
}

#[test]
fn atk_36_private_or_foreign_keys() {
    let h = header(client());
    // A private member: refused whatever else (the thumbprint ignores it, the parser does not).
    let mut private = h.clone();
    private["jwk"]["d"] = json!("AAAA");
    assert_eq!(verdict(private, claims()), Err(ProofError::Key));
    // Another key than the token's, signing its own proof: not the bound key.
    let other = key_for(Algorithm::ES384);
    let foreign = proof(other, &header(other), &claims());
    assert_eq!(check_with(&foreign, None), Err(ProofError::KeyMismatch));
    // The bound key named, another key signing.
    let forged = proof(other, &with(h.clone(), "alg", json!("ES384")), &claims());
    assert!(matches!(
        check_with(&forged, None),
        Err(ProofError::Signature | ProofError::Key)
    ));
    assert_eq!(
        verdict(with(h.clone(), "jwk", Value::Null), claims()),
        Err(ProofError::Key)
    );
    assert_eq!(
        verdict(with(h, "jwk", json!({"kty": "oct", "k": "AAAA"})), claims()),
        Err(ProofError::Key)
    );
}

#[test]
fn atk_36_signature() {
    let good = proof(client(), &header(client()), &claims());
    let (input, _) = good.rsplit_once('.').unwrap();
    let other = proof(
        client(),
        &header(client()),
        &with(claims(), "jti", json!("x")),
    );
    let (_, signature) = other.rsplit_once('.').unwrap();
    assert_eq!(
        check_with(&format!("{input}.{signature}"), None),
        Err(ProofError::Signature)
    );
    assert_eq!(
        check_with(&format!("{input}."), None),
        Err(ProofError::Signature)
    );
}

#[test]
fn atk_37_method_and_uri() {
    assert_eq!(
        verdict(header(client()), with(claims(), "htm", json!("POST"))),
        Err(ProofError::Method)
    );
    assert_eq!(
        verdict(header(client()), with(claims(), "htm", json!("get"))),
        Err(ProofError::Method)
    );
    for htu in [
        "https://other.example.com/orders/7",
        "http://api.example.com/orders/7",
        "https://api.example.com:8443/orders/7",
        "https://api.example.com/orders/8",
        "https://api.example.com/orders/7/",
        "https://user@api.example.com/orders/7",
        "/orders/7",
        "not a url",
    ] {
        assert_eq!(
            verdict(header(client()), with(claims(), "htu", json!(htu))),
            Err(ProofError::Uri),
            "{htu}"
        );
    }
    // Normalized as URLs: case of scheme and host, default port, dot segments, encodings of
    // unreserved characters; query and fragment ignored.
    for htu in [
        "HTTPS://API.Example.COM/orders/7",
        "https://api.example.com:443/orders/7",
        "https://api.example.com/orders/./7",
        "https://api.example.com/orders/x/../7",
        "https://api.example.com/%6Frders/7",
        "https://api.example.com/orders/7?page=2",
        "https://api.example.com/orders/7#top",
    ] {
        assert_eq!(
            verdict(header(client()), with(claims(), "htu", json!(htu))),
            Ok(()),
            "{htu}"
        );
    }
}

#[test]
fn atk_37_time_window() {
    for (iat, expected) in [
        (NOW, Ok(())),
        (NOW - 65.0, Ok(())),
        (NOW + 5.0, Ok(())),
        (NOW - 66.0, Err(ProofError::Time)),
        (NOW + 6.0, Err(ProofError::Time)),
        (0.0, Err(ProofError::Time)),
    ] {
        assert_eq!(
            verdict(header(client()), with(claims(), "iat", json!(iat))),
            expected,
            "{iat}"
        );
    }
    assert_eq!(
        verdict(header(client()), with(claims(), "iat", json!("1800000000"))),
        Err(ProofError::Malformed)
    );
}

#[test]
fn atk_37_token_hash() {
    let other = token_hash("another.token.value");
    assert_eq!(
        verdict(header(client()), with(claims(), "ath", json!(other))),
        Err(ProofError::TokenHash)
    );
    assert_eq!(
        verdict(header(client()), with(claims(), "ath", Value::Null)),
        Err(ProofError::TokenHash)
    );
    // RFC 9449 §7.1's example: the hash of its access token.
    assert_eq!(
        token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn jti_and_nonce() {
    assert_eq!(
        verdict(header(client()), with(claims(), "jti", Value::Null)),
        Err(ProofError::Malformed)
    );
    assert_eq!(
        verdict(header(client()), with(claims(), "jti", json!(""))),
        Err(ProofError::Malformed)
    );
    assert_eq!(
        verdict(
            header(client()),
            with(claims(), "jti", json!("j".repeat(257)))
        ),
        Err(ProofError::Malformed)
    );
    let with_nonce = proof(
        client(),
        &header(client()),
        &with(claims(), "nonce", json!("n-1")),
    );
    assert!(check_with(&with_nonce, Some("n-1")).is_ok());
    assert_eq!(check_with(&with_nonce, Some("n-2")), Err(ProofError::Nonce));
    let without = proof(client(), &header(client()), &claims());
    assert_eq!(check_with(&without, Some("n-1")), Err(ProofError::Nonce));
}

#[test]
fn malformed_proofs() {
    let key = client();
    let h = header(key).to_string();
    for (header, claims) in [
        (
            h.replace(r#""typ""#, r#""typ":"dpop+jwt","typ""#),
            claims().to_string(),
        ),
        (h.clone(), r#"{"jti":"a","jti":"b","htm":"GET"}"#.to_owned()),
        (h.clone(), "[]".to_owned()),
        ("[]".to_owned(), claims().to_string()),
    ] {
        let proof = key.token_raw(&header, &claims);
        assert!(check_with(&proof, None).is_err(), "{header} {claims}");
    }
    // A huge proof is not even parsed.
    let mut padded = claims();
    padded["padding"] = json!("x".repeat(10_000));
    let huge = proof(key, &header(key), &padded);
    assert_eq!(
        check_with(&huge, None).map(|_| ()),
        Err(ProofError::Malformed)
    );
    for proof in ["", "a.b", "a.b.c.d.e", "{}"] {
        assert_eq!(
            check_with(proof, None).map(|_| ()),
            Err(ProofError::Malformed),
            "{proof}"
        );
    }
}

/// Parsed keys are reused for the exact same `jwk` text and algorithm only: a private member
/// beside the same public key is still refused once the public key is cached.
#[test]
fn cached_proof_keys_are_the_parsed_ones() {
    let keys = ProofKeys::new();
    let key = client();
    let uri = Url::parse("https://api.example.com/orders/7").unwrap();
    let jkt = jkt(key);
    let expected = Expected {
        keys: Some(&keys),
        ..expecting(&uri, &jkt)
    };
    for jti in ["one", "two"] {
        let good = proof(key, &header(key), &with(claims(), "jti", json!(jti)));
        assert!(check(&good, &expected).is_ok());
    }
    let mut leaky = header(key);
    leaky["jwk"]["d"] = json!("AAAA");
    let leaky = proof(key, &leaky, &claims());
    assert_eq!(check(&leaky, &expected), Err(ProofError::Key));
    // The cached key does not verify another key's signature.
    let forged = proof(key_for(Algorithm::ES384), &header(key), &claims());
    assert!(check(&forged, &expected).is_err());
}
