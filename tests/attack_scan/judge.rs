//! Judging answers exactly: the status, the JSON body's `code`, `error` and
//! `error_description`, and the one `WWW-Authenticate` challenge, parsed strictly (no `error`
//! when the request carried no credential; the realm of the API; the scope for 403).

use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::Value;

use tokengate_testkit::challenge;

use crate::requests::{App, Case, Expect, class};
use crate::send::Answer;
use crate::world::{COOKIE_REALM, HEADER_REALM, SCOPE};

/// One line of the mismatch table per case not answered as expected.
pub fn mismatches(family: &str, cases: &[Case], answers: &[Result<Answer, String>]) -> Vec<String> {
    let mut lines = Vec::new();
    for (case, answer) in cases.iter().zip(answers) {
        let (got, problems) = match answer {
            Ok(answer) => (describe(answer), judge(case, answer)),
            Err(error) => ("no answer".to_owned(), vec![error.clone()]),
        };
        if !problems.is_empty() {
            lines.push(format!(
                "{:<22} | {:<58} | {:<28} | {:<28} | {}",
                family,
                truncate(&case.name, 58),
                expected(case.expect),
                got,
                problems.join("; ")
            ));
        }
    }
    lines
}

/// The header of the mismatch table.
pub fn table_head() -> String {
    format!(
        "{:<22} | {:<58} | {:<28} | {:<28} | problems",
        "family", "case", "expected", "got"
    )
}

fn expected(expect: Expect) -> String {
    match expect {
        Expect::Refused(code) => format!("{} {code}", class(code).0),
        Expect::Hyper(status) => format!("{status} (hyper)"),
        Expect::Accepted => "200".to_owned(),
    }
}

/// What the answer was, in a few words, for the mismatch table.
fn describe(answer: &Answer) -> String {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match body["code"].as_str() {
        Some(code) => format!("{} {code}", answer.status),
        None => format!(
            "{} body {:?}",
            answer.status,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(40)])
        ),
    }
}

/// The problems with an answer; none when it is exactly the one expected.
fn judge(case: &Case, answer: &Answer) -> Vec<String> {
    let mut problems = Vec::new();
    let status = answer.status;
    if case.expect != Expect::Accepted && (200..300).contains(&status) {
        problems.push("a 2xx answer to a hostile request".to_owned());
    }
    if status >= 500 {
        problems.push("a 5xx answer".to_owned());
    }
    let challenges: Vec<&http::HeaderValue> =
        answer.headers.get_all(WWW_AUTHENTICATE).iter().collect();
    match case.expect {
        Expect::Accepted => {
            if status != 200 || answer.body != b"ok" {
                problems.push("not the handler's 200".to_owned());
            }
        }
        Expect::Hyper(expected) => {
            if status != expected {
                problems.push(format!("status {status}, expected {expected} from hyper"));
            }
            if !challenges.is_empty() {
                problems.push("hyper's own answer carries a challenge".to_owned());
            }
            if serde_json::from_slice::<Value>(&answer.body).is_ok_and(|b| b.get("code").is_some())
            {
                problems.push("hyper's own answer carries a tokengate body".to_owned());
            }
        }
        Expect::Refused(code) => {
            let (want_status, want_error) = class(code);
            if status != want_status {
                problems.push(format!("status {status}, expected {want_status}"));
            }
            if answer
                .headers
                .get(CONTENT_TYPE)
                .is_none_or(|v| v != "application/json")
            {
                problems.push("not application/json".to_owned());
            }
            match serde_json::from_slice::<Value>(&answer.body) {
                Ok(body) => {
                    if body["code"] != code {
                        problems.push(format!("code {}, expected {code}", body["code"]));
                    }
                    if body.get("error").and_then(Value::as_str) != want_error {
                        problems.push(format!(
                            "body error {}, expected {want_error:?}",
                            body["error"]
                        ));
                    }
                    if !body["error_description"].is_string() {
                        problems.push("no error_description".to_owned());
                    }
                }
                Err(_) => problems.push("the body is not JSON".to_owned()),
            }
            match challenges.as_slice() {
                [one] => match one
                    .to_str()
                    .map_err(|e| e.to_string())
                    .and_then(challenge::parse_bearer)
                {
                    Ok(parsed) if parsed.len() == 1 => {
                        let parsed = &parsed[0];
                        if parsed.param("error") != want_error {
                            problems.push(format!(
                                "challenge error {:?}, expected {want_error:?}",
                                parsed.param("error")
                            ));
                        }
                        if want_error.is_none() && parsed.param("error_description").is_some() {
                            problems.push("an error_description without credentials".to_owned());
                        }
                        let realm = match case.wire.app() {
                            App::Header => HEADER_REALM,
                            App::Cookie => COOKIE_REALM,
                        };
                        if parsed.param("realm") != Some(realm) {
                            problems.push(format!("realm {:?}", parsed.param("realm")));
                        }
                        let want_scope = (code == "insufficient_scope").then_some(SCOPE);
                        if parsed.param("scope") != want_scope {
                            problems.push(format!("scope {:?}", parsed.param("scope")));
                        }
                    }
                    Ok(parsed) => problems.push(format!("{} challenges", parsed.len())),
                    Err(error) => problems.push(format!("challenge: {error}")),
                },
                other => problems.push(format!("{} WWW-Authenticate headers", other.len())),
            }
        }
    }
    problems
}

pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(width - 1).collect();
        short.push('…');
        short
    }
}
