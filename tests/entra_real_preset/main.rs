//! Real Microsoft-signed Entra ID tokens through the Entra preset ([`EntraApi`]), with the real
//! instance `https://login.microsoftonline.com` (issue 5, item 9: "through the Entra preset
//! wherever the preset applies"). `tests/entra_real/` validates the same tokens with plain
//! issuer profiles; here the gate learns each issuer from tenant metadata and fetches the key
//! set that metadata names, exactly as it would against Entra.
//!
//! Entra is played by an HTTPS server on 127.0.0.1 ([`EntraHost`]) with a certificate for
//! `login.microsoftonline.com` (and `login.microsoftonline.us`, `sts.windows.net`) from a test
//! CA. The gate's HTTP client resolves those hosts to the loopback server and trusts only that
//! CA, so nothing leaves the machine. The server answers:
//!
//! * `/{tid}/v2.0/.well-known/openid-configuration`: the real `common` v2 document (D06, the
//!   newest v2 snapshot) and `/{tid}/.well-known/openid-configuration`: the real `common` v1
//!   document (D02, the newest v1 snapshot), each made tenant-specific as Entra's
//!   tenant documents are: `{tenantid}` replaced by the tenant in the path, and `common` in
//!   the endpoint URLs too, so `jwks_uri` is `https://login.microsoftonline.com/{tid}/discovery/v2.0/keys`
//!   (v2) or `.../{tid}/discovery/keys` (v1);
//! * `/common/v2.0/.well-known/openid-configuration` and `/common/.well-known/openid-configuration`:
//!   the same two documents verbatim, with their templated issuers (Global host only);
//! * those key paths: the real key file that verifies that tenant's token, verbatim
//!   (K01 for T17, K14 for T20, K02 for T18, K06 for T04 and T05; Entra serves the same
//!   signing keys at its v1 and v2 key paths). T13's key file, K08, is a .NET fixture that
//!   cannot be loaded verbatim (see `key_hygiene_k08_verbatim_is_refused` in
//!   `tests/entra_real/key_hygiene.rs`), so its two keys are served as Entra publishes keys
//!   (no `alg`, no `key_ops`, base64url moduli). `common`'s key paths serve a set derived from
//!   K02 (see `entra_17_t18_v1_any_tenant_checks_the_v2_key_issuer`).
//!
//! Every token expired years ago: each is validated with `Gate::validate_at` at the midpoint
//! of its own lifetime (at least 30 minutes from either end, so the preset's 300 s leeway is
//! never what lets a token through). Tests are named after the ENTRA-* (and ATK-*) ids of the
//! requirements checklist they prove.

mod access_tokens;
mod entra_host;
mod fixtures;
mod harness;
mod id_tokens;
mod support;
mod tenants_and_clouds;
