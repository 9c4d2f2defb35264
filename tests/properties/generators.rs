//! Building blocks of the generators: the base64url alphabet, a position in a sequence of any
//! length, and arbitrary JSON values.

use proptest::prelude::*;
use serde_json::{Number, Value};

pub(crate) const B64URL: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A position in a sequence of any length: `len * raw / 2^64`, so it shrinks towards the start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Index(u64);

impl Index {
    pub(crate) const FIRST: Index = Index(0);
    pub(crate) const LAST: Index = Index(u64::MAX);

    /// The position that resolves to `at` in a sequence of `len`.
    pub(crate) fn at(at: usize, len: usize) -> Index {
        Index((((at as u128) << 64).div_ceil(len as u128)) as u64)
    }

    pub(crate) fn index(self, len: usize) -> usize {
        ((u128::from(self.0) * len as u128) >> 64) as usize
    }
}

impl Arbitrary for Index {
    type Parameters = ();
    type Strategy = proptest::strategy::Map<proptest::num::u64::Any, fn(u64) -> Index>;

    fn arbitrary_with((): ()) -> Self::Strategy {
        any::<u64>().prop_map(Index)
    }
}

pub(crate) fn number(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

pub(crate) fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(number),
        "\\PC{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{0,6}|\\PC{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
