//! Strict JSON helpers: duplicate member names are errors at every depth (RFC 7515 §4,
//! RFC 7519 §4), strings are borrowed from the input when they contain no escapes.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Up to this many member names are kept inline and compared by a linear scan; beyond it they
/// move to a hash set, so an object with 100,000 members costs O(n), not O(n²).
const INLINE_NAMES: usize = 16;

/// Names past the inline ones: all of them in order, and a set for lookups.
type Spilled<'a, V> = (Vec<(Cow<'a, str>, V)>, HashSet<Cow<'a, str>>);

/// The member names of one JSON object, each with a value of type `V`; reports repeats.
pub(crate) struct Names<'a, V: Copy + Default = ()> {
    inline: [(Cow<'a, str>, V); INLINE_NAMES],
    len: usize,
    spilled: Option<Spilled<'a, V>>,
}

impl<'a, V: Copy + Default> Names<'a, V> {
    pub(crate) fn new() -> Self {
        Names {
            inline: std::array::from_fn(|_| (Cow::Borrowed(""), V::default())),
            len: 0,
            spilled: None,
        }
    }

    /// Records `name`; returns false if it was already recorded.
    pub(crate) fn insert(&mut self, name: Cow<'a, str>, value: V) -> bool {
        if let Some((list, set)) = &mut self.spilled {
            if !set.insert(name.clone()) {
                return false;
            }
            list.push((name, value));
            return true;
        }
        if self.inline[..self.len]
            .iter()
            .any(|(seen, _)| *seen == name)
        {
            return false;
        }
        if self.len < INLINE_NAMES {
            self.inline[self.len] = (name, value);
            self.len += 1;
            return true;
        }
        let mut list: Vec<_> = self
            .inline
            .iter_mut()
            .map(|(n, v)| (std::mem::take(n), *v))
            .collect();
        list.push((name, value));
        let set = list.iter().map(|(n, _)| n.clone()).collect();
        self.spilled = Some((list, set));
        true
    }

    /// The recorded names with their values, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, V)> + '_ {
        let list = match &self.spilled {
            Some((list, _)) => &list[..],
            None => &self.inline[..self.len],
        };
        list.iter().map(|(name, value)| (&**name, *value))
    }
}

impl<V: Copy + Default> Default for Names<'_, V> {
    fn default() -> Self {
        Names::new()
    }
}

/// A member name or string value, borrowed when it has no escapes.
pub(crate) struct TextSeed;

impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A string, or an array of strings (`aud`, `scope`, `scp`).
pub(crate) enum OneOrMany<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl fmt::Debug for OneOrMany<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claim values: never printed.
        match self {
            OneOrMany::One(_) => f.write_str("One(..)"),
            OneOrMany::Many(values) => write!(f, "Many({} values)", values.len()),
        }
    }
}

pub(crate) struct OneOrManySeed;

impl<'de> DeserializeSeed<'de> for OneOrManySeed {
    type Value = OneOrMany<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(OneOrManyVisitor)
    }
}

struct OneOrManyVisitor;

impl<'de> Visitor<'de> for OneOrManyVisitor {
    type Value = OneOrMany<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(OneOrMany::One(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(OneOrMany::One(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(OneOrMany::One(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        StringsVisitor.visit_seq(seq).map(OneOrMany::Many)
    }
}

/// An array of strings (`roles`).
pub(crate) struct StringsSeed;

impl<'de> DeserializeSeed<'de> for StringsSeed {
    type Value = Vec<Cow<'de, str>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(StringsVisitor)
    }
}

struct StringsVisitor;

impl<'de> Visitor<'de> for StringsVisitor {
    type Value = Vec<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(item) = seq.next_element_seed(TextSeed)? {
            out.push(item);
        }
        Ok(out)
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number, finite, not negative, and below year 10000.
pub(crate) struct NumericDateSeed;

/// 9999-12-31T23:59:59Z; later dates are not dates a token could mean.
pub(crate) const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

impl<'de> DeserializeSeed<'de> for NumericDateSeed {
    type Value = f64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<f64, D::Error> {
        deserializer.deserialize_any(NumericDateVisitor)
    }
}

struct NumericDateVisitor;

impl NumericDateVisitor {
    fn check<E: de::Error>(v: f64) -> Result<f64, E> {
        if v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&v) {
            Ok(v)
        } else {
            Err(E::custom("NumericDate out of range"))
        }
    }
}

impl<'de> Visitor<'de> for NumericDateVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a NumericDate")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Self::check(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Self::check(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Self::check(v)
    }
}

/// Skips any JSON value while rejecting duplicate member names inside it; yields whether the
/// value is not `null` (a `null` claim counts as absent).
pub(crate) struct StrictAny;

impl<'de> DeserializeSeed<'de> for StrictAny {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(StrictAnyVisitor)
    }
}

struct StrictAnyVisitor;

impl<'de> Visitor<'de> for StrictAnyVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element_seed(StrictAny)?.is_some() {}
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut seen = Names::<()>::new();
        while let Some(name) = map.next_key_seed(TextSeed)? {
            if !seen.insert(name, ()) {
                return Err(de::Error::custom("duplicate member name"));
            }
            map.next_value_seed(StrictAny)?;
        }
        Ok(true)
    }
}

