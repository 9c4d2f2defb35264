//! What Entra adds to the standard pipeline, through the provider seam: templated issuers,
//! key issuer and cloud instance members, tenant rules, the no-scope-no-role rule, tenant key
//! stores and diagnostics.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use super::issuers::{CONSUMERS_TENANT, is_guid};
use crate::claims::RawClaims;
use crate::diagnostic::hint;
use crate::error::Rejection;
use crate::json::{Object, OneOrMany};
use crate::keys::{IssuerRule, KeyRules, Remote, VerifyingKey, quoted};
use crate::provider::ProviderRules;

/// Microsoft Graph's and Azure AD Graph's audiences (ENTRA-25).
const GRAPH_AUDIENCES: [&str; 6] = [
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
    "https://graph.windows.net",
    "https://graph.windows.net/",
    "00000002-0000-0000-c000-000000000000",
];

/// The rules of one Entra issuer (a tenant and token version, or any tenant of a version).
/// Configuration only: the tenants' own key stores belong to the issuer's key store, so each
/// gate has its own and they never outlive it.
#[derive(Clone, Debug)]
pub(crate) struct EntraRules {
    /// Tokens with neither `scp` nor `roles` are refused (ENTRA-27) unless this is false.
    pub(super) require_scope_or_role: bool,
    /// Any work or school tenant is accepted, so the personal-account tenant is refused.
    pub(super) any_tenant: bool,
    /// With `any_tenant`: where one tenant's own keys are.
    pub(super) tenant_metadata: Option<TenantMetadata>,
    /// For v1 tokens verified with v2 keys (any tenant): the v2 metadata's templated issuer,
    /// `{instance}/{tenantid}/v2.0`. See [`key_may_sign`](ProviderRules::key_may_sign).
    pub(super) v2_issuer: Option<String>,
}

/// The metadata URL of one tenant and the rule its issuer must meet; `None` for a string that
/// is not a tenant id.
#[derive(Clone)]
pub(crate) struct TenantMetadata(pub Arc<TenantLocator>);

/// Maps a tenant id to its metadata URL and issuer rule.
pub(crate) type TenantLocator = dyn Fn(&str) -> Option<(Url, IssuerRule)> + Send + Sync;

impl fmt::Debug for TenantMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantMetadata")
    }
}

/// What the key rules read of a JWK.
#[derive(Deserialize)]
struct EntraJwk {
    /// Entra's key issuer, possibly with `{tenantid}` (ENTRA-17).
    issuer: Option<String>,
    /// Any JSON type: judged only where the metadata names a cloud instance (ENTRA-40).
    cloud_instance_name: Option<serde_json::Value>,
}

impl KeyRules for EntraRules {
    /// The metadata's `cloud_instance_name`: only a string that is not blank names a cloud
    /// instance, as IdentityModel reads it. A document that names it twice is refused, not read
    /// as naming none (which would load keys of any cloud).
    fn key_context(&self, metadata: &str) -> Result<Option<Box<str>>, String> {
        #[derive(Deserialize)]
        struct Metadata {
            cloud_instance_name: Option<serde_json::Value>,
        }
        let Object(metadata): Object<Metadata> = serde_json::from_str(metadata)
            .map_err(|_| "cloud_instance_name is given twice, or the document is not an object")?;
        let name = metadata.cloud_instance_name;
        let name = name.as_ref().and_then(serde_json::Value::as_str);
        Ok(name.filter(|name| !name.trim().is_empty()).map(Box::from))
    }

    /// Keeps the key's `issuer` member, and skips a key naming another cloud instance than
    /// the metadata's.
    fn key_tag(&self, jwk: &str, context: Option<&str>) -> Result<Option<Box<str>>, String> {
        let Object(members): Object<EntraJwk> =
            serde_json::from_str(jwk).map_err(|_| "issuer is not a string".to_owned())?;
        if let Some(expected) = context {
            check_cloud_instance(members.cloud_instance_name.as_ref(), expected)?;
        }
        Ok(members.issuer.map(String::into_boxed_str))
    }
}

