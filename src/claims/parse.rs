//! One pass over the claims JSON: registered and well-known claims into typed slots, every
//! other member checked for duplicates and remembered by name only.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::Rejection;
use crate::json::{
    Names, NumericDateSeed, OneOrMany, OneOrManySeed, StrictAny, StringsSeed, TextSeed, parse_whole,
};

/// The claims of a token, borrowed from its decoded payload, not yet trusted.
#[derive(Default)]
pub(crate) struct RawClaims<'a> {
    /// The claims JSON these were parsed from, for a provider's rules that read a claim the
    /// parser has no slot for (on the uncached path only).
    pub source: &'a str,
    pub iss: Option<Cow<'a, str>>,
    pub sub: Option<Cow<'a, str>>,
    pub aud: Option<OneOrMany<'a>>,
    pub exp: Option<f64>,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
    pub jti: Option<Cow<'a, str>>,
    pub client_id: Option<Cow<'a, str>>,
    pub azp: Option<Cow<'a, str>>,
    pub appid: Option<Cow<'a, str>>,
    pub cid: Option<Cow<'a, str>>,
    pub tid: Option<Cow<'a, str>>,
    pub oid: Option<Cow<'a, str>>,
    pub idtyp: Option<Cow<'a, str>>,
    pub token_use: Option<Cow<'a, str>>,
    /// The payload's `typ` (Keycloak's `Bearer`, `ID`, `Refresh`), not the header's, when it
    /// is a string; other values are no type marker, and only refuse where a provider needs
    /// one.
    pub typ: Option<Cow<'a, str>>,
    /// Whether a `typ` member was present, whatever its value (duplicates are refused).
    pub typ_seen: bool,
    pub scope: Option<OneOrMany<'a>>,
    pub scp: Option<OneOrMany<'a>>,
    pub roles: Option<Vec<Cow<'a, str>>>,
    /// `nonce`: an OpenID Connect ID token marker.
    pub nonce: bool,
    /// `at_hash`, `c_hash`, `s_hash`: ID token only (OIDC Core §3.1.3.6, §3.3.2.11; FAPI).
    pub at_hash: bool,
    pub c_hash: bool,
    pub s_hash: bool,
    /// `events`: a security event or logout token (RFC 8417, OIDC Back-Channel Logout).
    pub events: bool,
    /// `cnf` (RFC 7800): the token is bound to a key (DPoP, RFC 9449; mTLS, RFC 8705).
    pub cnf: Option<Confirmation>,
    /// Every other member: its name, and whether its value is not `null`.
    pub others: Names<'a, bool>,
    /// How many members the object has.
    pub member_count: u32,
    /// The bytes member names with escapes take once decoded (a copy each), with a fixed
    /// overhead per copy.
    pub escaped_name_bytes: u32,
}

impl fmt::Debug for RawClaims<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claim values are never printed, even unverified ones.
        f.write_str("RawClaims { .. }")
    }
}

