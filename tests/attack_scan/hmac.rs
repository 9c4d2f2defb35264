//! ATK-04, ATK-41: HMAC keyed with each published public key in every encoding (PEM, DER SPKI,
//! PKCS#1, JWK JSON and members; `key_forms`), the keys taken from the JWK Sets served over
//! HTTP, with each HMAC algorithm, with and without the key's `kid`.

use serde_json::json;

use tokengate_testkit::b64;

use crate::key_forms::{KeyForms, key_forms};
use crate::requests::{Cases, Family};
use crate::scan::scan;
use crate::tokens::{hmac_token, object, split3, unb64};
use crate::world::Env;

pub static HMAC: Family = Family {
    tag: "atk04",
    name: "ATK-04/41 HS* key confusion",
    floor: 188,
};

#[test]
fn atk_04_41_hmac_key_confusion() {
    scan(&HMAC, hmac_key_confusion);
}

pub fn hmac_key_confusion(env: &Env, cases: &mut Cases) {
    let payload = split3(&env.valid()).1.to_owned();
    let raw_payload = b64(object(&env.raw_claims()));
    for key in &env.keys {
        let ours = key.issuer == env.issuer.issuer();
        let KeyForms { forms, verifier } = key_forms(key);
        // The forms hold the real key: one of them verifies a real token of that key.
        let real = if ours {
            env.tb().key(&key.kid).sign()
        } else if let Some(ec) = env.raw_ec.iter().find(|ec| ec.kid == key.kid) {
            env.raw_ec_token(ec, false)
        } else {
            env.raw_valid()
        };
        let (h, p, s) = split3(&real);
        verifier
            .verify_sig(format!("{h}.{p}").as_bytes(), &unb64(s))
            .unwrap_or_else(|_| panic!("the {} forms are not the published key", key.kid));
        let payload = if ours { &payload } else { &raw_payload };
        for (form, secret) in &forms {
            for alg in ["HS256", "HS384", "HS512"] {
                let header = json!({"alg": alg, "typ": "at+jwt", "kid": key.kid});
                let token = hmac_token(alg, secret, &header, payload);
                cases.bearer(
                    format!("{alg} keyed with {} {form}", key.kid),
                    &token,
                    "unsupported_algorithm",
                );
            }
            let header = json!({"alg": "HS256", "typ": "JWT"});
            let token = hmac_token("HS256", secret, &header, payload);
            cases.bearer(
                format!("HS256 keyed with {} {form}, no kid", key.kid),
                &token,
                "unsupported_algorithm",
            );
        }
    }
}
