//! Real Microsoft-signed Entra ID tokens, validated with the public keys Microsoft published
//! for them (token ids Txx and key ids Kxx as in `tests/entra-real/`). See
//! `tests/entra-real/SOURCES.md` for what each token is and where it comes from, and
//! `tests/entra-real/manifest.json` for its decoded header and claims.
//!
//! Every token expired years ago. Each is validated at a fixed clock inside its lifetime,
//! never by turning a check off: the midpoint of `nbf`/`iat` .. `exp`, which is at least 30
//! minutes from either end, so the 60 s leeway is never what makes a token pass.
//! `clocks_come_from_the_tokens` checks those constants against the decoded tokens, and
//! `real_tokens_are_expired_today` shows the lifetime check is live.
//!
//! Entra keys carry no `alg`, so every gate here allows exactly one RSA algorithm (RS256); each
//! key is then bound to RS256 at build time.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection, Requirement, TokenKind};
use tokengate_testkit::{b64, jwks, ready, rs256};

// ---------------------------------------------------------------------------------------------
// The fixtures, embedded so the tests run from a clean clone.

const T04: &str = include_str!("entra-real/tokens/T04_v1-access-token_spn-aud_2016_passport.jwt");
const T05: &str = include_str!("entra-real/tokens/T05_v1-id-token_implicit_2016_passport.jwt");
const T13: &str = include_str!("entra-real/tokens/T13_v1-id-token_x5t-only_2014_IdentityModel.jwt");
const T17: &str =
    include_str!("entra-real/tokens/T17_v2-access-token_app-only-roles_2021_capstone.jwt");
const T18: &str =
    include_str!("entra-real/tokens/T18_v1-access-token_app-only_ms-tenant_2022_sellercohort.jwt");
const T20: &str =
    include_str!("entra-real/tokens/T20_v2-access-token_delegated_nav-test-tenant_2024-06-17a.jwt");
const N01: &str =
    include_str!("entra-real/negative/N01_v1-id-token_alg-none_unsigned_2019_alerta.jwt");

const K01: &str = include_str!("entra-real/keys/K01_common-v1-keys_2022_MSIdentityTools.json");
const K02: &str = include_str!("entra-real/keys/K02_common-keys_2023_wso2.json");
const K06: &str = include_str!("entra-real/keys/K06_YbRAQ_2016_passport-azure-ad.json");
const K08: &str = include_str!("entra-real/keys/K08_kriMP_2014_IdentityModel-JsonWebKeySet.json");
const K14: &str =
    include_str!("entra-real/keys/K14_common-v2-keys_2024-06-18_panva-wellknown.json");

/// One real token: its issuer and audience, its lifetime, and the clock it is judged at.
struct Case {
    name: &'static str,
    file: &'static str,
    iss: &'static str,
    aud: &'static str,
    /// `iat`, equal to `nbf` in every one of these tokens.
    iat: u64,
    exp: u64,
    /// The fixed clock: `(iat + exp) / 2`.
    clock: u64,
    keys: &'static str,
}

impl Case {
    /// The token text (the files end with a newline, which is not part of the token).
    fn token(&self) -> &'static str {
        self.file.trim_end()
    }

    fn at(&self) -> SystemTime {
        at(self.clock)
    }

    /// The issuer as the brief says to configure it: exact `iss`, its `aud`, RS256 only.
    fn profile(&self) -> IssuerProfile {
        entra(self.iss, self.aud, self.keys)
    }

    fn gate(&self) -> Gate {
        build(self.profile())
    }
}

const T04_CASE: Case = Case {
    name: "T04",
    file: T04,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    aud: "spn:6514a8ca-d9e4-4155-b292-65258398f3aa",
    iat: 1_467_311_248,
    exp: 1_467_315_148,
    clock: 1_467_313_198, // 2016-06-30 18:59 UTC
    keys: K06,
};

const T05_CASE: Case = Case {
    name: "T05",
    file: T05,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    aud: "2abf3a52-7d86-460b-a1ef-77dc43de8aad",
    iat: 1_471_313_417,
    exp: 1_471_317_317,
    clock: 1_471_315_367, // 2016-08-16 02:42 UTC
    keys: K06,
};

