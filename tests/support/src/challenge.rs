//! A strict parser for `WWW-Authenticate` field values (RFC 9110 §11.6.1, §11.2, §5.6), and
//! the RFC 6750 §3 rules for `Bearer` challenges.
//!
//! It checks what a *sender* may generate, so it is stricter than a lenient recipient:
//!
//! ```text
//! WWW-Authenticate = 1#challenge                 ; no empty list elements (§5.6.1.1)
//! challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-scheme = token
//! auth-param  = token BWS "=" BWS ( token / quoted-string )
//! token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! token       = 1*tchar
//! quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//! qdtext      = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//! quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
//! OWS = BWS   = *( SP / HTAB )
//! ```
//!
//! A field value neither starts nor ends with whitespace (§5.5), each parameter name occurs
//! once per challenge (§11.2), and the value of `realm` is a quoted-string (§11.5).
//!
//! Its own tests, against the RFCs' examples, are in `tests/challenge_parser.rs`: this crate's
//! unit tests would not run with tokengate's `cargo test`.

/// One parsed challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme as sent (compare case-insensitively).
    pub scheme: String,
    /// The auth-params in order: lower-cased name, unescaped value.
    pub params: Vec<(String, String)>,
    /// The token68, for a challenge that carries one instead of auth-params.
    pub token68: Option<String>,
    /// The names (lower-cased) of the params whose value was a bare token, not a
    /// quoted-string.
    pub bare: Vec<String>,
}

impl Challenge {
    /// The value of the parameter `name` (case-insensitive), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameter names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.params.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// RFC 9110 `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// The characters of a token68 before its `=` padding.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Skips OWS; returns (how many bytes, whether all were SP).
    fn ows(&mut self) -> (usize, bool) {
        let start = self.pos;
        let mut only_sp = true;
        while let Some(b) = self.peek().filter(|&b| is_ows(b)) {
            only_sp &= b == b' ';
            self.pos += 1;
        }
        (self.pos - start, only_sp)
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| std::str::from_utf8(&self.input[start..self.pos]).unwrap())
    }

    fn error(&self, what: &str) -> String {
        format!(
            "{what} at byte {} of {:?}",
            self.pos,
            String::from_utf8_lossy(self.input)
        )
    }

    /// `quoted-string`, unescaped; the cursor is on the opening quote.
    fn quoted_string(&mut self) -> Result<String, String> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated quoted-string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b)
                            if b == b'\t'
                                || b == b' '
                                || (0x21..=0x7e).contains(&b)
                                || b >= 0x80 =>
                        {
                            value.push(b);
                            self.pos += 1;
                        }
                        _ => return Err(self.error("bad quoted-pair")),
                    }
                }
                Some(b)
                    if b == b'\t'
                        || b == b' '
                        || b == 0x21
                        || (0x23..=0x5b).contains(&b)
                        || (0x5d..=0x7e).contains(&b)
                        || b >= 0x80 =>
                {
                    value.push(b);
                    self.pos += 1;
                }
                Some(_) => return Err(self.error("character not allowed in quoted-string")),
            }
        }
        String::from_utf8(value).map_err(|_| self.error("quoted-string is not UTF-8"))
    }

    /// Whether, from here, `token BWS "="` follows, and the `=` is not the padding of a
    /// token68 (that is, the value after `BWS` is a token or a quoted-string).
    fn looks_like_auth_param(&self) -> bool {
        let mut probe = Cursor {
            input: self.input,
            pos: self.pos,
        };
        if probe.token().is_none() {
            return false;
        }
        probe.ows();
        if probe.peek() != Some(b'=') {
            return false;
        }
        probe.pos += 1;
        probe.ows();
        probe.peek().is_some_and(|b| b == b'"' || is_tchar(b))
    }

    /// `token68`, which must then end the challenge (end of input or `OWS ","`).
    fn token68(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_token68_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.pos += 1;
        }
        Some(std::str::from_utf8(&self.input[start..self.pos]).unwrap())
    }

    /// After an element: end of input, or `OWS "," OWS` before another element. Returns
    /// whether another element follows.
    fn separator(&mut self) -> Result<bool, String> {
        if self.at_end() {
            return Ok(false);
        }
        let (spaces, _) = self.ows();
        if self.at_end() {
            self.pos -= spaces;
            return Err(self.error("trailing whitespace"));
        }
        if self.peek() != Some(b',') {
            return Err(self.error("expected ',' or the end"));
        }
        self.pos += 1;
        self.ows();
        match self.peek() {
            None => Err(self.error("empty list element at the end")),
            Some(b',') => Err(self.error("empty list element")),
            Some(_) => Ok(true),
        }
    }
}

