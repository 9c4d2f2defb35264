//! 1. Arbitrary input.

use proptest::prelude::*;

use super::generators::Index;
use super::support::{assert_unsigned_refusal, config, good_tokens, validate};

proptest! {
    #![proptest_config(config(512))]

    /// Arbitrary bytes, read as lossy UTF-8.
    #[test]
    fn arbitrary_bytes_never_validate(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let text = String::from_utf8_lossy(&bytes);
        assert_unsigned_refusal(&validate(&text))?;
    }

    /// Arbitrary Unicode strings, control characters included.
    #[test]
    fn arbitrary_strings_never_validate(
        chars in proptest::collection::vec(any::<char>(), 0..3000)
    ) {
        let text: String = chars.into_iter().collect();
        assert_unsigned_refusal(&validate(&text))?;
    }

    /// Arbitrary strings with dots and prefixes of a good token (the whole token included), so
    /// they pass the segment checks more often. Only the untouched good token may validate.
    #[test]
    fn arbitrary_strings_around_dots_never_validate(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(".".to_owned()),
                "\\PC{0,40}",
                any::<Index>().prop_map(|i| {
                    let token = &good_tokens()[0];
                    token[..i.index(token.len() + 1)].to_owned()
                }),
            ],
            0..12,
        )
    ) {
        let text = parts.concat();
        let result = validate(&text);
        if good_tokens().contains(&text) {
            prop_assert!(result.is_ok());
        } else {
            assert_unsigned_refusal(&result)?;
        }
    }
}