/// T13's verbatim key file cannot be loaded (see `key_hygiene_k08_verbatim_is_refused`); the
/// T13 tests build their key sets from K08's JWKs themselves.
const T13_CASE: Case = Case {
    name: "T13",
    file: T13,
    iss: "https://sts.windows.net/add29489-7269-41f4-8841-b63c95564420/",
    aud: "fe78e0b4-6fe7-47e6-812c-fb75cee266a4",
    iat: 1_419_268_520,
    exp: 1_419_272_420,
    clock: 1_419_270_470, // 2014-12-22 17:47 UTC
    keys: K08,
};

const T17_CASE: Case = Case {
    name: "T17",
    file: T17,
    iss: "https://login.microsoftonline.com/41cb5478-1f8a-4a8e-a2b7-58bbc1198c52/v2.0",
    aud: "a55b004f-3e93-434f-800b-476edb7602db",
    iat: 1_626_783_201,
    exp: 1_626_787_101,
    clock: 1_626_785_151, // 2021-07-20 12:45 UTC
    keys: K01,
};

const T18_CASE: Case = Case {
    name: "T18",
    file: T18,
    iss: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    aud: "fa502207-b9c5-4400-bb1c-fa23c20422af",
    iat: 1_664_112_565,
    exp: 1_664_199_265,   // a 24-hour token
    clock: 1_664_155_915, // 2022-09-26 01:31 UTC
    keys: K02,
};

const T20_CASE: Case = Case {
    name: "T20",
    file: T20,
    iss: "https://login.microsoftonline.com/966ac572-f5b7-4bbe-aa88-c76419c0f851/v2.0",
    aud: "bff62dcb-88dc-4a13-9e26-1cbffb96ec64",
    iat: 1_718_609_937,
    exp: 1_718_614_377,
    clock: 1_718_612_157, // 2024-06-17 08:15 UTC
    keys: K14,
};

/// Unsigned; the keys are only there so the gate builds (any real Entra set would do).
const N01_CASE: Case = Case {
    name: "N01",
    file: N01,
    iss: "https://sts.windows.net/f24341ef-7a6f-4cff-abb7-99a11ab11127/",
    aud: "38ba6223-a887-43e2-9f7d-8d539df55f67",
    iat: 1_553_979_122,
    exp: 1_553_983_022,
    clock: 1_553_981_072, // 2019-03-30 21:24 UTC
    keys: K01,
};

const ALL_CASES: [&Case; 7] = [
    &T04_CASE, &T05_CASE, &T13_CASE, &T17_CASE, &T18_CASE, &T20_CASE, &N01_CASE,
];

// ---------------------------------------------------------------------------------------------
// Helpers.

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn entra(iss: &str, aud: &str, jwks: &str) -> IssuerProfile {
    IssuerProfile::new(iss)
        .audience(aud)
        .algorithms([Algorithm::RS256])
        .jwks(jwks)
}

fn build(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .build()
        .unwrap_or_else(|e| panic!("gate refused: {e}"))
}

fn validate(gate: &Gate, token: &str, now: SystemTime) -> Result<Arc<Claims>, Rejection> {
    ready(gate.validate_at(token, now))
}

/// `"ok"` or the rejection code: compact to compare.
fn outcome(gate: &Gate, token: &str, now: SystemTime) -> &'static str {
    match validate(gate, token, now) {
        Ok(_) => "ok",
        Err(rejection) => rejection.code(),
    }
}

fn b64_decode(segment: &str) -> Vec<u8> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .expect("base64url")
}

fn segments(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    parts.try_into().expect("three segments")
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&b64_decode(segments(token)[0])).unwrap()
}

fn payload_of(token: &str) -> Value {
    serde_json::from_slice(&b64_decode(segments(token)[1])).unwrap()
}

fn jwks_keys(jwks: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(jwks).unwrap();
    doc["keys"].as_array().unwrap().clone()
}

