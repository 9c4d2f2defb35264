//! What the fuzz targets share: fixed key sets, the tokens those keys really signed, fixed
//! clocks, and a way to run `Gate::validate_at` without a runtime.
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokengate::{Algorithm, Claims, Gate, IssuerProfile, Rejection};

/// Runs a future that must finish without waiting: with keys given in the configuration, a
/// gate never fetches anything, so `validate_at` is ready at its first poll.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("validation with fixed keys waited for something"),
    }
}

/// Seconds since the epoch as a clock.
pub fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// One issuer of the validate target, with the one token of it that its keys really signed
/// and the clock at which that token is valid.
pub struct Signed {
    pub name: &'static str,
    pub iss: &'static str,
    pub aud: &'static str,
    pub jwks: &'static str,
    pub token: &'static str,
    pub clock: u64,
}

/// The JWK Set and token of the crate's documentation example (ES256, valid 2026 to 2100).
pub const DOC_JWKS: &str = include_str!("../seeds/jwks/doc-jwks.json");
pub const DOC_TOKEN: &str = include_str!("../seeds/validate/doc-es256.jwt");

/// Every token in this list verifies against the validate target's gate at its clock; no
/// other header and payload can (forging a signature is not something a fuzzer does).
pub const SIGNED: [Signed; 5] = [
    Signed {
        name: "doc",
        iss: "https://login.example.com/",
        aud: "api://orders",
        jwks: DOC_JWKS,
        token: DOC_TOKEN,
        clock: 1_900_000_000, // 2030-03-17
    },
    // Real Entra tokens with the keys Microsoft published for them (tests/entra_real/).
    Signed {
        name: "T04",
        iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
        aud: "spn:6514a8ca-d9e4-4155-b292-65258398f3aa",
        jwks: include_str!("../../tests/entra-real/keys/K06_YbRAQ_2016_passport-azure-ad.json"),
        token: include_str!(
            "../../tests/entra-real/tokens/T04_v1-access-token_spn-aud_2016_passport.jwt"
        ),
        clock: 1_467_313_198,
    },
    Signed {
        name: "T17",
        iss: "https://login.microsoftonline.com/41cb5478-1f8a-4a8e-a2b7-58bbc1198c52/v2.0",
        aud: "a55b004f-3e93-434f-800b-476edb7602db",
        jwks: include_str!(
            "../../tests/entra-real/keys/K01_common-v1-keys_2022_MSIdentityTools.json"
        ),
        token: include_str!(
            "../../tests/entra-real/tokens/T17_v2-access-token_app-only-roles_2021_capstone.jwt"
        ),
        clock: 1_626_785_151,
    },
    Signed {
        name: "T18",
        iss: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
        aud: "fa502207-b9c5-4400-bb1c-fa23c20422af",
        jwks: include_str!("../../tests/entra-real/keys/K02_common-keys_2023_wso2.json"),
        token: include_str!(
            "../../tests/entra-real/tokens/T18_v1-access-token_app-only_ms-tenant_2022_sellercohort.jwt"
        ),
        clock: 1_664_155_915,
    },
    Signed {
        name: "T20",
        iss: "https://login.microsoftonline.com/966ac572-f5b7-4bbe-aa88-c76419c0f851/v2.0",
        aud: "bff62dcb-88dc-4a13-9e26-1cbffb96ec64",
        jwks: include_str!(
            "../../tests/entra-real/keys/K14_common-v2-keys_2024-06-18_panva-wellknown.json"
        ),
        token: include_str!(
            "../../tests/entra-real/tokens/T20_v2-access-token_delegated_nav-test-tenant_2024-06-17a.jwt"
        ),
        clock: 1_718_612_157,
    },
];

impl Signed {
    /// The token without the newline its file ends with.
    pub fn token(&self) -> &'static str {
        self.token.trim_end()
    }
}

/// `header '.' payload` of a compact JWS: what its signature covers.
pub fn signing_input(token: &str) -> Option<&str> {
    token.rsplit_once('.').map(|(input, _)| input)
}

/// The outcome of a validation in a form two outcomes can be compared in.
pub fn outcome(result: &Result<Arc<Claims>, Rejection>) -> Result<&str, &'static str> {
    match result {
        Ok(claims) => Ok(claims.json()),
        Err(rejection) => Err(rejection.code()),
    }
}

/// The gate of the validate target: every issuer of [`SIGNED`] with its own keys, RS256 for
/// the Entra ones (their keys carry no `alg`), the default token cache.
pub fn signed_gate() -> Gate {
    let mut builder = Gate::builder();
    for signed in &SIGNED {
        let mut profile = IssuerProfile::new(signed.iss)
            .audience(signed.aud)
            .jwks(signed.jwks);
        if signed.name != "doc" {
            profile = profile.algorithms([Algorithm::RS256]);
        }
        builder = builder.issuer(profile);
    }
    builder.build().expect("the validate target's gate builds")
}
