//! ATK-25 and hyper's limits: oversized tokens (at and over the 64 KiB cap, huge claims and
//! headers, a flood of dots, many claims) and request heads hyper itself refuses (a head that
//! fills its buffer, one header too many: 431 before any layer runs).

use crate::requests::{App, Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::world::{Env, HYPER_MAX_HEAD, HYPER_MAX_HEADERS, MARK_HUGE, MARK_KID};

pub static OVERSIZED: Family = Family {
    tag: "atk25",
    name: "ATK-25 sizes",
    floor: 11,
};

#[test]
fn atk_25_oversized_input() {
    scan(&OVERSIZED, sizes);
}

/// ATK-25 and hyper's limits: oversized tokens and headers.
pub fn sizes(env: &Env, cases: &mut Cases) {
    let big_claim = env.tb().claim("blob", MARK_HUGE.repeat(5000)).sign();
    let big_header = env.tb().header("x5c", [MARK_HUGE.repeat(5000)]).sign();
    for (name, token, code) in [
        (
            "64 KiB of 'a' (at the cap: judged, malformed)",
            "a".repeat(65_536),
            "malformed_token",
        ),
        ("64 KiB + 1 of 'a'", "a".repeat(65_537), "token_too_large"),
        (
            "a signed token with an 80 KB claim",
            big_claim,
            "token_too_large",
        ),
        (
            "a signed token with an 80 KB header",
            big_header,
            "token_too_large",
        ),
        ("300,000 dots", ".".repeat(300_000), "token_too_large"),
        (
            "60,000 dots (under the cap)",
            ".".repeat(60_000),
            "malformed_token",
        ),
        (
            "a 300 KB three-segment token",
            format!(
                "{}.{}.{}",
                "a".repeat(100_000),
                "b".repeat(100_000),
                "c".repeat(100_000)
            ),
            "token_too_large",
        ),
    ] {
        cases.bearer(name, &token, code);
    }
    let mut builder = env.tb();
    for i in 0..2000 {
        builder = builder.claim(&format!("c{i}"), i);
    }
    cases.bearer(
        "2000 claims, an unknown kid",
        &builder.header("kid", MARK_KID).sign(),
        "unknown_key",
    );
    // hyper's own limits: a request head that fills its buffer without ending, and one
    // header more than it parses. Answered by hyper (431) before any layer runs.
    let mut head = format!(
        "GET /scan HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}",
        env.valid()
    )
    .into_bytes();
    head.resize(HYPER_MAX_HEAD, b'a');
    let head_token = String::from_utf8_lossy(&head[head.len() - 1000..]).into_owned();
    cases.raw_bytes(
        "a request head that fills hyper's buffer (408 KiB, unterminated)",
        App::Header,
        head,
        &[&head_token],
        Expect::Hyper(431),
    );
    // With Host and Connection, HYPER_MAX_HEADERS - 2 Authorization lines make exactly the
    // limit, one more is over it.
    let bearer = format!("Authorization: Bearer {}", env.valid());
    let token = &bearer["Authorization: Bearer ".len()..];
    let lines: Vec<&[u8]> = (0..HYPER_MAX_HEADERS - 1)
        .map(|_| bearer.as_bytes())
        .collect();
    cases.raw(
        "101 headers (99 Authorization)",
        App::Header,
        Route::Open,
        &lines,
        &[token],
        Expect::Hyper(431),
    );
    let lines: Vec<&[u8]> = (0..HYPER_MAX_HEADERS - 2)
        .map(|_| bearer.as_bytes())
        .collect();
    cases.raw(
        "100 headers (98 Authorization)",
        App::Header,
        Route::Open,
        &lines,
        &[token],
        Expect::Refused("multiple_tokens"),
    );
}
