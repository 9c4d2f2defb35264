//! The gates under test: Glewlwyd found by discovery, keys over plain http from loopback.

use tokengate::{Gate, IssuerProfile, KeyCacheSettings};

use super::provider::{Glewlwyd, ORDERS};

/// The default key cache settings, but for plain http to loopback, which Glewlwyd's test
/// instances speak (`allow_http_loopback`).
pub(crate) fn loopback_keys() -> KeyCacheSettings {
    KeyCacheSettings::default().allow_http_loopback()
}

/// Glewlwyd, found by discovery under its issuer (which has a path), for the orders API.
pub(crate) fn profile(glewlwyd: &Glewlwyd) -> IssuerProfile {
    IssuerProfile::new(&glewlwyd.issuer)
        .audience(ORDERS)
        .discover()
}

pub(crate) fn gate(profile: IssuerProfile, keys: KeyCacheSettings) -> Gate {
    Gate::builder()
        .issuer(profile)
        .key_cache(keys)
        .build()
        .expect("valid gate")
}
