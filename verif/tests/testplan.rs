//! `docs/testplan.md` names tests as `` `path/file.rs::test_name` ``: each
//! must exist, so the plan cannot name a test that was renamed or removed.

use std::path::Path;

#[test]
fn every_test_named_in_the_testplan_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let plan = std::fs::read_to_string(root.join("docs/testplan.md")).unwrap();
    let mut named = 0;
    let mut missing = Vec::new();
    for cell in plan.split('`').skip(1).step_by(2) {
        let Some((file, test)) = cell.split_once(".rs::") else {
            continue;
        };
        named += 1;
        let path = root.join(format!("{file}.rs"));
        let found = std::fs::read_to_string(&path)
            .map(|src| {
                let lines: Vec<&str> = src.lines().collect();
                lines.iter().enumerate().any(|(i, l)| {
                    let defines = l
                        .trim_start()
                        .strip_prefix("fn ")
                        .and_then(|rest| rest.strip_prefix(test))
                        .is_some_and(|rest| rest.starts_with('('));
                    // A test: `#[test]` among the attribute lines above it.
                    defines
                        && lines[..i]
                            .iter()
                            .rev()
                            .take_while(|a| {
                                a.trim_start().starts_with("#[")
                                    || a.trim_start().starts_with("///")
                            })
                            .any(|a| a.trim() == "#[test]")
                })
            })
            .unwrap_or(false);
        if !found {
            missing.push(cell.to_string());
        }
    }
    assert!(named > 50, "the testplan names only {named} tests");
    assert!(
        missing.is_empty(),
        "docs/testplan.md names tests that do not exist: {missing:?}"
    );
}
