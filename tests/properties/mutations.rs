//! 3. Mutations of a valid token.

use proptest::prelude::*;

use super::generators::{B64URL, Index};
use super::support::{assert_unsigned_refusal, config, good_tokens, validate};

#[derive(Clone, Debug)]
pub(crate) enum Mutation {
    /// Replace one character by a base64url character (perhaps the same one).
    Flip(Index, u8),
    /// Delete up to `len` characters from a position.
    Delete(Index, usize),
    /// Insert characters at a position.
    Insert(Index, Vec<u8>),
    /// Swap the case of one character (a no-op for digits, `-`, `_` and `.`).
    ChangeCase(Index),
    /// Truncate the whole token.
    Truncate(Index),
    DuplicateSegment(Index),
    SwapSegments(Index, Index),
    DropSegment(Index),
    TruncateSegment(Index, Index),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    let inserted = proptest::collection::vec(
        prop_oneof![
            8 => proptest::sample::select(B64URL),
            1 => proptest::sample::select(b".=+/ \n\t\0{\"\\%".to_vec()),
        ],
        1..8,
    );
    prop_oneof![
        4 => (any::<Index>(), proptest::sample::select(B64URL))
            .prop_map(|(i, c)| Mutation::Flip(i, c)),
        2 => (any::<Index>(), 1..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        2 => (any::<Index>(), inserted).prop_map(|(i, s)| Mutation::Insert(i, s)),
        2 => any::<Index>().prop_map(Mutation::ChangeCase),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => any::<Index>().prop_map(Mutation::DuplicateSegment),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::SwapSegments(i, j)),
        1 => any::<Index>().prop_map(Mutation::DropSegment),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::TruncateSegment(i, j)),
    ]
}

/// Applies a mutation to an ASCII token; the result stays ASCII.
pub(crate) fn apply(token: &str, mutation: &Mutation) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let segments = || -> Vec<Vec<u8>> { token.split('.').map(|s| s.as_bytes().to_vec()).collect() };
    let join = |parts: Vec<Vec<u8>>| parts.join(&b'.');
    let out = match mutation {
        Mutation::Flip(i, c) => {
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                bytes[at] = *c;
            }
            bytes
        }
        Mutation::Delete(i, n) => {
            let at = i.index(bytes.len() + 1);
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
            bytes
        }
        Mutation::Insert(i, text) => {
            let at = i.index(bytes.len() + 1);
            bytes.splice(at..at, text.iter().copied());
            bytes
        }
        Mutation::ChangeCase(i) => {
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                let c = bytes[at];
                bytes[at] = if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
            }
            bytes
        }
        Mutation::Truncate(i) => {
            bytes.truncate(i.index(bytes.len() + 1));
            bytes
        }
        Mutation::DuplicateSegment(i) => {
            let mut parts = segments();
            let at = i.index(parts.len());
            let copy = parts[at].clone();
            parts.insert(at, copy);
            join(parts)
        }
        Mutation::SwapSegments(i, j) => {
            let mut parts = segments();
            let (a, b) = (i.index(parts.len()), j.index(parts.len()));
            parts.swap(a, b);
            join(parts)
        }
        Mutation::DropSegment(i) => {
            let mut parts = segments();
            let at = i.index(parts.len());
            parts.remove(at);
            join(parts)
        }
        Mutation::TruncateSegment(i, j) => {
            let mut parts = segments();
            let at = i.index(parts.len());
            let keep = j.index(parts[at].len() + 1);
            parts[at].truncate(keep);
            join(parts)
        }
    };
    String::from_utf8(out).expect("mutations keep tokens ASCII")
}

proptest! {
    #![proptest_config(config(512))]

    /// One to three mutations of a valid RS256 or ES256 token: refused, with a code from before
    /// the signature, unless the token came out byte-identical (then it must still validate).
    #[test]
    fn mutated_tokens_never_validate(
        which in 0..2usize,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let original = &good_tokens()[which];
        let mutated = mutations.iter().fold(original.clone(), |token, m| apply(&token, m));
        let result = validate(&mutated);
        if mutated == *original {
            prop_assert!(result.is_ok(), "an unchanged token was refused: {:?}", result.err());
        } else {
            assert_unsigned_refusal(&result)?;
        }
    }
}

/// Every kind of mutation, once by hand, with the expected code.
#[test]
fn mutation_examples() {
    let token = &good_tokens()[0];
    let (first, last) = (Index::FIRST, Index::LAST);
    let len = token.len();
    let (header, payload, signature) = (Index::at(0, 3), Index::at(1, 3), Index::at(2, 3));
    let header_len = token.find('.').unwrap();
    let cases = [
        // 341 characters cannot be base64url; 340 decode to 255 bytes, which cannot verify.
        (
            Mutation::Truncate(Index::at(len - 1, len + 1)),
            "malformed_token",
        ),
        (
            Mutation::Truncate(Index::at(len - 2, len + 1)),
            "invalid_signature",
        ),
        (Mutation::DropSegment(signature), "malformed_token"),
        (Mutation::DropSegment(payload), "malformed_token"),
        (Mutation::DuplicateSegment(payload), "malformed_token"),
        (Mutation::SwapSegments(header, payload), "malformed_header"),
        (
            Mutation::TruncateSegment(payload, first),
            "unsupported_token_format",
        ),
        (Mutation::TruncateSegment(header, first), "malformed_token"),
        (Mutation::Insert(first, b"=".to_vec()), "malformed_token"),
        (
            Mutation::Insert(Index::at(len, len + 1), b"AAAA".to_vec()),
            "invalid_signature",
        ),
        (
            Mutation::Delete(Index::at(header_len, len + 1), 1),
            "malformed_token",
        ),
    ];
    for (m, expected) in cases {
        let mutated = apply(token, &m);
        let code = validate(&mutated).unwrap_err().code();
        assert_eq!(code, expected, "{m:?}");
    }
    // Byte-identical results are recognised as such.
    assert_eq!(apply(token, &Mutation::SwapSegments(first, first)), *token);
    let dot = token.find('.').unwrap();
    let at = Index::at(dot, token.len());
    assert_eq!(at.index(token.len()), dot);
    assert_eq!(apply(token, &Mutation::ChangeCase(at)), *token);
    // The last signature character carries unused bits: any other character there is refused
    // (non-canonical base64url or a different signature), never decoded to the same bytes.
    let tail = token.as_bytes()[token.len() - 1];
    for &c in B64URL.iter().filter(|&&c| c != tail) {
        let mutated = apply(token, &Mutation::Flip(last, c));
        assert_ne!(mutated, *token);
        let code = validate(&mutated).unwrap_err().code();
        assert!(
            matches!(code, "malformed_token" | "invalid_signature"),
            "{code}"
        );
    }
}
