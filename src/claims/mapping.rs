//! Where an issuer puts scopes and roles, when not in `scope`/`scp` and `roles`: Keycloak's
//! `realm_access.roles`, Auth0's `permissions`, Cognito's `cognito:groups`, Okta's `groups`.
//! Read once, when a token is verified; the accessors then read spans of the claims JSON.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Fields, Text, Texts};
use crate::error::Rejection;
use crate::json::{OneOrMany, TextSeed};

/// The most member names a [`ClaimPath`] may have.
pub(crate) const MAX_DEPTH: usize = 8;

/// A claim, by member name, or a path of member names into nested objects: where an issuer
/// puts scopes or roles, for [`IssuerProfile::scopes_from`](crate::IssuerProfile::scopes_from)
/// and [`IssuerProfile::roles_from`](crate::IssuerProfile::roles_from).
///
/// A name is taken whole: `"https://example.com/roles"` is one member, dots and all. Nested
/// paths are given as their member names.
///
/// ```
/// use tokengate::ClaimPath;
///
/// let permissions = ClaimPath::new("permissions");
/// let namespaced = ClaimPath::from("https://example.com/roles");
/// let realm_roles = ClaimPath::nested(["realm_access", "roles"]);
/// # let _ = (permissions, namespaced, realm_roles);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimPath {
    names: Box<[Box<str>]>,
}

impl ClaimPath {
    /// A top-level claim.
    pub fn new(name: impl Into<String>) -> ClaimPath {
        ClaimPath {
            names: Box::new([name.into().into_boxed_str()]),
        }
    }

    /// A claim inside objects: `["resource_access", "orders-api", "roles"]` is the `roles`
    /// member of the `orders-api` member of the `resource_access` claim.
    pub fn nested<I, S>(names: I) -> ClaimPath
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ClaimPath {
            names: names
                .into_iter()
                .map(|name| name.into().into_boxed_str())
                .collect(),
        }
    }

    /// What is wrong with the path, for [`GateBuilder::build`](crate::GateBuilder::build).
    pub(crate) fn problem(&self) -> Option<String> {
        if self.names.is_empty() || self.names.len() > MAX_DEPTH {
            return Some(format!(
                "claim path {self:?} must have 1 to {MAX_DEPTH} member names"
            ));
        }
        if self.names.iter().any(|name| name.is_empty()) {
            return Some(format!("claim path {self:?} has an empty member name"));
        }
        None
    }
}

impl From<&str> for ClaimPath {
    fn from(name: &str) -> ClaimPath {
        ClaimPath::new(name)
    }
}

impl From<String> for ClaimPath {
    fn from(name: String) -> ClaimPath {
        ClaimPath::new(name)
    }
}

impl fmt::Debug for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Configuration, not claim values.
        f.debug_list().entries(self.names.iter()).finish()
    }
}

/// An issuer's configured sources of scopes and roles; `None` keeps the standard claims.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClaimSources {
    pub scopes: Option<Box<[ClaimPath]>>,
    pub roles: Option<Box<[ClaimPath]>>,
}

impl ClaimSources {
    /// Whether nothing is mapped (the standard claims, read by the parser itself).
    pub(crate) fn is_standard(&self) -> bool {
        self.scopes.is_none() && self.roles.is_none()
    }

    /// Replaces the fields' scopes and roles with the configured sources' values, read from
    /// `json` (the verified claims the fields were made from).
    pub(crate) fn apply(&self, json: &str, fields: &mut Fields) -> Result<(), Rejection> {
        if let Some(paths) = &self.scopes {
            let mut scopes = Vec::new();
            for path in paths {
                match read(json, path)? {
                    Some(OneOrMany::One(value)) => scopes.push(Text::new(value, json)),
                    Some(OneOrMany::Many(values)) => {
                        scopes.extend(values.into_iter().map(|v| Text::new(v, json)));
                    }
                    None => {}
                }
            }
            fields.scopes = Texts::Many(scopes.into_boxed_slice());
        }
        if let Some(paths) = &self.roles {
            let mut roles = Vec::new();
            for path in paths {
                match read(json, path)? {
                    // A string is one role: role names may hold spaces ("Order Approver"),
                    // and splitting one would grant others.
                    Some(OneOrMany::One(value)) => roles.push(Text::new(value, json)),
                    Some(OneOrMany::Many(values)) => {
                        roles.extend(values.into_iter().map(|v| Text::new(v, json)));
                    }
                    None => {}
                }
            }
            fields.roles = roles.into_boxed_slice();
        }
        Ok(())
    }
}

/// A top-level string claim of the claims object `json` (verified or not), for providers'
/// rules; `None` when absent or not a string.
pub(crate) fn string_claim<'a>(json: &'a str, name: &str) -> Option<Cow<'a, str>> {
    match read(json, &ClaimPath::new(name)) {
        Ok(Some(OneOrMany::One(value))) => Some(value),
        _ => None,
    }
}

/// A top-level boolean claim of the claims object `json`, for providers' rules; `None` when
/// absent or not a boolean.
pub(crate) fn bool_claim(json: &str, name: &str) -> Option<bool> {
    let members = super::members::index(json);
    serde_json::from_str(super::members::find(&members, json, name)?).ok()
}

/// The value at `path` in the claims object `json`: a string or an array of strings. Absent
/// members and `null` anywhere on the path are no value; any other type is malformed.
fn read<'a>(json: &'a str, path: &ClaimPath) -> Result<Option<OneOrMany<'a>>, Rejection> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    Step(&path.names)
        .deserialize(&mut deserializer)
        .map_err(|_| Rejection::MalformedClaims)
}

/// Walks the remaining member names of a path.
struct Step<'p>(&'p [Box<str>]);

