//! Gates from issuer profiles, outcomes as rejection codes, fixed clocks and changed claims.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokengate::{Gate, IssuerProfile, Rejection};
use tokengate_testkit::{AUDIENCE, ISSUER, TestKey, jwks, ready};

pub(crate) fn issuer(keys: &[&TestKey]) -> IssuerProfile {
    IssuerProfile::new(ISSUER)
        .audience(AUDIENCE)
        .jwks(jwks(keys))
}

pub(crate) fn gate(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .build()
        .expect("valid configuration")
}

pub(crate) fn validate(
    gate: &Gate,
    token: &str,
) -> Result<std::sync::Arc<tokengate::Claims>, Rejection> {
    ready(gate.validate(token))
}

pub(crate) fn code(gate: &Gate, token: &str) -> &'static str {
    match validate(gate, token) {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}

pub(crate) fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds as u64)
}

pub(crate) fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}
