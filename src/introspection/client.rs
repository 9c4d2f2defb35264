//! One call to the introspection endpoint (RFC 7662 §2): the form, the client's
//! authentication, and a strict reading of the answer.

use std::time::Duration;

use reqwest::Url;

use super::assertion::{Signer, assertion};
use super::settings::{ClientAuth, Introspection};
use crate::json::{StrictAny, parse_whole};
use crate::keys::{FetchError, Fetcher};

/// The largest answer read: claims of a token, not a document.
const MAX_ANSWER: usize = 64 * 1024;

/// What the endpoint sent: an answer, or (RFC 9701) a signed JWT holding one, which the gate
/// checks with the issuer's keys.
#[derive(Debug)]
pub(crate) enum Reply {
    Answer(Answer),
    Jwt(String),
}

/// The media type of a JWT answer (RFC 9701 §4).
pub(crate) const JWT_ANSWER: &str = "application/token-introspection+jwt";

/// What the endpoint said about a token.
#[derive(Debug)]
pub(crate) enum Answer {
    /// `active: true`, with the answer's members (a JSON object, strictly parsed).
    Active(serde_json::Map<String, serde_json::Value>),
    /// `active: false`: expired, revoked, unknown, or not for us to know (RFC 7662 §2.2).
    Inactive,
}

/// Why there is no answer. Never a token or a secret in the text.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Unreachable, slow, 5xx, or an answer that is not RFC 7662's.
    Unavailable(String),
    /// Our own credentials were refused (401, 403): a configuration error.
    Refused(u16),
}

/// A compiled configuration: the endpoint's client.
pub(crate) struct Caller {
    pub(crate) settings: Introspection,
    signer: Option<Signer>,
}

impl Caller {
    pub(crate) fn new(settings: Introspection) -> Result<Caller, String> {
        let signer = match &settings.auth {
            ClientAuth::PrivateKeyJwt { key, alg, .. } => Some(Signer::new(key, *alg)?),
            _ => None,
        };
        Ok(Caller { settings, signer })
    }

    /// Asks `endpoint` of `issuer` about `token`.
    pub(crate) async fn call(
        &self,
        fetcher: &Fetcher,
        endpoint: &Url,
        issuer: &str,
        token: &str,
        timeout: Duration,
    ) -> Result<Reply, CallError> {
        let settings = &self.settings;
        let mut form: Vec<(&str, &str)> =
            vec![("token", token), ("token_type_hint", "access_token")];
        let encoded;
        let mut basic = None;
        let client_assertion;
        match &settings.auth {
            ClientAuth::SecretBasic(secret) => {
                // RFC 6749 §2.3.1: both are form-encoded before they go into Basic.
                encoded = (form_encode(&settings.client_id), form_encode(secret));
                basic = Some((encoded.0.as_str(), encoded.1.as_str()));
            }
            ClientAuth::SecretPost(secret) => {
                form.push(("client_id", &settings.client_id));
                form.push(("client_secret", secret));
            }
            ClientAuth::PrivateKeyJwt { alg, kid, .. } => {
                let signer = self.signer.as_ref().ok_or_else(|| {
                    CallError::Unavailable("no signing key for private_key_jwt".into())
                })?;
                client_assertion = assertion(
                    signer,
                    *alg,
                    kid.as_deref(),
                    &settings.client_id,
                    // The issuer identifier alone: an endpoint URL as the audience lets a
                    // server that is not the issuer replay the assertion to it (the 2025
                    // private_key_jwt audience advisories; FAPI 2.0 requires the issuer).
                    issuer,
                )
                .ok_or_else(|| CallError::Unavailable("cannot sign a client assertion".into()))?;
                form.push(("client_id", &settings.client_id));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
                form.push(("client_assertion", &client_assertion));
            }
        }
        let accept = if settings.jwt_answers {
            JWT_ANSWER
        } else {
            "application/json"
        };
        let (status, body) = fetcher
            .post_form(endpoint, accept, &form, basic, timeout, MAX_ANSWER)
            .await
            .map_err(|error| CallError::Unavailable(describe(&error)))?;
        match status {
            200 if settings.jwt_answers => String::from_utf8(body)
                .map(|text| Reply::Jwt(text.trim().to_owned()))
                .map_err(|_| CallError::Unavailable("malformed answer: not UTF-8".into())),
            200 => read(&body).map(Reply::Answer),
            401 | 403 => Err(CallError::Refused(status)),
            other => Err(CallError::Unavailable(format!("HTTP status {other}"))),
        }
    }
}

fn describe(error: &FetchError) -> String {
    error.to_string()
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// RFC 7662 §2.2: a JSON object with a boolean `active`; duplicate members anywhere refused.
pub(crate) fn read(body: &[u8]) -> Result<Answer, CallError> {
    let malformed = |what: &str| CallError::Unavailable(format!("malformed answer: {what}"));
    let text = std::str::from_utf8(body).map_err(|_| malformed("not UTF-8"))?;
    parse_whole(text, StrictAny).map_err(|_| malformed("not strict JSON"))?;
    let members: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|_| malformed("not an object"))?;
    match members.get("active") {
        Some(serde_json::Value::Bool(true)) => Ok(Answer::Active(members)),
        Some(serde_json::Value::Bool(false)) => Ok(Answer::Inactive),
        _ => Err(malformed("no boolean active")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_strictly_std_7662_2() {
        assert!(matches!(read(br#"{"active":false}"#), Ok(Answer::Inactive)));
        assert!(matches!(
            read(br#"{"active":true,"scope":"a b"}"#),
            Ok(Answer::Active(members)) if members["scope"] == "a b"
        ));
        for bad in [
            &br#"{"active":"true"}"#[..],
            br#"{"active":true,"active":false}"#,
            br#"{"scope":"a"}"#,
            br#"[]"#,
            b"\xff",
            br#"{"active":true,"aud":["a","a"],"x":{"y":1,"y":2}}"#,
        ] {
            assert!(
                matches!(read(bad), Err(CallError::Unavailable(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
