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
//!
//! ```
//! use tokengate::Gate;
//! use tokengate::entra::EntraApi;
//!
//! # fn gate() -> Result<Gate, tokengate::ConfigError> {
//! let api = EntraApi::single_tenant(
//!     "72f988bf-86f1-41af-91ab-2d7cd011db47", // the directory (tenant) id
//!     "6e74172b-be56-4843-9ff4-e66a39bb12e3", // the API's application (client) id
//! )
//! .app_id_uri("https://api.contoso.com/orders");
//! let gate = Gate::builder().entra(api).build()?;
//! # Ok(gate)
//! # }
//! ```

mod challenge;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::Algorithm;
use crate::claims::{CONSUMERS_TENANT, is_guid};
use crate::issuer::{EntraRules, IssuerProfile, TenantMetadata};
use crate::keys::IssuerRule;

pub(crate) use challenge::ChallengeTarget;
pub use challenge::{AuthContext, COMMON_AUTHORIZATION_URI, ClaimsChallenge};

/// The global Entra ID authority host.
pub const GLOBAL_INSTANCE: &str = "https://login.microsoftonline.com";

/// The leeway the preset uses, as Microsoft's libraries do (ENTRA-37).
pub const ENTRA_LEEWAY: Duration = Duration::from_secs(300);

/// Which Entra access-token versions an API accepts (ENTRA-4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenVersions {
    /// v1 and v2 tokens, as Microsoft.Identity.Web: the default.
    #[default]
    Both,
    /// v1 tokens only (`accessTokenAcceptedVersion` `null` or `1`).
    V1,
    /// v2 tokens only (`accessTokenAcceptedVersion` `2`).
    V2,
}

/// An API registered in Microsoft Entra ID, as an issuer configuration for
/// [`GateBuilder::entra`](crate::GateBuilder::entra). See the [module docs](self).
#[derive(Clone, Debug)]
#[must_use = "an EntraApi does nothing until given to GateBuilder::entra"]
pub struct EntraApi {
    client_id: String,
    tenants: Vec<String>,
    multi_tenant: bool,
    any_tenant: bool,
    versions: TokenVersions,
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

