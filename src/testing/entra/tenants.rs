//! Tenants: `{tenant}` path segments, and tenant ids, which are GUIDs.

use std::sync::PoisonError;

use super::{TestEntra, random_bytes};

/// A `{tenant}` path segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Tenant {
    /// A tenant id, lowercase.
    Id(String),
    Common,
    Organizations,
    Consumers,
}

impl Tenant {
    pub(super) fn parse(segment: &str) -> Option<Tenant> {
        let lower = segment.to_ascii_lowercase();
        match lower.as_str() {
            "common" => Some(Tenant::Common),
            "organizations" => Some(Tenant::Organizations),
            "consumers" => Some(Tenant::Consumers),
            _ if is_guid(&lower) => Some(Tenant::Id(lower)),
            _ => None,
        }
    }

    /// The segment in URLs.
    pub(super) fn segment(&self) -> &str {
        match self {
            Tenant::Id(id) => id,
            Tenant::Common => "common",
            Tenant::Organizations => "organizations",
            Tenant::Consumers => "consumers",
        }
    }

    /// The tenant id, or `None` for the multi-tenant names, whose issuers are templates.
    pub(super) fn id(&self) -> Option<&str> {
        match self {
            Tenant::Id(id) => Some(id),
            Tenant::Consumers => Some(TestEntra::CONSUMERS_TENANT),
            Tenant::Common | Tenant::Organizations => None,
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A random version-4 GUID, lowercase, as Entra writes tenant and object ids.
pub(super) fn random_guid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl TestEntra {
    /// `9188040d-6c67-4c5b-b112-36a304b66dad`: the tenant of personal Microsoft accounts,
    /// which the `consumers` documents name as their issuer's tenant (ENTRA-11).
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let entra = TestEntra::start().await?;
    /// let url = format!("{}/consumers/v2.0/.well-known/openid-configuration", entra.instance());
    /// let metadata = fetch_json(url).await?;
    /// assert_eq!(metadata["issuer"], entra.v2_issuer(TestEntra::CONSUMERS_TENANT));
    /// # Ok(())
    /// # }
    /// # async fn fetch_json(url: String) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    /// #     let client = reqwest::Client::builder().no_proxy().build()?;
    /// #     Ok(serde_json::from_str(&client.get(url).send().await?.text().await?)?)
    /// # }
    /// ```
    pub const CONSUMERS_TENANT: &'static str = "9188040d-6c67-4c5b-b112-36a304b66dad";

    /// The first tenant, created at [`start`](Self::start): a random lowercase GUID.
    ///
    /// ```
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// assert_eq!(entra.tenant().len(), 36);
    /// assert_eq!(entra.tenant(), entra.tenant().to_lowercase());
    /// # Ok(())
    /// # }
    /// ```
    pub fn tenant(&self) -> &str {
        &self.shared().first_tenant
    }

    /// A new tenant id: a random lowercase GUID. (The stand-in serves every GUID as a tenant;
    /// this only makes a fresh one, for tests with several tenants.)
    ///
    /// ```
    /// use tokengate::providers::entra::TokenVersion;
    /// use tokengate::testing::TestEntra;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let entra = TestEntra::start().await?;
    /// let other = entra.add_tenant();
    /// assert_ne!(other, entra.tenant());
    /// let token = entra.token(TokenVersion::V2, &other).sign();
    /// # let _ = token;
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_tenant(&self) -> String {
        let tenant = random_guid();
        self.shared()
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tenant.clone());
        tenant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_recognized_and_generated_lowercase() {
        let guid = random_guid();
        assert!(is_guid(&guid), "{guid}");
        assert_eq!(guid, guid.to_lowercase());
        assert_eq!(&guid[14..15], "4");
        assert!(is_guid("9188040D-6C67-4C5B-B112-36A304B66DAD"));
        assert!(!is_guid("9188040d6c674c5bb11236a304b66dad"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
        assert_eq!(
            Tenant::parse("9188040D-6C67-4C5B-B112-36A304B66DAD"),
            Some(Tenant::Id(TestEntra::CONSUMERS_TENANT.to_owned()))
        );
        assert_eq!(Tenant::parse("Common"), Some(Tenant::Common));
        assert_eq!(Tenant::parse("contoso.onmicrosoft.com"), None);
    }
}
