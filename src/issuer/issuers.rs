//! [`Issuers`]: one or more trusted issuers, as a preset configures them.

use super::IssuerProfile;
use crate::dpop::DpopMode;
#[cfg(feature = "testing")]
use crate::keys::KeyInput;

/// One or more trusted issuers, for [`GateBuilder::issuer`](crate::GateBuilder::issuer): an
/// [`IssuerProfile`], or a provider preset, which may configure several (one per tenant and
/// token version, say). Made with `From`; its problems are reported by
/// [`GateBuilder::build`](crate::GateBuilder::build) with all others.
///
/// ```
/// use tokengate::{Gate, IssuerProfile, Issuers};
///
/// let issuers = Issuers::from(IssuerProfile::new("https://login.example.com/").audience("api://orders").discover());
/// assert!(Gate::builder().issuer(issuers).build().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct Issuers {
    profiles: Vec<IssuerProfile>,
    problems: Vec<String>,
}

impl Issuers {
    /// Issuers a preset configured, and the problems it found in its own settings (each
    /// already naming the preset).
    pub(crate) fn new(profiles: Vec<IssuerProfile>, problems: Vec<String>) -> Issuers {
        Issuers { profiles, problems }
    }

    pub(crate) fn into_parts(self) -> (Vec<IssuerProfile>, Vec<String>) {
        (self.profiles, self.problems)
    }

    /// For tests of an API configured with a preset: every issuer's keys are this JWK Set
    /// (a [`TestIssuer`](crate::testing::TestIssuer)'s, say) instead of the provider's,
    /// which are never fetched. Everything else of the preset stays as configured, so tokens
    /// signed with those keys must carry the preset's issuer and claims. Issuers named by
    /// metadata (Entra's) cannot be served this way: `build()` reports them.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokengate::testing::TestIssuer;
    /// use tokengate::providers::keycloak::Keycloak;
    /// use tokengate::{Gate, Issuers};
    ///
    /// let test = TestIssuer::start().await?;
    /// let realm = Keycloak::new("https://sso.example.com", "shop").audience("orders-api");
    /// let gate = Gate::builder()
    ///     .issuer(Issuers::from(realm).with_test_keys(test.jwks()))
    ///     .build()?;
    /// let token = test
    ///     .token()
    ///     .claim("iss", "https://sso.example.com/realms/shop")
    ///     .claim("aud", "orders-api")
    ///     .claim("typ", "Bearer")
    ///     .claim("realm_access", serde_json::json!({"roles": ["clerk"]}))
    ///     .sign();
    /// assert!(gate.validate(&token).await?.has_role("clerk"));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "testing")]
    pub fn with_test_keys(mut self, jwks: impl Into<String>) -> Issuers {
        let jwks = jwks.into();
        for profile in &mut self.profiles {
            if profile.learned {
                profile.problems.push(
                    "with_test_keys: this issuer is named by metadata, not configured".into(),
                );
            }
            profile.remote.clear();
            profile.keys = vec![KeyInput::Jwks(jwks.clone())];
        }
        self
    }
}

impl Issuers {
    /// Sets every issuer's [`DpopMode`] (see [`IssuerProfile::dpop`]): how a preset's issuers
    /// accept DPoP-bound tokens.
    ///
    /// ```
    /// use tokengate::providers::keycloak::Keycloak;
    /// use tokengate::{DpopMode, Gate, Issuers};
    ///
    /// let realm = Keycloak::new("https://sso.example.com", "shop").audience("orders-api");
    /// let gate = Gate::builder()
    ///     .issuer(Issuers::from(realm).dpop(DpopMode::Allowed))
    ///     .build();
    /// assert!(gate.is_ok());
    /// ```
    pub fn dpop(mut self, mode: DpopMode) -> Issuers {
        for profile in &mut self.profiles {
            profile.dpop = mode;
        }
        self
    }
}

impl From<IssuerProfile> for Issuers {
    fn from(profile: IssuerProfile) -> Issuers {
        Issuers::new(vec![profile], Vec::new())
    }
}
