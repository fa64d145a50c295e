//! The METRICS.md conformance suite (tests/conformance, a copy of the shared suite) run
//! against the binary built with these tests.

use crate::support::{bin, repo};

#[test]
fn conformance_suite_passes() {
    let runner = repo().join("tests/conformance/run.sh");
    let out =
        std::process::Command::new("bash").arg(&runner).arg(bin()).output().expect("bash runs the conformance suite");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(out.status.success(), "conformance failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    // every case folder must have run and passed: the count comes from the suite itself
    let cases = std::fs::read_dir(repo().join("tests/conformance/cases"))
        .expect("the conformance cases")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("drops").is_dir())
        .count();
    assert!(cases >= 13, "only {cases} conformance cases found");
    assert!(text.contains(&format!("{cases} passed, 0 failed")), "expected {cases} cases to pass:\n{text}");
}

/// The vendored copies (the suite, `docs/METRICS.md`, `docs/FORMATS.md`) must stay identical
/// to the shared ones when those are present.
#[test]
fn vendored_suite_matches_shared_copy() {
    let shared = repo().join("../shared/conformance");
    if !shared.is_dir() {
        eprintln!("no ../shared/conformance beside the checkout: nothing to compare");
        return;
    }
    let out = std::process::Command::new("diff")
        .args(["-r", "-q"])
        .arg(&shared)
        .arg(repo().join("tests/conformance"))
        .output()
        .expect("diff runs");
    assert!(
        out.status.success(),
        "tests/conformance differs from the shared suite:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for doc in ["METRICS.md", "FORMATS.md"] {
        let ours = std::fs::read(repo().join("docs").join(doc)).expect("the repository's copy of the doc");
        let shared = std::fs::read(repo().join("../shared").join(doc)).expect("the shared doc");
        assert!(ours == shared, "docs/{doc} differs from ../shared/{doc}: copy it over");
    }
}
