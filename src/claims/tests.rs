//! Normalized claims (STD-IDP-2, ENTRA-26, ENTRA-29, ENTRA-30) and redaction.

use std::time::{Duration, UNIX_EPOCH};

use super::*;

fn claims(json: &str) -> Claims {
    let text = json.to_owned();
    let mut raw = RawClaims::parse(&text).expect("claims parse");
    let fields = Fields::new(&mut raw, &text);
    drop(raw);
    fields.with_json(text)
}

fn scopes(c: &Claims) -> Vec<&str> {
    c.scopes().collect()
}

#[test]
fn registered_claims() {
    let c = claims(
        r#"{"iss":"https://i/","sub":"s","aud":["a","b"],"exp":1700000600,"nbf":1700000000,
            "iat":1700000000.5,"tid":"t","oid":"o"}"#,
    );
    assert_eq!(c.issuer(), "https://i/");
    assert_eq!(c.subject(), Some("s"));
    assert_eq!(c.audiences().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(
        c.expires_at(),
        UNIX_EPOCH + Duration::from_secs(1_700_000_600)
    );
    assert_eq!(
        c.not_before(),
        Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
    );
    assert_eq!(
        c.issued_at(),
        Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_500))
    );
    assert_eq!((c.tenant_id(), c.object_id()), (Some("t"), Some("o")));
    let single = claims(r#"{"iss":"i","aud":"only"}"#);
    assert_eq!(single.audiences().collect::<Vec<_>>(), ["only"]);
    assert_eq!(single.subject(), None);
}

#[test]
fn escaped_strings_are_unescaped() {
    let c = claims(
        r#"{"iss":"https:\/\/i\/","sub":"caf\u00e9","aud":["\"q\"","plain"],"scp":"a\u0020b"}"#,
    );
    assert_eq!(c.issuer(), "https://i/");
    assert_eq!(c.subject(), Some("café"));
    assert_eq!(c.audiences().collect::<Vec<_>>(), ["\"q\"", "plain"]);
    assert_eq!(scopes(&c), ["a", "b"]);
}

