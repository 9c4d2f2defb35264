//! Microsoft Entra ID, first class: a preset for APIs registered in Entra.
//!
//! [`EntraApi`] configures a [`Gate`](crate::Gate) the way Microsoft documents token
//! validation for a web API:
//!
//! * **Both token versions** by default, each checked against its own metadata (ENTRA-1..4):
//!   v1 tokens (`iss` `https://sts.windows.net/{tid}/`) against
//!   `{instance}/{tenant}/.well-known/openid-configuration`, v2 tokens (`iss`
//!   `https://login.microsoftonline.com/{tid}/v2.0`) against
//!   `{instance}/{tenant}/v2.0/.well-known/openid-configuration`. The issuer strings are the
//!   ones those documents name, so national clouds work without a table of hosts
//!   (ENTRA-39), and `iss` is compared exactly: `login.windows.net` is not
//!   `login.microsoftonline.com`.
//! * **Audiences** (ENTRA-5..7): the client id and `api://{client id}`, plus App ID URIs you
//!   add, compared exactly; the trailing-slash variant of an App ID URI only if you ask.
//! * **Tenants** (ENTRA-16, ENTRA-17): a single tenant, or an explicit list of tenants for a
//!   multi-tenant API; each tenant's metadata and keys are fetched and cached on their own
//!   (ENTRA-21). `tid` must be present once (no `TID` beside it), a GUID, and the tenant
//!   segment of `iss`.
//! * **Authorization** (ENTRA-27): tokens with neither `scp` nor `roles` are refused with 403
//!   unless the API authorizes by ACL ([`allow_acl_authorization`](EntraApi::allow_acl_authorization)).
//!   [`Requirement::any_scope`](crate::Requirement::any_scope)`.or(`[`Requirement::any_role`](crate::Requirement::any_role)`)`
//!   expresses Microsoft's "any of these scopes or any of these app roles".
//! * **Keys**: RS256 only, keys without `alg` bound to it; refresh on an unknown `kid` at most
//!   once per cooldown, last good keys kept (ENTRA-19..22). App-specific signing keys with
//!   [`app_specific_keys`](EntraApi::app_specific_keys) (ENTRA-15).
//! * **Leeway** 300 s, as Microsoft's libraries (ENTRA-37); no maximum token age, so CAE
//!   tokens living up to 28 h pass (ENTRA-31).
//! * **Step-up and continuous access evaluation** (ENTRA-31..36): [`AuthContext`] on a route,
//!   [`ChallengeTarget::revocation_answer`] for a [`RevocationLayer`](crate::RevocationLayer),
//!   and [`EntraClaims`] for `acrs` and `xms_cc`.
//!
//! The preset is a plug-in: it gives [`GateBuilder::issuer`](crate::GateBuilder::issuer)
//! ordinary issuer profiles (one per tenant and token version, each named by its metadata)
//! with Entra's rules attached through the crate's provider seam: templated issuers, the keys'
//! own `issuer` and `cloud_instance_name` members, the tenant and scope rules, tenants' own key
//! stores and diagnostics. The core knows none of them; without the `entra` feature this
//! module does not exist.
//!
//! ```
//! use tokengate::Gate;
//! use tokengate::providers::entra::EntraApi;
//!
//! # fn gate() -> Result<Gate, tokengate::ConfigError> {
//! let api = EntraApi::single_tenant(
//!     "72f988bf-86f1-41af-91ab-2d7cd011db47", // the directory (tenant) id
//!     "6e74172b-be56-4843-9ff4-e66a39bb12e3", // the API's application (client) id
//! )
//! .app_id_uri("https://api.contoso.com/orders");
//! let gate = Gate::builder().issuer(api).build()?;
//! # Ok(gate)
//! # }
//! ```

mod b2c;
mod issuers;
mod rules;
mod step_up;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::Algorithm;
use crate::issuer::{IssuerProfile, Issuers};
use crate::keys::IssuerRule;
use issuers::{is_guid, template_rule, tenant_metadata, v1_rule, v2_rule, v2_template};
use rules::EntraRules;