impl ProviderRules for EntraRules {
    /// The learned issuer exactly, or for the tenant-independent metadata
    /// (`https://login.microsoftonline.com/{tenantid}/v2.0`), with a tenant id in place of
    /// `{tenantid}` (ENTRA-13; `tid` is checked against it after the signature).
    fn matches_learned(&self, learned: &str, iss: &str) -> bool {
        match learned.split_once("{tenantid}") {
            None => learned == iss,
            Some((prefix, suffix)) => iss
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
                .is_some_and(is_guid),
        }
    }

    /// ENTRA-17 step 3: the key's own `issuer`, with `tid` for `{tenantid}`, must be `iss`,
    /// or with [`v2_issuer`](EntraRules::v2_issuer), the v2 issuer of the same tenant: v2
    /// keys never name a v1 issuer, so this is how a key that only another tenant uses (the
    /// personal-account tenant's, say) is kept from signing a v1 token, as IdentityModel's
    /// `ValidateIssuerSigningKey` does. Without `tid`, a key that names an issuer signs
    /// nothing.
    fn key_may_sign(&self, key: &VerifyingKey, claims: &RawClaims<'_>) -> bool {
        let iss = claims.iss.as_deref().unwrap_or_default();
        let tid = claims.tid.as_deref();
        let Some(issuer) = key.tag() else {
            return true;
        };
        if issuer_accepts(issuer, iss, tid) {
            return true;
        }
        match (&self.v2_issuer, tid) {
            (Some(template), Some(tid)) => {
                let v2 = template.replacen("{tenantid}", tid, 1);
                issuer_accepts(issuer, &v2, Some(tid))
            }
            _ => false,
        }
    }

    fn check_claims(&self, claims: &RawClaims<'_>) -> Result<(), Rejection> {
        // Entra writes `scp` as one space-separated string (ENTRA-26, ATK-35).
        if matches!(claims.scp, Some(OneOrMany::Many(_))) {
            return Err(Rejection::MalformedClaims);
        }
        // Entra access tokens name their client in `appid` (v1) or `azp` (v2); its ID tokens
        // never do, also those without a `nonce` (authorization-code and hybrid flows).
        if claims.appid.is_none() && claims.azp.is_none() {
            return Err(Rejection::NotAnAccessToken);
        }
        check_tenant(claims)?;
        if self.any_tenant && claims.tid.as_deref() == Some(CONSUMERS_TENANT) {
            return Err(Rejection::TenantNotAccepted);
        }
        // ENTRA-27: Entra issues app-only tokens without roles to any client that asks, so
        // a token that grants nothing is refused (403), unless the API authorizes by ACL.
        if self.require_scope_or_role && !grants_something(claims) {
            return Err(Rejection::NoScopeOrRole);
        }
        Ok(())
    }

    /// For an API that accepts any tenant, the token's tenant's own keys (ENTRA-21): Microsoft
    /// advises fetching keys per tenant, since a key common to all tenants today may become
    /// specific to one.
    fn fallback_keys(
        &self,
        claims: &RawClaims<'_>,
        parent: &Arc<Remote>,
        admit: bool,
    ) -> Option<Arc<Remote>> {
        let metadata = self.tenant_metadata.as_ref()?;
        let tenant = claims.tid.as_deref()?;
        parent.sibling_store(tenant, "a tenant's own keys", admit, || {
            (metadata.0)(tenant)
        })
    }

