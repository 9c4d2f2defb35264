//! Azure AD B2C user flows and Microsoft Entra External ID tenants: Microsoft's customer
//! identity services, whose tokens differ from workforce Entra ID's.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::ENTRA_LEEWAY;
use super::issuers::is_guid;
use super::rules::EntraRules;
use crate::Algorithm;
use crate::claims::{RawClaims, string_claim};
use crate::error::Rejection;
use crate::issuer::{IssuerProfile, Issuers};
use crate::keys::{IssuerRule, KeyRules};
use crate::provider::ProviderRules;
use crate::providers::base::plain_name;

/// An API that accepts the tokens of one Azure AD B2C user flow (or custom policy).
///
/// B2C is not Entra ID: its issuer ends in `/v2.0/` **with** a trailing slash
/// (`https://{host}/{tenant id}/v2.0/`, or `https://{host}/tfp/{tenant id}/{policy}/v2.0/`
/// when the user flow's "Issuer (iss) claim" setting says so), its metadata and keys are per
/// user flow, and its tokens carry no `tid`. This preset fetches the user flow's metadata at
/// `https://{host}/{tenant}/{user flow}/v2.0/.well-known/openid-configuration` and accepts
/// exactly the issuer that document names, when it is on the same host with the tenant id
/// in its path. Audience: the API application's client id (a GUID, not its App ID URI).
/// Scopes from `scp`. RS256, leeway 300 s.
///
/// Every user flow of a tenant signs with the same keys and, in the default issuer form,
/// names the same issuer: the token's user flow (`tfp`, or `acr` where the legacy "claim
/// representing policy ID" setting is on) must be this one, compared without regard to case,
/// or the token is refused as `invalid_audience`, so that a token from a flow without MFA,
/// say, does not pass at an API configured for one with it. B2C access tokens may carry a
/// `nonce`: it does not refuse them here; ID tokens, which carry neither `scp` nor `azp`, are
/// refused as `not_an_access_token`.
///
/// Azure AD B2C is closed to new customers since May 2025; new projects use
/// [`EntraExternalId`].
///
/// ```
/// use tokengate::Gate;
/// use tokengate::providers::entra::AzureAdB2c;
///
/// # fn gate() -> Result<Gate, tokengate::ConfigError> {
/// let flow = AzureAdB2c::new(
///     "contoso.b2clogin.com",
///     "contoso.onmicrosoft.com",
///     "B2C_1_signupsignin",
///     "6e74172b-be56-4843-9ff4-e66a39bb12e3",
/// );
/// let gate = Gate::builder().issuer(flow).build()?;
/// # Ok(gate)
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "an AzureAdB2c does nothing until given to GateBuilder::issuer"]
pub struct AzureAdB2c {
    authority: String,
    tenant: String,
    policy: String,
    client_id: String,
    leeway: Duration,
}

impl AzureAdB2c {
    /// The user flow `policy` of the B2C tenant `tenant` (its `{name}.onmicrosoft.com` domain
    /// or id), served at `host` (`{name}.b2clogin.com` or the custom domain your tokens are
    /// requested through); `client_id` is the API application's id.
    pub fn new(
        host: impl Into<String>,
        tenant: impl Into<String>,
        policy: impl Into<String>,
        client_id: impl Into<String>,
    ) -> AzureAdB2c {
        AzureAdB2c {
            authority: format!("https://{}", host.into()),
            tenant: tenant.into(),
            policy: policy.into(),
            client_id: client_id.into(),
            leeway: ENTRA_LEEWAY,
        }
    }

    /// The authority as a URL instead of a host (for tests: a loopback server, with
    /// [`KeyCacheSettings::allow_http_loopback`](crate::KeyCacheSettings::allow_http_loopback)).
    pub fn authority(mut self, url: impl Into<String>) -> AzureAdB2c {
        self.authority = url.into();
        self
    }

    /// The clock-skew leeway (default 300 s).
    pub fn leeway(mut self, leeway: Duration) -> AzureAdB2c {
        self.leeway = leeway;
        self
    }
}

