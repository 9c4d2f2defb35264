//! ATK-07: hostile `kid` values (paths, URLs, injections, look-alikes, the length cap, wrong
//! types) are refused with no file, database or network access, and a flood of unknown `kid`s
//! costs at most one key-set refresh (checked for every family: see `scan`).

use serde_json::{Value, json};

use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::world::{Env, MARK_KID, MARK_URL};

pub static KID: Family = Family {
    tag: "atk07",
    name: "ATK-07 kid injection",
    floor: 66,
};

#[test]
fn atk_07_kid_injection() {
    scan(&KID, kid_injection);
}

/// ATK-07: `kid` injection; never a path, a query or a URL, capped in length.
pub fn kid_injection(env: &Env, cases: &mut Cases) {
    let real = env.kid("RS256");
    let lookalike = real.replacen('e', "\u{435}", 1);
    let fullwidth: String = real
        .chars()
        .map(|c| match c {
            'a'..='z' => char::from_u32(c as u32 - 'a' as u32 + 0xff41).unwrap(),
            _ => c,
        })
        .collect();
    let strings: Vec<(&str, String, &'static str)> = vec![
        (
            "path traversal",
            "../../../../dev/null".into(),
            "unknown_key",
        ),
        (
            "path traversal to passwd",
            "../../../../../../etc/passwd".into(),
            "unknown_key",
        ),
        (
            "proc file",
            "/proc/sys/kernel/randomize_va_space".into(),
            "unknown_key",
        ),
        (
            "windows traversal",
            "..\\..\\..\\windows\\win.ini".into(),
            "unknown_key",
        ),
        ("file URL", "file:///etc/passwd".into(), "unknown_key"),
        (
            "URL of the counting server",
            env.counting_url(&format!("kid-{MARK_URL}.json")),
            "unknown_key",
        ),
        (
            "JNDI lookup",
            format!("${{jndi:ldap://{}/{MARK_KID}}}", env.counting.addr),
            "unknown_key",
        ),
        ("SQL tautology", "' OR '1'='1".into(), "unknown_key"),
        (
            "SQL union",
            "x' UNION SELECT secret FROM keys--".into(),
            "unknown_key",
        ),
        (
            "SQL stacked query",
            "'; DROP TABLE keys;--".into(),
            "unknown_key",
        ),
        ("shell substitution", "$(id)".into(), "unknown_key"),
        ("shell backticks", "`id`".into(), "unknown_key"),
        ("shell pipe", "| cat /etc/passwd".into(), "unknown_key"),
        (
            "shell chain",
            "; curl http://127.0.0.1:1/".into(),
            "unknown_key",
        ),
        ("format string", "%s%s%s%n%x".into(), "unknown_key"),
        ("template", "{{7*7}}${7*7}".into(), "unknown_key"),
        ("LDAP filter", "*)(uid=*))(|(uid=*".into(), "unknown_key"),
        ("wildcard", "*".into(), "unknown_key"),
        ("regex", ".*".into(), "unknown_key"),
        ("real kid with NUL", format!("{real}\u{0}"), "unknown_key"),
        (
            "control characters",
            "\u{1}\u{2}\u{1b}[31m".into(),
            "unknown_key",
        ),
        (
            "CRLF header injection",
            "x\r\nSet-Cookie: a=b".into(),
            "unknown_key",
        ),
        (
            "Unicode lookalike of the real kid",
            lookalike,
            "unknown_key",
        ),
        (
            "fullwidth lookalike of the real kid",
            fullwidth,
            "unknown_key",
        ),
        (
            "right-to-left override",
            format!("\u{202e}{real}"),
            "unknown_key",
        ),
        ("real kid uppercased", real.to_uppercase(), "unknown_key"),
        (
            "real kid with a leading space",
            format!(" {real}"),
            "unknown_key",
        ),
        (
            "real kid with a trailing space",
            format!("{real} "),
            "unknown_key",
        ),
        ("empty", String::new(), "unknown_key"),
        ("planted marker", MARK_KID.into(), "unknown_key"),
        ("256 characters (the cap)", "k".repeat(256), "unknown_key"),
        ("257 characters", "k".repeat(257), "malformed_header"),
        ("4 KiB", "k".repeat(4096), "malformed_header"),
        ("40 KB", "k".repeat(40_000), "malformed_header"),
        (
            "64 KiB (over the token size cap)",
            "k".repeat(65_536),
            "token_too_large",
        ),
    ];
    for (name, kid, code) in strings {
        cases.bearer(
            format!("kid {name}"),
            &env.tb().header("kid", kid).sign(),
            code,
        );
    }
    for (name, value) in [
        ("null", Value::Null),
        ("a number", json!(1)),
        ("a float", json!(1.5)),
        ("true", json!(true)),
        ("an array of the real kid", json!([real])),
        ("an object", json!({"kid": real})),
    ] {
        cases.bearer(
            format!("kid {name}"),
            &env.tb().header("kid", value).sign(),
            "malformed_header",
        );
    }
    // A flood of distinct unknown kids: refused without fetching more than the cooldown
    // allows (checked by `scan` for every family).
    for i in 0..25 {
        let token = env
            .tb()
            .header("kid", format!("{MARK_KID}-flood-{i}"))
            .sign();
        cases.bearer(format!("kid flood {i}"), &token, "unknown_key");
    }
}
