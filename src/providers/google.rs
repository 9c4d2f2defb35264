//! Google-signed ID tokens and Firebase Authentication ID tokens, used as bearer credentials.
//!
//! Both are **OpenID Connect ID tokens**, not access tokens: they say who signed in (a user,
//! or a Google service account) and for which audience, and grant no scope or role. Services
//! on Google Cloud (Cloud Run, Cloud Functions, IAP-less service-to-service calls) and
//! Firebase apps send them to their backends as bearer tokens, and Google documents that use.
//! tokengate refuses ID tokens everywhere else; these presets are the explicit opt-in. What
//! it means for your API:
//!
//! * **Authorization is yours.** Anyone who can sign in to your Firebase project, or any
//!   Google account for a sign-in client id, can get a valid token for it; and **any Google
//!   service account, in any project, can mint a Google-signed ID token for any audience**
//!   (IAM `generateIdToken`), your Cloud Run URL included. The audience only says the token
//!   was made for you, not by whom. Decide who may call from your own records: by `sub`, or by
//!   `email` where `email_verified` is `true`, with
//!   [`Requirement::custom`](crate::Requirement::custom) on the gate or the route; or restrict
//!   a Workspace domain with [`GoogleIdTokens::hosted_domain`].
//! * **Configure exactly your audience**: your client id, Cloud Run URL or custom audience.
//!
//! [`GoogleIdTokens`]: issuer `https://accounts.google.com` (and the legacy
//! `accounts.google.com`), keys from Google's JWK Set, RS256. Service accounts' tokens (a
//! verified `email` ending in `.gserviceaccount.com`, or without email `sub` equal to `azp`)
//! are [`TokenKind::App`]; tokens with a verified email of another domain
//! [`TokenKind::User`].
//!
//! [`FirebaseIdTokens`]: issuer `https://securetoken.google.com/{project}`, audience the
//! project id, keys from the `securetoken` service account's JWK Set (the JWK form of the
//! X.509 key map Firebase documents), RS256, a token's `kid` choosing among them; `sub` (the
//! user id) non-empty and at most 128 characters. Session cookies and custom tokens
//! are other issuers or audiences and are refused.
//!
//! ```
//! use tokengate::Gate;
//! use tokengate::providers::google::{FirebaseIdTokens, GoogleIdTokens};
//!
//! # fn gate() -> Result<Gate, tokengate::ConfigError> {
//! let gate = Gate::builder()
//!     .issuer(GoogleIdTokens::new("https://orders-abc123-ew.a.run.app"))
//!     .issuer(FirebaseIdTokens::new("my-shop-project"))
//!     .build()?;
//! # Ok(gate)
//! # }
//! ```

use std::sync::Arc;

use super::base::{need, plain_name};
use crate::Algorithm;
use crate::claims::{RawClaims, TokenKind, string_claim};
use crate::error::Rejection;
use crate::issuer::{IssuerProfile, Issuers};
use crate::keys::KeyRules;
use crate::provider::ProviderRules;

/// Google's JWK Set for ID tokens (the `jwks_uri` of `https://accounts.google.com`).
const GOOGLE_JWKS: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The JWK Set of the service account that signs Firebase ID tokens.
const FIREBASE_JWKS: &str =
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com";

/// Google-signed ID tokens as bearer credentials (see the [module docs](self)).
#[derive(Clone, Debug)]
#[must_use]
pub struct GoogleIdTokens {
    audiences: Vec<String>,
    hosted_domain: Option<String>,
}

impl GoogleIdTokens {
    /// Tokens whose `aud` is `audience`: your OAuth client id, your Cloud Run service's URL,
    /// or its custom audience.
    pub fn new(audience: impl Into<String>) -> GoogleIdTokens {
        GoogleIdTokens {
            audiences: vec![audience.into()],
            hosted_domain: None,
        }
    }

