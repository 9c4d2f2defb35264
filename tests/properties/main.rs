//! Property tests: whatever arrives as a token or as a key set, tokengate neither panics nor
//! accepts what it should not, and every refusal carries a documented code.
//!
//! Keys are generated once per test binary (`rs256()`, `key_for(ES256)` of the testkit); only
//! the re-signing properties sign per case. Failing cases are not persisted to disk: proptest
//! prints the minimal failing input, which belongs in a named regression test.

mod arbitrary_input;
mod decodable_input;
mod generator_reach;
mod generators;
mod jwks_documents;
mod mutations;
mod resigned_claims;
mod support;