/// Parses a `WWW-Authenticate` field value into its challenges, refusing anything outside
/// the sender grammar above.
pub fn parse(value: &str) -> Result<Vec<Challenge>, String> {
    let mut c = Cursor {
        input: value.as_bytes(),
        pos: 0,
    };
    if c.at_end() {
        return Err("empty field value: no challenge".to_owned());
    }
    if c.peek().is_some_and(is_ows) {
        return Err(c.error("leading whitespace"));
    }
    if c.peek() == Some(b',') {
        return Err(c.error("empty list element"));
    }
    let mut challenges = Vec::new();
    loop {
        let scheme = c
            .token()
            .ok_or_else(|| c.error("expected an auth-scheme"))?;
        let mut challenge = Challenge {
            scheme: scheme.to_owned(),
            params: Vec::new(),
            token68: None,
            bare: Vec::new(),
        };
        let (spaces, only_sp) = c.ows();
        let more = if spaces == 0 || c.at_end() || c.peek() == Some(b',') {
            // No parameters: what follows is the list separator (or the end).
            c.pos -= spaces;
            c.separator()?
        } else if !only_sp {
            return Err(c.error("auth-scheme must be followed by 1*SP, not HTAB"));
        } else if c.looks_like_auth_param() {
            // #auth-param: params until the next element is a new challenge.
            loop {
                let name = c.token().expect("checked").to_ascii_lowercase();
                c.ows();
                c.pos += 1; // the "="
                c.ows();
                let value = if c.peek() == Some(b'"') {
                    c.quoted_string()?
                } else {
                    challenge.bare.push(name.clone());
                    c.token()
                        .ok_or_else(|| c.error("expected a token or a quoted-string"))?
                        .to_owned()
                };
                if challenge.params.iter().any(|(n, _)| *n == name) {
                    return Err(format!(
                        "parameter {name:?} occurs twice in one challenge of {value:?}"
                    ));
                }
                challenge.params.push((name, value));
                if !c.separator()? {
                    break false;
                }
                if !c.looks_like_auth_param() {
                    break true;
                }
            }
        } else {
            let token68 = c
                .token68()
                .ok_or_else(|| c.error("expected a token68 or an auth-param"))?;
            challenge.token68 = Some(token68.to_owned());
            c.separator()?
        };
        challenges.push(challenge);
        if !more {
            break;
        }
    }
    Ok(challenges)
}

/// RFC 6750 §3 `error` and `error_description` characters: `%x20-21 / %x23-5B / %x5D-7E`.
fn is_error_char(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)
}

/// RFC 6749 `scope-token` characters: `%x21 / %x23-5B / %x5D-7E`.
fn is_scope_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e)
}

/// The RFC 6750 §3 rules for one challenge: scheme `Bearer`, auth-params (no token68), each
/// of `realm`, `scope`, `error`, `error_description`, `error_uri` at most once, `error` and
/// `error_description` within `%x20-21 / %x23-5B / %x5D-7E`, `scope` a space-delimited list of
/// scope-tokens, `error_uri` URI characters, and `realm` a quoted-string (RFC 9110 §11.5).
pub fn check_bearer(challenge: &Challenge) -> Result<(), String> {
    if !challenge.scheme.eq_ignore_ascii_case("Bearer") {
        return Err(format!("scheme {:?} is not Bearer", challenge.scheme));
    }
    if challenge.token68.is_some() {
        return Err("a Bearer challenge carries auth-params, not a token68".to_owned());
    }
    for name in ["realm", "scope", "error", "error_description", "error_uri"] {
        let count = challenge.params.iter().filter(|(n, _)| n == name).count();
        if count > 1 {
            return Err(format!("{name} occurs {count} times"));
        }
    }
    if challenge.bare.iter().any(|n| n == "realm") {
        return Err("realm must be a quoted-string".to_owned());
    }
    for (name, value) in &challenge.params {
        match name.as_str() {
            "error" | "error_description" => {
                if let Some(bad) = value.bytes().find(|&b| !is_error_char(b)) {
                    return Err(format!("{name} has the character {:?}", bad as char));
                }
                if name == "error" && value.is_empty() {
                    return Err("error is empty".to_owned());
                }
            }
            "scope"
                if value.is_empty()
                    || value
                        .split(' ')
                        .any(|t| t.is_empty() || !t.bytes().all(is_scope_char)) =>
            {
                return Err(format!(
                    "scope {value:?} is not space-delimited scope-tokens"
                ));
            }
            "error_uri"
                if !value
                    .bytes()
                    .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e)) =>
            {
                return Err(format!("error_uri {value:?} has characters outside URI"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Parses `value` and checks every challenge with [`check_bearer`]; the challenges.
pub fn parse_bearer(value: &str) -> Result<Vec<Challenge>, String> {
    let challenges = parse(value)?;
    for challenge in &challenges {
        check_bearer(challenge).map_err(|e| format!("{e} in {value:?}"))?;
    }
    Ok(challenges)
}