/// A `T` read from a JSON object only. serde's derived structs also read a JSON array of their
/// members in declaration order (`["RSA", "sig", ...]`), which no JOSE document is.
pub(crate) struct Object<T>(pub T);

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(std::marker::PhantomData))
            .map(Object)
    }
}

/// Fails on anything after the top-level value other than whitespace.
pub(crate) fn parse_whole<'a, T>(
    text: &'a str,
    seed: impl DeserializeSeed<'a, Value = T>,
) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_find_duplicates_in_small_and_large_objects() {
        let mut seen = Names::<usize>::new();
        for i in 0..100 {
            assert!(seen.insert(Cow::Owned(format!("m{i}")), i));
        }
        assert!(!seen.insert(Cow::Borrowed("m3"), 0));
        assert!(!seen.insert(Cow::Borrowed("m99"), 0));
        let kept: Vec<(String, usize)> = seen.iter().map(|(n, v)| (n.to_owned(), v)).collect();
        assert_eq!(kept.len(), 100);
        assert_eq!(kept[42], ("m42".to_owned(), 42));
        let mut small = Names::<()>::new();
        assert!(small.insert(Cow::Borrowed("a"), ()));
        assert!(!small.insert(Cow::Borrowed("a"), ()));
        assert_eq!(small.iter().count(), 1);
    }

    #[test]
    fn strict_any_rejects_nested_duplicates() {
        assert!(parse_whole(r#"{"a":{"b":1,"c":[{"d":1}]}}"#, StrictAny).is_ok());
        assert!(parse_whole(r#"{"a":{"b":1,"b":2}}"#, StrictAny).is_err());
        assert!(parse_whole(r#"[{"x":1,"x":1}]"#, StrictAny).is_err());
        // An escaped name that decodes to the same text is the same name.
        assert!(parse_whole(r#"{"a":{"b":1,"\u0062":2}}"#, StrictAny).is_err());
    }

    #[test]
    fn strict_any_reports_null() {
        assert!(!parse_whole("null", StrictAny).unwrap());
        assert!(parse_whole("0", StrictAny).unwrap());
        assert!(parse_whole("{}", StrictAny).unwrap());
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(parse_whole("1700000000", NumericDateSeed).unwrap(), 1.7e9);
        assert_eq!(
            parse_whole("1700000000.5", NumericDateSeed).unwrap(),
            1_700_000_000.5
        );
        for bad in [
            "\"1700000000\"",
            "true",
            "null",
            "-1",
            "1e400",
            "1e300",
            "{}",
            "[1]",
        ] {
            assert!(parse_whole(bad, NumericDateSeed).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_borrows_when_unescaped() {
        let s = r#""plain""#;
        assert!(matches!(
            parse_whole(s, TextSeed).unwrap(),
            Cow::Borrowed("plain")
        ));
        let e = r#""a\u0062c""#;
        assert!(matches!(parse_whole(e, TextSeed).unwrap(), Cow::Owned(ref v) if v == "abc"));
    }

    #[test]
    fn one_or_many() {
        assert!(matches!(
            parse_whole(r#""x""#, OneOrManySeed).unwrap(),
            OneOrMany::One(_)
        ));
        assert!(
            matches!(parse_whole(r#"["x","y"]"#, OneOrManySeed).unwrap(), OneOrMany::Many(v) if v.len() == 2)
        );
        assert!(parse_whole("[1]", OneOrManySeed).is_err());
        assert!(parse_whole(r#"[["x"]]"#, OneOrManySeed).is_err());
        assert!(parse_whole("1", OneOrManySeed).is_err());
        assert!(parse_whole("null", OneOrManySeed).is_err());
    }
}
