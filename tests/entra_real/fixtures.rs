//! The fixtures, embedded so the tests run from a clean clone: the recorded tokens (Txx, Nxx), the
//! key files (Kxx) and, for each token, its issuer, audience, key file and the clock inside its
//! lifetime.

use std::time::SystemTime;

use tokengate::{Gate, IssuerProfile};

use super::support::{at, build, entra};

const T04: &str =
    include_str!("../entra-real/tokens/T04_v1-access-token_spn-aud_2016_passport.jwt");
const T05: &str = include_str!("../entra-real/tokens/T05_v1-id-token_implicit_2016_passport.jwt");
const T13: &str =
    include_str!("../entra-real/tokens/T13_v1-id-token_x5t-only_2014_IdentityModel.jwt");
const T17: &str =
    include_str!("../entra-real/tokens/T17_v2-access-token_app-only-roles_2021_capstone.jwt");
const T18: &str = include_str!(
    "../entra-real/tokens/T18_v1-access-token_app-only_ms-tenant_2022_sellercohort.jwt"
);
const T20: &str = include_str!(
    "../entra-real/tokens/T20_v2-access-token_delegated_nav-test-tenant_2024-06-17a.jwt"
);
const N01: &str =
    include_str!("../entra-real/negative/N01_v1-id-token_alg-none_unsigned_2019_alerta.jwt");

pub(crate) const K01: &str =
    include_str!("../entra-real/keys/K01_common-v1-keys_2022_MSIdentityTools.json");
pub(crate) const K02: &str = include_str!("../entra-real/keys/K02_common-keys_2023_wso2.json");
pub(crate) const K06: &str =
    include_str!("../entra-real/keys/K06_YbRAQ_2016_passport-azure-ad.json");
pub(crate) const K08: &str =
    include_str!("../entra-real/keys/K08_kriMP_2014_IdentityModel-JsonWebKeySet.json");
pub(crate) const K14: &str =
    include_str!("../entra-real/keys/K14_common-v2-keys_2024-06-18_panva-wellknown.json");

/// One real token: its issuer and audience, its lifetime, and the clock it is judged at.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    file: &'static str,
    pub(crate) iss: &'static str,
    pub(crate) aud: &'static str,
    /// `iat`, equal to `nbf` in every one of these tokens.
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    /// The fixed clock: `(iat + exp) / 2`.
    pub(crate) clock: u64,
    pub(crate) keys: &'static str,
}

impl Case {
    /// The token text (the files end with a newline, which is not part of the token).
    pub(crate) fn token(&self) -> &'static str {
        self.file.trim_end()
    }

    pub(crate) fn at(&self) -> SystemTime {
        at(self.clock)
    }

    /// The issuer as the brief says to configure it: exact `iss`, its `aud`, RS256 only.
    pub(crate) fn profile(&self) -> IssuerProfile {
        entra(self.iss, self.aud, self.keys)
    }

    pub(crate) fn gate(&self) -> Gate {
        build(self.profile())
    }
}

pub(crate) const T04_CASE: Case = Case {
    name: "T04",
    file: T04,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    aud: "spn:6514a8ca-d9e4-4155-b292-65258398f3aa",
    iat: 1_467_311_248,
    exp: 1_467_315_148,
    clock: 1_467_313_198, // 2016-06-30 18:59 UTC
    keys: K06,
};

pub(crate) const T05_CASE: Case = Case {
    name: "T05",
    file: T05,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    aud: "2abf3a52-7d86-460b-a1ef-77dc43de8aad",
    iat: 1_471_313_417,
    exp: 1_471_317_317,
    clock: 1_471_315_367, // 2016-08-16 02:42 UTC
    keys: K06,
};

/// T13's verbatim key file cannot be loaded (see `key_hygiene_k08_verbatim_is_refused`); the
/// T13 tests build their key sets from K08's JWKs themselves.
pub(crate) const T13_CASE: Case = Case {
    name: "T13",
    file: T13,
    iss: "https://sts.windows.net/add29489-7269-41f4-8841-b63c95564420/",
    aud: "fe78e0b4-6fe7-47e6-812c-fb75cee266a4",
    iat: 1_419_268_520,
    exp: 1_419_272_420,
    clock: 1_419_270_470, // 2014-12-22 17:47 UTC
    keys: K08,
};

pub(crate) const T17_CASE: Case = Case {
    name: "T17",
    file: T17,
    iss: "https://login.microsoftonline.com/41cb5478-1f8a-4a8e-a2b7-58bbc1198c52/v2.0",
    aud: "a55b004f-3e93-434f-800b-476edb7602db",
    iat: 1_626_783_201,
    exp: 1_626_787_101,
    clock: 1_626_785_151, // 2021-07-20 12:45 UTC
    keys: K01,
};

pub(crate) const T18_CASE: Case = Case {
    name: "T18",
    file: T18,
    iss: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    aud: "fa502207-b9c5-4400-bb1c-fa23c20422af",
    iat: 1_664_112_565,
    exp: 1_664_199_265,   // a 24-hour token
    clock: 1_664_155_915, // 2022-09-26 01:31 UTC
    keys: K02,
};

pub(crate) const T20_CASE: Case = Case {
    name: "T20",
    file: T20,
    iss: "https://login.microsoftonline.com/966ac572-f5b7-4bbe-aa88-c76419c0f851/v2.0",
    aud: "bff62dcb-88dc-4a13-9e26-1cbffb96ec64",
    iat: 1_718_609_937,
    exp: 1_718_614_377,
    clock: 1_718_612_157, // 2024-06-17 08:15 UTC
    keys: K14,
};

/// Unsigned; the keys are only there so the gate builds (any real Entra set would do).
pub(crate) const N01_CASE: Case = Case {
    name: "N01",
    file: N01,
    iss: "https://sts.windows.net/f24341ef-7a6f-4cff-abb7-99a11ab11127/",
    aud: "38ba6223-a887-43e2-9f7d-8d539df55f67",
    iat: 1_553_979_122,
    exp: 1_553_983_022,
    clock: 1_553_981_072, // 2019-03-30 21:24 UTC
    keys: K01,
};

pub(crate) const ALL_CASES: [&Case; 7] = [
    &T04_CASE, &T05_CASE, &T13_CASE, &T17_CASE, &T18_CASE, &T20_CASE, &N01_CASE,
];
