//! Entry points for the fuzz targets in `fuzz/`: thin wrappers over the private parsers, with
//! their results turned into plain owned data. Compiled only under `--cfg fuzzing` (which
//! `cargo fuzz` sets); normal builds do not have this module.

use http::{HeaderMap, Uri};

use crate::jws::{self, Header, HeaderText, Signature};
use crate::keys::{KeyLimits, KeySet, RulesAt, VerifyingKey, parse_jwks, parse_pem};
use crate::{Algorithm, Rejection, TokenSource};

/// The three segments of a compact JWS, as [`jws::split`] found them.
#[derive(Debug)]
pub struct Segments<'t> {
    /// The encoded header.
    pub header: &'t str,
    /// The encoded payload.
    pub payload: &'t str,
    /// The encoded signature.
    pub signature: &'t str,
    /// What the signature covers: `header '.' payload`.
    pub signing_input: &'t [u8],
}

/// Splits a compact JWS (the gate's first parsing step).
///
/// # Errors
///
/// The gate's rejection.
pub fn split(token: &str) -> Result<Segments<'_>, Rejection> {
    jws::split(token).map(|s| Segments {
        header: s.header,
        payload: s.payload,
        signature: s.signature,
        signing_input: s.signing_input,
    })
}

/// Decodes a header segment the way the gate does (on the stack when small).
///
/// # Errors
///
/// The gate's rejection.
pub fn decode_header(segment: &str) -> Result<String, Rejection> {
    HeaderText::decode(segment).map(|text| text.as_str().to_owned())
}

/// Decodes a payload segment the way the gate does.
///
/// # Errors
///
/// The gate's rejection.
pub fn decode_text(segment: &str) -> Result<String, Rejection> {
    jws::decode_text(segment)
}

/// Decodes a signature segment the way the gate does.
///
/// # Errors
///
/// The gate's rejection.
pub fn decode_signature(segment: &str) -> Result<Vec<u8>, Rejection> {
    Signature::decode(segment).map(|sig| sig.as_bytes().to_vec())
}

/// What a parsed JOSE header says.
#[derive(Debug)]
pub struct ParsedHeader {
    /// The algorithm.
    pub alg: Algorithm,
    /// `kid`, unescaped.
    pub kid: Option<String>,
    /// `typ`, unescaped.
    pub typ: Option<String>,
}

/// Parses a decoded JOSE header with the gate's rules.
///
/// # Errors
///
/// The gate's rejection.
pub fn parse_header(text: &str) -> Result<ParsedHeader, Rejection> {
    let header = Header::parse(text)?;
    Ok(ParsedHeader {
        // `Header::parse` refuses a header without a supported algorithm.
        alg: header.alg.ok_or(Rejection::UnsupportedAlgorithm)?,
        kid: header.kid.map(|kid| kid.into_owned()),
        typ: header.typ.map(|typ| typ.into_owned()),
    })
}

/// Parses a decoded claims set with the gate's rules; returns its `iss`.
///
/// # Errors
///
/// The gate's rejection.
pub fn parse_claims(text: &str) -> Result<Option<String>, Rejection> {
    let mut raw = crate::claims::RawClaims::default();
    raw.parse_into(text)?;
    Ok(raw.iss.map(|iss| iss.into_owned()))
}

/// The keys of a loaded JWK Set.
#[derive(Debug)]
pub struct LoadedKeys {
    keys: Vec<VerifyingKey>,
    /// Entries refused, one problem each.
    pub problems: usize,
}

impl LoadedKeys {
    /// Keys parsed.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key was usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid` of key `i`.
    pub fn kid(&self, i: usize) -> Option<&str> {
        self.keys[i].kid()
    }

    /// The one algorithm key `i` is bound to.
    pub fn alg(&self, i: usize) -> Algorithm {
        self.keys[i].alg()
    }

    /// What a provider's key rules kept of key `i` (none for standard keys).
    pub fn tag(&self, i: usize) -> Option<&str> {
        self.keys[i].tag()
    }

    /// Builds the issuer's key set from these keys (dropping duplicates, making shared kids
    /// unusable); returns how many keys it kept and, for each parsed key, whether the set
    /// selects a key of that algorithm for a token naming its `kid` and algorithm.
    pub fn select_each(self) -> (usize, Vec<bool>) {
        let wanted: Vec<_> = self
            .keys
            .iter()
            .map(|key| (key.kid().map(str::to_owned), key.alg()))
            .collect();
        let (set, _) = KeySet::new(self.keys);
        let selected = wanted
            .iter()
            .map(|(kid, alg)| {
                set.select(kid.as_deref(), *alg)
                    .is_ok_and(|key| key.alg() == *alg)
            })
            .collect();
        (set.len(), selected)
    }
}