#[test]
fn scopes_from_scope_or_scp() {
    // A space-separated string; runs of spaces collapse (ATK-35).
    assert_eq!(scopes(&claims(r#"{"scope":"  a  b c "}"#)), ["a", "b", "c"]);
    // Okta's array form.
    assert_eq!(scopes(&claims(r#"{"scp":["x","y"]}"#)), ["x", "y"]);
    // RFC 9068's `scope` wins over `scp` when both are present.
    assert_eq!(
        scopes(&claims(r#"{"scp":"provider","scope":"standard"}"#)),
        ["standard"]
    );
    assert!(scopes(&claims(r#"{"iss":"i"}"#)).is_empty());
    let c = claims(r#"{"scp":"files.read.all xfiles.read"}"#);
    assert!(c.has_scope("files.read.all"));
    assert!(!c.has_scope("files.read"), "whole-token comparison only");
    assert!(!c.has_scope("FILES.READ.ALL"));
    assert!(!c.has_scope(""));
}

#[test]
fn roles() {
    let c = claims(r#"{"roles":["Orders.Read","Admin"]}"#);
    assert_eq!(c.roles().collect::<Vec<_>>(), ["Orders.Read", "Admin"]);
    assert!(c.has_role("Admin"));
    assert!(!c.has_role("admin"));
    assert!(!c.has_role("Orders"));
    assert_eq!(claims(r#"{"iss":"i"}"#).roles().count(), 0);
}

#[test]
fn client_id_precedence() {
    assert_eq!(
        claims(r#"{"client_id":"c","azp":"a","appid":"p","cid":"o"}"#).client_id(),
        Some("c")
    );
    assert_eq!(
        claims(r#"{"azp":"a","appid":"p","cid":"o"}"#).client_id(),
        Some("a")
    );
    assert_eq!(claims(r#"{"appid":"p","cid":"o"}"#).client_id(), Some("p"));
    assert_eq!(claims(r#"{"cid":"o"}"#).client_id(), Some("o"));
    assert_eq!(claims(r#"{"iss":"i"}"#).client_id(), None);
}

#[test]
fn token_kind_rules() {
    let kind = |json: &str| claims(json).token_kind();
    // 1. Entra's optional `idtyp` is authoritative.
    assert_eq!(kind(r#"{"idtyp":"app","scp":"x"}"#), TokenKind::App);
    assert_eq!(
        kind(r#"{"idtyp":"user","sub":"s","oid":"s"}"#),
        TokenKind::User
    );
    // 2. Entra app-only: sub == oid. RFC 9068 client credentials: sub == client id.
    assert_eq!(
        kind(r#"{"sub":"s","oid":"s","roles":["r"]}"#),
        TokenKind::App
    );
    assert_eq!(
        kind(r#"{"sub":"c","client_id":"c","scope":"x"}"#),
        TokenKind::App
    );
    assert_eq!(kind(r#"{"sub":"c","cid":"c","scp":["x"]}"#), TokenKind::App);
    // 3. Delegated scopes in `scp`.
    assert_eq!(kind(r#"{"sub":"u","oid":"o","scp":"x"}"#), TokenKind::User);
    // 4. Otherwise nobody can tell.
    assert_eq!(kind(r#"{"sub":"u","scope":"x"}"#), TokenKind::Unknown);
    assert_eq!(kind(r#"{"iss":"i"}"#), TokenKind::Unknown);
    assert_eq!(kind(r#"{"idtyp":"device"}"#), TokenKind::Unknown);
}

#[test]
fn debug_never_prints_claim_values() {
    let c = claims(
        r#"{"iss":"https://secret-issuer/","sub":"secret-sub","client_id":"secret-client",
                      "tid":"secret-tenant","scope":"secret.scope","roles":["secret-role"],"email":"secret@x"}"#,
    );
    let debug = format!("{c:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(
        debug.contains("scopes: 1") && debug.contains("roles: 1"),
        "{debug}"
    );
}

#[test]
fn typed_access() {
    #[derive(serde::Deserialize)]
    struct Mine<'a> {
        sub: &'a str,
        #[serde(default)]
        groups: Vec<String>,
        ver: Option<&'a str>,
    }
    let c = claims(r#"{"sub":"u","groups":["g1","g2"],"ver":"2.0","other":{"x":1}}"#);
    let mine: Mine<'_> = c.deserialize().unwrap();
    assert_eq!(
        (mine.sub, mine.groups.len(), mine.ver),
        ("u", 2, Some("2.0"))
    );
    assert!(c.json().contains(r#""other":{"x":1}"#));

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "only the error matters")]
    struct Wrong {
        sub: u64,
    }
    let err = c.deserialize::<Wrong>().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 1"), "{text}");
    assert_eq!(err.line(), 1);
    assert!(err.column() > 0);
    assert!(!text.contains("\"u\""), "the value must not leak: {text}");
}

/// `Claims::claim` reads any member, as its own type, borrowing where it can; absent is `None`,
/// a value of another shape an error that says where, never what.
#[test]
fn any_claim_by_name() {
    let c = claims(
        r#"{"iss":"i","groups":["a","b"],"email":"x@example.com","n":7,"nested":{"k":[1,2]},
            "caf\u00e9":"ok","esc":"line\nbreak","nul":null}"#,
    );
    assert_eq!(
        c.claim::<Vec<String>>("groups").unwrap(),
        Some(vec!["a".to_owned(), "b".to_owned()])
    );
    assert_eq!(c.claim::<&str>("email").unwrap(), Some("x@example.com"));
    assert_eq!(c.claim::<u32>("n").unwrap(), Some(7));
    assert_eq!(
        c.claim::<serde_json::Value>("nested").unwrap(),
        Some(serde_json::json!({"k": [1, 2]}))
    );
    // Names are compared decoded; values with escapes need an owned type.
    assert_eq!(c.claim::<String>("café").unwrap().as_deref(), Some("ok"));
    assert_eq!(
        c.claim::<String>("esc").unwrap().as_deref(),
        Some("line\nbreak")
    );
    assert!(c.claim::<&str>("esc").is_err());
    assert_eq!(c.claim::<Option<String>>("nul").unwrap(), Some(None));
    assert_eq!(c.claim::<String>("absent").unwrap(), None);
    let wrong = c.claim::<u32>("email").unwrap_err();
    assert_eq!((wrong.line(), wrong.column()), (1, 15));
    assert!(!wrong.to_string().contains("example"), "{wrong}");
    // The registered claims are there too, as they are in the JSON.
    assert_eq!(c.claim::<&str>("iss").unwrap(), Some("i"));
}