impl<'a> RawClaims<'a> {
    #[cfg(test)]
    pub(crate) fn parse(text: &'a str) -> Result<RawClaims<'a>, Rejection> {
        let mut claims = RawClaims::default();
        claims.parse_into(text)?;
        Ok(claims)
    }

    /// Fills `self` (which must be empty) in place: the struct is large, and returning it
    /// through serde's layers would copy it several times.
    pub(crate) fn parse_into(&mut self, text: &'a str) -> Result<(), Rejection> {
        self.source = text;
        parse_whole(text, ClaimsSeed(self)).map_err(|_| Rejection::MalformedClaims)
    }

    /// Whether a claim is present with a non-null value.
    pub(crate) fn has(&self, name: &str) -> bool {
        match name {
            "iss" => self.iss.is_some(),
            "sub" => self.sub.is_some(),
            "aud" => self.aud.is_some(),
            "exp" => self.exp.is_some(),
            "nbf" => self.nbf.is_some(),
            "iat" => self.iat.is_some(),
            "jti" => self.jti.is_some(),
            "client_id" => self.client_id.is_some(),
            "azp" => self.azp.is_some(),
            "appid" => self.appid.is_some(),
            "cid" => self.cid.is_some(),
            "tid" => self.tid.is_some(),
            "oid" => self.oid.is_some(),
            "idtyp" => self.idtyp.is_some(),
            "token_use" => self.token_use.is_some(),
            "typ" => self.typ.is_some(),
            "scope" => self.scope.is_some(),
            "scp" => self.scp.is_some(),
            "roles" => self.roles.is_some(),
            "nonce" => self.nonce,
            "events" => self.events,
            "cnf" => self.cnf.is_some(),
            _ => self
                .others
                .iter()
                .any(|(member, non_null)| non_null && member == name),
        }
    }
}

/// What `cnf` binds the token to. Only the methods tokengate can check are read; any other
/// member makes the binding one it cannot prove, and the token is refused.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Confirmation {
    /// `jkt`: the RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1).
    pub jkt: Option<Box<str>>,
    /// `x5t#S256`: the SHA-256 thumbprint of the client certificate (RFC 8705 §3.1).
    pub x5t_s256: Option<Box<str>>,
    /// Another confirmation method (`jwk`, `jku`, `kid`, ...), or none at all.
    pub unknown: bool,
}

impl Confirmation {
    /// Reads a `cnf` value already checked to be strict JSON. Whatever is not an object of
    /// thumbprint strings is a binding that cannot be proven (`unknown`), whatever its value:
    /// the token is never a bearer token.
    fn parse(json: &str) -> Confirmation {
        let unknown = Confirmation {
            unknown: true,
            ..Confirmation::default()
        };
        let Ok(members) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json)
        else {
            return unknown;
        };
        let mut confirmation = Confirmation {
            unknown: members.is_empty(),
            ..Confirmation::default()
        };
        for (name, value) in members {
            let slot = match name.as_str() {
                "jkt" => &mut confirmation.jkt,
                "x5t#S256" => &mut confirmation.x5t_s256,
                _ => {
                    confirmation.unknown = true;
                    continue;
                }
            };
            match value {
                serde_json::Value::String(text) if !text.is_empty() => {
                    *slot = Some(text.into_boxed_str());
                }
                _ => return unknown,
            }
        }
        confirmation
    }
}

impl fmt::Debug for Confirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which methods, never the thumbprints.
        f.debug_struct("Confirmation")
            .field("jkt", &self.jkt.is_some())
            .field("x5t_s256", &self.x5t_s256.is_some())
            .field("unknown", &self.unknown)
            .finish()
    }
}

struct ClaimsSeed<'c, 'de>(&'c mut RawClaims<'de>);

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(ClaimsVisitor(self.0))
    }
}

struct ClaimsVisitor<'c, 'de>(&'c mut RawClaims<'de>);

/// Stores a value into a slot that must still be empty.
fn fill<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(E::custom("duplicate claim"));
    }
    Ok(())
}

fn flag<E: de::Error>(slot: &mut bool) -> Result<(), E> {
    if std::mem::replace(slot, true) {
        return Err(E::custom("duplicate claim"));
    }
    Ok(())
}