/// Loads a JWK Set as an issuer's configured or fetched keys are loaded, with every algorithm
/// allowed and the default cost limits (RSA up to 4096 bits, exponent 65537).
///
/// # Errors
///
/// Why the document is not a JWK Set.
pub fn load_jwks(json: &str, max_keys: usize) -> Result<LoadedKeys, String> {
    LoadedKeys::load(json, max_keys, RulesAt::default())
}

impl LoadedKeys {
    /// Loads a JWK Set with every algorithm allowed, under a provider's key rules (for the
    /// providers' own entry points).
    pub(crate) fn load(json: &str, max_keys: usize, rules: RulesAt<'_>) -> Result<Self, String> {
        let (keys, mut problems) = parse_jwks(json, Algorithm::ALL, max_keys, rules)?;
        let keys = KeyLimits::default().admit(keys, &mut problems);
        Ok(LoadedKeys {
            keys,
            problems: problems.len(),
        })
    }
}

/// Loads one PEM public key for `alg`, as [`IssuerProfile::public_key_pem`] does.
///
/// [`IssuerProfile::public_key_pem`]: crate::IssuerProfile::public_key_pem
///
/// # Errors
///
/// Why the key is refused.
pub fn load_pem(text: &str, alg: Algorithm) -> Result<Algorithm, String> {
    parse_pem(text, alg, None).map(|key| key.alg())
}

/// Finds the request's one access token as [`TokenLayer`](crate::TokenLayer) does.
///
/// # Errors
///
/// The layer's rejection.
pub fn find_token<'a>(
    sources: &'a [TokenSource],
    headers: &'a HeaderMap,
    uri: &Uri,
) -> Result<Option<&'a str>, Rejection> {
    crate::source::find(sources, headers, uri, false).map(|found| found.map(|c| c.token))
}

/// Finds the request's one access token as a [`TokenLayer`](crate::TokenLayer) whose gate
/// accepts DPoP does: the token, and the proof when it came with the `DPoP` scheme.
///
/// # Errors
///
/// The layer's rejection.
pub fn find_dpop_credential<'a>(
    sources: &'a [TokenSource],
    headers: &'a HeaderMap,
    uri: &Uri,
) -> Result<Option<(&'a str, Option<&'a str>)>, Rejection> {
    crate::source::find(sources, headers, uri, true).map(|found| found.map(|c| (c.token, c.proof)))
}

/// The layer's answer to a token the gate refused with `rejection`.
pub fn refused(token: &str, rejection: Rejection) -> Rejection {
    crate::source::grammar(token, rejection)
}

/// Marks the headers that may carry a token as sensitive, as the layer does.
pub fn mark_sensitive(sources: &[TokenSource], headers: &mut HeaderMap) {
    crate::source::mark_sensitive(sources, headers);
}

/// Checks a DPoP proof as the gate does for a `GET` of `https://api.example.com/orders`
/// presenting the token `"token"`, bound to the key in the proof's own `jwk` (so that the
/// input reaches the key parsing and the signature). `Ok` only for a proof whose signature
/// verifies under that key.
///
/// # Errors
///
/// Which check refused the proof.
pub fn check_dpop_proof(proof: &str) -> Result<(), String> {
    let uri = url::Url::parse("https://api.example.com/orders").map_err(|e| e.to_string())?;
    // The proof's own key thumbprint, so that the binding check is passed when it can be.
    let jkt = crate::jws::split(proof)
        .ok()
        .and_then(|segments| crate::jws::decode_text(segments.header).ok())
        .and_then(|header| serde_json::from_str::<serde_json::Value>(&header).ok())
        .and_then(|header| header.get("jwk").map(serde_json::Value::to_string))
        .and_then(|jwk| crate::dpop::thumbprint_of(&jwk))
        .unwrap_or_default();
    let expected = crate::dpop::proof::Expected {
        method: "GET",
        uri: &uri,
        token: "token",
        jkt: &jkt,
        algorithms: Algorithm::ALL,
        now: 1_800_000_000.0,
        max_age: 60.0,
        leeway: 5.0,
        nonce: None,
        keys: None,
    };
    crate::dpop::proof::check(proof, &expected)
        .map(|_| ())
        .map_err(|error| format!("{error:?}"))
}
