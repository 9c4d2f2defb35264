//! Where each member of the claims JSON is: built once per [`Claims`](super::Claims), on the
//! first lookup of a claim the normalized fields do not cover.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::Text;

/// A member name, borrowed from the JSON unless it has escapes (serde's own `Cow` always
/// copies).
#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);

/// A member's name and where its value is in the claims JSON.
#[derive(Clone)]
pub(crate) struct Member {
    name: Text,
    start: u32,
    len: u32,
}

/// Every member of `json` (verified claims: a JSON object without duplicate members), sorted
/// by name.
pub(super) fn index(json: &str) -> Vec<Member> {
    let Ok(object) = serde_json::from_str::<BTreeMap<Name<'_>, &RawValue>>(json) else {
        return Vec::new();
    };
    let base = json.as_ptr() as usize;
    object
        .into_iter()
        .filter_map(|(name, value)| {
            let text = value.get();
            let start = (text.as_ptr() as usize).checked_sub(base)?;
            Some(Member {
                name: Text::new(name.0, json),
                start: u32::try_from(start).ok()?,
                len: u32::try_from(text.len()).ok()?,
            })
        })
        .collect()
}

/// The JSON text of the value of member `name`.
pub(super) fn find<'a>(members: &[Member], json: &'a str, name: &str) -> Option<&'a str> {
    let at = members
        .binary_search_by(|member| member.name.get(json).cmp(name))
        .ok()?;
    let member = &members[at];
    json.get(member.start as usize..(member.start + member.len) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_member_with_its_value() {
        let json = r#"{"b":[1,2],"a":"x","caf\u00e9":{"k":null},"n":null}"#;
        let members = index(json);
        assert_eq!(members.len(), 4);
        assert_eq!(find(&members, json, "a"), Some(r#""x""#));
        assert_eq!(find(&members, json, "b"), Some("[1,2]"));
        assert_eq!(find(&members, json, "café"), Some(r#"{"k":null}"#));
        assert_eq!(find(&members, json, "n"), Some("null"));
        assert_eq!(find(&members, json, "c"), None);
        // Names without escapes point into the JSON; only the escaped one is a copy.
        let copies = members
            .iter()
            .filter(|member| matches!(member.name, Text::Owned(_)))
            .count();
        assert_eq!(copies, 1);
    }
}