fn kids(jwks: &str) -> Vec<String> {
    jwks_keys(jwks)
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn jwks_of(keys: impl IntoIterator<Item = Value>) -> String {
    json!({ "keys": keys.into_iter().collect::<Vec<_>>() }).to_string()
}

/// A JWK without the named members.
fn without(mut jwk: Value, members: &[&str]) -> Value {
    for member in members {
        jwk.as_object_mut().unwrap().remove(*member);
    }
    jwk
}

/// One of K08's keys, verbatim.
fn k08_key(kid: &str) -> Value {
    jwks_keys(K08)
        .into_iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
}

/// A K08 key with its modulus re-encoded from standard base64 (`+`, `/`, `=` padding, as the
/// fixture has it) to base64url (RFC 7518 §6.3.1.1), as Entra publishes moduli. Same bytes.
fn base64url_modulus(mut jwk: Value) -> Value {
    let n = jwk["n"].as_str().unwrap();
    let bytes = base64_simd::STANDARD.decode_to_vec(n).unwrap();
    jwk["n"] = Value::from(b64(bytes));
    jwk
}

/// A K08 key as Entra would publish it: no `alg`, no `key_ops`, a base64url modulus.
fn k08_as_entra(kid: &str) -> Value {
    base64url_modulus(without(k08_key(kid), &["alg", "key_ops"]))
}

const KRIMP: &str = "kriMPdmBvx68skT8-mPAB3BseeA";
const NGTF: &str = "NGTFvdK-fythEuLwjpwAJOM9n-A";

// ---------------------------------------------------------------------------------------------
// The clocks.

/// The fixed clocks are the midpoints of the tokens' own lifetimes: `iat`, `nbf` and `exp`
/// are read from each decoded token and compared with the constants above.
#[test]
fn clocks_come_from_the_tokens() {
    for case in ALL_CASES {
        let claims = payload_of(case.token());
        assert_eq!(claims["iss"], case.iss, "{}", case.name);
        assert_eq!(claims["aud"], case.aud, "{}", case.name);
        assert_eq!(claims["iat"], case.iat, "{}", case.name);
        assert_eq!(claims["nbf"], case.iat, "{}", case.name);
        assert_eq!(claims["exp"], case.exp, "{}", case.name);
        assert_eq!(case.clock, (case.iat + case.exp) / 2, "{}", case.name);
        assert!(case.clock - case.iat >= 1800 && case.exp - case.clock >= 1800);
    }
}

/// The same gates refuse every real token at today's date: the fixed clocks are what let
/// them through, not a relaxed lifetime check.
#[test]
fn real_tokens_are_expired_today() {
    for case in [&T04_CASE, &T17_CASE, &T18_CASE, &T20_CASE] {
        let gate = case.gate();
        assert_eq!(
            outcome(&gate, case.token(), case.at()),
            "ok",
            "{}",
            case.name
        );
        assert_eq!(
            outcome(&gate, case.token(), SystemTime::now()),
            "token_expired",
            "{}",
            case.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Valid access tokens: the normalized claims.

/// T17: a v2 app-only (client credentials) token with application permissions in
/// `roles`, `sub` = `oid`: a [`TokenKind::App`] token that roles authorize.
#[tokio::test(flavor = "current_thread")]
async fn entra_t17_v2_app_only_roles_validates() {
    let case = &T17_CASE;
    let claims = case
        .gate()
        .validate_at(case.token(), case.at())
        .await
        .unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(
        claims.subject(),
        Some("9d16cae5-0dc7-4ccf-b500-761b0e15bf25")
    );
    assert_eq!(
        claims.tenant_id(),
        Some("41cb5478-1f8a-4a8e-a2b7-58bbc1198c52")
    );
    assert_eq!(
        claims.object_id(),
        Some("9d16cae5-0dc7-4ccf-b500-761b0e15bf25")
    );
    assert_eq!(
        claims.client_id(),
        Some("a55b004f-3e93-434f-800b-476edb7602db")
    ); // azp
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.expires_at(), at(case.exp));
    assert_eq!(claims.issued_at(), Some(at(case.iat)));
    assert_eq!(claims.not_before(), Some(at(case.iat)));
    assert_eq!(claims.token_kind(), TokenKind::App);
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(
        claims.roles().collect::<Vec<_>>(),
        [
            "dpmm.warehouse.write",
            "dpmm.inventory.read",
            "dpmm.orders.write",
            "dpmm.orders.read",
            "dpmm.inventory.write",
            "dpmm.warehouse.read",
            "dpmm.usermgmt.write",
            "dpmm.usermgmt.read",
        ]
    );
    assert!(claims.has_role("dpmm.orders.read"));
    assert!(!claims.has_role("dpmm.orders"), "roles compare whole");
    assert!(Requirement::role("dpmm.orders.read").check(&claims).is_ok());
    assert!(
        Requirement::scope("dpmm.orders.read")
            .check(&claims)
            .is_err(),
        "a role is not a scope"
    );
    // The raw claims are the token's own JSON.
    let raw: Value = serde_json::from_str(claims.json()).unwrap();
    assert_eq!(raw, payload_of(case.token()));
    assert_eq!(raw["azpacr"], "1");
}

/// T20: a v2 delegated token (`scp`, `groups`): a [`TokenKind::User`] token that its
/// scope authorizes.
#[tokio::test(flavor = "current_thread")]
async fn entra_t20_v2_delegated_scp_validates() {
    let case = &T20_CASE;
    let claims = case
        .gate()
        .validate_at(case.token(), case.at())
        .await
        .unwrap();
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(
        claims.subject(),
        Some("QDOyOS0HF4cRVQN7Gb_vIW-CWu2vIPJ_nb_ypFRBm_o")
    );
    assert_eq!(
        claims.tenant_id(),
        Some("966ac572-f5b7-4bbe-aa88-c76419c0f851")
    );
    assert_eq!(
        claims.object_id(),
        Some("799a132a-93c8-427e-92f7-08cb220c879a")
    );
    assert_eq!(
        claims.client_id(),
        Some("5f28c10f-ecd5-45ef-96b8-db4311802e89")
    ); // azp
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.expires_at(), at(case.exp));
    assert_eq!(claims.issued_at(), Some(at(case.iat)));
    assert_eq!(claims.token_kind(), TokenKind::User);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["defaultaccess"]);
    assert_eq!(claims.roles().count(), 0);
    assert!(claims.has_scope("defaultaccess"));
    assert!(Requirement::scope("defaultaccess").check(&claims).is_ok());
    assert!(Requirement::role("defaultaccess").check(&claims).is_err());

    #[derive(serde::Deserialize)]
    struct Nav<'a> {
        #[serde(rename = "NAVident")]
        nav_ident: &'a str,
        groups: Vec<&'a str>,
    }
    let nav: Nav = claims.deserialize().unwrap();
    assert_eq!(nav.nav_ident, "Z993298");
    assert_eq!(nav.groups.len(), 2);
}

