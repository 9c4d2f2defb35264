//! The fixtures, embedded so the tests run from a clean clone: the recorded tokens, key files and
//! metadata documents, the hosts they name, and for each token its tenant, version and clock.

use std::time::SystemTime;

use tokengate::providers::entra::EntraApi;

use super::support::at;

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

pub(crate) const K01: &str =
    include_str!("../entra-real/keys/K01_common-v1-keys_2022_MSIdentityTools.json");
const K02: &str = include_str!("../entra-real/keys/K02_common-keys_2023_wso2.json");
const K06: &str = include_str!("../entra-real/keys/K06_YbRAQ_2016_passport-azure-ad.json");
pub(crate) const K08: &str =
    include_str!("../entra-real/keys/K08_kriMP_2014_IdentityModel-JsonWebKeySet.json");
const K14: &str =
    include_str!("../entra-real/keys/K14_common-v2-keys_2024-06-18_panva-wellknown.json");

/// The newest real `common` v1 document (2024-02-02).
pub(crate) const D02_V1: &str = include_str!(
    "../entra-real/discovery/D02_common-v1-openid-configuration_2024-02-02_IdentityModel.json"
);
/// The newest real `common` v2 document (2024-06-18).
pub(crate) const D06_V2: &str = include_str!(
    "../entra-real/discovery/D06_common-v2-openid-configuration_2024-06-18_panva-wellknown.json"
);

pub(crate) const GLOBAL_HOST: &str = "login.microsoftonline.com";
pub(crate) const US_GOV_HOST: &str = "login.microsoftonline.us";
/// The host of v1 issuers: never fetched from (ENTRA-3); resolved to the loopback server only
/// so that a request to it would be seen rather than sent to Microsoft.
pub(crate) const STS_HOST: &str = "sts.windows.net";
pub(crate) const US_GOV_INSTANCE: &str = "https://login.microsoftonline.us";

/// One real token: its tenant, audience, lifetime and the clock it is judged at.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) file: &'static str,
    /// `iss`, as the token has it.
    pub(crate) iss: &'static str,
    pub(crate) tid: &'static str,
    /// `aud`, as the token has it.
    pub(crate) aud: &'static str,
    /// The API's client id: `aud`, or the GUID inside it (T04's `spn:` audience).
    pub(crate) client_id: &'static str,
    /// `iat`, equal to `nbf` in every one of these tokens.
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    /// The real key file that verifies it, as the tenant's key set.
    pub(crate) keys: &'static str,
}

impl Case {
    /// The token text (the files end with a newline, which is not part of the token).
    pub(crate) fn token(&self) -> &'static str {
        self.file.trim_end()
    }

    /// The fixed clock: the midpoint of `iat` .. `exp`.
    pub(crate) fn at(&self) -> SystemTime {
        at((self.iat + self.exp) / 2)
    }

    /// The preset as the API the token was issued for would configure it.
    pub(crate) fn api(&self) -> EntraApi {
        EntraApi::single_tenant(self.tid, self.client_id)
    }
}

pub(crate) const T04_CASE: Case = Case {
    name: "T04",
    file: T04,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    tid: "268da1a1-9db4-48b9-b1fe-683250ba90cc",
    aud: "spn:6514a8ca-d9e4-4155-b292-65258398f3aa",
    client_id: "6514a8ca-d9e4-4155-b292-65258398f3aa",
    iat: 1_467_311_248,
    exp: 1_467_315_148,
    keys: K06,
};

pub(crate) const T05_CASE: Case = Case {
    name: "T05",
    file: T05,
    iss: "https://sts.windows.net/268da1a1-9db4-48b9-b1fe-683250ba90cc/",
    tid: "268da1a1-9db4-48b9-b1fe-683250ba90cc",
    aud: "2abf3a52-7d86-460b-a1ef-77dc43de8aad",
    client_id: "2abf3a52-7d86-460b-a1ef-77dc43de8aad",
    iat: 1_471_313_417,
    exp: 1_471_317_317,
    keys: K06,
};

/// `keys` is unused for T13: see [`k08_as_entra`].
pub(crate) const T13_CASE: Case = Case {
    name: "T13",
    file: T13,
    iss: "https://sts.windows.net/add29489-7269-41f4-8841-b63c95564420/",
    tid: "add29489-7269-41f4-8841-b63c95564420",
    aud: "fe78e0b4-6fe7-47e6-812c-fb75cee266a4",
    client_id: "fe78e0b4-6fe7-47e6-812c-fb75cee266a4",
    iat: 1_419_268_520,
    exp: 1_419_272_420,
    keys: K08,
};

pub(crate) const T17_CASE: Case = Case {
    name: "T17",
    file: T17,
    iss: "https://login.microsoftonline.com/41cb5478-1f8a-4a8e-a2b7-58bbc1198c52/v2.0",
    tid: "41cb5478-1f8a-4a8e-a2b7-58bbc1198c52",
    aud: "a55b004f-3e93-434f-800b-476edb7602db",
    client_id: "a55b004f-3e93-434f-800b-476edb7602db",
    iat: 1_626_783_201,
    exp: 1_626_787_101,
    keys: K01,
};

pub(crate) const T18_CASE: Case = Case {
    name: "T18",
    file: T18,
    iss: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    tid: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    aud: "fa502207-b9c5-4400-bb1c-fa23c20422af",
    client_id: "fa502207-b9c5-4400-bb1c-fa23c20422af",
    iat: 1_664_112_565,
    exp: 1_664_199_265,
    keys: K02,
};

pub(crate) const T20_CASE: Case = Case {
    name: "T20",
    file: T20,
    iss: "https://login.microsoftonline.com/966ac572-f5b7-4bbe-aa88-c76419c0f851/v2.0",
    tid: "966ac572-f5b7-4bbe-aa88-c76419c0f851",
    aud: "bff62dcb-88dc-4a13-9e26-1cbffb96ec64",
    client_id: "bff62dcb-88dc-4a13-9e26-1cbffb96ec64",
    iat: 1_718_609_937,
    exp: 1_718_614_377,
    keys: K14,
};

pub(crate) const ALL_CASES: [&Case; 6] = [
    &T04_CASE, &T05_CASE, &T13_CASE, &T17_CASE, &T18_CASE, &T20_CASE,
];
