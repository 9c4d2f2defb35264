//! The clocks: each test clock comes from its token's own lifetime, and every token is expired
//! today.

use std::time::SystemTime;

use super::fixtures::{ALL_CASES, T04_CASE, T17_CASE, T18_CASE, T20_CASE};
use super::support::{outcome, payload_of};

/// The fixed clocks are the midpoints of the tokens' own lifetimes: `iat`, `nbf` and `exp`
/// are read from each decoded token and compared with the constants above.
#[test]
fn clocks_come_from_the_tokens() {
    for case in ALL_CASES {
        let claims = payload_of(case.token());
        assert_eq!(claims["iss"], case.iss, "{}", case.name);
        assert_eq!(claims["aud"], case.aud, "{}", case.name);
        assert_eq!(claims["iat"], case.iat, "{}", case.name);
        assert_eq!(claims["nbf"], case.iat, "{}", case.name);
        assert_eq!(claims["exp"], case.exp, "{}", case.name);
        assert_eq!(case.clock, (case.iat + case.exp) / 2, "{}", case.name);
        assert!(case.clock - case.iat >= 1800 && case.exp - case.clock >= 1800);
    }
}

/// The same gates refuse every real token at today's date: the fixed clocks are what let
/// them through, not a relaxed lifetime check.
#[test]
fn real_tokens_are_expired_today() {
    for case in [&T04_CASE, &T17_CASE, &T18_CASE, &T20_CASE] {
        let gate = case.gate();
        assert_eq!(
            outcome(&gate, case.token(), case.at()),
            "ok",
            "{}",
            case.name
        );
        assert_eq!(
            outcome(&gate, case.token(), SystemTime::now()),
            "token_expired",
            "{}",
            case.name
        );
    }
}
