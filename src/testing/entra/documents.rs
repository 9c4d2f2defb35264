//! The documents the instance serves: OpenID Connect metadata, key sets, and errors shaped
//! like Entra's.

use serde_json::{Value, json};

use super::keys::Scope;
use super::tenants::random_guid;
use super::{Shared, Tenant, TokenVersion, cert, token};

/// Now as Entra writes it in errors: `2024-06-18 14:08:00Z`.
fn utc_timestamp() -> String {
    let now = token::now();
    let (year, month, day) = cert::civil_from_days(now.div_euclid(86_400));
    let secs = now.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A JSON error shaped like Entra's (`error`, `error_description` with an AADSTS code,
/// `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`).
pub(super) fn aadsts_error(instance: &str, error: &str, code: u32, description: &str) -> String {
    let trace_id = random_guid();
    let correlation_id = random_guid();
    let timestamp = utc_timestamp();
    json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("{instance}/error?code={code}"),
    })
    .to_string()
}

impl Shared {
    /// A metadata document.
    pub(super) fn metadata(
        &self,
        version: TokenVersion,
        tenant: &Tenant,
        appid: Option<&str>,
    ) -> String {
        let base = format!("{}/{}", self.instance, tenant.segment());
        let issuer = self.metadata_issuer(version, tenant);
        let query = appid.map_or_else(String::new, |app| {
            let app: String = url::form_urlencoded::byte_serialize(app.as_bytes()).collect();
            format!("?appid={app}")
        });
        // Entra's tenant-specific documents name a region; the multi-tenant ones have null.
        let region = match tenant {
            Tenant::Id(_) => json!("EU"),
            _ => Value::Null,
        };
        let auth_methods = [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ];
        match version {
            TokenVersion::V2 => json!({
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "token_endpoint_auth_methods_supported": auth_methods,
                "jwks_uri": format!("{base}/discovery/v2.0/keys{query}"),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": issuer,
                "request_uri_parameter_supported": false,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
                "http_logout_supported": true,
                "frontchannel_logout_supported": true,
                "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
                "claims_supported": [
                    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                    "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time",
                    "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
                    "c_hash", "email"
                ],
                "kerberos_endpoint": format!("{base}/kerberos"),
                "tenant_region_scope": region,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }),
            TokenVersion::V1 => json!({
                "token_endpoint": format!("{base}/oauth2/token"),
                "token_endpoint_auth_methods_supported": auth_methods,
                "jwks_uri": format!("{base}/discovery/keys{query}"),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported":
                    ["code", "id_token", "code id_token", "token id_token", "token"],
                "scopes_supported": ["openid"],
                "issuer": issuer,
                "microsoft_multi_refresh_token": true,
                "authorization_endpoint": format!("{base}/oauth2/authorize"),
                "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
                "http_logout_supported": true,
                "frontchannel_logout_supported": true,
                "end_session_endpoint": format!("{base}/oauth2/logout"),
                "claims_supported": [
                    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                    "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time",
                    "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"
                ],
                "check_session_iframe": format!("{base}/oauth2/checksession"),
                "userinfo_endpoint": format!("{base}/openid/userinfo"),
                "kerberos_endpoint": format!("{base}/kerberos"),
                "tenant_region_scope": region,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }),
        }
        .to_string()
    }

    /// A key set: the shared keys, the tenant's keys and, with `appid`, that application's.
    pub(super) fn key_set(
        &self,
        version: TokenVersion,
        tenant: &Tenant,
        appid: Option<&str>,
    ) -> String {
        let default_issuer = self.metadata_issuer(TokenVersion::V2, tenant);
        let keys = self.lock_keys();
        let jwks: Vec<Value> = keys
            .iter()
            .filter(|e| e.published)
            .filter_map(|e| {
                let issuer = match &e.scope {
                    Scope::Shared | Scope::Cloud(_) => default_issuer.clone(),
                    Scope::App(app) if Some(app.as_str()) == appid => default_issuer.clone(),
                    Scope::App(_) => return None,
                    // Like the personal-account keys in Entra's `common` key set: served there
                    // too, with their own tenant's literal issuer.
                    Scope::Tenant(owner)
                        if tenant.id() == Some(owner.as_str()) || *tenant == Tenant::Common =>
                    {
                        self.v2_issuer(owner)
                    }
                    Scope::TenantOnly(owner) if tenant.id() == Some(owner.as_str()) => {
                        self.v2_issuer(owner)
                    }
                    Scope::Tenant(_) | Scope::TenantOnly(_) => return None,
                };
                let issuer = (version == TokenVersion::V2).then_some(issuer);
                Some(e.jwk(issuer.as_deref()))
            })
            .collect();
        json!({ "keys": jwks }).to_string()
    }
}
