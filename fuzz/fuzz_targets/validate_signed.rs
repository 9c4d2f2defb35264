//! Full validation of tokens that really are signed: the input is the claims set (or
//! `header NUL claims`), which the target signs with a fixed Ed25519 key before giving the
//! token to a `Gate` that trusts that key, at a fixed clock. This is what reaches the claim
//! checks, which a fuzzer cannot reach with tokens it would have to sign itself.
//!
//! Two issuers: a plain JWT profile, and an RFC 9068 one with an alternate name, two
//! audiences, a maximum age, more leeway and a required claim; the gate requires a scope or a
//! role.
//!
//! Invariants: no panic; an accepted token's claims are the input's, name a configured issuer
//! and one of its audiences, are within their lifetime (with leeway), carry what the profile
//! and the requirement ask for; the cache gives the same answer; the same token with one bit of
//! its signature changed is refused.
#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use libfuzzer_sys::fuzz_target;
use tokengate::providers::entra::EntraClaims;
use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection, Requirement, TokenProfile};
use tokengate_fuzz::{at, outcome, ready};

const BASE64URL: base64_simd::Base64 = base64_simd::URL_SAFE_NO_PAD;

/// The fixed clock: 2030-03-17.
const NOW: u64 = 1_900_000_000;

const PLAIN: &str = "https://fuzz.example/";
const STRICT: &str = "https://fuzz.example/rfc9068";
const STRICT_ALT: &str = "https://fuzz.example/alt";

/// The header used when the input has no NUL byte.
const HEADER: &str = r#"{"alg":"EdDSA","kid":"fuzz-ed25519","typ":"at+jwt"}"#;

struct Fixture {
    key: Ed25519KeyPair,
    gate: Gate,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    // A fixed seed: runs are reproducible, and Ed25519 signatures are deterministic.
    let key = Ed25519KeyPair::from_seed_unchecked(&[0x5a; 32]).expect("Ed25519 seed");
    let x = BASE64URL.encode_to_string(key.public_key().as_ref());
    let jwks = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"fuzz-ed25519","use":"sig","x":"{x}"}}]}}"#
    );
    let gate = Gate::builder()
        .issuer(
            IssuerProfile::new(PLAIN)
                .audience("api://fuzz")
                .algorithms([Algorithm::EdDSA])
                .jwks(jwks.clone()),
        )
        .issuer(
            IssuerProfile::new(STRICT)
                .alternate_issuer(STRICT_ALT)
                .audiences(["api://fuzz", "api://other"])
                .algorithms([Algorithm::EdDSA, Algorithm::ES256])
                .token_profile(TokenProfile::Rfc9068)
                .leeway(Duration::from_secs(300))
                .max_token_age(Duration::from_secs(3600))
                .require_claim("tid")
                .jwks(jwks),
        )
        .require(Requirement::any_scope(["fuzz.read"]).or(Requirement::any_role(["Fuzz.Reader"])))
        .build()
        .expect("the validate_signed target's gate builds");
    let fixture = Fixture { key, gate };
    // The fixture is what makes the invariants worth checking: a token for each issuer is
    // accepted.
    for claims in [
        include_str!("../seeds/validate_signed/plain.json"),
        include_str!("../seeds/validate_signed/rfc9068.json"),
    ] {
        let token = fixture.sign(HEADER.as_bytes(), claims.as_bytes()).0;
        let accepted = ready(fixture.gate.validate_at(&token, at(NOW)));
        assert!(
            accepted.is_ok(),
            "seed claims refused: {:?}",
            accepted.err()
        );
    }
    fixture
});

impl Fixture {
    /// The token for this header and these claims, and its signature.
    fn sign(&self, header: &[u8], claims: &[u8]) -> (String, Vec<u8>) {
        let input = format!(
            "{}.{}",
            BASE64URL.encode_to_string(header),
            BASE64URL.encode_to_string(claims)
        );
        let signature = self.key.sign(input.as_bytes()).as_ref().to_vec();
        let token = format!("{input}.{}", BASE64URL.encode_to_string(&signature));
        (token, signature)
    }
}

fuzz_target!(|data: &[u8]| {
    let (header, claims) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (HEADER.as_bytes(), data),
    };
    let fixture = &*FIXTURE;
    let (token, mut signature) = fixture.sign(header, claims);

    let now = at(NOW);
    let first = ready(fixture.gate.validate_at(&token, now));
    let again = ready(fixture.gate.validate_at(&token, now));
    assert_eq!(
        outcome(&first),
        outcome(&again),
        "the cache changed the answer"
    );
    let Ok(accepted) = first else {
        return;
    };
    check(&accepted, claims);

    let middle = signature.len() / 2;
    signature[middle] ^= 0x10;
    let input = token.rsplit_once('.').expect("three segments").0;
    let forged = format!("{input}.{}", BASE64URL.encode_to_string(&signature));
    let refused = ready(fixture.gate.validate_at(&forged, now));
    assert_eq!(
        refused.as_ref().map(|_| ()).map_err(Rejection::code),
        Err("invalid_signature"),
        "a changed signature was not refused as such"
    );
});

/// What an accepted token's claims must satisfy.
fn check(claims: &Arc<Claims>, input: &[u8]) {
    assert_eq!(claims.json().as_bytes(), input);
    let now = at(NOW);
    let (audiences, leeway): (&[&str], u64) = match claims.issuer() {
        PLAIN => (&["api://fuzz"], 60),
        STRICT | STRICT_ALT => {
            assert!(claims.subject().is_some());
            assert!(claims.client_id().is_some());
            assert!(claims.tenant_id().is_some());
            let iat = claims.issued_at().expect("iat");
            assert!(iat + Duration::from_secs(3600 + 300) >= now, "too old");
            (&["api://fuzz", "api://other"], 300)
        }
        other => panic!("accepted an unconfigured issuer {other:?}"),
    };
    let leeway = Duration::from_secs(leeway);
    assert!(claims.audiences().any(|aud| audiences.contains(&aud)));
    assert!(claims.expires_at() + leeway > now, "expired");
    assert!(claims.not_before().is_none_or(|nbf| nbf <= now + leeway));
    assert!(claims.issued_at().is_none_or(|iat| iat <= now + leeway));
    assert!(claims.has_scope("fuzz.read") || claims.has_role("Fuzz.Reader"));
    // Every accessor, for panics.
    let _ = (claims.object_id(), claims.token_kind());
    let _ = (claims.scopes().count(), claims.roles().count());
    let _ = (claims.auth_contexts(), claims.client_capabilities());
    let _ = claims.deserialize::<serde_json::Value>();
    // A member's value alone, from the member index, reads as the whole claims say it is.
    let whole = claims.deserialize::<serde_json::Map<String, serde_json::Value>>();
    if let Ok(whole) = whole {
        for (name, value) in &whole {
            let alone = claims
                .claim::<serde_json::Value>(name)
                .expect("a member's value");
            assert_eq!(alone.as_ref(), Some(value), "member {name:?}");
        }
        assert_eq!(
            claims.claim::<serde_json::Value>("\u{0}absent").ok(),
            Some(None)
        );
    }
}
