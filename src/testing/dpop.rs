//! A DPoP client for tests (RFC 9449): a proof key, and proofs built valid by default and
//! broken on request. Bind tokens to it with [`TokenBuilder::bound_to`](super::TokenBuilder::bound_to).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::keys::{TestKey, b64, random_hex};
use crate::Algorithm;
use crate::dpop::{proof::token_hash, thumbprint};

/// A client's DPoP key: what a DPoP-bound token is bound to (`cnf.jkt`, its
/// [`thumbprint`](Self::thumbprint)), and what signs the client's proofs.
///
/// ```
/// use http::Method;
/// use tokengate::{Algorithm, Dpop, DpopMode, Gate, Presented};
/// use tokengate::testing::{DpopKey, TestIssuer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = TestIssuer::start().await?;
/// let gate = Gate::builder()
///     .issuer(issuer.profile().dpop(DpopMode::Required))
///     .key_cache(issuer.key_cache())
///     .build()?;
///
/// let client = DpopKey::generate(Algorithm::ES256);
/// let token = issuer.token().bound_to(&client).sign();
/// let url = "https://api.example.com/orders";
/// let proof = client.proof(&Method::GET, url).token(&token).sign();
///
/// let claims = gate.validate_presented(Presented::dpop(&token, &proof, &Method::GET, url)).await?;
/// assert_eq!(claims.subject(), Some("test-user"));
///
/// // The same proof again is a replay.
/// let again = gate.validate_presented(Presented::dpop(&token, &proof, &Method::GET, url)).await;
/// assert_eq!(again.unwrap_err().code(), "dpop_proof_replayed");
/// // And the token without its proof is refused.
/// assert_eq!(gate.validate(&token).await.unwrap_err().code(), "sender_constrained_token");
/// # Ok(())
/// # }
/// ```
pub struct DpopKey {
    key: TestKey,
    thumbprint: String,
}

impl DpopKey {
    /// A new key pair for `alg`.
    pub fn generate(alg: Algorithm) -> DpopKey {
        let key = TestKey::generate(alg, "dpop");
        let thumbprint =
            thumbprint(&public_jwk(&key).to_string()).expect("a generated key has a thumbprint");
        DpopKey { key, thumbprint }
    }

    /// The RFC 7638 thumbprint of the public key: the `cnf.jkt` of tokens bound to it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public JWK a proof carries in its header (no `kid`, `use` or `alg`).
    pub fn public_jwk(&self) -> Value {
        public_jwk(&self.key)
    }

    /// A proof for a request with this method to this URI (query and fragment are dropped,
    /// as RFC 9449 §4.2 says): `typ` `dpop+jwt`, the key's `alg` and `jwk`, a random `jti`,
    /// `htm`, `htu` and `iat` now. Add the token's hash with [`ProofBuilder::token`].
    pub fn proof(&self, method: &http::Method, uri: &str) -> ProofBuilder<'_> {
        let htu = uri.split(['?', '#']).next().unwrap_or(uri);
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(random_hex(16)));
        claims.insert("htm".into(), json!(method.as_str()));
        claims.insert("htu".into(), json!(htu));
        claims.insert("iat".into(), json!(now()));
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("alg".into(), json!(self.key.alg().name()));
        header.insert("jwk".into(), self.public_jwk());
        ProofBuilder {
            key: self,
            header,
            claims,
            signer: None,
        }
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.key.alg())
            .field("thumbprint", &self.thumbprint)
            .finish()
    }
}

/// Builds one DPoP proof (from [`DpopKey::proof`]): valid by default, every method changes
/// one thing, to test how an API handles proofs wrong in one precise way (ATK-36).
#[must_use = "a proof builder does nothing until `sign` is called"]
pub struct ProofBuilder<'a> {
    key: &'a DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    /// Another key that signs instead (the header still names this one).
    signer: Option<&'a DpopKey>,
}

impl ProofBuilder<'_> {
    /// Sets `ath`, the hash of the access token the proof presents.
    pub fn token(self, token: &str) -> Self {
        self.claim("ath", token_hash(token))
    }

    /// Sets `nonce`, the server's nonce (from a `DPoP-Nonce` header).
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", nonce)
    }

    /// Sets `jti`: the same one twice is a replay.
    pub fn jti(self, jti: &str) -> Self {
        self.claim("jti", jti)
    }

    /// Sets `iat` to this time.
    pub fn issued_at(self, at: SystemTime) -> Self {
        let seconds = at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        self.claim("iat", seconds)
    }

    /// Sets `iat` to `age` ago.
    pub fn issued_ago(self, age: Duration) -> Self {
        self.issued_at(SystemTime::now() - age)
    }

    /// Sets a claim, or replaces it.
    ///
    /// # Panics
    ///
    /// If `value` cannot be represented as JSON.
    pub fn claim(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).expect("a claim value that is JSON");
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Removes a claim.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.retain(|claim, _| claim != name);
        self
    }

    /// Sets a header parameter, or replaces it (`typ`, `alg`, `jwk` included).
    ///
    /// # Panics
    ///
    /// If `value` cannot be represented as JSON.
    pub fn header(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).expect("a header value that is JSON");
        self.header.insert(name.to_owned(), value);
        self
    }

    /// Adds a private member (`d`) to the header's `jwk`: a proof that leaks its key.
    pub fn with_private_member(mut self) -> Self {
        if let Some(Value::Object(jwk)) = self.header.get_mut("jwk") {
            jwk.insert("d".into(), json!(b64(random_hex(32))));
        }
        self
    }

    /// Signs with `other` while the header still carries this key: the signature does not
    /// verify.
    pub fn signed_by<'b>(self, other: &'b DpopKey) -> ProofBuilder<'b>
    where
        Self: 'b,
    {
        ProofBuilder {
            key: self.key,
            header: self.header,
            claims: self.claims,
            signer: Some(other),
        }
    }

    /// Signs the proof: a compact JWS.
    pub fn sign(self) -> String {
        let signer = self.signer.unwrap_or(self.key);
        signer.key.token_raw(
            &Value::Object(self.header).to_string(),
            &Value::Object(self.claims).to_string(),
        )
    }
}

impl fmt::Debug for ProofBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofBuilder")
            .field("key", self.key)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn public_jwk(key: &TestKey) -> Value {
    let mut jwk = key.jwk_without_alg();
    if let Value::Object(members) = &mut jwk {
        members.remove("kid");
        members.remove("use");
    }
    jwk
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
