//! Black-box attack scan over real HTTP, and secret-free logs (STD-6750-8) for all of it.
//!
//! An axum API protected by `TokenLayer` runs on a real hyper server on 127.0.0.1, with its keys
//! fetched by discovery from two issuers on loopback: `testing::TestIssuer` (RS256, PS256,
//! ES256, ES384, EdDSA; profile `Jwt`) and a second, "raw" issuer (the testkit's `provider`
//! serving an RS256, an ES256 and an ES384 key whose private halves this binary holds; profile
//! `Rfc9068`) for the tokens that must be signed over exact bytes (raw JSON such as `1e400`,
//! duplicate members, non-canonical base64url, DER-encoded ECDSA signatures). A second API on
//! another port also takes the token from a cookie. A counting server on loopback, the target
//! of every `jku`, `x5u`, embedded `jwk` URL and URL-shaped `kid` or `iss`, must never be
//! contacted. All of it ([`world`]) is built once per test binary, on a runtime of its own, and
//! shared by the tests, which run in parallel.
//!
//! Each attack family, named after the ATK-* ids of docs/requirements.md ("Attack cases"), is
//! one test that runs alone by name, e.g. `cargo test --test attack_scan -- atk_07`:
//!
//! | test | module | what |
//! |---|---|---|
//! | `atk_01_02_alg_none` | [`alg`] | `none` in every casing and spelling |
//! | `atk_03_alg_type` | [`alg`] | `alg` missing, of the wrong type, not allowed |
//! | `atk_04_41_hmac_key_confusion` | [`hmac`] | HMAC keyed with each published key, every encoding |
//! | `atk_05_44_alg_key_mismatch` | [`alg`] | an algorithm not the key's; no `kid` |
//! | `atk_07_kid_injection` | [`kid`] | hostile `kid`s and a flood of unknown ones |
//! | `atk_08_09_10_11_jku_x5u_jwk_x5c` | [`foreign_keys`] | keys the token names or carries |
//! | `atk_12_crit` | [`formats`] | `crit` |
//! | `atk_13_14_15_16_17_signatures` | [`signatures`] | broken, moved and DER signatures |
//! | `atk_18_19_20_lifetimes` | [`validity`] | `exp`, `nbf`, `iat` beyond the leeway |
//! | `atk_21_45_audience` | [`validity`] | audience confusion |
//! | `atk_22_issuer` | [`validity`] | issuer confusion |
//! | `atk_24_cross_issuer_keys` | [`foreign_keys`] | one issuer's token under the other's name |
//! | `atk_25_oversized_input` | [`oversized`] | the size cap, hyper's limits |
//! | `atk_26_27_28_jwe_and_json_serializations` | [`formats`] | JWE, JSON serializations, nesting |
//! | `atk_29_duplicate_members` | [`duplicates`] | duplicate members in header and claims |
//! | `atk_30_base64url_variants` | [`encodings`] | non-canonical base64url |
//! | `atk_31_not_utf8_json_objects` | [`encodings`] | segments that are not UTF-8 JSON objects |
//! | `atk_32_33_token_types` | [`formats`] | ID, logout, DPoP-proof and Graph tokens, `typ` |
//! | `atk_35_insufficient_scope` | [`scopes`] | scope tricks on a route requiring a scope |
//! | `atk_36_37_key_bound_tokens` | [`schemes`] | `cnf` tokens as bearer tokens, DPoP proofs |
//! | `atk_39_multiple_credentials` | [`credentials`] | several credentials at once |
//! | `atk_40_scheme_and_syntax` | [`schemes`] | the scheme and the `b64token` syntax |
//! | `claim_matrix` | [`claims`] | every claim replaced by every kind of JSON value |
//! | `raw_http_requests` | [`raw_http`] | requests a client library would not send |
//!
//! Each sends its requests with reqwest, or as raw bytes on a TCP connection where a client
//! would refuse to send them, and checks every answer exactly ([`judge`]): status, the JSON
//! body's `code` and `error`, and the `WWW-Authenticate` challenge (parsed strictly; no `error`
//! when the request carried no credential). None may be 2xx or 5xx. Each request goes to
//! `/scan/{family}/{case}`, so that a test tells its own requests from those of the families
//! running beside it ([`scan`]): the handler behind the layer never ran for them, each refusal
//! was logged with its code inside the request's own span, and none of the family's secrets
//! (the credentials it sent and their segments, the planted values, the published keys in every
//! form) is in the TRACE capture of the binary ([`logs`]; the testkit's `capture`, installed
//! before the world logs anything). The counting server must have had no connection, and the
//! family at most one key-set refresh per issuer. Every mismatch is listed.
//!
//! `accepted_requests_pass_through` ([`control`]) is the positive control: requests that a
//! correct validator accepts (a valid token of each algorithm and issuer, the header and claim
//! variations the standards allow) get 200 from the handler, so the refusals mean something;
//! the claim matrix sends its legitimately accepted substitutions too.
//!
//! `every_family_together` writes every family's requests without sending them: all distinct
//! across families, and at least the 1,404 distinct hostile requests the scan sent when it was
//! one test, with no family below what it had then.

