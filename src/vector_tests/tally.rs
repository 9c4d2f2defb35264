//! Bookkeeping: every vector's outcome against its label, counted per file.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Deserialize;

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Label {
    Valid,
    Invalid,
    Acceptable,
}

/// What a strict verifier does with a mislabeled vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Strict {
    Accept,
    Reject,
}

/// Per-file counts. Every vector lands in exactly one bucket.
pub(super) struct Tally {
    pub(super) file: String,
    pub(super) expected_total: usize,
    pub(super) total: usize,
    /// Outcome equals the label (for `acceptable`: see `acceptable`).
    pub(super) agree: usize,
    /// Labeled `acceptable`; either outcome is fine, and which one it was is printed.
    pub(super) acceptable: Vec<String>,
    /// Label contradicted by the file itself; the strict outcome was asserted instead.
    pub(super) allow_listed: Vec<String>,
    /// Refused by a deliberate tokengate rule although labeled valid.
    pub(super) divergences: Vec<String>,
    /// Anything else: each one fails the test.
    pub(super) disagreements: Vec<String>,
    /// How often each refusal code (or key rule) decided a case.
    pub(super) refusals: BTreeMap<String, usize>,
    /// Free-form notes printed with the summary.
    pub(super) notes: Vec<String>,
}

impl Tally {
    pub(super) fn new(file: &str, expected_total: usize) -> Tally {
        Tally {
            file: file.to_owned(),
            expected_total,
            total: 0,
            agree: 0,
            acceptable: Vec::new(),
            allow_listed: Vec::new(),
            divergences: Vec::new(),
            disagreements: Vec::new(),
            refusals: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    pub(super) fn refused_by(&mut self, rule: impl Into<String>) {
        *self.refusals.entry(rule.into()).or_default() += 1;
    }

    /// Compares an accept/refuse outcome with a label that is believed to be right.
    pub(super) fn compare(
        &mut self,
        id: impl fmt::Display,
        label: Label,
        accepted: bool,
        detail: &str,
    ) {
        self.total += 1;
        match (label, accepted) {
            (Label::Valid, true) | (Label::Invalid, false) => self.agree += 1,
            (Label::Acceptable, _) => self.acceptable.push(format!(
                "{id}: {} ({detail})",
                if accepted { "accepted" } else { "refused" }
            )),
            _ => self.disagreements.push(format!(
                "{id}: labeled {label:?} but {} ({detail})",
                if accepted { "accepted" } else { "refused" }
            )),
        }
    }

    /// A vector whose label the file itself contradicts: the strict outcome is asserted, and
    /// the entry must go once the label is fixed upstream.
    pub(super) fn mislabeled(
        &mut self,
        tc_id: u32,
        label: Label,
        strict: Strict,
        accepted: bool,
        line: &str,
    ) {
        let label_says = if label == Label::Valid {
            Strict::Accept
        } else {
            Strict::Reject
        };
        assert_ne!(
            label_says, strict,
            "tcId {tc_id}: the label now agrees with the strict outcome (fixed upstream?): \
             remove it from the allow-list"
        );
        let got = if accepted {
            Strict::Accept
        } else {
            Strict::Reject
        };
        self.total += 1;
        if got == strict {
            self.allow_listed.push(format!(
                "tcId {tc_id} labeled {label:?}, strict {strict:?}: {line}"
            ));
        } else {
            self.disagreements.push(format!(
                "tcId {tc_id} (allow-listed): expected strict {strict:?}, got {got:?}: {line}"
            ));
        }
    }

    /// A valid vector that a deliberate tokengate rule refuses; `as_designed` says the refusal
    /// came from exactly that rule.
    pub(super) fn divergence(&mut self, tc_id: u32, label: Label, as_designed: bool, line: &str) {
        self.total += 1;
        if label == Label::Valid && as_designed {
            self.divergences.push(format!("tcId {tc_id}: {line}"));
        } else {
            self.disagreements.push(format!(
                "tcId {tc_id} (listed divergence, labeled {label:?}) not refused as designed: {line}"
            ));
        }
    }

    /// Prints the summary and fails on any disagreement or miscount.
    pub(super) fn finish(self) {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "== {}: {} vectors, {} agree, {} acceptable, {} allow-listed mislabeled, {} policy divergences",
            self.file,
            self.total,
            self.agree,
            self.acceptable.len(),
            self.allow_listed.len(),
            self.divergences.len()
        );
        for (heading, lines) in [
            ("acceptable", &self.acceptable),
            ("allow-listed mislabeled", &self.allow_listed),
            ("policy divergence", &self.divergences),
            ("note", &self.notes),
            ("DISAGREEMENT", &self.disagreements),
        ] {
            for line in lines {
                let _ = writeln!(out, "   {heading}: {line}");
            }
        }
        let _ = writeln!(out, "   refusals by rule: {:?}", self.refusals);
        println!("{out}");

        assert!(
            self.disagreements.is_empty(),
            "{}: {} disagreements:\n{}",
            self.file,
            self.disagreements.len(),
            self.disagreements.join("\n")
        );
        assert_eq!(
            self.total, self.expected_total,
            "{}: vector count",
            self.file
        );
        assert_eq!(
            self.agree + self.acceptable.len() + self.allow_listed.len() + self.divergences.len(),
            self.total,
            "{}: every vector is in exactly one bucket",
            self.file
        );
    }
}
