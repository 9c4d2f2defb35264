//! The stand-in's servers live as long as its last handle or token builder.

use tokengate::providers::entra::TokenVersion;
use tokengate::testing::TestEntra;

use crate::{client, get_ok};

#[tokio::test]
async fn the_servers_stop_with_the_last_clone() {
    let entra = TestEntra::start().await.unwrap();
    let keys = entra.v2_keys_url("common");
    let builder = entra.token(TokenVersion::V2, entra.tenant());
    let clone = entra.clone();
    drop(entra);
    assert_eq!(get_ok(&keys).await["keys"].as_array().unwrap().len(), 2);
    drop(clone);
    // The builder still holds the stand-in.
    assert_eq!(client().get(&keys).send().await.unwrap().status(), 200);
    let debug = format!("{builder:?}");
    assert!(debug.contains("EntraTokenBuilder") && !debug.contains("access_as_user"));
    drop(builder.sign());
    let mut stopped = false;
    for _ in 0..50 {
        // The aborted servers stop once the runtime polls them again: no time needs to pass.
        tokio::task::yield_now().await;
        // A new client each time: no pooled connection survives.
        if client().get(&keys).send().await.is_err() {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "the instance still answers");
}
