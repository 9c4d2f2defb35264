//! Entra's issuers: which metadata names them, and the rules the issuer a document names must
//! meet (v1 and v2, per tenant, or templated for any tenant).

use std::sync::Arc;

use url::Url;

use super::TokenVersion;
use super::rules::TenantMetadata;
use crate::keys::IssuerRule;

/// The tenant of personal Microsoft accounts (ENTRA-11).
pub(crate) const CONSUMERS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// A GUID as Entra writes tenant ids: lowercase hex in 8-4-4-4-12 groups.
pub(crate) fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Where one tenant's own keys are, for any-tenant APIs: its own metadata, whose issuer must
/// be that tenant's (ENTRA-21).
pub(super) fn tenant_metadata(version: TokenVersion, instance: &str) -> TenantMetadata {
    let instance = instance.to_owned();
    TenantMetadata(Arc::new(move |tid: &str| {
        // Personal accounts are refused in this mode anyway: no admission is spent on them.
        if !is_guid(tid) || tid == CONSUMERS_TENANT {
            return None;
        }
        let (url, rule) = if version == TokenVersion::V2 {
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
pub(super) fn v2_rule(instance: String, tenant: Option<String>) -> IssuerRule {
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
pub(super) fn v1_rule(tenant: Option<String>) -> IssuerRule {
    exact_rule(move |issuer: &str| {
        let url = Url::parse(issuer).map_err(|_| "a v1 issuer is a URL".to_owned())?;
        https_or_loopback(&url)?;
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
pub(super) fn template_rule(version: TokenVersion, instance: String) -> IssuerRule {
    let v2 = v2_template(&instance);
    let check = move |issuer: &str| {
        let ok = if version == TokenVersion::V2 {
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
        if version == TokenVersion::V2 {
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
pub(super) fn v2_template(instance: &str) -> String {
    format!("{instance}/{{tenantid}}/v2.0")
}

/// An https URL, or http to a loopback host (a test authority).
fn https_or_loopback(url: &Url) -> Result<(), String> {
    let loopback = url.host_str().is_some_and(|host| {
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err("a v1 issuer is an https URL".to_owned());
    }
    Ok(())
}

/// `https://{host}/` (or `http` on loopback), in normal form.
fn v1_host(prefix: &str) -> Result<(), String> {
    let url = Url::parse(prefix).map_err(|_| "a v1 issuer is a URL".to_owned())?;
    https_or_loopback(&url)?;
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
