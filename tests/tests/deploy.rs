//! The Lambda deployment template (`deploy/lambda/template.yaml`): `cfn-lint` accepts it, and
//! rejects a broken copy (so the check can fail); its IAM policy grants exactly the calls the
//! function makes, on exactly its key and secret. Without cfn-lint the test skips, and fails
//! under `CI=true`.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

use std::path::PathBuf;
use std::process::Command;

use cfsign_tests::proc::capture;
use cfsign_tests::require::skip_or_fail;

fn template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/lambda/template.yaml")
}

#[test]
fn the_lambda_template_passes_cfn_lint_and_grants_least_privilege() {
    let text = std::fs::read_to_string(template()).unwrap();
    // Least privilege, read from the template itself: each statement names one resource.
    for (actions, resource) in [
        (
            "[kms:Sign, kms:GetPublicKey, kms:DescribeKey]",
            "!Ref KmsKeyArn",
        ),
        ("secretsmanager:GetSecretValue", "!Ref ConfigSecretArn"),
    ] {
        let at = text
            .find(&format!("Action: {actions}"))
            .unwrap_or_else(|| panic!("no {actions}"));
        let next = text[at..].lines().nth(1).unwrap().trim();
        assert_eq!(next, format!("Resource: {resource}"), "{actions}");
    }
    assert!(!text.contains("Resource: \"*\"") && !text.contains("Resource: '*'"));
    for needle in [
        "Runtime: provided.al2023",
        "ReservedConcurrentExecutions:",
        "FunctionUrlConfig:",
        "CFSIGN_SERVER_CONFIG_SECRET:",
        "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: \"true\"",
    ] {
        assert!(text.contains(needle), "the template lacks {needle}");
    }

    if !Command::new("cfn-lint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        skip_or_fail("cfn-lint is not installed (pip install cfn-lint)");
        return;
    }
    let out = capture(Command::new("cfn-lint").arg(template()), None).unwrap();
    assert!(out.ok(), "cfn-lint rejects the template: {}", out.summary());
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("template.yaml");
    std::fs::write(&broken, text.replace("provided.al2023", "provided.al2099")).unwrap();
    let out = capture(Command::new("cfn-lint").arg(&broken), None).unwrap();
    assert!(
        !out.ok() && out.stdout.contains("E3030"),
        "cfn-lint missed a bad runtime: {}",
        out.summary()
    );
}
