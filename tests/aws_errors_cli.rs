//! What `warden` says when AWS cannot be reached as asked: what is wrong and what to do.

use std::process::Command;

#[test]
fn without_credentials_the_cli_says_how_to_provide_them() {
    let home = std::env::temp_dir().join(format!("warden-no-aws-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["sessions", "list", "--table", "sessions"])
        // A closed local port: nothing is sent anyway, the credentials are missing first.
        .args(["--endpoint-url", "http://127.0.0.1:9"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no AWS credentials found"), "{err}");
    assert!(err.contains("AWS_PROFILE"), "{err}");
}