/// T04: a v1 token whose `aud` is `spn:<app id>` validates only when exactly that string
/// is configured; the bare app id (GUID) is another audience (no prefix tolerance).
#[test]
fn entra_t04_v1_spn_audience_matches_only_exactly() {
    let case = &T04_CASE;
    let claims = validate(&case.gate(), case.token(), case.at()).unwrap();
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(claims.issuer(), case.iss);
    assert_eq!(
        claims.client_id(),
        Some("bebfad57-efd7-419b-b74b-4b9dab7bd470")
    ); // appid
    assert_eq!(
        claims.tenant_id(),
        Some("268da1a1-9db4-48b9-b1fe-683250ba90cc")
    );
    assert_eq!(
        claims.object_id(),
        Some("7912fe7b-b5ab-425b-bb1f-0e83b99fca7f")
    );
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["user_impersonation"]);
    assert_eq!(claims.token_kind(), TokenKind::User);
    assert_eq!(claims.expires_at(), at(case.exp));

    let guid = case.aud.strip_prefix("spn:").unwrap();
    for other in [guid, "SPN:6514a8ca-d9e4-4155-b292-65258398f3aa"] {
        let gate = build(entra(case.iss, other, case.keys));
        assert_eq!(outcome(&gate, case.token(), case.at()), "invalid_audience");
    }
    // Both configured: accepted through the `spn:` one.
    let both = build(entra(case.iss, guid, case.keys).audience(case.aud));
    assert_eq!(outcome(&both, case.token(), case.at()), "ok");
}

