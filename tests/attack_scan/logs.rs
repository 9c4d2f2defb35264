//! The log check (STD-6750-8), per family: every refusal was logged with its code (or, for a
//! token answered `malformed_credentials`, the gate's reason), inside the span of its own
//! request (`scan{request=family/case}`), and none of the family's secrets (the
//! credentials it sent and their segments, the planted values, the published keys in every
//! form) is anywhere in the TRACE capture of the binary.

use std::collections::HashMap;

use tokengate_testkit::capture;

use crate::judge::truncate;
use crate::requests::{Case, Expect};

/// The codes logged inside each request's span, by `family/case`.
fn codes_by_request(text: &str) -> HashMap<&str, Vec<&str>> {
    const SPAN: &str = "scan{request=";
    let mut codes: HashMap<&str, Vec<&str>> = HashMap::new();
    for line in text.lines() {
        let Some(at) = line.find(SPAN) else {
            continue;
        };
        let rest = &line[at + SPAN.len()..];
        let Some(end) = rest.find('}') else {
            continue;
        };
        let logged = codes.entry(&rest[..end]).or_default();
        for (at, _) in line.match_indices(" code=") {
            let value = line[at + 6..].split([' ', ',']).next().unwrap_or_default();
            logged.push(value.trim_matches('"'));
        }
    }
    codes
}

/// One line per refusal of `tag`'s cases that was not logged with exactly its code.
pub fn unlogged_refusals(tag: &str, cases: &[Case]) -> Vec<String> {
    let text = capture::global().text();
    let logged = codes_by_request(&text);
    let mut problems = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let Expect::Refused(code) = case.expect else {
            continue;
        };
        let codes = logged
            .get(format!("{tag}/{index}").as_str())
            .map_or(&[][..], Vec::as_slice);
        // A token the gate refused that is no `b64token` is answered `malformed_credentials`
        // after the gate logged its own reason (`source::grammar`): that reason is the record.
        let reclassified = code == "malformed_credentials" && codes.len() == 1;
        if codes.is_empty() || !reclassified && codes.iter().any(|logged| *logged != code) {
            problems.push(format!(
                "{}: expected a refusal logged as {code}, its span logged {codes:?}",
                truncate(&case.name, 58)
            ));
        }
    }
    problems
}

/// Asserts that none of `secrets` is in the capture.
#[track_caller]
pub fn assert_secret_free(family: &str, secrets: &[String]) {
    let captured = capture::global();
    // The capture works (for a family with refusals, `unlogged_refusals` found their events).
    assert!(!captured.text().is_empty(), "nothing was captured");
    let leaked = captured.leaked(secrets.iter().map(String::as_str));
    eprintln!(
        "{family}: logs of {} bytes checked for {} secrets, {} found",
        captured.text().len(),
        secrets.len(),
        leaked.len()
    );
    assert!(
        leaked.is_empty(),
        "{family}: {} secrets were logged, e.g. {:?}",
        leaked.len(),
        leaked
            .iter()
            .take(5)
            .map(|s| truncate(s, 60))
            .collect::<Vec<_>>()
    );
}
