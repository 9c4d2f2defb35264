//! Requests a client library would refuse or tidy up, written as raw bytes on a TCP
//! connection: repeated and oddly cased `Authorization` lines, obs-fold, control characters and
//! bytes outside ASCII, bare LF line endings, HTTP/1.0, an absolute-form target.

use crate::requests::{App, Cases, Expect, Family, Route};
use crate::scan::scan;
use crate::world::Env;

pub static RAW_HTTP: Family = Family {
    tag: "raw",
    name: "raw HTTP/1.1",
    floor: 20,
};

#[test]
fn raw_http_requests() {
    scan(&RAW_HTTP, raw_http);
}

/// Requests a client library would refuse or tidy up, as raw bytes.
pub fn raw_http(env: &Env, cases: &mut Cases) {
    let good = env.valid();
    let tampered = env.tb().tampered().sign();
    let (open, header) = (Route::Open, App::Header);
    let line = |name: &str, value: &str| format!("{name}: {value}").into_bytes();
    let auth = line("Authorization", &format!("Bearer {good}"));
    let tokens = [good.as_str(), tampered.as_str()];
    let list: Vec<(&str, Vec<Vec<u8>>, Expect)> = vec![
        (
            "Authorization and authorization",
            vec![
                auth.clone(),
                line("authorization", &format!("Bearer {good}")),
            ],
            Expect::Refused("multiple_tokens"),
        ),
        (
            "AUTHORIZATION without spaces, twice",
            vec![
                format!("AUTHORIZATION:Bearer {good}").into_bytes(),
                format!("authorization:   Bearer {tampered}").into_bytes(),
            ],
            Expect::Refused("multiple_tokens"),
        ),
        (
            "a valid and an empty Authorization",
            vec![auth.clone(), b"Authorization:".to_vec()],
            Expect::Refused("multiple_tokens"),
        ),
        (
            "Authorization folded onto two lines (obs-fold)",
            vec![
                b"Authorization: Bearer".to_vec(),
                format!(" {good}").into_bytes(),
            ],
            Expect::Hyper(400),
        ),
        (
            "a space before the colon",
            vec![format!("Authorization : Bearer {good}").into_bytes()],
            Expect::Hyper(400),
        ),
        (
            "a NUL in the value",
            vec![format!("Authorization: Bearer {tampered}\0").into_bytes()],
            Expect::Hyper(400),
        ),
        (
            "a control character in the value",
            vec![format!("Authorization: Bearer \x01{good}").into_bytes()],
            Expect::Hyper(400),
        ),
        (
            "DEL in the value",
            vec![format!("Authorization: Bearer {good}\x7f").into_bytes()],
            Expect::Hyper(400),
        ),
        (
            "a bare CR in the value",
            vec![format!("Authorization: Bearer {}\r{}", &good[..20], &good[20..]).into_bytes()],
            Expect::Hyper(400),
        ),
        (
            "a NUL in the header name",
            vec![format!("Authoriz\0ation: Bearer {good}").into_bytes()],
            Expect::Hyper(400),
        ),
        (
            "a header name with a space",
            vec![format!("Author ization: Bearer {good}").into_bytes()],
            Expect::Hyper(400),
        ),
        (
            "an 0xFF byte in the token",
            vec![
                [
                    b"Authorization: Bearer ".as_slice(),
                    &good.as_bytes()[..20],
                    &[0xff],
                    &good.as_bytes()[20..],
                ]
                .concat(),
            ],
            Expect::Refused("malformed_credentials"),
        ),
        (
            "a tab between scheme and token",
            vec![format!("Authorization: Bearer\t{good}").into_bytes()],
            Expect::Refused("malformed_credentials"),
        ),
        (
            "a tampered token with trailing whitespace",
            vec![format!("Authorization: Bearer {tampered} \t ").into_bytes()],
            Expect::Refused("invalid_signature"),
        ),
        (
            "a tampered token with leading whitespace",
            vec![format!("Authorization:  \t Bearer {tampered}").into_bytes()],
            Expect::Refused("invalid_signature"),
        ),
        (
            "Authorization_ (another header)",
            vec![format!("Authorization_: Bearer {good}").into_bytes()],
            Expect::Refused("missing_token"),
        ),
    ];
    for (name, lines, expect) in list {
        let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        cases.raw(name, header, open, &lines, &tokens, expect);
    }
    let bare_lf = format!(
        "GET /scan HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer {tampered}\n\
         Connection: close\n\n"
    )
    .into_bytes();
    cases.raw_bytes(
        "bare LF line endings, tampered token",
        header,
        bare_lf,
        &tokens,
        Expect::Refused("invalid_signature"),
    );
    let http10 =
        format!("GET /scan HTTP/1.0\r\nAuthorization: Bearer {tampered}\r\n\r\n").into_bytes();
    cases.raw_bytes(
        "HTTP/1.0, tampered token",
        header,
        http10,
        &tokens,
        Expect::Refused("invalid_signature"),
    );
    let absolute = format!(
        "GET http://127.0.0.1/scan?access_token={good} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Connection: close\r\n\r\n"
    )
    .into_bytes();
    cases.raw_bytes(
        "absolute-form target with ?access_token=",
        header,
        absolute,
        &tokens,
        Expect::Refused("token_in_query"),
    );
    let cookie_lines = [
        format!("Cookie: at={good}").into_bytes(),
        format!("cookie: at={good}").into_bytes(),
    ];
    let lines: Vec<&[u8]> = cookie_lines.iter().map(Vec::as_slice).collect();
    cases.raw(
        "two Cookie lines with the same token",
        App::Cookie,
        open,
        &lines,
        &tokens,
        Expect::Refused("multiple_tokens"),
    );
}