    fn new(client_id: String) -> EntraApi {
        EntraApi {
            client_id,
            tenants: Vec::new(),
            multi_tenant: false,
            any_tenant: false,
            versions: TokenVersions::Both,
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
    /// tenant per [`KeyCache::cooldown`](crate::KeyCache::cooldown), and at most 1,000
    /// tenants' keys are held. Not with [`app_specific_keys`](Self::app_specific_keys), whose
    /// per-tenant keys each tenant's administrators control. Personal Microsoft accounts are not included.
    pub fn any_tenant(mut self) -> Self {
        self.any_tenant = true;
        self
    }

    /// Which token versions are accepted (default: both).
    pub fn versions(mut self, versions: TokenVersions) -> Self {
        self.versions = versions;
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
    /// with [`KeyCache::allow_http_loopback`](crate::KeyCache::allow_http_loopback)).
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
    pub(crate) fn profiles(&self, problems: &mut Vec<String>) -> Vec<IssuerProfile> {
        let mut local = Vec::new();
        if self.client_id.is_empty() || !is_guid(&self.client_id.to_ascii_lowercase()) {
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
        // Entra writes GUIDs in lowercase, and audiences are compared exactly.
        let client_id = self.client_id.to_ascii_lowercase();
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
        let versions: &[u8] = match self.versions {
            TokenVersions::Both => &[1, 2],
            TokenVersions::V1 => &[1],
            TokenVersions::V2 => &[2],
        };
        let mut profiles = Vec::new();
        let profile = |name: String, url: String, rule: IssuerRule, rules: EntraRules| {
            IssuerProfile::learned_from(name, url, rule)
                .audiences(audiences.iter().cloned())
                .algorithms([Algorithm::RS256])
                .leeway(self.leeway)
                .with_entra_rules(rules)
        };
        if self.any_tenant {
            for &version in versions {
                let (tenant, url) = if version == 2 {
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
                if version == 1 {
                    // v1 keys carry no `issuer`, so nothing would keep a key that only another
                    // tenant uses (a personal-account key, say) from signing an organization's
                    // v1 token. The v2 `common` document names the same keys, each with its
                    // `issuer`: v1 tokens are verified with those, and a key must be one the
                    // v2 issuer of the token's tenant may use (ENTRA-17 step 3), as
                    // IdentityModel does under a v2 configuration.
                    rules.v2_issuer = Some(v2_template(&instance));
                }
                let mut issuer = profile(
                    format!("Entra v{version} any tenant ({tenant})"),
                    url,
                    rule,
                    rules,
                );
                if version == 1 {
                    let keys =
                        format!("{instance}/common/v2.0/.well-known/openid-configuration{query}");
                    issuer = issuer.keys_from_metadata(keys, template_rule(2, instance.clone()));
                }
                profiles.push(issuer);
            }
            return profiles;
        }
        for tenant in &self.tenants {
            let configured = is_guid(tenant).then(|| tenant.clone());
            for &version in versions {
                let (url, rule) = if version == 2 {
                    let url =
                        format!("{instance}/{tenant}/v2.0/.well-known/openid-configuration{query}");
                    (url, v2_rule(instance.clone(), configured.clone()))
                } else {
                    let url =
                        format!("{instance}/{tenant}/.well-known/openid-configuration{query}");
                    (url, v1_rule(configured.clone()))
                };
                profiles.push(profile(
                    format!("Entra v{version} tenant {tenant}"),
                    url,
                    rule,
                    rules.clone(),
                ));
            }
        }
        profiles
    }
}

/// Where one tenant's own keys are, for any-tenant APIs: its own metadata, whose issuer must
/// be that tenant's (ENTRA-21).
fn tenant_metadata(version: u8, instance: &str) -> TenantMetadata {
    let instance = instance.to_owned();
    TenantMetadata(Arc::new(move |tid: &str| {
        // Personal accounts are refused in this mode anyway: no admission is spent on them.
        if !is_guid(tid) || tid == CONSUMERS_TENANT {
            return None;
        }
        let (url, rule) = if version == 2 {
            let url = format!("{instance}/{tid}/v2.0/.well-known/openid-configuration");
            (url, v2_rule(instance.clone(), Some(tid.to_owned())))
        } else {
            let url = format!("{instance}/{tid}/.well-known/openid-configuration");
            (url, v1_rule(Some(tid.to_owned())))
        };
        Some((Url::parse(&url).ok()?, rule))
    }))
}

/// A v2 issuer: exactly `{instance}/{tid}/v2.0`, for the configured tenant id if one is.
fn v2_rule(instance: String, tenant: Option<String>) -> IssuerRule {
    exact_rule(move |issuer: &str| {
        let tid = issuer
            .strip_prefix(instance.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.strip_suffix("/v2.0"))
            .ok_or_else(|| format!("a v2 issuer is {instance}/{{tenant id}}/v2.0"))?;
        tenant_matches(tid, tenant.as_deref())
    })
}

/// A rule for metadata that names one issuer: a token's `iss` could be it if the rule accepts it.
fn exact_rule(check: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> IssuerRule {
    let check = Arc::new(check);
    let could = Arc::clone(&check);
    IssuerRule {
        check,
        could_name: Arc::new(move |iss: &str| could(iss).is_ok()),
    }
}

/// A v1 issuer: `https://{sts host}/{tid}/`, the host being the cloud's own (learned, not
/// assumed), for the configured tenant id if one is.
fn v1_rule(tenant: Option<String>) -> IssuerRule {
    exact_rule(move |issuer: &str| {
        let url = Url::parse(issuer).map_err(|_| "a v1 issuer is a URL".to_owned())?;
        let loopback = url.host_str().is_some_and(|host| {
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err("a v1 issuer is an https URL".to_owned());
        }
        if url.as_str() != issuer || url.query().is_some() {
            return Err("a v1 issuer is a plain URL in normal form".to_owned());
        }
        let tid = url
            .path()
            .strip_prefix('/')
            .and_then(|path| path.strip_suffix('/'))
            .ok_or_else(|| "a v1 issuer is https://{host}/{tenant id}/".to_owned())?;
        tenant_matches(tid, tenant.as_deref())
    })
}

/// The templated issuer of tenant-independent metadata (ENTRA-13): v2
/// `{instance}/{tenantid}/v2.0`, v1 `https://{sts host}/{tenantid}/`.
fn template_rule(version: u8, instance: String) -> IssuerRule {
    let v2 = v2_template(&instance);
    let check = move |issuer: &str| {
        let ok = if version == 2 {
            issuer == v2
        } else {
            issuer.ends_with("/{tenantid}/")
                && v1_host(&issuer[..issuer.len() - "{tenantid}/".len()]).is_ok()
        };
        if ok {
            Ok(())
        } else {
            Err("tenant-independent metadata names a templated issuer ({tenantid})".to_owned())
        }
    };
    // A token's `iss` could match the template if it has its shape with a tenant id.
    let could_name = move |iss: &str| {
        if version == 2 {
            iss.strip_prefix(instance.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.strip_suffix("/v2.0"))
                .is_some_and(is_guid)
        } else {
            iss.strip_suffix('/')
                .and_then(|rest| rest.rsplit_once('/'))
                .is_some_and(|(host, tid)| is_guid(tid) && v1_host(&format!("{host}/")).is_ok())
        }
    };
    IssuerRule {
        check: Arc::new(check),
        could_name: Arc::new(could_name),
    }
}

/// The templated v2 issuer of tenant-independent metadata, `{instance}/{tenantid}/v2.0`.
fn v2_template(instance: &str) -> String {
    format!("{instance}/{{tenantid}}/v2.0")
}

/// `https://{host}/` (or `http` on loopback), in normal form.
fn v1_host(prefix: &str) -> Result<(), String> {
    let url = Url::parse(prefix).map_err(|_| "a v1 issuer is a URL".to_owned())?;
    let loopback = url.host_str().is_some_and(|host| {
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err("a v1 issuer is an https URL".to_owned());
    }
    if url.as_str() != prefix || url.path() != "/" {
        return Err("a v1 issuer is https://{host}/{tenant id}/".to_owned());
    }
    Ok(())
}

fn tenant_matches(tid: &str, configured: Option<&str>) -> Result<(), String> {
    if !is_guid(tid) {
        return Err("the issuer's tenant segment is not a tenant id".to_owned());
    }
    match configured {
        Some(configured) if configured != tid => {
            Err(format!("the issuer names another tenant than {configured}"))
        }
        _ => Ok(()),
    }
}
