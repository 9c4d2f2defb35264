//! The provider presets, each with tokens shaped as the provider documents them (claims,
//! headers, `typ`), signed by the test issuer and served to the preset through
//! `Issuers::with_test_keys`: every preset rule runs as configured, at the provider's real
//! issuer string. Accept and refuse cases per preset, and role, permission and client-id
//! requirements through `RequireLayer`.

mod auth0;
mod cognito;
mod google;
mod keycloak;
mod okta;
mod support;