impl From<AzureAdB2c> for Issuers {
    fn from(flow: AzureAdB2c) -> Issuers {
        let mut problems = Vec::new();
        let authority = authority(&flow.authority, "B2C", &mut problems);
        if !plain_name(&flow.tenant) || !plain_name(&flow.policy) {
            problems.push(format!(
                "Azure AD B2C: tenant {:?} and user flow {:?} must be plain names",
                flow.tenant, flow.policy
            ));
        }
        client_id_problem("Azure AD B2C", &flow.client_id, &mut problems);
        let Some(authority) = authority.filter(|_| problems.is_empty()) else {
            return Issuers::new(Vec::new(), problems);
        };
        let url = format!(
            "{}/{}/{}/v2.0/.well-known/openid-configuration",
            authority.as_str().trim_end_matches('/'),
            flow.tenant,
            flow.policy
        );
        let host = authority.host_str().unwrap_or_default().to_owned();
        let rule = issuer_rule(vec![host], |path| {
            let inner = path.strip_prefix('/')?.strip_suffix("/v2.0/")?;
            let tenant = match inner.split('/').collect::<Vec<_>>()[..] {
                [tenant] => tenant,
                ["tfp", tenant, _policy] => tenant,
                _ => return None,
            };
            is_guid(tenant).then_some(())
        });
        let profile = IssuerProfile::learned_from(
            format!("Azure AD B2C {} {}", flow.tenant, flow.policy),
            url,
            rule,
        )
        .audience(flow.client_id)
        .algorithms([Algorithm::RS256])
        .leeway(flow.leeway)
        .allow_nonce_claim()
        .with_rules(Arc::new(B2cRules {
            policy: flow.policy,
        }));
        Issuers::new(vec![profile], problems)
    }
}

/// B2C's rules: the user flow, and access tokens only.
#[derive(Debug)]
struct B2cRules {
    policy: String,
}

impl KeyRules for B2cRules {}

impl ProviderRules for B2cRules {
    fn check_claims(&self, claims: &RawClaims<'_>) -> Result<(), Rejection> {
        // Access tokens name the client (`azp`) and their scopes (`scp`); ID tokens neither.
        if claims.azp.is_none() && claims.scp.is_none() {
            return Err(Rejection::NotAnAccessToken);
        }
        let flow =
            string_claim(claims.source, "tfp").or_else(|| string_claim(claims.source, "acr"));
        if !flow.is_some_and(|flow| flow.eq_ignore_ascii_case(&self.policy)) {
            return Err(Rejection::InvalidAudience);
        }
        Ok(())
    }
}

/// An API registered in a Microsoft Entra External ID tenant (an external, "CIAM", tenant).
///
/// Its tokens are Entra v2 tokens (`tid`, `azp`, `scp`, `roles`) from an issuer of its own
/// host, `https://{tenant id}.ciamlogin.com/{tenant id}/v2.0`. This preset fetches the tenant's
/// metadata at `https://{subdomain}.ciamlogin.com/{tenant id}/v2.0/.well-known/openid-configuration`
/// and accepts exactly the issuer it names, when its path is `/{tenant id}/v2.0`; then the
/// Entra rules apply (`tid`, `appid`/`azp`, a scope or role). Audience: the API's client id
/// and `api://{client id}`. For a custom URL domain, give its URL with
/// [`authority`](Self::authority).
///
/// The issuer's shape is taken from the tenant's own metadata rather than built from the
/// host, as projects report tokens from `{tenant id}.ciamlogin.com` even when metadata was
/// fetched through the subdomain.
///
/// ```
/// use tokengate::Gate;
/// use tokengate::providers::entra::EntraExternalId;
///
/// # fn gate() -> Result<Gate, tokengate::ConfigError> {
/// let tenant = EntraExternalId::new(
///     "contosocustomers",
///     "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
///     "6e74172b-be56-4843-9ff4-e66a39bb12e3",
/// );
/// let gate = Gate::builder().issuer(tenant).build()?;
/// # Ok(gate)
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "an EntraExternalId does nothing until given to GateBuilder::issuer"]
pub struct EntraExternalId {
    authority: String,
    tenant_id: String,
    client_id: String,
    leeway: Duration,
}

impl EntraExternalId {
    /// The external tenant `tenant_id` (its GUID) whose default domain is
    /// `{subdomain}.ciamlogin.com`; `client_id` is the API application's id.
    pub fn new(
        subdomain: impl Into<String>,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
    ) -> EntraExternalId {
        EntraExternalId {
            authority: format!("https://{}.ciamlogin.com", subdomain.into()),
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            leeway: ENTRA_LEEWAY,
        }
    }

