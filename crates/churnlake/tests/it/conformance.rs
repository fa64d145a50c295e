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
    assert!(text.contains("12 passed, 0 failed"), "unexpected summary:\n{text}");
}

/// The vendored copy must stay identical to the shared suite when that is present.
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
}
