//! The Microsoft Entra ID preset ([`EntraApi`]) end to end, against an Entra-shaped authority
//! on loopback ([`TestEntra`]): one test per item of section A of the requirements checklist
//! (ENTRA-1..44) that gives a test or that the preset implements, plus the Entra cases of the
//! attack list (ATK-21, ATK-22, ATK-32, ATK-33, ATK-35; ATK-23 and ATK-34 are in
//! `tests/attacks/`).
//!
//! Every refusal is asserted as its exact code, and the items about HTTP answers go through
//! `TokenLayer` and axum. Boundary tests use fixed clocks (`Gate::validate_at`); the request
//! counters of `TestEntra` show what the gate fetched, and from where.

mod audience;
mod claims;
mod customers;
mod discovery;
mod graph;
mod id_tokens;
mod issuers;
mod lifetimes;
mod national_clouds;
mod resource_metadata;
mod scopes_and_roles;
mod signing_keys;
mod support;
mod versions;
