//! Choosing the configured issuer a token names: by its exact `iss`, or among issuers whose
//! identifier their metadata gives. Only configured issuers are ever chosen; `iss` is never
//! turned into a URL.

use std::collections::HashMap;

use super::Issuer;

/// The configured issuers of a gate.
#[derive(Debug)]
pub(crate) struct IssuerTable {
    issuers: Vec<Issuer>,
    /// Each issuer's primary name, for status and errors.
    names: Vec<String>,
    /// Exact issuer string to index in `issuers`.
    by_issuer: HashMap<Box<str>, usize>,
    /// Issuers whose string their metadata names.
    learned: Box<[usize]>,
    /// Issuers whose tokens are refused with a hint for the developer.
    foreign: HashMap<Box<str>, Box<str>>,
}

/// Why no configured issuer was chosen.
#[derive(Debug)]
pub(crate) enum Selection {
    /// No configured issuer is `iss`.
    Untrusted,
    /// No configured issuer is `iss`, but metadata not fetched yet could name it: fetch it
    /// ([`IssuerTable::learn`]) and ask again.
    NotLearnedYet,
}

impl IssuerTable {
    /// A table of `issuers` (with their `names`), whose exact `iss` strings are `by_issuer`
    /// and of which `learned` take theirs from metadata.
    pub(crate) fn new(
        issuers: Vec<Issuer>,
        names: Vec<String>,
        by_issuer: HashMap<Box<str>, usize>,
        learned: Vec<usize>,
        foreign: HashMap<Box<str>, Box<str>>,
    ) -> IssuerTable {
        IssuerTable {
            issuers,
            names,
            by_issuer,
            learned: learned.into_boxed_slice(),
            foreign,
        }
    }

    pub(crate) fn get(&self, index: usize) -> &Issuer {
        &self.issuers[index]
    }

    pub(crate) fn name(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// Every issuer with its name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Issuer, &str)> {
        self.issuers
            .iter()
            .zip(self.names.iter().map(String::as_str))
    }

    /// The configured issuers' primary names.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of the issuer the token's `iss` names.
    pub(crate) fn select(&self, iss: &str) -> Result<usize, Selection> {
        if let Some(&index) = self.by_issuer.get(iss) {
            return Ok(index);
        }
        let mut unknown = false;
        for &index in &self.learned {
            let issuer = &self.issuers[index];
            let keys = &issuer.keys;
            match keys.learned().as_deref() {
                Some(Some(learned)) => {
                    let matches = match &issuer.rules {
                        Some(rules) => rules.matches_learned(learned, iss),
                        None => **learned == *iss,
                    };
                    if matches {
                        return Ok(index);
                    }
                }
                // Only an issuer this metadata could name waits for it: a failing document
                // must not hold up every other token.
                Some(None) if keys.could_name(iss) => unknown = true,
                _ => {}
            }
        }
        Err(if unknown {
            Selection::NotLearnedYet
        } else {
            Selection::Untrusted
        })
    }

    /// For a token whose `iss` no configured issuer is: a hint when one differs from it only
    /// by a trailing slash, the scheme or letter case, naming the configured issuer (never
    /// the token's value).
    pub(crate) fn hint_untrusted(&self, iss: &str) {
        if let Some((issuer, hint)) = self.foreign.get_key_value(iss) {
            crate::diagnostic::hint!(issuer = %issuer, "a token was refused as untrusted_issuer: {hint}");
            return;
        }
        let learned: Vec<_> = self
            .learned
            .iter()
            .filter_map(|&index| self.issuers[index].keys.learned())
            .collect();
        let configured = self.by_issuer.keys().map(|name| &**name).chain(
            learned
                .iter()
                .filter_map(|l| l.as_deref().map(|l| l.as_str())),
        );
        for name in configured {
            if let Some(difference) = near_miss(name, iss) {
                crate::diagnostic::hint!(
                    configured = %name,
                    "a token was refused as untrusted_issuer: its `iss` differs from this \
                     configured issuer only by {difference}; issuers are compared exactly, so \
                     configure the issuer as the provider writes it"
                );
                return;
            }
        }
    }

    /// Fetches the metadata not fetched yet that could name `iss` (each limited by its
    /// cooldown, as any fetch).
    pub(crate) async fn learn(&self, iss: &str) {
        let unknown = |index: &&usize| {
            let keys = &self.issuers[**index].keys;
            matches!(keys.learned().as_deref(), Some(None)) && keys.could_name(iss)
        };
        let started: Vec<_> = self
            .learned
            .iter()
            .filter(unknown)
            .map(|&index| self.issuers[index].keys.start_load())
            .collect();
        for warm_up in started {
            // A failure is logged by the store; what matters here is what is known after.
            let _ = warm_up.finish().await;
        }
    }
}

/// What alone tells `configured` and `iss` apart, if only a trailing slash, the scheme
/// (`http`/`https`) or letter case do.
fn near_miss(configured: &str, iss: &str) -> Option<String> {
    /// The scheme, what follows it without trailing slashes, and whether there were any.
    fn parts(s: &str) -> (&str, &str, bool) {
        let (scheme, rest) = s.split_once("://").unwrap_or(("", s));
        let bare = rest.trim_end_matches('/');
        (scheme, bare, bare.len() != rest.len())
    }
    if configured == iss {
        return None;
    }
    let (scheme_a, rest_a, slash_a) = parts(configured);
    let (scheme_b, rest_b, slash_b) = parts(iss);
    let web = |s: &str| s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("http");
    if !rest_a.eq_ignore_ascii_case(rest_b)
        || !(scheme_a.eq_ignore_ascii_case(scheme_b) || web(scheme_a) && web(scheme_b))
    {
        return None;
    }
    let mut differences = Vec::new();
    if !scheme_a.eq_ignore_ascii_case(scheme_b) {
        differences.push("the scheme");
    }
    if slash_a != slash_b {
        differences.push("a trailing slash");
    }
    if rest_a != rest_b || (scheme_a != scheme_b && scheme_a.eq_ignore_ascii_case(scheme_b)) {
        differences.push("letter case");
    }
    Some(differences.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::near_miss;

    #[test]
    fn near_misses_name_what_differs() {
        let configured = "https://login.example.com/tenant";
        let cases = [
            (
                "https://login.example.com/tenant/",
                Some("a trailing slash"),
            ),
            ("http://login.example.com/tenant", Some("the scheme")),
            ("https://Login.Example.com/tenant", Some("letter case")),
            ("HTTPS://login.example.com/tenant", Some("letter case")),
            (
                "http://login.example.com/tenant//",
                Some("the scheme and a trailing slash"),
            ),
            ("https://login.example.com/tenant", None),
            ("https://login.example.com/tenant2", None),
            ("https://login.example.com", None),
            ("ftp://login.example.com/tenant", None),
            ("login.example.com/tenant", None),
        ];
        for (iss, expected) in cases {
            assert_eq!(near_miss(configured, iss).as_deref(), expected, "{iss}");
        }
    }
}
