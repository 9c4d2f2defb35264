//! Entry points for the fuzz targets in `fuzz/` into the preset's key rules, beside the
//! core's (`tokengate::fuzzing`). Compiled only under `--cfg fuzzing`.

use super::rules::{self, EntraRules};
use crate::fuzzing::LoadedKeys;
use crate::keys::RulesAt;

/// Loads a JWK Set (every algorithm allowed) under the preset's key rules, as its issuers load
/// key sets named by metadata of the cloud instance `cloud` (if any): each key's `issuer`
/// member is its tag (`LoadedKeys::tag`).
///
/// # Errors
///
/// Why the document is not a JWK Set.
pub fn load_jwks(json: &str, max_keys: usize, cloud: Option<&str>) -> Result<LoadedKeys, String> {
    let rules = EntraRules {
        require_scope_or_role: true,
        any_tenant: true,
        tenant_metadata: None,
        v2_issuer: None,
    };
    let at = RulesAt {
        rules: Some(&rules),
        context: cloud,
    };
    LoadedKeys::load(json, max_keys, at)
}

/// ENTRA-17 step 3: whether a key whose `issuer` member is `issuer` may sign a token with this
/// `iss` and `tid`.
pub fn issuer_accepts(issuer: &str, iss: &str, tid: Option<&str>) -> bool {
    rules::issuer_accepts(issuer, iss, tid)
}