    /// The authority URL instead of `https://{subdomain}.ciamlogin.com`: a custom URL domain,
    /// or for tests a loopback server.
    pub fn authority(mut self, url: impl Into<String>) -> EntraExternalId {
        self.authority = url.into();
        self
    }

    /// The clock-skew leeway (default 300 s).
    pub fn leeway(mut self, leeway: Duration) -> EntraExternalId {
        self.leeway = leeway;
        self
    }
}

impl From<EntraExternalId> for Issuers {
    fn from(tenant: EntraExternalId) -> Issuers {
        let mut problems = Vec::new();
        let authority = authority(&tenant.authority, "External ID", &mut problems);
        if !is_guid(&tenant.tenant_id) {
            problems.push(format!(
                "Entra External ID: tenant id {:?} is not a lowercase GUID",
                tenant.tenant_id
            ));
        }
        client_id_problem("Entra External ID", &tenant.client_id, &mut problems);
        let Some(authority) = authority.filter(|_| problems.is_empty()) else {
            return Issuers::new(Vec::new(), problems);
        };
        let tid = tenant.tenant_id.clone();
        let url = format!(
            "{}/{tid}/v2.0/.well-known/openid-configuration",
            authority.as_str().trim_end_matches('/')
        );
        let expected = format!("/{tid}/v2.0");
        // The tenant's own host, the one its metadata was fetched from, or the global login
        // host (reported for MSAL-obtained tokens).
        let hosts = [
            format!("{tid}.ciamlogin.com"),
            authority.host_str().unwrap_or_default().to_owned(),
            "login.microsoftonline.com".to_owned(),
        ];
        let rule = issuer_rule(hosts.to_vec(), move |path| (path == expected).then_some(()));
        let rules = EntraRules {
            require_scope_or_role: true,
            any_tenant: false,
            tenant_metadata: None,
            v2_issuer: None,
        };
        let profile = IssuerProfile::learned_from(format!("Entra External ID {tid}"), url, rule)
            .audiences([
                tenant.client_id.clone(),
                format!("api://{}", tenant.client_id),
            ])
            .algorithms([Algorithm::RS256])
            .leeway(tenant.leeway)
            .with_rules(Arc::new(rules));
        Issuers::new(vec![profile], problems)
    }
}

/// The authority URL: https (or http on loopback, for tests), without path beyond `/`.
fn authority(url: &str, what: &str, problems: &mut Vec<String>) -> Option<Url> {
    match Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "https" | "http")
                && parsed.path() == "/"
                && parsed.query().is_none()
                && parsed.host_str().is_some() =>
        {
            Some(parsed)
        }
        _ => {
            problems.push(format!(
                "{what}: authority {url:?} is not a host or https URL"
            ));
            None
        }
    }
}

fn client_id_problem(what: &str, client_id: &str, problems: &mut Vec<String>) {
    if !is_guid(client_id) {
        problems.push(format!(
            "{what}: client id {client_id:?} is not the application's id as a lowercase GUID"
        ));
    }
}

/// An issuer named by metadata: an https (or loopback http) URL on one of `hosts` whose path
/// `path_ok` accepts.
fn issuer_rule(
    hosts: Vec<String>,
    path_ok: impl Fn(&str) -> Option<()> + Send + Sync + 'static,
) -> IssuerRule {
    let check = Arc::new(move |issuer: &str| -> Result<(), String> {
        let url = Url::parse(issuer).map_err(|_| "the issuer is not a URL".to_owned())?;
        let loopback = url
            .host_str()
            .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
        let host_ok = url
            .host_str()
            .is_some_and(|host| hosts.iter().any(|h| h.eq_ignore_ascii_case(host)));
        if !scheme_ok || !host_ok || url.query().is_some() || path_ok(url.path()).is_none() {
            return Err("the metadata names an issuer of another shape or host".to_owned());
        }
        Ok(())
    });
    let could = Arc::clone(&check);
    IssuerRule {
        check,
        could_name: Arc::new(move |iss: &str| could(iss).is_ok()),
    }
}
