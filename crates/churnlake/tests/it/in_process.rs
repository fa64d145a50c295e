//! `churnlake::run` runs a command line in-process, with the binary's outputs and exit
//! codes.

use std::process::ExitCode;

use crate::support::{ingest, path, repo, run};

fn in_process(args: &[&str]) -> (ExitCode, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut argv = vec!["churnlake"];
    argv.extend_from_slice(args);
    let code = churnlake::run(argv, &mut out, &mut err);
    (code, String::from_utf8(out).expect("UTF-8 stdout"), String::from_utf8(err).expect("UTF-8 stderr"))
}

#[test]
fn in_process_runs_give_the_binary_outputs_and_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    ingest(&repo().join("tests/conformance/cases/09-subscriber-two-subscriptions/drops"), &lake);
    let l = path(&lake);
    for args in [
        vec!["series", "--lake", l, "--format", "csv"],
        vec!["subscriptions", "--lake", l, "--format", "json"],
        vec!["rate", "--lake", l, "--from", "2023-05-01", "--to", "2023-05-05"],
        vec!["explain", "500081", "--lake", l],
        vec!["active", "--lake", l, "--by", "product", "--format", "csv"],
    ] {
        let (code, out, _) = in_process(&args);
        let binary = run(&args);
        assert_eq!(code, ExitCode::SUCCESS, "{args:?}");
        assert_eq!(out, String::from_utf8_lossy(&binary.stdout), "{args:?}: in-process output differs");
    }
    // a request the lake cannot answer is the user's problem (1), with the error on stderr
    let (code, out, err) = in_process(&["explain", "no-such-id", "--lake", l]);
    assert_eq!(code, ExitCode::from(1));
    assert!(out.is_empty() && err.contains("no subscription `no-such-id`"), "{err}");
    let (code, _, err) = in_process(&["series", "--lake", l, "--from", "2020-01-01"]);
    assert_eq!(code, ExitCode::from(1));
    assert!(err.contains("outside the lake's data"), "{err}");
    // clap: help on stdout with 0, a usage error on stderr with 1 (the user's input)
    let (code, out, _) = in_process(&["--help"]);
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.contains("Usage"), "{out}");
    let (code, _, err) = in_process(&["seris"]);
    assert_eq!(code, ExitCode::from(1));
    assert!(err.contains("unrecognized subcommand"), "{err}");
}
