//! `--preset NAME`: a provider preset from the issuer URL and audiences given on the command
//! line. Each preset wants its own parameters (a realm, a domain, a tenant); they are read from
//! the issuer URL the provider publishes, so the command line stays the same for every one.

use tokengate::Issuers;
use tokengate::providers::auth0::Auth0;
use tokengate::providers::cognito::Cognito;
use tokengate::providers::entra::EntraApi;
use tokengate::providers::google::{FirebaseIdTokens, GoogleIdTokens};
use tokengate::providers::keycloak::Keycloak;
use tokengate::providers::okta::Okta;

use crate::fail::Failure;

/// The preset names, for messages.
pub const NAMES: &str = "entra, keycloak, auth0, okta, cognito, google, firebase";

/// The issuer's URL without `https://` and any trailing slash.
fn host_path(issuer: &str) -> Result<&str, Failure> {
    issuer
        .strip_prefix("https://")
        .map(|rest| rest.trim_end_matches('/'))
        .ok_or_else(|| Failure::undecided("a preset's --issuer starts with https://"))
}

fn shape(preset: &str, expected: &str) -> Failure {
    Failure::undecided(format!(
        "--preset {preset} wants --issuer shaped like {expected}"
    ))
}

/// The preset `name` for this issuer and these audiences.
pub fn preset(name: &str, issuer: &str, audiences: &[String]) -> Result<Issuers, Failure> {
    let first = audiences.first().cloned().unwrap_or_default();
    let path = host_path(issuer)?;
    let issuers: Issuers = match name.to_ascii_lowercase().as_str() {
        "entra" => {
            // login.microsoftonline.com/{tenant}/v2.0 or sts.windows.net/{tenant}
            let mut parts = path.split('/');
            let tenant = parts
                .nth(1)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| shape(name, "https://login.microsoftonline.com/{tenant}/v2.0"))?;
            EntraApi::single_tenant(tenant, first).into()
        }
        "keycloak" => {
            let (base, realm) = path
                .split_once("/realms/")
                .ok_or_else(|| shape(name, "https://sso.example.com/realms/{realm}"))?;
            audiences
                .iter()
                .fold(Keycloak::new(format!("https://{base}"), realm), |k, a| {
                    k.audience(a)
                })
                .into()
        }
        "auth0" => audiences
            .iter()
            .fold(Auth0::new(path), |preset, a| preset.audience(a))
            .into(),
        "okta" => {
            let (domain, server) = path
                .split_once("/oauth2/")
                .ok_or_else(|| shape(name, "https://example.okta.com/oauth2/{server}"))?;
            audiences
                .iter()
                .fold(Okta::new(domain, server), |preset, a| preset.audience(a))
                .into()
        }
        "cognito" => {
            let (host, pool) = path
                .split_once('/')
                .ok_or_else(|| shape(name, "https://cognito-idp.{region}.amazonaws.com/{pool}"))?;
            let region = host
                .strip_prefix("cognito-idp.")
                .and_then(|rest| rest.strip_suffix(".amazonaws.com"))
                .ok_or_else(|| shape(name, "https://cognito-idp.{region}.amazonaws.com/{pool}"))?;
            audiences
                .iter()
                .fold(Cognito::new(region, pool), |preset, a| preset.client_id(a))
                .into()
        }
        "google" => audiences
            .iter()
            .skip(1)
            .fold(GoogleIdTokens::new(first), |preset, a| preset.audience(a))
            .into(),
        "firebase" => {
            let project = path
                .strip_prefix("securetoken.google.com/")
                .ok_or_else(|| shape(name, "https://securetoken.google.com/{project}"))?;
            FirebaseIdTokens::new(project).into()
        }
        _ => {
            return Err(Failure::undecided(format!(
                "unknown preset {name:?}: use one of {NAMES}, or none for any standard issuer"
            )));
        }
    };
    Ok(issuers)
}

#[cfg(test)]
mod tests {
    use tokengate::Gate;

    use super::*;

    /// Every preset builds a gate from its provider's issuer URL (no network at build time).
    #[test]
    fn every_preset_builds_from_its_issuer_url() {
        let cases = [
            (
                "entra",
                "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0",
                "6e74172b-be56-4843-9ff4-e66a39bb12e3",
            ),
            ("keycloak", "https://sso.example.com/realms/shop", "orders"),
            (
                "auth0",
                "https://example.eu.auth0.com/",
                "https://api.example.com",
            ),
            (
                "okta",
                "https://example.okta.com/oauth2/default",
                "api://orders",
            ),
            (
                "cognito",
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
                "3n4b5urk1ft4fl3mg5e62d9ado",
            ),
            (
                "google",
                "https://accounts.google.com",
                "https://orders.example.com",
            ),
            (
                "firebase",
                "https://securetoken.google.com/my-shop",
                "my-shop",
            ),
        ];
        for (name, issuer, audience) in cases {
            let issuers = preset(name, issuer, &[audience.to_owned()])
                .unwrap_or_else(|f| panic!("{name}: {}", f.message));
            if let Err(error) = Gate::builder().issuer(issuers).build() {
                panic!("{name}: {error}");
            }
        }
    }

    #[test]
    fn wrong_shapes_say_what_is_expected() {
        let failure = preset("keycloak", "https://sso.example.com/shop", &[]).err();
        assert!(failure.is_some_and(|f| f.message.contains("/realms/")));
        let failure = preset("nope", "https://x.example", &[]).err();
        assert!(failure.is_some_and(|f| f.message.contains("keycloak")));
        assert!(preset("okta", "http://x.example/oauth2/default", &[]).is_err());
    }
}