    /// What developers get wrong most with Entra, as a rate-limited WARN without token
    /// content: a Microsoft Graph or Azure AD Graph token sent to the API (ENTRA-25), an ID
    /// token sent as an access token, personal accounts at an any-tenant API.
    fn explain(&self, rejection: &Rejection, claims: &RawClaims<'_>) {
        match rejection {
            Rejection::InvalidAudience => {
                let graph = |value: &str| GRAPH_AUDIENCES.contains(&value);
                let for_graph = match &claims.aud {
                    Some(OneOrMany::One(value)) => graph(value),
                    Some(OneOrMany::Many(values)) => values.iter().any(|v| graph(v)),
                    None => false,
                };
                if for_graph {
                    hint!(
                        "an access token issued for Microsoft Graph or Azure AD Graph was sent to \
                         this API: the client must request a token for this API's scope \
                         (api://{{client id}}/.default or one of its scopes), not for Graph"
                    );
                }
            }
            Rejection::NotAnAccessToken if claims.appid.is_none() && claims.azp.is_none() => {
                hint!(
                    "an Entra ID token (no appid or azp) was sent as an access token: the \
                     client must send the access token it requested for this API's scope"
                );
            }
            Rejection::TenantNotAccepted => {
                hint!(
                    "a personal Microsoft account's token was refused: an API that accepts any \
                     tenant accepts work and school accounts only; personal accounts need \
                     EntraApi::personal_accounts"
                );
            }
            _ => {}
        }
    }
}

/// ENTRA-17 step 3: whether a key whose `issuer` member is `issuer` may sign a token with
/// this `iss` and `tid`: a templated one for its issuer with `tid` substituted; a literal one
/// for exactly that issuer.
pub(super) fn issuer_accepts(issuer: &str, iss: &str, tid: Option<&str>) -> bool {
    match issuer.split_once("{tenantid}") {
        Some((prefix, suffix)) => tid.is_some_and(|tid| {
            iss.len() == prefix.len() + tid.len() + suffix.len()
                && iss.starts_with(prefix)
                && iss.ends_with(suffix)
                && &iss[prefix.len()..prefix.len() + tid.len()] == tid
        }),
        None => issuer == iss,
    }
}

/// ENTRA-40: a key that names a cloud instance must name the metadata's, compared exactly
/// (as IdentityModel's `ValidateSigningKeyCloudInstance`). Refused when the key set is
/// loaded, rather than per token: the key then never verifies anything (a token naming it is
/// `unknown_key`, as if it were not published), costs nothing per token, and is reported once
/// per fetch, by `kid`, in the bounded "keys skipped" warning. Unlike IdentityModel, an empty
/// or non-string value refuses the key too: it names no instance that can be shown to be the
/// metadata's. `null` counts as absent.
fn check_cloud_instance(named: Option<&serde_json::Value>, expected: &str) -> Result<(), String> {
    match named {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(serde_json::Value::String(name)) if name == expected => Ok(()),
        Some(serde_json::Value::String(name)) => Err(format!(
            "cloud_instance_name {} is not the metadata's {}",
            quoted(name),
            quoted(expected)
        )),
        Some(_) => Err("cloud_instance_name is not a string".into()),
    }
}

/// ENTRA-17: `tid` once (no `TID` beside it), a GUID, and the tenant segment of `iss`.
fn check_tenant(claims: &RawClaims<'_>) -> Result<(), Rejection> {
    let tid = claims.tid.as_deref().ok_or(Rejection::InvalidTenant)?;
    let case_variant = claims
        .others
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("tid"));
    let segment = claims.iss.as_deref().and_then(tenant_segment);
    if case_variant || !is_guid(tid) || segment != Some(tid) {
        return Err(Rejection::InvalidTenant);
    }
    Ok(())
}

/// The first path segment of an issuer URL: where Entra puts the tenant, in v1
/// (`https://sts.windows.net/{tid}/`) and v2 (`https://login.microsoftonline.com/{tid}/v2.0`).
fn tenant_segment(iss: &str) -> Option<&str> {
    let after_scheme = &iss[iss.find("://")? + 3..];
    let path = &after_scheme[after_scheme.find('/')? + 1..];
    path.split('/').next()
}