/// T18 (ENTRA-27): a v1 app-only token with neither `scp` nor `roles` passes the core
/// (the Entra default-deny for such tokens is a later issue); it is an app token with no
/// scopes and no roles, so any scope or role requirement refuses it.
#[test]
fn entra_t18_v1_app_only_without_permissions_passes_core() {
    let case = &T18_CASE;
    let claims = validate(&case.gate(), case.token(), case.at()).unwrap();
    assert_eq!(claims.token_kind(), TokenKind::App, "sub = oid");
    assert_eq!(claims.scopes().count(), 0);
    assert_eq!(claims.roles().count(), 0);
    assert_eq!(
        claims.client_id(),
        Some("80df99f6-bfc9-4c47-b726-42b67cce3503")
    ); // appid
    assert_eq!(
        claims.tenant_id(),
        Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
    );
    assert_eq!(claims.subject(), claims.object_id());
    assert_eq!(claims.expires_at(), at(case.exp));
    assert!(Requirement::role("anything").check(&claims).is_err());
    let gate = Gate::builder()
        .issuer(case.profile())
        .require(Requirement::any_role(["Data.Read"]).or(Requirement::scope("user_impersonation")))
        .build()
        .unwrap();
    assert_eq!(
        outcome(&gate, case.token(), case.at()),
        "insufficient_scope"
    );
}

// ---------------------------------------------------------------------------------------------
// ID tokens and unsigned tokens.

/// T05 (ATK-32): a real v1 ID token (it has a `nonce`) is not an access token, though its
/// signature is Microsoft's.
#[test]
fn entra_t05_atk32_id_token_is_not_an_access_token() {
    let case = &T05_CASE;
    assert_eq!(payload_of(case.token())["nonce"], "eDBXVqk40ng5BarS");
    assert_eq!(
        validate(&case.gate(), case.token(), case.at()).unwrap_err(),
        Rejection::NotAnAccessToken
    );
    // The signature is valid: allowing `nonce` (the Keycloak < 24 setting) lets it through,
    // and the nonce was the only reason for the refusal.
    let lenient = build(case.profile().allow_nonce_claim());
    let claims = validate(&lenient, case.token(), case.at()).unwrap();
    assert_eq!(claims.audiences().collect::<Vec<_>>(), [case.aud]);
    assert_eq!(
        claims.subject(),
        Some("1JMdzOxJyWeCoc5QsYvDPcoZtqhuWIZxgmHnCzQTXaQ")
    );
    // And a forged copy is caught by the signature, before any claim is looked at.
    let forged = change_payload(case.token(), "robot 1", "robot 2");
    assert_eq!(outcome(&lenient, &forged, case.at()), "invalid_signature");
    assert_eq!(
        outcome(&case.gate(), &forged, case.at()),
        "invalid_signature"
    );
}

/// T13: the 2014 ID token whose header names its key only by `x5t` (no `kid`).
///
/// K08, the key file it was published with, cannot be loaded verbatim (see
/// `key_hygiene_k08_verbatim_is_refused`); these tests use K08's two keys as Entra publishes
/// keys: no `alg`, no `key_ops`, base64url moduli (`k08_as_entra`).
///
/// STD-JWS-3: tokengate never selects keys by `x5t`. ATK-44: without a `kid` and with two RSA
/// keys, the token must name its key: `missing_key_id`, although `x5t` matches exactly one.
#[test]
fn entra_t13_atk44_no_kid_two_keys_is_missing_key_id() {
    let case = &T13_CASE;
    assert_eq!(
        header_of(case.token()),
        json!({"typ": "JWT", "alg": "RS256", "x5t": KRIMP}),
        "x5t only"
    );
    // K08's two keys as Entra publishes keys (see `k08_as_entra`).
    let both = jwks_of([k08_as_entra(NGTF), k08_as_entra(KRIMP)]);
    let gate = build(entra(case.iss, case.aud, &both));
    assert_eq!(
        validate(&gate, case.token(), case.at()).unwrap_err(),
        Rejection::MissingKeyId
    );
    // The same with the matching key among real Entra signing keys (K01's two).
    let mut keys = jwks_keys(K01);
    keys.push(k08_as_entra(KRIMP));
    let gate = build(entra(case.iss, case.aud, &jwks_of(keys)));
    assert_eq!(outcome(&gate, case.token(), case.at()), "missing_key_id");
}