    /// Adds another accepted audience.
    pub fn audience(mut self, audience: impl Into<String>) -> GoogleIdTokens {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts only accounts of this Google Workspace domain (`hd`, compared exactly); tokens
    /// of other accounts are refused as `invalid_audience` (not meant for this API).
    pub fn hosted_domain(mut self, domain: impl Into<String>) -> GoogleIdTokens {
        self.hosted_domain = Some(domain.into());
        self
    }
}

/// Google's rules: the Workspace domain, and service accounts.
#[derive(Debug)]
struct GoogleRules {
    hosted_domain: Option<String>,
}

impl KeyRules for GoogleRules {}

impl ProviderRules for GoogleRules {
    fn token_kind(&self, claims: &RawClaims<'_>) -> Option<TokenKind> {
        // Read here only: the parser keeps no value of claims it has no slot for. Without a
        // verified email, the standard rule decides (`sub` equal to `azp`: an application).
        let verified = crate::claims::bool_claim(claims.source, "email_verified") == Some(true);
        let email = string_claim(claims.source, "email").filter(|_| verified)?;
        Some(if email.ends_with(".gserviceaccount.com") {
            TokenKind::App
        } else {
            TokenKind::User
        })
    }

    fn check_claims(&self, claims: &RawClaims<'_>) -> Result<(), Rejection> {
        if let Some(domain) = &self.hosted_domain {
            let hd = string_claim(claims.source, "hd");
            if hd.as_deref() != Some(domain.as_str()) {
                return Err(Rejection::InvalidAudience);
            }
        }
        Ok(())
    }
}

/// Firebase's rules: the user id.
#[derive(Debug)]
struct FirebaseRules;

impl KeyRules for FirebaseRules {}

impl ProviderRules for FirebaseRules {
    fn token_kind(&self, _claims: &RawClaims<'_>) -> Option<TokenKind> {
        Some(TokenKind::User)
    }

    fn check_claims(&self, claims: &RawClaims<'_>) -> Result<(), Rejection> {
        let sub = claims.sub.as_deref().unwrap_or_default();
        if sub.is_empty() || sub.chars().count() > 128 {
            return Err(Rejection::MalformedClaims);
        }
        Ok(())
    }
}

impl From<GoogleIdTokens> for IssuerProfile {
    fn from(google: GoogleIdTokens) -> IssuerProfile {
        let mut problems = Vec::new();
        need(
            "Google ID tokens",
            "audience",
            &google.audiences,
            &mut problems,
        );
        if google.audiences.iter().any(String::is_empty) {
            problems.push("Google ID tokens: an audience is empty".to_owned());
        }
        let profile = IssuerProfile::new("https://accounts.google.com")
            .alternate_issuer("accounts.google.com")
            .audiences(google.audiences)
            .algorithms([Algorithm::RS256])
            .require_claim("sub")
            .accept_id_tokens()
            .jwks_uri(GOOGLE_JWKS)
            .with_rules(Arc::new(GoogleRules {
                hosted_domain: google.hosted_domain,
            }));
        problems
            .into_iter()
            .fold(profile, IssuerProfile::with_problem)
    }
}

impl From<GoogleIdTokens> for Issuers {
    fn from(google: GoogleIdTokens) -> Issuers {
        Issuers::from(IssuerProfile::from(google))
    }
}

/// Firebase Authentication ID tokens as bearer credentials (see the [module docs](self)).
#[derive(Clone, Debug)]
#[must_use]
pub struct FirebaseIdTokens {
    project: String,
}

impl FirebaseIdTokens {
    /// The ID tokens of the Firebase project `project_id`.
    pub fn new(project_id: impl Into<String>) -> FirebaseIdTokens {
        FirebaseIdTokens {
            project: project_id.into(),
        }
    }
}

impl From<FirebaseIdTokens> for IssuerProfile {
    fn from(firebase: FirebaseIdTokens) -> IssuerProfile {
        let project = firebase.project;
        let profile = IssuerProfile::new(format!("https://securetoken.google.com/{project}"))
            .audience(project.clone())
            .algorithms([Algorithm::RS256])
            .require_claim("sub")
            .require_claim("iat")
            .accept_id_tokens()
            .jwks_uri(FIREBASE_JWKS)
            .with_rules(Arc::new(FirebaseRules));
        if plain_name(&project) {
            profile
        } else {
            profile.with_problem(format!("Firebase: project {project:?} is not a project id"))
        }
    }
}

impl From<FirebaseIdTokens> for Issuers {
    fn from(firebase: FirebaseIdTokens) -> Issuers {
        Issuers::from(IssuerProfile::from(firebase))
    }
}