mod alg;
mod claims;
mod control;
mod credentials;
mod duplicates;
mod encodings;
mod foreign_keys;
mod formats;
mod hmac;
mod judge;
mod key_forms;
mod kid;
mod logs;
mod oversized;
mod raw_http;
mod requests;
mod scan;
mod schemes;
mod scopes;
mod send;
mod signatures;
mod tokens;
mod validity;
mod world;

use requests::{Expect, Family, Generate};

/// The distinct hostile requests of the scan when it was one test.
const ONE_TEST_TOTAL: usize = 1404;

/// Every hostile family, and the positive control.
fn families() -> Vec<(&'static Family, Generate)> {
    vec![
        (&alg::ALG_NONE, alg::alg_none),
        (&alg::ALG_TYPE, alg::alg_type),
        (&hmac::HMAC, hmac::hmac_key_confusion),
        (&alg::ALG_KEY, alg::alg_key_mismatch),
        (&kid::KID, kid::kid_injection),
        (&foreign_keys::FOREIGN_KEYS, foreign_keys::foreign_keys),
        (&formats::CRIT, formats::crit),
        (&signatures::SIGNATURES, signatures::signatures),
        (&validity::LIFETIMES, validity::lifetimes),
        (&validity::AUDIENCE, validity::audience),
        (&validity::ISSUER, validity::issuer),
        (&foreign_keys::CROSS_ISSUER, foreign_keys::cross_issuer),
        (&oversized::OVERSIZED, oversized::sizes),
        (&formats::FORMATS, formats::formats),
        (&duplicates::DUPLICATES, duplicates::duplicates),
        (&encodings::BASE64URL, encodings::base64url),
        (&encodings::NOT_JSON, encodings::not_json_objects),
        (&formats::TYPES, formats::types),
        (&scopes::SCOPES, scopes::scopes),
        (&schemes::KEY_BOUND, schemes::key_bound),
        (&credentials::MULTIPLE, credentials::multiple_credentials),
        (&schemes::SCHEME, schemes::scheme_and_syntax),
        (&claims::CLAIM_MATRIX, claims::claim_matrix_cases),
        (&raw_http::RAW_HTTP, raw_http::raw_http),
        (&control::CONTROL, control::controls),
    ]
}

#[test]
fn every_family_together() {
    let env = world::world().env;
    let families = families();
    let tags: Vec<&str> = families.iter().map(|(family, _)| family.tag).collect();
    let distinct: std::collections::HashSet<&&str> = tags.iter().collect();
    assert_eq!(distinct.len(), tags.len(), "two families share a tag");
    let floors: usize = families.iter().map(|(family, _)| family.floor).sum();
    assert_eq!(
        floors, ONE_TEST_TOTAL,
        "the floors are what each family had"
    );

    let mut all = Vec::new();
    eprintln!("attack scan: distinct hostile requests by family");
    for (family, generate) in families {
        let cases = scan::cases(env, generate);
        let hostile: Vec<_> = cases
            .into_iter()
            .filter(|case| case.expect != Expect::Accepted)
            .collect();
        eprintln!("  {:<28} {:>4}", family.name, hostile.len());
        assert!(hostile.len() >= family.floor, "{} shrank", family.name);
        all.extend(hostile);
    }
    eprintln!("  {:<28} {:>4}", "total", all.len());
    // Names may repeat across families (each test lists its own); requests may not.
    let mut wires = std::collections::HashSet::new();
    let twice: Vec<&str> = all
        .iter()
        .filter(|case| !wires.insert(&case.wire))
        .map(|case| case.name.as_str())
        .collect();
    assert!(
        twice.is_empty(),
        "requests sent by two families: {twice:#?}"
    );
    assert!(
        all.len() >= ONE_TEST_TOTAL,
        "{} distinct hostile requests, fewer than {ONE_TEST_TOTAL}",
        all.len()
    );
}
