//! One family's test: its requests, distinct and at least as many as it ever had, each answered
//! exactly as expected; the handler run once for each one expected to pass, for no other; no
//! connection to the counting server; at most one key-set refresh per issuer; every refusal
//! logged with its code, and none of the family's secrets logged.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use crate::judge::{mismatches, table_head, truncate};
use crate::logs::{assert_secret_free, unlogged_refusals};
use crate::requests::{Case, Cases, Expect, Family, Generate};
use crate::send::send_all;
use crate::world::{Env, world};

/// The family's cases, as `generate` writes them against the shared world.
pub fn cases(env: &Env, generate: Generate) -> Vec<Case> {
    let mut cases = Cases::default();
    generate(env, &mut cases);
    cases.list
}

/// The names of the cases whose name or request an earlier case has already.
pub fn repeated<'c>(cases: impl IntoIterator<Item = &'c Case>) -> Vec<&'c str> {
    let (mut names, mut wires) = (HashSet::new(), HashSet::new());
    cases
        .into_iter()
        .filter(|case| !names.insert(&case.name) || !wires.insert(&case.wire))
        .map(|case| case.name.as_str())
        .collect()
}

/// Runs `family`'s test.
#[track_caller]
pub fn scan(family: &'static Family, generate: Generate) {
    let world = world();
    let env = world.env;
    let started = Instant::now();
    let list = cases(env, generate);
    let twice = repeated(&list);
    assert!(
        twice.is_empty(),
        "names or requests given twice: {twice:#?}"
    );
    let hostile = list.iter().filter(|c| c.expect != Expect::Accepted).count();
    assert!(
        hostile >= family.floor,
        "{}: {hostile} distinct hostile requests, fewer than the {} it had",
        family.name,
        family.floor
    );

    let fetches = || (env.issuer.jwks_requests(), env.raw.jwks_hits());
    let before = fetches();
    let list = Arc::new(list);
    let answers = world
        .runtime
        .block_on(send_all(env, family.tag, Arc::clone(&list)));
    let after = fetches();
    eprintln!(
        "attack scan: {}: {hostile} distinct hostile requests, {} accepted, in {:.1?}",
        family.name,
        list.len() - hostile,
        started.elapsed()
    );
    let wrong = mismatches(family.name, &list, &answers);
    assert!(
        wrong.is_empty(),
        "{} of {} requests were not answered as expected:\n{}\n{}",
        wrong.len(),
        list.len(),
        table_head(),
        wrong.join("\n")
    );

    // The handler ran once for each accepted request, never for another.
    let ran: Vec<String> = list
        .iter()
        .enumerate()
        .filter_map(|(index, case)| {
            let hits = env.hits(&format!("{}/{index}", family.tag));
            let want = usize::from(case.expect == Expect::Accepted);
            (hits != want).then(|| format!("{}: {hits} runs", truncate(&case.name, 58)))
        })
        .collect();
    assert!(
        ran.is_empty(),
        "handler runs, expected 0 (1 for controls):\n{ran:#?}"
    );
    // No family may make tokengate connect to a URL named in a token (1 is the probe).
    assert_eq!(
        env.counting.connections(),
        1,
        "the counting server was contacted: {:?}",
        env.counting.requests()
    );
    // Unknown kids and bad signatures cost at most one refresh per cooldown (60 s, longer than
    // any family takes).
    let refreshes = (after.0 - before.0, after.1 - before.1);
    assert!(
        refreshes.0 <= 1 && refreshes.1 <= 1,
        "key-set fetches during the family (test issuer, raw issuer): {refreshes:?}"
    );

    let unlogged = unlogged_refusals(family.tag, &list);
    assert!(
        unlogged.is_empty(),
        "{} refusals not logged with their code:\n{}",
        unlogged.len(),
        unlogged.join("\n")
    );
    let mut secrets = env.material.clone();
    secrets.extend(list.iter().flat_map(|case| case.secrets.iter().cloned()));
    secrets.sort_unstable();
    secrets.dedup();
    assert_secret_free(family.name, &secrets);
}
