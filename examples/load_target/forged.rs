//! The forged tokens of the load test: each must be refused with 401, for the reason it was
//! made for.

use aws_lc_rs::hmac;
use tokengate::Algorithm;
use tokengate::testing::{DpopKey, TestIssuer};

use crate::ALGORITHMS;
use crate::tokens::{Labelled, refusal};

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// The three parts of a compact JWS.
fn parts(token: &str) -> [&str; 3] {
    let mut parts = token.splitn(3, '.');
    let mut next = || parts.next().expect("a compact JWS has three parts");
    [next(), next(), next()]
}

/// The issuer's current `kid` for `alg` (its first key: `test-<alg>-1`).
fn kid(alg: Algorithm) -> String {
    format!("test-{}-1", alg.name().to_ascii_lowercase())
}

/// The published JWK with this `kid`, from a JWK Set's text.
fn jwk(jwks: &str, kid: &str) -> serde_json::Value {
    let set: serde_json::Value = serde_json::from_str(jwks).expect("the test issuer's JWK Set");
    set["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|key| key["kid"] == kid))
        .cloned()
        .unwrap_or_else(|| panic!("no published key {kid}"))
}

/// The forged tokens: each must be refused with 401.
pub(crate) fn mint_forged(
    issuer: &TestIssuer,
    foreign: &TestIssuer,
    unpublished: &[(Algorithm, String)],
    each: usize,
) -> Vec<Labelled> {
    let mut out = Vec::new();
    let mut forged = |kind: String, token: String| {
        let code = refusal(&kind);
        out.push(Labelled::new(401, kind, code, token));
    };
    let good = |alg: Algorithm| issuer.token().alg(alg).scope("orders.read");
    for _ in 0..each {
        for alg in ALGORITHMS {
            let name = alg.name();
            forged(
                format!("forged-tampered-{name}"),
                good(alg).tampered().sign(),
            );
            // The issuer's own `kid` (the foreign issuer numbers its keys the same way) and
            // claims, signed with a key it never had.
            forged(
                format!("forged-foreign-key-same-kid-{name}"),
                foreign
                    .token()
                    .key(&kid(alg))
                    .claim("iss", issuer.issuer())
                    .scope("orders.read")
                    .sign(),
            );
            forged(
                format!("forged-wrong-audience-{name}"),
                good(alg).audience("api://someone-else").sign(),
            );
            // A key of the issuer's that is not in its JWK Set (an unknown `kid` to the gate).
            let (_, kid) = unpublished
                .iter()
                .find(|(a, _)| *a == alg)
                .expect("an unpublished key for every algorithm");
            forged(
                format!("forged-unpublished-key-{name}"),
                issuer.token().key(kid).scope("orders.read").sign(),
            );
            // A valid token with its header and payload swapped.
            let token = good(alg).sign();
            let [header, payload, signature] = parts(&token);
            forged(
                format!("forged-header-payload-swap-{name}"),
                format!("{payload}.{header}.{signature}"),
            );
            // Elevated claims under another token's genuine signature.
            let elevated = good(alg).subject("admin").scope("orders.read admin").sign();
            forged(
                format!("forged-signature-splice-{name}"),
                format!("{header}.{}.{signature}", parts(&elevated)[1]),
            );
            // A signature three bytes short: cut at a whole base64url quantum, so that what is
            // left always decodes (a cut elsewhere may leave non-zero trailing bits, which is
            // `malformed_token` instead, depending on the signature's bytes).
            let signature_len = parts(&token)[2].len();
            let cut = signature_len - (signature_len / 4 - 1) * 4;
            forged(
                format!("forged-truncated-signature-{name}"),
                token[..token.len() - cut].to_owned(),
            );
        }
        // The foreign issuer's own token: the wrong `iss`.
        forged(
            "forged-foreign-issuer".into(),
            foreign.token().scope("orders.read").sign(),
        );
        // `alg: none`, without a signature and with the RS256 one.
        let token = good(Algorithm::RS256)
            .header("alg", "none")
            .without_header("kid")
            .sign();
        let [header, payload, _] = parts(&token);
        forged(
            "forged-alg-none-unsigned".into(),
            format!("{header}.{payload}."),
        );
        forged("forged-alg-none-signed".into(), token.clone());
        // The header names another algorithm than the key's (an ES256 signature, header RS256).
        forged(
            "forged-alg-mismatch".into(),
            good(Algorithm::ES256)
                .header("alg", "RS256")
                .header("kid", kid(Algorithm::RS256))
                .sign(),
        );
        // Algorithm confusion: HS256 keyed with the RS256 public key as published.
        let secret = jwk(&issuer.jwks(), &kid(Algorithm::RS256)).to_string();
        let header =
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": kid(Algorithm::RS256)});
        let claims = parts(&good(Algorithm::RS256).sign())[1].to_owned();
        let input = format!("{}.{claims}", b64(header.to_string()));
        let mac = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
            input.as_bytes(),
        );
        forged(
            "forged-hs256-public-key".into(),
            format!("{input}.{}", b64(mac.as_ref())),
        );
        // A foreign key offered in the header, under a `kid` the issuer does not publish.
        let (_, foreign_kid) = unpublished
            .iter()
            .find(|(a, _)| *a == Algorithm::RS256)
            .expect("an unpublished RS256 key");
        let foreign_kid = foreign_kid.clone();
        forged(
            "forged-embedded-jwk".into(),
            foreign
                .token()
                .key(&foreign_kid)
                .claim("iss", issuer.issuer())
                .scope("orders.read")
                .header("jwk", jwk(&foreign.jwks(), &foreign_kid))
                .sign(),
        );
        forged(
            "forged-jku".into(),
            foreign
                .token()
                .key(&foreign_kid)
                .claim("iss", issuer.issuer())
                .scope("orders.read")
                .header("jku", foreign.jwks_uri())
                .sign(),
        );
        forged("forged-not-a-jwt".into(), "not-a-jwt".into());
        // A genuine DPoP-bound token presented as a bearer token (RFC 9449 §7.2).
        let holder = DpopKey::generate(Algorithm::ES256);
        forged(
            "forged-dpop-bound-as-bearer".into(),
            good(Algorithm::ES256).bound_to(&holder).sign(),
        );
    }
    out.push(Labelled {
        token: None,
        ..Labelled::new(
            401,
            "forged-no-token".into(),
            refusal("forged-no-token"),
            String::new(),
        )
    });
    out
}