impl<'de> DeserializeSeed<'de> for Step<'_> {
    type Value = Option<OneOrMany<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Step<'_> {
    type Value = Option<OneOrMany<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("a string or an array of strings")
        } else {
            f.write_str("an object")
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        self.leaf(Cow::Borrowed(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        self.leaf(Cow::Owned(value.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.0.is_empty() {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(TextSeed)? {
            items.push(item);
        }
        Ok(Some(OneOrMany::Many(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((name, rest)) = self.0.split_first() else {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        };
        // Duplicate members were refused when the claims were first parsed.
        let mut found = None;
        while let Some(key) = map.next_key_seed(TextSeed)? {
            if *key == **name {
                found = map.next_value_seed(Step(rest))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

impl Step<'_> {
    fn leaf<'de, E: de::Error>(self, value: Cow<'de, str>) -> Result<Option<OneOrMany<'de>>, E> {
        if !self.0.is_empty() {
            return Err(de::Error::invalid_type(de::Unexpected::Str(&value), &self));
        }
        Ok(Some(OneOrMany::One(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::RawClaims;

    fn fields_of(json: &str, sources: &ClaimSources) -> Result<crate::Claims, Rejection> {
        let mut raw = RawClaims::parse(json).unwrap();
        let mut fields = Fields::new(&mut raw, json);
        drop(raw);
        sources.apply(json, &mut fields)?;
        Ok(fields.with_json(json.to_owned()))
    }

    fn sources(scopes: &[ClaimPath], roles: &[ClaimPath]) -> ClaimSources {
        let some = |paths: &[ClaimPath]| (!paths.is_empty()).then(|| paths.to_vec().into());
        ClaimSources {
            scopes: some(scopes),
            roles: some(roles),
        }
    }

    #[test]
    fn nested_arrays_strings_and_namespaced_names() {
        let json = r#"{"scope":"openid profile","realm_access":{"roles":["admin","user"]},
            "resource_access":{"orders":{"roles":["Approver"]},"other":{"roles":["x"]}},
            "https://example.com/roles":"Order Approver","permissions":["read:orders"]}"#;
        let roles = [
            ClaimPath::nested(["realm_access", "roles"]),
            ClaimPath::nested(["resource_access", "orders", "roles"]),
            ClaimPath::new("https://example.com/roles"),
        ];
        let claims = fields_of(json, &sources(&[], &roles)).unwrap();
        let got: Vec<_> = claims.roles().collect();
        // A string is one role, spaces and all.
        assert_eq!(got, ["admin", "user", "Approver", "Order Approver"]);
        // Scopes not mapped: the standard claim.
        assert!(claims.has_scope("profile"));

        let scopes = [ClaimPath::new("scope"), ClaimPath::new("permissions")];
        let claims = fields_of(json, &sources(&scopes, &[])).unwrap();
        let got: Vec<_> = claims.scopes().collect();
        assert_eq!(got, ["openid", "profile", "read:orders"]);
        assert_eq!(claims.roles().count(), 0, "no standard roles claim");
    }

    #[test]
    fn a_mapping_replaces_the_standard_claim() {
        let json = r#"{"roles":["standard"],"groups":["mapped"]}"#;
        let claims = fields_of(json, &sources(&[], &[ClaimPath::new("groups")])).unwrap();
        assert!(claims.has_role("mapped") && !claims.has_role("standard"));
    }

    #[test]
    fn absent_and_null_are_nothing_other_types_are_malformed() {
        let path = [ClaimPath::nested(["realm_access", "roles"])];
        for nothing in [
            r#"{}"#,
            r#"{"realm_access":null}"#,
            r#"{"realm_access":{}}"#,
            r#"{"realm_access":{"roles":null}}"#,
            r#"{"realm_access":{"other":{"roles":["x"]}}}"#,
        ] {
            let claims = fields_of(nothing, &sources(&[], &path)).unwrap();
            assert_eq!(claims.roles().count(), 0, "{nothing}");
        }
        for malformed in [
            r#"{"realm_access":"admin"}"#,
            r#"{"realm_access":["admin"]}"#,
            r#"{"realm_access":{"roles":7}}"#,
            r#"{"realm_access":{"roles":{"a":"b"}}}"#,
            r#"{"realm_access":{"roles":[1]}}"#,
            r#"{"realm_access":{"roles":[["admin"]]}}"#,
        ] {
            let result = fields_of(malformed, &sources(&[], &path));
            assert_eq!(
                result.unwrap_err(),
                Rejection::MalformedClaims,
                "{malformed}"
            );
        }
    }

    #[test]
    fn values_are_spans_of_the_json_unless_escaped() {
        let json = r#"{"groups":["plain","esc\u0061ped"],"g2":"one tw\u006f"}"#;
        let roles = [ClaimPath::new("groups"), ClaimPath::new("g2")];
        let claims = fields_of(json, &sources(&[], &roles)).unwrap();
        let got: Vec<_> = claims.roles().collect();
        assert_eq!(got, ["plain", "escaped", "one two"]);
        assert!(matches!(claims.fields.roles[0], Text::Span { .. }));
        assert!(matches!(claims.fields.roles[1], Text::Owned(_)));
    }

    #[test]
    fn path_problems() {
        assert!(ClaimPath::new("roles").problem().is_none());
        assert!(ClaimPath::new("").problem().is_some());
        assert!(ClaimPath::nested(Vec::<String>::new()).problem().is_some());
        assert!(ClaimPath::nested(["a", ""]).problem().is_some());
        assert!(ClaimPath::nested(["a"; MAX_DEPTH + 1]).problem().is_some());
        assert!(ClaimPath::nested(["a"; MAX_DEPTH]).problem().is_none());
    }
}