/// Whether the token carries a scope or a role.
fn grants_something(claims: &RawClaims<'_>) -> bool {
    let any = |value: &OneOrMany<'_>| match value {
        OneOrMany::One(text) => text.split(' ').any(|s| !s.is_empty()),
        OneOrMany::Many(items) => items.iter().any(|s| !s.is_empty()),
    };
    claims.scp.as_ref().is_some_and(any)
        || claims.scope.as_ref().is_some_and(any)
        || claims
            .roles
            .as_ref()
            .is_some_and(|roles| roles.iter().any(|r| !r.is_empty()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::Algorithm;
    use crate::keys::{RulesAt, parse_jwk, parse_jwks};
    use crate::test_fixtures::{b64, rs256};

    fn rules(v2_issuer: Option<String>) -> EntraRules {
        EntraRules {
            require_scope_or_role: true,
            any_tenant: true,
            tenant_metadata: None,
            v2_issuer,
        }
    }

    /// An RS256 key whose JWK has this `issuer` member, if any, loaded under Entra's rules.
    fn key(issuer: Option<&str>) -> VerifyingKey {
        let mut jwk = rs256().jwk();
        if let Some(issuer) = issuer {
            jwk["issuer"] = json!(issuer);
        }
        let entra = rules(None);
        let at = RulesAt {
            rules: Some(&entra),
            context: None,
        };
        parse_jwk(&jwk.to_string(), &[Algorithm::RS256], at).unwrap()
    }

    /// ENTRA-17 step 3 for v1 tokens under v2 keys: a key's issuer, with the token's `tid`,
    /// must be the token's `iss` or, where the rules name one, the v2 issuer of that `tid`.
    #[test]
    fn key_may_sign_v1_tokens_as_the_v2_issuer_of_their_tenant() {
        const ORG: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        const MSA: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
        let login = "https://login.microsoftonline.com";
        let v1_iss = format!("https://sts.windows.net/{ORG}/");
        let v2_iss = format!("{login}/{ORG}/v2.0");
        let templated = key(Some(&format!("{login}/{{tenantid}}/v2.0")));
        let own = key(Some(&v2_iss));
        let msa = key(Some(&format!("{login}/{MSA}/v2.0")));
        let bare = key(None);
        let plain = rules(None);
        let v1_under_v2 = rules(Some(format!("{login}/{{tenantid}}/v2.0")));
        let may_sign = |rules: &EntraRules, key: &VerifyingKey, iss: &str, tid: Option<&str>| {
            let mut claims = json!({ "iss": iss });
            if let Some(tid) = tid {
                claims["tid"] = json!(tid);
            }
            let text = claims.to_string();
            let raw = RawClaims::parse(&text).unwrap();
            rules.key_may_sign(key, &raw)
        };
        let tid = Some(ORG);
        // v2 tokens: the key's own issuer decides, with or without the v2 rule.
        for rules in [&plain, &v1_under_v2] {
            assert!(may_sign(rules, &templated, &v2_iss, tid));
            assert!(may_sign(rules, &own, &v2_iss, tid));
            assert!(!may_sign(rules, &msa, &v2_iss, tid));
            assert!(may_sign(rules, &bare, &v2_iss, tid));
        }
        // v1 tokens: no v2 key names a v1 issuer; only the v2 rule lets a tenant's keys sign.
        assert!(!may_sign(&plain, &templated, &v1_iss, tid));
        assert!(may_sign(&v1_under_v2, &templated, &v1_iss, tid));
        assert!(may_sign(&v1_under_v2, &own, &v1_iss, tid));
        assert!(!may_sign(&v1_under_v2, &msa, &v1_iss, tid));
        assert!(may_sign(&v1_under_v2, &bare, &v1_iss, tid));
        // Another tenant's literal key, or no `tid` to fill a template with: refused.
        let other = Some("11111111-2222-4333-8444-555555555555");
        assert!(!may_sign(&v1_under_v2, &own, &v1_iss, other));
        assert!(!may_sign(&v1_under_v2, &templated, &v1_iss, None));
        assert!(!may_sign(&v1_under_v2, &own, &v1_iss, None));
    }

    /// ENTRA-40: where the metadata names a cloud instance, a key that names another (compared
    /// exactly), or names one in any other form, is skipped, with a reason that names the key
    /// by `kid` and no key material; a key without the member, or `null`, loads. Without a
    /// cloud instance to compare with, the member is not read, and standard issuers never
    /// read it.
    #[test]
    fn keys_of_another_cloud_instance_are_skipped() {
        let jwk = |cloud: Option<Value>| {
            let mut jwk = rs256().jwk_without_alg();
            jwk["kid"] = json!("k");
            if let Some(cloud) = cloud {
                jwk["cloud_instance_name"] = cloud;
            }
            json!({ "keys": [jwk] }).to_string()
        };
        let rs = [Algorithm::RS256];
        let entra = rules(None);
        let under = |context: Option<&'static str>| RulesAt {
            rules: Some(&entra),
            context,
        };
        let cloud = Some("microsoftonline.com");
        for loads in [None, Some(json!(null)), Some(json!("microsoftonline.com"))] {
            let (keys, problems) = parse_jwks(&jwk(loads.clone()), &rs, 10, under(cloud)).unwrap();
            assert_eq!((keys.len(), problems.len()), (1, 0), "{loads:?}");
        }
        let (n, _) = rs256().rsa_modulus_exponent();
        for skipped in [
            json!("microsoftonline.us"),
            json!("MicrosoftOnline.com"),
            json!("microsoftonline.com "),
            json!(""),
            json!(["microsoftonline.com"]),
            json!(1),
        ] {
            let (keys, problems) =
                parse_jwks(&jwk(Some(skipped.clone())), &rs, 10, under(cloud)).unwrap();
            assert!(keys.is_empty(), "{skipped}");
            let problem = problems[0].to_string();
            assert!(
                problem.starts_with("key \"k\": cloud_instance_name"),
                "{problem}"
            );
            assert!(!problem.contains(&b64(&n)[..16]), "{problem}");
            // Not checked where no metadata names a cloud instance.
            let (keys, _) = parse_jwks(&jwk(Some(skipped.clone())), &rs, 10, under(None)).unwrap();
            assert_eq!(keys.len(), 1, "{skipped}");
            let standard = RulesAt::default();
            let (keys, _) = parse_jwks(&jwk(Some(skipped)), &rs, 10, standard).unwrap();
            assert_eq!(keys.len(), 1);
        }
        // A long name is cut short in the reason.
        let long = "x".repeat(500);
        let (_, problems) = parse_jwks(&jwk(Some(json!(long))), &rs, 10, under(cloud)).unwrap();
        assert!(problems[0].to_string().len() < 200, "{}", problems[0]);
    }

    /// The metadata's `cloud_instance_name` names a cloud only as a string that is not blank;
    /// a document that names one twice is refused rather than read as naming none.
    #[test]
    fn cloud_instance_of_the_metadata() {
        let entra = rules(None);
        let context = |json: &str| entra.key_context(json).map(|c| c.map(String::from));
        assert_eq!(
            context(r#"{"cloud_instance_name":"microsoftonline.com"}"#),
            Ok(Some("microsoftonline.com".to_owned()))
        );
        for none in [
            r#"{"cloud_instance_name":" "}"#,
            r#"{"cloud_instance_name":7}"#,
            r#"{"cloud_instance_name":null}"#,
            r#"{"issuer":"x"}"#,
        ] {
            assert_eq!(context(none), Ok(None), "{none}");
        }
        for refused in [
            r#"{"cloud_instance_name":"microsoftonline.com","cloud_instance_name":"x"}"#,
            r#"{"cloud_instance_name":"microsoftonline.us","cloud_instance_name":"microsoftonline.us"}"#,
            r#"["microsoftonline.com"]"#,
        ] {
            assert!(context(refused).is_err(), "{refused}");
        }
    }

    /// ENTRA-13: a templated learned issuer matches its shape with a lowercase GUID tenant.
    #[test]
    fn templated_issuers_match_tenant_ids_only() {
        let entra = rules(None);
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let ok = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";
        assert!(entra.matches_learned(template, ok));
        assert!(entra.matches_learned(ok, ok));
        for bad in [
            "https://login.microsoftonline.com/72F988BF-86F1-41AF-91AB-2D7CD011DB47/v2.0",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
            "https://login.microsoftonline.com//v2.0",
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/",
        ] {
            assert!(!entra.matches_learned(template, bad), "{bad}");
        }
    }
}
