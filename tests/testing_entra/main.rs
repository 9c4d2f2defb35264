//! `TestEntra`, the loopback stand-in for Microsoft Entra ID (feature `testing`): its documents
//! mirror the real ones in tests/entra-real, and its tokens verify against its keys.

mod documents;
mod keys;
mod lifetime;
mod tokens;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use tokengate::testing::TestEntra;
use tokengate::{Algorithm, Gate, IssuerProfile, KeyCacheSettings};

/// More than the one-second cooldown of the gates below.
const PAST_COOLDOWN: Duration = Duration::from_millis(1150);

/// A client that never goes through a proxy, even if the environment names one.
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get_ok(url: &str) -> Value {
    let (status, body) = get(url).await;
    assert_eq!(status, 200, "{url}");
    body
}

fn segment(token: &str, index: usize) -> Value {
    let text = token.split('.').nth(index).expect("three segments");
    let bytes = base64_simd::URL_SAFE_NO_PAD.decode_to_vec(text).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn header(token: &str) -> Value {
    segment(token, 0)
}

fn payload(token: &str) -> Value {
    segment(token, 1)
}

fn names(object: &Value) -> BTreeSet<String> {
    object.as_object().unwrap().keys().cloned().collect()
}

fn kids(key_set: &Value) -> Vec<String> {
    key_set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn gate(profile: IssuerProfile) -> Gate {
    Gate::builder()
        .issuer(profile)
        .key_cache(
            KeyCacheSettings::default()
                .allow_http_loopback()
                .cooldown(Duration::from_secs(1)),
        )
        .build()
        .unwrap()
}

fn v2_gate(entra: &TestEntra, tenant: &str, keys: String) -> Gate {
    gate(
        IssuerProfile::new(entra.v2_issuer(tenant))
            .audience(TestEntra::CLIENT_ID)
            .algorithms([Algorithm::RS256])
            .jwks_uri(keys),
    )
}

fn v1_gate(entra: &TestEntra, tenant: &str, keys: String) -> Gate {
    gate(
        IssuerProfile::new(entra.v1_issuer(tenant))
            .audience(format!("api://{}", TestEntra::CLIENT_ID))
            .algorithms([Algorithm::RS256])
            .jwks_uri(keys),
    )
}

async fn code(gate: &Gate, token: &str) -> &'static str {
    match gate.validate(token).await {
        Ok(_) => "accepted",
        Err(rejection) => rejection.code(),
    }
}
