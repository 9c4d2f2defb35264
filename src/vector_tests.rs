//! Wycheproof and RFC 7520 vectors, run against the JWS and key stages.
//!
//! The data lives in `tests/vectors/` (verbatim upstream copies; see the READMEs there for the
//! schemas, quirks and the mislabeled tcIds). Every vector is run and compared with its label;
//! where tokengate refuses something on purpose, or where the label itself is wrong, the case
//! is listed below by tcId with a reason, and the lists are checked to still be needed.
//!
//! Run with `cargo test --lib vector_tests -- --nocapture` to see the per-file summaries.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use aws_lc_rs::hmac;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Algorithm;
use crate::error::Rejection;
use crate::jws::{self, BASE64URL, Header, HeaderText, Signature};
use crate::keys::{KeySet, RulesAt, VerifyingKey, parse_jwk, parse_jwks};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/");

/// Reads and deserializes one vector file (relative to `tests/vectors/`).
fn load<T: DeserializeOwned>(relative: &str) -> T {
    let path = format!("{VECTORS}{relative}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The JWS stage under test
// ---------------------------------------------------------------------------------------------

/// The JWS part of `Gate::pipeline`, step for step and in the same order: split, header,
/// payload decoding, algorithm, signature decoding, key selection, verification. Claims are not
/// parsed: Wycheproof and RFC 7520 payloads are plain text, not JWT claims sets. For the same
/// reason the gate's claim-driven steps (issuer lookup by `iss`, the issuer's algorithm
/// allowlist and `typ` policy) are left out; the allowlist is applied when keys are loaded.
fn jws_outcome(token: &str, keys: &KeySet) -> Result<(), Rejection> {
    let segments = jws::split(token)?;
    let header_text = HeaderText::decode(segments.header)?;
    let header = Header::parse(header_text.as_str())?;
    jws::decode_text(segments.payload)?;
    let alg = header.alg.ok_or(Rejection::UnsupportedAlgorithm)?;
    let signature = Signature::decode(segments.signature)?;
    let key = keys.select(header.kid.as_deref(), alg)?;
    if key.verify(segments.signing_input, signature.as_bytes()) {
        Ok(())
    } else {
        Err(Rejection::InvalidSignature)
    }
}

/// A key set holding `key` if it loaded, or nothing (a refused key leaves the issuer without
/// keys, which is what the gate would see).
fn key_set(key: Option<VerifyingKey>) -> KeySet {
    let (set, problems) = KeySet::new(key.into_iter().collect());
    assert!(problems.is_empty(), "{problems:?}");
    set
}

// ---------------------------------------------------------------------------------------------
// HMAC, emulated in test code
// ---------------------------------------------------------------------------------------------

/// A symmetric JWK, as far as the HMAC emulation needs it.
#[derive(Deserialize)]
struct OctJwk {
    kty: String,
    k: String,
    alg: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct HmacHeader {
    alg: String,
    kid: Option<String>,
}

/// tokengate never verifies HMAC (RFC 8725 §3.1), so the HMAC vectors cannot run through
/// [`jws_outcome`]. They mostly target strict base64url and token structure, which are the
/// crate's own steps: this runs those (split, header/payload/signature decoding) and checks
/// the MAC in test code, in the same order as [`jws_outcome`].
fn hmac_outcome(token: &str, key: &OctJwk) -> Result<(), Rejection> {
    let segments = jws::split(token)?;
    let header_text = HeaderText::decode(segments.header)?;
    // `Header::parse` refuses every HS* name, so `alg` is read with plain serde_json.
    let header: HmacHeader =
        serde_json::from_str(header_text.as_str()).map_err(|_| Rejection::MalformedHeader)?;
    jws::decode_text(segments.payload)?;
    let digest = match header.alg.as_str() {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        _ => return Err(Rejection::UnsupportedAlgorithm),
    };
    let signature = Signature::decode(segments.signature)?;
    // The same key-selection rules `KeySet::select` applies to asymmetric keys.
    if header.kid.is_some() && header.kid != key.kid {
        return Err(Rejection::UnknownKey);
    }
    if key.alg.as_deref().is_some_and(|alg| alg != header.alg) {
        return Err(Rejection::KeyAlgorithmMismatch);
    }
    let secret = BASE64URL
        .decode_to_vec(&key.k)
        .expect("oct key k is base64url");
    hmac::verify(
        &hmac::Key::new(digest, &secret),
        segments.signing_input,
        signature.as_bytes(),
    )
    .map_err(|_| Rejection::InvalidSignature)
}

/// tokengate refuses every symmetric key at load time, by design.
fn assert_oct_refused(jwk: &str) {
    let problem = parse_jwk(jwk, Algorithm::ALL, RulesAt::default())
        .expect_err("an oct key must be refused")
        .to_string();
    assert!(problem.contains("symmetric (oct)"), "{problem}");
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Label {
    Valid,
    Invalid,
    Acceptable,
}

/// What a strict verifier does with a mislabeled vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strict {
    Accept,
    Reject,
}

/// Per-file counts. Every vector lands in exactly one bucket.
struct Tally {
    file: String,
    expected_total: usize,
    total: usize,
    /// Outcome equals the label (for `acceptable`: see `acceptable`).
    agree: usize,
    /// Labeled `acceptable`; either outcome is fine, and which one it was is printed.
    acceptable: Vec<String>,
    /// Label contradicted by the file itself; the strict outcome was asserted instead.
    allow_listed: Vec<String>,
    /// Refused by a deliberate tokengate rule although labeled valid.
    divergences: Vec<String>,
    /// Anything else: each one fails the test.
    disagreements: Vec<String>,
    /// How often each refusal code (or key rule) decided a case.
    refusals: BTreeMap<String, usize>,
    /// Free-form notes printed with the summary.
    notes: Vec<String>,
}

impl Tally {
    fn new(file: &str, expected_total: usize) -> Tally {
        Tally {
            file: file.to_owned(),
            expected_total,
            total: 0,
            agree: 0,
            acceptable: Vec::new(),
            allow_listed: Vec::new(),
            divergences: Vec::new(),
            disagreements: Vec::new(),
            refusals: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    fn refused_by(&mut self, rule: impl Into<String>) {
        *self.refusals.entry(rule.into()).or_default() += 1;
    }

    /// Compares an accept/refuse outcome with a label that is believed to be right.
    fn compare(&mut self, id: impl fmt::Display, label: Label, accepted: bool, detail: &str) {
        self.total += 1;
        match (label, accepted) {
            (Label::Valid, true) | (Label::Invalid, false) => self.agree += 1,
            (Label::Acceptable, _) => self.acceptable.push(format!(
                "{id}: {} ({detail})",
                if accepted { "accepted" } else { "refused" }
            )),
            _ => self.disagreements.push(format!(
                "{id}: labeled {label:?} but {} ({detail})",
                if accepted { "accepted" } else { "refused" }
            )),
        }
    }

    /// A vector whose label the file itself contradicts: the strict outcome is asserted, and
    /// the entry must go once the label is fixed upstream.
    fn mislabeled(&mut self, tc_id: u32, label: Label, strict: Strict, accepted: bool, line: &str) {
        let label_says = if label == Label::Valid {
            Strict::Accept
        } else {
            Strict::Reject
        };
        assert_ne!(
            label_says, strict,
            "tcId {tc_id}: the label now agrees with the strict outcome (fixed upstream?): \
             remove it from the allow-list"
        );
        let got = if accepted {
            Strict::Accept
        } else {
            Strict::Reject
        };
        self.total += 1;
        if got == strict {
            self.allow_listed.push(format!(
                "tcId {tc_id} labeled {label:?}, strict {strict:?}: {line}"
            ));
        } else {
            self.disagreements.push(format!(
                "tcId {tc_id} (allow-listed): expected strict {strict:?}, got {got:?}: {line}"
            ));
        }
    }

    /// A valid vector that a deliberate tokengate rule refuses; `as_designed` says the refusal
    /// came from exactly that rule.
    fn divergence(&mut self, tc_id: u32, label: Label, as_designed: bool, line: &str) {
        self.total += 1;
        if label == Label::Valid && as_designed {
            self.divergences.push(format!("tcId {tc_id}: {line}"));
        } else {
            self.disagreements.push(format!(
                "tcId {tc_id} (listed divergence, labeled {label:?}) not refused as designed: {line}"
            ));
        }
    }

    /// Prints the summary and fails on any disagreement or miscount.
    fn finish(self) {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "== {}: {} vectors, {} agree, {} acceptable, {} allow-listed mislabeled, {} policy divergences",
            self.file,
            self.total,
            self.agree,
            self.acceptable.len(),
            self.allow_listed.len(),
            self.divergences.len()
        );
        for (heading, lines) in [
            ("acceptable", &self.acceptable),
            ("allow-listed mislabeled", &self.allow_listed),
            ("policy divergence", &self.divergences),
            ("note", &self.notes),
            ("DISAGREEMENT", &self.disagreements),
        ] {
            for line in lines {
                let _ = writeln!(out, "   {heading}: {line}");
            }
        }
        let _ = writeln!(out, "   refusals by rule: {:?}", self.refusals);
        println!("{out}");

        assert!(
            self.disagreements.is_empty(),
            "{}: {} disagreements:\n{}",
            self.file,
            self.disagreements.len(),
            self.disagreements.join("\n")
        );
        assert_eq!(
            self.total, self.expected_total,
            "{}: vector count",
            self.file
        );
        assert_eq!(
            self.agree + self.acceptable.len() + self.allow_listed.len() + self.divergences.len(),
            self.total,
            "{}: every vector is in exactly one bucket",
            self.file
        );
    }
}

/// Every tcId of a list must have been met exactly once: a stale entry fails the test.
fn assert_all_seen(mut seen: Vec<u32>, listed: impl Iterator<Item = u32>) {
    let mut listed: Vec<u32> = listed.collect();
    seen.sort_unstable();
    listed.sort_unstable();
    assert_eq!(
        seen, listed,
        "listed tcIds that were not met (or met twice)"
    );
}

fn code(outcome: &Result<(), Rejection>) -> String {
    match outcome {
        Ok(()) => "accepted".to_owned(),
        Err(rejection) => rejection.code().to_owned(),
    }
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The JWK with its private members removed (RFC 7517 §4-5: a verifier publishes only these).
fn public_part(private: &Value) -> Value {
    let mut public = private.clone();
    let members = public.as_object_mut().expect("a JWK is an object");
    for name in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        members.remove(name);
    }
    public
}

// ---------------------------------------------------------------------------------------------
// Wycheproof json_web_signature_test.json
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WycheproofFile<G> {
    number_of_tests: usize,
    test_groups: Vec<G>,
}

#[derive(Deserialize)]
struct JwsGroup {
    private: Box<RawValue>,
    public: Option<Box<RawValue>>,
    tests: Vec<JwsCase>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JwsCase {
    tc_id: u32,
    comment: String,
    jws: String,
    result: Label,
}

/// Labels in `json_web_signature_test.json` that the file itself contradicts, with the strict
/// outcome asserted instead (evidence in `tests/vectors/wycheproof/README.md`).
const JWS_MISLABELED: [(u32, Strict, &str); 8] = [
    (
        367,
        Strict::Accept,
        "byte-identical to valid tcId 357, no padding at all (C2SP/wycheproof#236)",
    ),
    (
        370,
        Strict::Accept,
        "byte-identical to valid tcId 357, no padding at all (C2SP/wycheproof#236)",
    ),
    (
        372,
        Strict::Reject,
        "'?' in the header is not base64url; verifies only if dropped (RFC 7515 §2, §5.2)",
    ),
    (
        373,
        Strict::Reject,
        "'?' in the payload is not base64url; verifies only if dropped (RFC 7515 §2, §5.2)",
    ),
    (
        346,
        Strict::Reject,
        "header alg PS384 vs JWK alg PS256; 332-340 label that mismatch invalid",
    ),
    (
        350,
        Strict::Reject,
        "header alg PS384 vs JWK alg PS256 (key_ops copy of 346)",
    ),
    (
        347,
        Strict::Reject,
        "JWK alg ES521 is not a JWA name and not ES512; json_web_key 19/20 label this invalid",
    ),
    (
        351,
        Strict::Reject,
        "JWK alg ES521 is not a JWA name and not ES512 (key_ops copy of 347)",
    ),
];

/// Valid labels in `json_web_signature_test.json` that tokengate refuses on purpose: they are
/// valid JWS but cannot be JWTs, whose payload is a UTF-8 JSON claims set (RFC 7519 §7.2
/// step 10). Each one's signature is checked to verify on its own.
const JWS_POLICY_DIVERGENCES: [(u32, Rejection, &str); 12] = [
    (259, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (264, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (268, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (272, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (320, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (325, Rejection::UnsupportedTokenFormat, EMPTY_PAYLOAD),
    (263, Rejection::MalformedToken, BINARY_PAYLOAD),
    (267, Rejection::MalformedToken, BINARY_PAYLOAD),
    (271, Rejection::MalformedToken, BINARY_PAYLOAD),
    (275, Rejection::MalformedToken, BINARY_PAYLOAD),
    (323, Rejection::MalformedToken, BINARY_PAYLOAD),
    (328, Rejection::MalformedToken, BINARY_PAYLOAD),
];
const EMPTY_PAYLOAD: &str = "empty payload is refused as detached content: a JWT always carries \
                             its claims (RFC 7515 App. F, RFC 7519 §7.2)";
const BINARY_PAYLOAD: &str = "payload bytes E0..FF are not UTF-8, which a JWT payload must be \
                              (RFC 7519 §7.2 step 10, RFC 8725 §3.7)";

/// Whether the signature alone verifies, with the header and key handled as in
/// [`jws_outcome`] and the payload segment taken as it is. Only used to show that a listed
/// policy refusal is not a cryptographic failure.
fn signature_verifies(token: &str, keys: &KeySet) -> bool {
    let check = || -> Option<bool> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, _) = signing_input.split_once('.')?;
        let header_text = HeaderText::decode(header).ok()?;
        let header = Header::parse(header_text.as_str()).ok()?;
        let signature = Signature::decode(signature).ok()?;
        let key = keys.select(header.kid.as_deref(), header.alg?).ok()?;
        Some(key.verify(signing_input.as_bytes(), signature.as_bytes()))
    };
    check().unwrap_or(false)
}

#[test]
fn wycheproof_json_web_signature() {
    let file: WycheproofFile<JwsGroup> = load("wycheproof/json_web_signature_test.json");
    let mut tally = Tally::new("json_web_signature_test.json", file.number_of_tests);
    let mut seen_mislabeled = Vec::new();
    let mut seen_divergences = Vec::new();
    let mut hmac_cases = 0;

    for group in &file.test_groups {
        let jwk = group.public.as_deref().unwrap_or(&group.private).get();
        let oct: Option<OctJwk> = serde_json::from_str::<OctJwk>(jwk)
            .ok()
            .filter(|k| k.kty == "oct");
        // Keys are judged once per group, as the gate judges them once per key set.
        let (keys, key_problem) = match &oct {
            Some(_) => {
                assert_oct_refused(jwk);
                (KeySet::default(), None)
            }
            None => {
                // A verifier is given public keys only: the private JWK must not load.
                let private = parse_jwk(group.private.get(), Algorithm::ALL, RulesAt::default())
                    .expect_err("a private JWK must be refused");
                assert!(
                    private.to_string().contains("private key material"),
                    "{private}"
                );
                match parse_jwk(jwk, Algorithm::ALL, RulesAt::default()) {
                    Ok(key) => (key_set(Some(key)), None),
                    Err(problem) => (key_set(None), Some(problem.to_string())),
                }
            }
        };

        for case in &group.tests {
            let outcome = match &oct {
                Some(key) => {
                    hmac_cases += 1;
                    hmac_outcome(&case.jws, key)
                }
                None => jws_outcome(&case.jws, &keys),
            };
            // A refused key decides the case before any token step does.
            let rule = match (&key_problem, &outcome) {
                (Some(problem), Err(_)) => format!("key refused: {problem}"),
                _ => code(&outcome),
            };
            if outcome.is_err() {
                tally.refused_by(rule.clone());
            }
            let detail = format!("{}: {rule}", case.comment);

            if let Some((_, strict, reason)) =
                JWS_MISLABELED.iter().find(|(id, ..)| *id == case.tc_id)
            {
                seen_mislabeled.push(case.tc_id);
                let line = format!("got {rule}: {reason}");
                tally.mislabeled(case.tc_id, case.result, *strict, outcome.is_ok(), &line);
            } else if let Some((_, expected, reason)) = JWS_POLICY_DIVERGENCES
                .iter()
                .find(|(id, ..)| *id == case.tc_id)
            {
                seen_divergences.push(case.tc_id);
                let as_designed = outcome.as_ref().err() == Some(expected)
                    && signature_verifies(&case.jws, &keys);
                let line = format!("{detail}, signature verifies: {reason}");
                tally.divergence(case.tc_id, case.result, as_designed, &line);
            } else {
                tally.compare(
                    format!("tcId {}", case.tc_id),
                    case.result,
                    outcome.is_ok(),
                    &detail,
                );
            }
        }
    }

    assert_all_seen(seen_mislabeled, JWS_MISLABELED.iter().map(|(id, ..)| *id));
    assert_all_seen(
        seen_divergences,
        JWS_POLICY_DIVERGENCES.iter().map(|(id, ..)| *id),
    );
    tally.notes.push(format!(
        "{hmac_cases} HS256 vectors ran through the crate's split/base64url steps with the MAC \
         checked in test code; tokengate itself refuses their oct keys by design (RFC 8725 §3.1)"
    ));
    tally.finish();
}

// ---------------------------------------------------------------------------------------------
// Wycheproof json_web_key_test.json
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct JwkGroup {
    private: Box<RawValue>,
    public: Option<Box<RawValue>>,
    tests: Vec<JwsCase>,
}

/// Valid labels in `json_web_key_test.json` that tokengate refuses on purpose.
const JWK_POLICY_DIVERGENCES: [(u32, &str); 4] = [
    (
        2,
        "HS256 keyset: oct keys are never used to verify tokens (RFC 8725 §3.1)",
    ),
    (
        13,
        "65-byte HS256 key: oct keys are never used (RFC 8725 §3.1)",
    ),
    (
        14,
        "65-byte HS384 key: oct keys are never used (RFC 8725 §3.1)",
    ),
    (
        15,
        "65-byte HS512 key: oct keys are never used (RFC 8725 §3.1)",
    ),
];

#[test]
fn wycheproof_json_web_key() {
    let file: WycheproofFile<JwkGroup> = load("wycheproof/json_web_key_test.json");
    let mut tally = Tally::new("json_web_key_test.json", file.number_of_tests);
    let mut seen_divergences = Vec::new();

    for group in &file.test_groups {
        let jwks = group.public.as_deref().unwrap_or(&group.private).get();
        let (loaded, mut problems) =
            parse_jwks(jwks, Algorithm::ALL, usize::MAX, RulesAt::default())
                .expect("each group holds a JWK Set");
        let (keys, set_problems) = KeySet::new(loaded);
        problems.extend(set_problems);
        let key_rules: Vec<String> = problems.iter().map(ToString::to_string).collect();

        for case in &group.tests {
            let outcome = jws_outcome(&case.jws, &keys);
            // Which rule refused it: the token step that stopped, and any key the set lost
            // (for a refused key that is the decisive rule, whatever the token step says).
            let rule = if key_rules.is_empty() {
                format!("token step: {}", code(&outcome))
            } else {
                format!(
                    "token step: {}; keys refused: {}",
                    code(&outcome),
                    key_rules.join("; ")
                )
            };
            if outcome.is_err() {
                match key_rules.first() {
                    Some(problem) => tally.refused_by(format!("key rule: {}", reason_of(problem))),
                    None => tally.refused_by(code(&outcome)),
                }
            }
            if case.result == Label::Invalid {
                println!(
                    "json_web_key tcId {} ({}): {rule}",
                    case.tc_id, case.comment
                );
            }

            let detail = format!("{}: {rule}", case.comment);
            if let Some((_, reason)) = JWK_POLICY_DIVERGENCES
                .iter()
                .find(|(id, _)| *id == case.tc_id)
            {
                seen_divergences.push(case.tc_id);
                let as_designed =
                    outcome.is_err() && key_rules.iter().any(|r| r.contains("symmetric (oct)"));
                tally.divergence(
                    case.tc_id,
                    case.result,
                    as_designed,
                    &format!("{detail}: {reason}"),
                );
            } else {
                tally.compare(
                    format!("tcId {}", case.tc_id),
                    case.result,
                    outcome.is_ok(),
                    &detail,
                );
            }
        }
    }

    assert_all_seen(
        seen_divergences,
        JWK_POLICY_DIVERGENCES.iter().map(|(id, _)| *id),
    );
    tally.finish();
}

/// The reason part of a `KeyProblem` message (`key "kid": reason`), for grouping counts.
fn reason_of(problem: &str) -> &str {
    problem
        .split_once(": ")
        .map_or(problem, |(_, reason)| reason)
}

// ---------------------------------------------------------------------------------------------
// Wycheproof raw signature files
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigGroup {
    /// `keyJwk` in the RSA PKCS#1 files; absent in 9 groups of each ECDSA file.
    #[serde(alias = "keyJwk")]
    public_key_jwk: Option<Box<RawValue>>,
    public_key: Option<SigPublicKey>,
    tests: Vec<SigCase>,
}

#[derive(Deserialize)]
struct SigPublicKey {
    /// ECDSA only: `04 || x || y` in hex.
    uncompressed: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigCase {
    tc_id: u32,
    comment: String,
    msg: String,
    sig: String,
    result: Label,
}

/// The group's JWK, or for ECDSA groups without one, a JWK built from the uncompressed point.
fn group_jwk(group: &SigGroup, alg: Algorithm) -> String {
    if let Some(jwk) = &group.public_key_jwk {
        return jwk.get().to_owned();
    }
    let crv = match alg {
        Algorithm::ES256 => "P-256",
        Algorithm::ES384 => "P-384",
        _ => panic!("only the ECDSA files have groups without a JWK"),
    };
    let point = hex(group
        .public_key
        .as_ref()
        .and_then(|k| k.uncompressed.as_deref())
        .expect("an ECDSA group without a JWK has publicKey.uncompressed"));
    assert_eq!(point.first(), Some(&0x04), "uncompressed point");
    let (x, y) = point[1..].split_at((point.len() - 1) / 2);
    serde_json::json!({
        "kty": "EC",
        "crv": crv,
        "x": BASE64URL.encode_to_string(x),
        "y": BASE64URL.encode_to_string(y),
    })
    .to_string()
}

/// Runs one raw signature file: each group's key through `parse_jwk` with only the file's
/// algorithm allowed, each test through `VerifyingKey::verify`.
fn raw_signature_file(name: &str, alg: Algorithm) {
    let file: WycheproofFile<SigGroup> = load(&format!("wycheproof/{name}"));
    let mut tally = Tally::new(name, file.number_of_tests);
    let mut built_keys = 0;

    for group in &file.test_groups {
        if group.public_key_jwk.is_none() {
            built_keys += group.tests.len();
        }
        let key = match parse_jwk(&group_jwk(group, alg), &[alg], RulesAt::default()) {
            Ok(key) => key,
            Err(problem) => {
                // A refused key rejects its whole group: invalid tests count as rejected,
                // valid ones would be divergences, and none are expected.
                for case in &group.tests {
                    tally.refused_by(format!("key refused: {}", reason_of(&problem.to_string())));
                    tally.compare(
                        format!("tcId {}", case.tc_id),
                        case.result,
                        false,
                        &problem.to_string(),
                    );
                }
                continue;
            }
        };
        for case in &group.tests {
            let verified = key.verify(&hex(&case.msg), &hex(&case.sig));
            if !verified {
                tally.refused_by("signature does not verify");
            }
            tally.compare(
                format!("tcId {}", case.tc_id),
                case.result,
                verified,
                &case.comment,
            );
        }
    }
    if built_keys > 0 {
        tally.notes.push(format!(
            "{built_keys} tests have no JWK in the file; their key was built from publicKey.uncompressed"
        ));
    }
    tally.finish();
}

#[test]
fn wycheproof_rsa_pkcs1_sha256() {
    raw_signature_file("rsa_signature_2048_sha256_test.json", Algorithm::RS256);
}

#[test]
fn wycheproof_rsa_pkcs1_sha384() {
    raw_signature_file("rsa_signature_2048_sha384_test.json", Algorithm::RS384);
}

#[test]
fn wycheproof_rsa_pkcs1_sha512() {
    raw_signature_file("rsa_signature_2048_sha512_test.json", Algorithm::RS512);
}

#[test]
fn wycheproof_rsa_pss_sha256() {
    raw_signature_file("rsa_pss_2048_sha256_mgf1_32_test.json", Algorithm::PS256);
}

#[test]
fn wycheproof_ecdsa_p256() {
    raw_signature_file("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256);
}

#[test]
fn wycheproof_ecdsa_p384() {
    raw_signature_file("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384);
}

#[test]
fn wycheproof_ed25519() {
    raw_signature_file("ed25519_test.json", Algorithm::EdDSA);
}

// ---------------------------------------------------------------------------------------------
// RFC 7520 JWS examples
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct CookbookFile {
    input: CookbookInput,
    output: CookbookOutput,
}

#[derive(Deserialize)]
struct CookbookInput {
    /// One private JWK, or a list of them (4_8).
    key: Value,
}

#[derive(Deserialize)]
struct CookbookOutput {
    compact: Option<String>,
    json: Option<Value>,
    json_flat: Option<Value>,
}

/// The RFC 7520 examples: 8 files, 22 signature instances in all (`rfc7520/README.md`).
const RFC7520_FILES: usize = 8;
const RFC7520_SIGNATURES: usize = 22;

/// What tokengate does with a file's compact form.
enum Compact {
    /// Verifies with the public part of `input.key`, bound to this algorithm.
    Verifies(Algorithm),
    /// HMAC: the oct key is refused at load time.
    OctRefused,
    /// Detached payload (empty payload segment): refused as a format.
    Detached,
    /// The example exists only in JSON serialization.
    Absent,
}

#[test]
fn rfc7520_examples() {
    let files = [
        (
            "4_1.rsa_v15_signature.json",
            Compact::Verifies(Algorithm::RS256),
        ),
        (
            "4_2.rsa-pss_signature.json",
            Compact::Verifies(Algorithm::PS384),
        ),
        (
            "4_3.ecdsa_signature.json",
            Compact::Verifies(Algorithm::ES512),
        ),
        (
            "4_4.hmac-sha2_integrity_protection.json",
            Compact::OctRefused,
        ),
        (
            "4_5.signature_with_detached_content.json",
            Compact::Detached,
        ),
        (
            "4_6.protecting_specific_header_fields.json",
            Compact::Absent,
        ),
        ("4_7.protecting_content_only.json", Compact::Absent),
        ("4_8.multiple_signatures.json", Compact::Absent),
    ];
    assert_eq!(files.len(), RFC7520_FILES);
    // Every example is positive, so every signature instance is labeled valid.
    let mut tally = Tally::new("rfc7520/4_*.json", RFC7520_SIGNATURES);

    for (name, compact) in files {
        let example: CookbookFile = load(&format!("rfc7520/{name}"));
        let token = example.output.compact.as_deref();
        match compact {
            Compact::Verifies(alg) => {
                let private = example.input.key.to_string();
                let refused = parse_jwk(&private, &[alg], RulesAt::default())
                    .expect_err("the cookbook's private JWK must be refused")
                    .to_string();
                assert!(
                    refused.contains("private key material"),
                    "{name}: {refused}"
                );
                // The RFC keys have no `alg`: the issuer's allowlist (just `alg`) binds it.
                let key = parse_jwk(
                    &public_part(&example.input.key).to_string(),
                    &[alg],
                    RulesAt::default(),
                )
                .unwrap_or_else(|p| panic!("{name}: {p}"));
                let outcome = jws_outcome(token.expect("compact form"), &key_set(Some(key)));
                tally.compare(
                    format!("{name} compact"),
                    Label::Valid,
                    outcome.is_ok(),
                    &format!("{name}: {}", code(&outcome)),
                );
            }
            Compact::OctRefused => {
                let token = token.expect("compact form");
                assert_oct_refused(&example.input.key.to_string());
                let outcome = jws_outcome(token, &KeySet::default());
                assert_eq!(outcome, Err(Rejection::UnsupportedAlgorithm), "{name}");
                // The emulated HMAC path accepts it, so the refusal is the policy alone.
                let key: OctJwk = serde_json::from_value(example.input.key.clone()).unwrap();
                assert_eq!(hmac_outcome(token, &key), Ok(()), "{name}: HMAC emulation");
                tally.total += 1;
                tally.refused_by(code(&outcome));
                tally.divergences.push(format!(
                    "{name} compact: {} (HS256; oct keys are never used, RFC 8725 §3.1)",
                    code(&outcome)
                ));
            }
            Compact::Detached => {
                let token = token.expect("compact form");
                assert_eq!(
                    jws::split(token).unwrap_err(),
                    Rejection::UnsupportedTokenFormat
                );
                let outcome = jws_outcome(token, &KeySet::default());
                assert_eq!(outcome, Err(Rejection::UnsupportedTokenFormat), "{name}");
                tally.total += 1;
                tally.refused_by(code(&outcome));
                tally.divergences.push(format!(
                    "{name} compact: {} (detached payload: a JWT always carries its claims)",
                    code(&outcome)
                ));
            }
            Compact::Absent => assert!(token.is_none(), "{name}"),
        }

        for (form, serialization) in [
            ("json", &example.output.json),
            ("json_flat", &example.output.json_flat),
        ] {
            let Some(serialization) = serialization else {
                continue;
            };
            let text = serialization.to_string();
            assert_eq!(
                jws::split(&text).unwrap_err(),
                Rejection::UnsupportedTokenFormat,
                "{name} {form}"
            );
            let outcome = jws_outcome(&text, &KeySet::default());
            assert_eq!(
                outcome,
                Err(Rejection::UnsupportedTokenFormat),
                "{name} {form}"
            );
            // The general form may carry several signatures; each is one instance.
            let signatures = serialization
                .get("signatures")
                .and_then(Value::as_array)
                .map_or(1, Vec::len);
            for i in 1..=signatures {
                tally.total += 1;
                tally.refused_by(code(&outcome));
                tally.divergences.push(format!(
                    "{name} {form} signature {i}/{signatures}: {} (compact serialization only)",
                    code(&outcome)
                ));
            }
        }
    }
    tally.finish();
}