impl<'de> Visitor<'de> for ClaimsVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWT claims object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let c = self.0;
        // Known names are deduplicated by their slots; only the others need remembering.
        while let Some(name) = map.next_key_seed(TextSeed)? {
            c.member_count = c.member_count.saturating_add(1);
            if let Cow::Owned(copied) = &name {
                let bytes = u32::try_from(copied.len() + 16).unwrap_or(u32::MAX);
                c.escaped_name_bytes = c.escaped_name_bytes.saturating_add(bytes);
            }
            match name.as_ref() {
                "iss" => fill(&mut c.iss, map.next_value_seed(TextSeed)?)?,
                "sub" => fill(&mut c.sub, map.next_value_seed(TextSeed)?)?,
                "aud" => fill(&mut c.aud, map.next_value_seed(OneOrManySeed)?)?,
                "exp" => fill(&mut c.exp, map.next_value_seed(NumericDateSeed)?)?,
                "nbf" => fill(&mut c.nbf, map.next_value_seed(NumericDateSeed)?)?,
                "iat" => fill(&mut c.iat, map.next_value_seed(NumericDateSeed)?)?,
                "jti" => fill(&mut c.jti, map.next_value_seed(TextSeed)?)?,
                "client_id" => fill(&mut c.client_id, map.next_value_seed(TextSeed)?)?,
                "azp" => fill(&mut c.azp, map.next_value_seed(TextSeed)?)?,
                "appid" => fill(&mut c.appid, map.next_value_seed(TextSeed)?)?,
                "cid" => fill(&mut c.cid, map.next_value_seed(TextSeed)?)?,
                "tid" => fill(&mut c.tid, map.next_value_seed(TextSeed)?)?,
                "oid" => fill(&mut c.oid, map.next_value_seed(TextSeed)?)?,
                "idtyp" => fill(&mut c.idtyp, map.next_value_seed(TextSeed)?)?,
                "token_use" => fill(&mut c.token_use, map.next_value_seed(TextSeed)?)?,
                "typ" => {
                    flag(&mut c.typ_seen)?;
                    let raw: &'de RawValue = map.next_value()?;
                    // Parsed in full, as every other value: escapes and duplicates refused.
                    parse_whole(raw.get(), StrictAny).map_err(de::Error::custom)?;
                    if raw.get().starts_with('"') {
                        c.typ = Some(parse_whole(raw.get(), TextSeed).map_err(de::Error::custom)?);
                    }
                }
                "scope" => fill(&mut c.scope, map.next_value_seed(OneOrManySeed)?)?,
                "scp" => fill(&mut c.scp, map.next_value_seed(OneOrManySeed)?)?,
                "roles" => fill(&mut c.roles, map.next_value_seed(StringsSeed)?)?,
                "nonce" => {
                    map.next_value_seed(StrictAny)?;
                    flag(&mut c.nonce)?;
                }
                "events" => {
                    map.next_value_seed(StrictAny)?;
                    flag(&mut c.events)?;
                }
                "at_hash" => {
                    map.next_value_seed(StrictAny)?;
                    flag(&mut c.at_hash)?;
                }
                "cnf" => {
                    let raw: &'de RawValue = map.next_value()?;
                    parse_whole(raw.get(), StrictAny).map_err(de::Error::custom)?;
                    fill(&mut c.cnf, Confirmation::parse(raw.get()))?;
                }
                "c_hash" => {
                    map.next_value_seed(StrictAny)?;
                    flag(&mut c.c_hash)?;
                }
                "s_hash" => {
                    map.next_value_seed(StrictAny)?;
                    flag(&mut c.s_hash)?;
                }
                _ => {
                    // Every value is parsed in full, so escapes such as a lone surrogate are
                    // refused here rather than by a handler deserializing the claims later.
                    let non_null = map.next_value_seed(StrictAny)?;
                    if !c.others.insert(name, non_null) {
                        return Err(de::Error::custom("duplicate claim"));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<RawClaims<'_>, Rejection> {
        RawClaims::parse(json)
    }

    #[test]
    fn typed_slots() {
        let c = parse(
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":2,"nbf":1,"iat":1.5,"azp":"c",
                "tid":"t","oid":"o","scp":"x y","roles":["r"],"custom":{"k":1},"nul":null}"#,
        )
        .unwrap();
        assert_eq!(c.iss.as_deref(), Some("i"));
        assert!(matches!(c.aud, Some(OneOrMany::Many(ref v)) if v.len() == 2));
        assert_eq!((c.exp, c.nbf, c.iat), (Some(2.0), Some(1.0), Some(1.5)));
        assert!(c.has("custom"));
        assert!(!c.has("nul"), "null counts as absent");
        assert!(!c.has("missing"));
        assert!(c.has("scp") && c.has("roles") && !c.has("scope"));
    }

    #[test]
    fn duplicates_are_refused_at_every_depth() {
        for json in [
            r#"{"iss":"a","iss":"b"}"#,
            r#"{"aud":"a","aud":"b"}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"{"tid":"a","\u0074id":"b"}"#,
            r#"{"x":1,"x":2}"#,
            r#"{"nonce":"a","nonce":"a"}"#,
            r#"{"at_hash":"a","at_hash":"a"}"#,
            r#"{"cnf":{"jkt":"a","jkt":"b"}}"#,
            r#"{"deep":[{"a":[{"b":1,"b":1}]}]}"#,
        ] {
            assert_eq!(
                parse(json).unwrap_err(),
                Rejection::MalformedClaims,
                "{json}"
            );
        }
    }

    #[test]
    fn wrong_types_are_refused() {
        for json in [
            r#"{"exp":"1999999999"}"#,
            r#"{"exp":true}"#,
            r#"{"exp":null}"#,
            r#"{"exp":1e400}"#,
            r#"{"exp":-1}"#,
            r#"{"exp":{}}"#,
            r#"{"nbf":"1"}"#,
            r#"{"iat":[1]}"#,
            r#"{"aud":[]} "#.trim_end(),
            r#"{"aud":[123]}"#,
            r#"{"aud":[["ours"]]}"#,
            r#"{"aud":7}"#,
            r#"{"iss":1}"#,
            r#"{"sub":null}"#,
            r#"{"roles":"admin"}"#,
            r#"{"jti":5}"#,
            // A lone surrogate is not a character: refused in any claim, interpreted or not.
            r#"{"name":"\ud800"}"#,
            r#"{"sub":"\udc00"}"#,
            r#"{"jti":null}"#,
            r#"{"roles":[1]}"#,
            r#"{"scp":{"a":1}}"#,
            r#"[]"#,
            r#""claims""#,
            r#"{"iss":"a"} {}"#,
        ] {
            let result = parse(json);
            // An empty audience array parses (as no audiences) and is refused later.
            if json.contains(r#""aud":[]"#) {
                assert!(
                    matches!(result, Ok(RawClaims { aud: Some(OneOrMany::Many(ref v)), .. }) if v.is_empty())
                );
                continue;
            }
            assert_eq!(result.unwrap_err(), Rejection::MalformedClaims, "{json}");
        }
    }

    /// The payload `typ` is read when it is a string; other values are kept as present but
    /// no marker (a generic issuer's token is not refused for them), twice is refused.
    #[test]
    fn payload_typ() {
        assert_eq!(
            parse(r#"{"typ":"Bearer"}"#).unwrap().typ.as_deref(),
            Some("Bearer")
        );
        for other in [r#"{"typ":1}"#, r#"{"typ":null}"#, r#"{"typ":{"a":[1]}}"#] {
            let c = parse(other).unwrap();
            assert_eq!(c.typ, None, "{other}");
            assert!(c.typ_seen);
        }
        for refused in [
            r#"{"typ":"a","typ":"b"}"#,
            r#"{"typ":1,"typ":"Bearer"}"#,
            r#"{"typ":{"a":1,"a":2}}"#,
            r#"{"typ":"\ud800"}"#,
        ] {
            assert_eq!(
                parse(refused).unwrap_err(),
                Rejection::MalformedClaims,
                "{refused}"
            );
        }
    }

    #[test]
    fn markers() {
        let c = parse(r#"{"nonce":"n","c_hash":"h","events":{}}"#).unwrap();
        assert!(c.nonce && c.c_hash && c.events && !c.at_hash && !c.s_hash);
    }

    #[test]
    fn many_members_parse_in_linear_time() {
        let mut json = String::from("{");
        for i in 0..20_000 {
            json.push_str(&format!("\"c{i}\":{i},"));
        }
        json.push_str("\"c0\":0}");
        assert_eq!(parse(&json).unwrap_err(), Rejection::MalformedClaims);
    }
}