/// T13 with a key set holding only its key: the one RS256 key is selected without a
/// `kid`, the signature verifies, and the claims decide: the token has a `nonce` and a
/// `c_hash` (a hybrid-flow ID token), so it is `not_an_access_token` (ATK-32), even with
/// `allow_nonce_claim`, which does not excuse `c_hash`.
#[test]
fn entra_t13_atk32_single_key_gets_past_key_selection() {
    let case = &T13_CASE;
    let payload = payload_of(case.token());
    assert!(payload["nonce"].is_string() && payload["c_hash"].is_string());

    let only = jwks_of([k08_as_entra(KRIMP)]);
    let gate = build(entra(case.iss, case.aud, &only));
    assert_eq!(
        validate(&gate, case.token(), case.at()).unwrap_err(),
        Rejection::NotAnAccessToken
    );
    let lenient = build(entra(case.iss, case.aud, &only).allow_nonce_claim());
    assert_eq!(
        outcome(&lenient, case.token(), case.at()),
        "not_an_access_token"
    );

    // Claim rejections come only after the signature verified: a one-character forgery of
    // the same token is refused for its signature instead, so the real one did verify.
    let forged = change_payload(case.token(), "\"Bob\"", "\"Rob\"");
    assert_eq!(outcome(&gate, &forged, case.at()), "invalid_signature");

    // With the other K08 key only, the single RS256 key is tried and does not verify.
    let other = jwks_of([k08_as_entra(NGTF)]);
    let gate = build(entra(case.iss, case.aud, &other));
    assert_eq!(outcome(&gate, case.token(), case.at()), "invalid_signature");
}

/// N01: a real Entra ID token re-served with `alg: none` and no signature.
#[test]
fn entra_n01_alg_none_is_unsupported_algorithm() {
    let case = &N01_CASE;
    assert_eq!(header_of(case.token())["alg"], "none");
    assert!(case.token().ends_with('.'), "empty signature");
    assert_eq!(
        validate(&case.gate(), case.token(), case.at()).unwrap_err(),
        Rejection::UnsupportedAlgorithm
    );
    // Even for an issuer that allows every algorithm tokengate knows.
    let gate = build(
        IssuerProfile::new(case.iss)
            .audience(case.aud)
            .jwks(jwks(&[rs256()])),
    );
    assert_eq!(
        outcome(&gate, case.token(), case.at()),
        "unsupported_algorithm"
    );
}

// ---------------------------------------------------------------------------------------------
// Negative variants of a real token (T20).

/// Replaces `from` (which must occur once) by `to`, of the same length, in the decoded payload,
/// and re-encodes it: valid base64url and valid JSON, one character different, the original
/// signature kept.
fn change_payload(token: &str, from: &str, to: &str) -> String {
    assert_eq!(from.len(), to.len());
    let [header, payload, signature] = segments(token);
    let text = String::from_utf8(b64_decode(payload)).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from}");
    let changed = text.replace(from, to);
    let differing = text
        .bytes()
        .zip(changed.bytes())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 1);
    let _: Value = serde_json::from_str(&changed).expect("still JSON");
    let forged = format!(
        "{header}.{}.{signature}",
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(changed)
    );
    assert_ne!(forged, token);
    forged
}