// Entry points for the fuzz targets in fuzz/; only under `cargo fuzz` (`--cfg fuzzing`).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub use b2c::{AzureAdB2c, EntraExternalId};
pub use step_up::{AuthContext, COMMON_AUTHORIZATION_URI, ChallengeTarget, EntraClaims};

/// The global Entra ID authority host.
pub const GLOBAL_INSTANCE: &str = "https://login.microsoftonline.com";

/// The leeway the preset uses, as Microsoft's libraries do (ENTRA-37).
pub const ENTRA_LEEWAY: Duration = Duration::from_secs(300);

/// An Entra access-token version (ENTRA-1, ENTRA-2, ENTRA-4): the API's registration
/// (`requestedAccessTokenVersion`) picks which one its tokens have, whatever endpoint the
/// client used.
///
/// | | [`V1`](Self::V1) | [`V2`](Self::V2) |
/// |---|---|---|
/// | `iss` | `https://sts.windows.net/{tid}/` | `https://login.microsoftonline.com/{tid}/v2.0` |
/// | `ver` | `"1.0"` | `"2.0"` |
/// | client | `appid` | `azp` |
/// | metadata | `{instance}/{tenant}/.well-known/openid-configuration` | `{instance}/{tenant}/v2.0/.well-known/openid-configuration` |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenVersion {
    /// v1.0 access tokens, issued by the STS host.
    V1,
    /// v2.0 access tokens, issued by the login host.
    V2,
}

impl TokenVersion {
    fn number(self) -> u8 {
        match self {
            TokenVersion::V1 => 1,
            TokenVersion::V2 => 2,
        }
    }
}

/// An API registered in Microsoft Entra ID, as issuers for
/// [`GateBuilder::issuer`](crate::GateBuilder::issuer). See the [module docs](self).
#[derive(Clone, Debug)]
#[must_use = "an EntraApi does nothing until given to GateBuilder::issuer"]
pub struct EntraApi {
    client_id: String,
    tenants: Vec<String>,
    multi_tenant: bool,
    any_tenant: bool,
    versions: Vec<TokenVersion>,
    app_id_uris: Vec<String>,
    trailing_slash: bool,
    instance: String,
    app_specific_keys: bool,
    allow_acl: bool,
    leeway: Duration,
}

impl EntraApi {
    /// A single-tenant API: tokens from this tenant only. `tenant` is the directory (tenant)
    /// id, or a verified domain such as `contoso.onmicrosoft.com` (whose tenant id the
    /// metadata then gives); `client_id` is the API's application (client) id.
    pub fn single_tenant(tenant: impl Into<String>, client_id: impl Into<String>) -> EntraApi {
        let mut api = EntraApi::new(client_id.into());
        api.tenants.push(tenant.into());
        api
    }

    /// A multi-tenant API. Name the tenants it serves with [`tenants`](Self::tenants): there
    /// is no silent "every tenant" (ENTRA-17); a multi-tenant API without tenants is a
    /// configuration error.
    pub fn multi_tenant(client_id: impl Into<String>) -> EntraApi {
        let mut api = EntraApi::new(client_id.into());
        api.multi_tenant = true;
        api
    }

