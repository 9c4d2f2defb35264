//! Glewlwyd's admin REST API, the only way to configure it: scopes, the OIDC plugin instance,
//! clients. The session cookie from the login is kept by hand (reqwest's cookie store is a
//! feature tokengate does not enable).

use http::StatusCode;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::Method;
use serde_json::{Value, json};

/// The administrator the package's schema creates.
const ADMIN: (&str, &str) = ("admin", "password");
/// The session cookie's name, as in the config (`session_key`).
const SESSION: &str = "GLEWLWYD2_SESSION_ID";

/// A logged-in administrator.
pub(crate) struct Admin {
    /// `{server}/api`.
    api: String,
    http: reqwest::Client,
    /// `GLEWLWYD2_SESSION_ID=...`.
    pub(crate) cookie: String,
}

impl Admin {
    pub(crate) async fn login(api: &str, http: &reqwest::Client) -> Admin {
        let response = http
            .post(format!("{api}/auth/"))
            .header(CONTENT_TYPE, "application/json")
            .body(json!({"username": ADMIN.0, "password": ADMIN.1}).to_string())
            .send()
            .await
            .expect("the admin login");
        assert_eq!(response.status(), StatusCode::OK, "admin login");
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .find(|pair| pair.starts_with(&format!("{SESSION}=")))
            .expect("a session cookie")
            .to_owned();
        Admin {
            api: api.to_owned(),
            http: http.clone(),
            cookie,
        }
    }

    /// A call that must succeed; its JSON body, or `Null` for an empty one.
    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}/{path}", self.api))
            .header(COOKIE, &self.cookie);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("an admin API response");
        let status = response.status();
        let text = response.text().await.unwrap();
        // Glewlwyd's error bodies list what is wrong with a module's parameters.
        assert!(
            status.is_success(),
            "admin {method} {path}: {status} {text}"
        );
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("admin JSON")
        }
    }

    /// A scope a client may get without a user (client credentials).
    pub(crate) async fn add_scope(&self, name: &str) {
        let scope = json!({"name": name, "display_name": name,
                           "description": format!("tokengate test scope {name}"),
                           "password_required": false});
        self.call(Method::POST, "scope/", Some(scope)).await;
    }

    /// Makes the database client module store `property` (it keeps only the properties its
    /// `data-format` lists), then restarts the module.
    pub(crate) async fn allow_client_property(&self, property: &str) {
        let mut module = self.call(Method::GET, "mod/client/database", None).await;
        module["parameters"]["data-format"][property] =
            json!({"multiple": false, "read": true, "write": true});
        self.call(Method::PUT, "mod/client/database", Some(module))
            .await;
        self.call(Method::PUT, "mod/client/database/reset", None)
            .await;
    }

    pub(crate) async fn add_plugin(&self, plugin: Value) {
        self.call(Method::POST, "mod/plugin/", Some(plugin)).await;
    }

    /// Replaces a plugin instance's settings and restarts it, so that they apply at once.
    pub(crate) async fn replace_plugin(&self, name: &str, plugin: Value) {
        self.call(Method::PUT, &format!("mod/plugin/{name}"), Some(plugin))
            .await;
        self.call(Method::PUT, &format!("mod/plugin/{name}/reset"), None)
            .await;
    }

    pub(crate) async fn add_client(&self, client: Value) {
        self.call(Method::POST, "client/", Some(client)).await;
    }
}