/// Expiry with the default 60 s leeway: `now >= exp + 60` is expired.
#[test]
fn entra_t20_expiry_leeway_boundary() {
    let case = &T20_CASE;
    let gate = case.gate();
    let token = case.token();
    assert_eq!(outcome(&gate, token, at(case.exp)), "ok");
    assert_eq!(outcome(&gate, token, at(case.exp + 59)), "ok");
    assert_eq!(outcome(&gate, token, at(case.exp + 60)), "token_expired");
    assert_eq!(outcome(&gate, token, at(case.exp + 61)), "token_expired");
    // And at the other end: `nbf` (= `iat`) with the same leeway.
    assert_eq!(outcome(&gate, token, at(case.iat - 60)), "ok");
    assert_eq!(
        outcome(&gate, token, at(case.iat - 61)),
        "token_not_yet_valid"
    );
}

#[test]
fn entra_t20_wrong_audience() {
    let case = &T20_CASE;
    for aud in [
        "5f28c10f-ecd5-45ef-96b8-db4311802e89", // the client (azp), not the API
        "api://bff62dcb-88dc-4a13-9e26-1cbffb96ec64", // the App ID URI form
        "BFF62DCB-88DC-4A13-9E26-1CBFFB96EC64", // case differs
        "bff62dcb-88dc-4a13-9e26-1cbffb96ec6",  // a prefix
    ] {
        let gate = build(entra(case.iss, aud, case.keys));
        assert_eq!(
            validate(&gate, case.token(), case.at()).unwrap_err(),
            Rejection::InvalidAudience,
            "{aud}"
        );
    }
}

/// Issuers match exactly: the same tenant's v1 issuer, or the v2 issuer with a trailing slash,
/// is another issuer.
#[test]
fn entra_t20_issuer_must_match_exactly() {
    let case = &T20_CASE;
    let v1 = "https://sts.windows.net/966ac572-f5b7-4bbe-aa88-c76419c0f851/";
    let slash = format!("{}/", case.iss);
    let common_template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    for iss in [v1, slash.as_str(), common_template] {
        let gate = build(entra(iss, case.aud, case.keys));
        assert_eq!(
            validate(&gate, case.token(), case.at()).unwrap_err(),
            Rejection::UntrustedIssuer,
            "{iss}"
        );
    }
}

/// The right token against another real Entra key set: its `kid` is not there.
#[test]
fn entra_t20_wrong_key_file_is_unknown_key() {
    let case = &T20_CASE;
    for jwks in [K01, K02, K06] {
        let gate = build(entra(case.iss, case.aud, jwks));
        assert_eq!(
            validate(&gate, case.token(), case.at()).unwrap_err(),
            Rejection::UnknownKey
        );
    }
    // K14 without the signing key: the nine others are no substitute.
    let kid = header_of(case.token())["kid"].clone();
    let rest = jwks_of(jwks_keys(K14).into_iter().filter(|k| k["kid"] != kid));
    let gate = build(entra(case.iss, case.aud, &rest));
    assert_eq!(outcome(&gate, case.token(), case.at()), "unknown_key");
}

/// One payload character changed (`NAVident` Z993298 to Z993299), still valid JSON and
/// base64url, with Microsoft's signature kept.
#[test]
fn entra_t20_one_changed_payload_character_is_invalid_signature() {
    let case = &T20_CASE;
    let gate = case.gate();
    let forged = change_payload(
        case.token(),
        "\"NAVident\":\"Z993298\"",
        "\"NAVident\":\"Z993299\"",
    );
    assert_eq!(
        validate(&gate, &forged, case.at()).unwrap_err(),
        Rejection::InvalidSignature
    );
    // Elevating the scope the same way: refused for the signature, not for the claims.
    let elevated = change_payload(case.token(), "\"defaultaccess\"", "\"defaultaccesS\"");
    assert_eq!(outcome(&gate, &elevated, case.at()), "invalid_signature");
    assert_eq!(outcome(&gate, case.token(), case.at()), "ok");
}

// ---------------------------------------------------------------------------------------------
// Key hygiene on every real key file.

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

/// Entra keys have no `alg`: with the default allowlist (every algorithm, so six RSA ones) a
/// key cannot be bound to one algorithm, and the build says so instead of guessing.
#[test]
fn entra_keys_need_exactly_one_rsa_algorithm() {
    let err = Gate::builder()
        .issuer(
            IssuerProfile::new(T20_CASE.iss)
                .audience(T20_CASE.aud)
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