    /// An API for personal Microsoft accounts (Outlook.com, Xbox, ...): v2 tokens of the
    /// consumer tenant `9188040d-6c67-4c5b-b112-36a304b66dad`, with its own metadata and
    /// keys. The app registration's `signInAudience` must include personal accounts and its
    /// `requestedAccessTokenVersion` must be 2 (v1 tokens do not exist for them). Combine with
    /// [`tenants`](Self::tenants) for work and school tenants too; an API that accepts
    /// [`any_tenant`](Self::any_tenant) refuses personal accounts (`tenant_not_accepted`).
    ///
    /// Anyone with a Microsoft account can get a token for an API open to personal accounts:
    /// `aud` and `iss` only prove "some personal-account user of this API"; authorize with
    /// your own records, keyed by [`Claims::subject`](crate::Claims::subject) (`sub` is
    /// per application).
    ///
    /// ```
    /// use tokengate::Gate;
    /// use tokengate::providers::entra::EntraApi;
    ///
    /// # fn gate() -> Result<Gate, tokengate::ConfigError> {
    /// let api = EntraApi::personal_accounts("6e74172b-be56-4843-9ff4-e66a39bb12e3");
    /// let gate = Gate::builder().issuer(api).build()?;
    /// # Ok(gate)
    /// # }
    /// ```
    pub fn personal_accounts(client_id: impl Into<String>) -> EntraApi {
        let mut api = EntraApi::new(client_id.into());
        api.tenants.push(issuers::CONSUMERS_TENANT.to_owned());
        api.multi_tenant = true;
        api.versions = vec![TokenVersion::V2];
        api
    }

    fn new(client_id: String) -> EntraApi {
        EntraApi {
            client_id,
            tenants: Vec::new(),
            multi_tenant: false,
            any_tenant: false,
            versions: vec![TokenVersion::V1, TokenVersion::V2],
            app_id_uris: Vec::new(),
            trailing_slash: false,
            instance: GLOBAL_INSTANCE.to_owned(),
            app_specific_keys: false,
            allow_acl: false,
            leeway: ENTRA_LEEWAY,
        }
    }

    /// Adds tenants (ids or verified domains) whose tokens a multi-tenant API accepts.
    pub fn tenants<I, S>(mut self, tenants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tenants.extend(tenants.into_iter().map(Into::into));
        self
    }

    /// A multi-tenant API that accepts tokens from **every** work or school tenant: an explicit
    /// opt-in (ENTRA-17), for APIs that check the tenant themselves (`Claims::tenant_id`) or
    /// serve anyone. Tokens are matched against the templated issuer of the tenant-independent
    /// metadata (`organizations` for v2, `common` for v1) and verified with its keys, whose
    /// own `issuer` members must fit the token's tenant (ENTRA-17 step 3). As v1 keys carry no
    /// `issuer`, v1 tokens are verified with the keys the v2 `common` metadata names (the same
    /// keys, with their `issuer`), each of which must be one the v2 issuer of the token's
    /// tenant may use: a personal-account key signs no organization's token. A token whose key
    /// that set lacks is checked with its tenant's own keys (ENTRA-21), from the tenant's
    /// metadata; as the tenant id is not verified then, each version admits at most one new
    /// tenant per [`KeyCacheSettings::cooldown`](crate::KeyCacheSettings::cooldown), and at most
    /// 1,000 tenants' keys are held per version. Not with
    /// [`app_specific_keys`](Self::app_specific_keys), whose per-tenant keys each tenant's
    /// administrators control. Personal Microsoft accounts are not included.
    pub fn any_tenant(mut self) -> Self {
        self.any_tenant = true;
        self
    }

    /// Which token versions are accepted (default: both, as Microsoft.Identity.Web accepts
    /// them). `[TokenVersion::V2]` for an API whose `requestedAccessTokenVersion` is 2.
    pub fn versions(mut self, versions: impl IntoIterator<Item = TokenVersion>) -> Self {
        self.versions = Vec::new();
        for version in versions {
            if !self.versions.contains(&version) {
                self.versions.push(version);
            }
        }
        self
    }

    /// Adds an App ID URI (such as `api://orders` or `https://api.contoso.com/orders`) that v1
    /// tokens may carry as `aud`, besides the client id and `api://{client id}`.
    pub fn app_id_uri(mut self, uri: impl Into<String>) -> Self {
        self.app_id_uris.push(uri.into());
        self
    }

    /// Also accepts each App ID URI followed by `/` (v1 tokens may carry either, ENTRA-6):
    /// an exact second entry, never a prefix or case-insensitive match.
    pub fn accept_audience_trailing_slash(mut self) -> Self {
        self.trailing_slash = true;
        self
    }

    /// The authority host, for national clouds (`https://login.microsoftonline.us`,
    /// `https://login.partner.microsoftonline.cn`, ...) and for tests (a loopback server,
    /// with [`KeyCacheSettings::allow_http_loopback`](crate::KeyCacheSettings::allow_http_loopback)).
    /// Default: [`GLOBAL_INSTANCE`].
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = instance.into();
        self
    }

    /// The API's tokens are signed with app-specific keys (claims mapping): metadata and keys
    /// are fetched with `?appid={client id}` (ENTRA-15).
    pub fn app_specific_keys(mut self) -> Self {
        self.app_specific_keys = true;
        self
    }

    /// Accepts tokens that carry neither `scp` nor `roles`, for APIs that authorize callers
    /// by their own access-control lists (ENTRA-27). Off by default: Entra issues such
    /// app-only tokens to any application that asks.
    pub fn allow_acl_authorization(mut self) -> Self {
        self.allow_acl = true;
        self
    }

    /// The clock-skew leeway (default [`ENTRA_LEEWAY`], 300 s; at most 10 minutes).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The issuer profiles: one per tenant and version, each named by its own metadata.
    fn profiles(&self, problems: &mut Vec<String>) -> Vec<IssuerProfile> {
        let mut local = Vec::new();
        if self.versions.is_empty() {
            local.push("no token version accepted (EntraApi::versions)".to_owned());
        }
        if self.tenants.iter().any(|t| t == issuers::CONSUMERS_TENANT)
            && self.versions.contains(&TokenVersion::V1)
        {
            local.push(
                "personal accounts have v2 tokens only: accept TokenVersion::V2 alone".to_owned(),
            );
        }
        if is_guid(&self.client_id.to_ascii_lowercase()) && !is_guid(&self.client_id) {
            local.push(format!(
                "client id {:?}: write it in lowercase, as Entra writes it in tokens; \
                 audiences are compared exactly",
                self.client_id
            ));
        } else if !is_guid(&self.client_id) {
            local.push(format!(
                "client id {:?} is not an application (client) id GUID",
                self.client_id
            ));
        }
        if self.tenants.is_empty() && !self.any_tenant {
            local.push(
                "a multi-tenant API must name the tenants it serves (EntraApi::tenants) or opt \
                 in to any tenant (EntraApi::any_tenant)"
                    .to_owned(),
            );
        }
        if self.any_tenant && !self.multi_tenant {
            local.push("any_tenant is for multi-tenant APIs (EntraApi::multi_tenant)".to_owned());
        }
        if self.any_tenant && !self.tenants.is_empty() {
            local.push("any_tenant and a tenant list exclude each other".to_owned());
        }
        for tenant in &self.tenants {
            let common = ["common", "organizations", "consumers"]
                .iter()
                .any(|name| tenant.eq_ignore_ascii_case(name));
            let domain = !tenant.is_empty()
                && tenant.contains('.')
                && tenant
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if common || !(is_guid(tenant) || domain) {
                local.push(format!(
                    "tenant {tenant:?}: name a tenant id (lowercase GUID) or a verified domain; \
                     `common`, `organizations` and `consumers` are not tenants"
                ));
            }
        }
        let instance = match Url::parse(&self.instance) {
            Ok(url) if url.path() == "/" && url.query().is_none() => {
                self.instance.trim_end_matches('/').to_owned()
            }
            _ => {
                local.push(format!(
                    "instance {:?} is not an authority host URL such as {GLOBAL_INSTANCE}",
                    self.instance
                ));
                String::new()
            }
        };
        for uri in &self.app_id_uris {
            if uri.is_empty() || uri.ends_with('/') || uri.trim() != uri {
                local.push(format!(
                    "App ID URI {uri:?} is empty, has surrounding whitespace or ends with a slash"
                ));
            }
        }
        if !local.is_empty() {
            problems.extend(local.into_iter().map(|p| format!("Entra API: {p}")));
            return Vec::new();
        }

        if self.multi_tenant && self.app_specific_keys {
            // Microsoft: never accept mapped claims in a multi-tenant app (ENTRA-15).
            tracing::warn!(
                "tokengate: app-specific signing keys in a multi-tenant API; Microsoft advises \
                 against claims mapping for multi-tenant apps"
            );
        }
        // Compared exactly, as Microsoft does; checked above to be the lowercase GUID.
        let client_id = self.client_id.clone();
        let mut audiences = vec![client_id.clone()];
        let default_uri = format!("api://{client_id}");
        for uri in std::iter::once(&default_uri).chain(&self.app_id_uris) {
            audiences.push(uri.clone());
            if self.trailing_slash {
                audiences.push(format!("{uri}/"));
            }
        }
        let query = if self.app_specific_keys {
            format!("?appid={client_id}")
        } else {
            String::new()
        };
        let rules = EntraRules {
            require_scope_or_role: !self.allow_acl,
            any_tenant: self.any_tenant,
            tenant_metadata: None,
            v2_issuer: None,
        };
        let mut profiles = Vec::new();
        let profile = |name: String, url: String, rule: IssuerRule, rules: EntraRules| {
            IssuerProfile::learned_from(name, url, rule)
                .audiences(audiences.iter().cloned())
                .algorithms([Algorithm::RS256])
                .leeway(self.leeway)
                .with_rules(Arc::new(rules))
        };
        if self.any_tenant {
            for &version in &self.versions {
                let (tenant, url) = if version == TokenVersion::V2 {
                    let url = format!(
                        "{instance}/organizations/v2.0/.well-known/openid-configuration{query}"
                    );
                    ("organizations", url)
                } else {
                    (
                        "common",
                        format!("{instance}/common/.well-known/openid-configuration{query}"),
                    )
                };
                let rule = template_rule(version, instance.clone());
                // With app-specific keys, a tenant's own `?appid=` keys are those of the API's
                // service principal in that tenant, which its administrators control: only the
                // shared set is trusted then.
                let mut rules = EntraRules {
                    tenant_metadata: (!self.app_specific_keys)
                        .then(|| tenant_metadata(version, &instance)),
                    ..rules.clone()
                };
                if version == TokenVersion::V1 {
                    // v1 keys carry no `issuer`, so nothing would keep a key that only another
                    // tenant uses (a personal-account key, say) from signing an organization's
                    // v1 token. The v2 `common` document names the same keys, each with its
                    // `issuer`: v1 tokens are verified with those, and a key must be one the
                    // v2 issuer of the token's tenant may use (ENTRA-17 step 3), as
                    // IdentityModel does under a v2 configuration.
                    rules.v2_issuer = Some(v2_template(&instance));
                }
                let mut issuer = profile(
                    format!("Entra v{} any tenant ({tenant})", version.number()),
                    url,
                    rule,
                    rules,
                );
                if version == TokenVersion::V1 {
                    let keys =
                        format!("{instance}/common/v2.0/.well-known/openid-configuration{query}");
                    let rule = template_rule(TokenVersion::V2, instance.clone());
                    issuer = issuer.keys_from_metadata(keys, rule);
                }
                profiles.push(issuer);
            }
            return profiles;
        }
        for tenant in &self.tenants {
            let configured = is_guid(tenant).then(|| tenant.clone());
            for &version in &self.versions {
                let (url, rule) = if version == TokenVersion::V2 {
                    let url =
                        format!("{instance}/{tenant}/v2.0/.well-known/openid-configuration{query}");
                    (url, v2_rule(instance.clone(), configured.clone()))
                } else {
                    let url =
                        format!("{instance}/{tenant}/.well-known/openid-configuration{query}");
                    (url, v1_rule(configured.clone()))
                };
                profiles.push(profile(
                    format!("Entra v{} tenant {tenant}", version.number()),
                    url,
                    rule,
                    rules.clone(),
                ));
            }
        }
        profiles
    }
}

impl From<EntraApi> for Issuers {
    fn from(api: EntraApi) -> Issuers {
        let mut problems = Vec::new();
        let profiles = api.profiles(&mut problems);
        Issuers::new(profiles, problems)
    }
}
