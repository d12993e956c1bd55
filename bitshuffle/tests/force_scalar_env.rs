//! `XRDCT_FORCE_SCALAR=1` selects the portable path (checked in a child process, since the
//! variable is read once per process).

use std::process::Command;

#[test]
fn env_var_forces_scalar() {
    if std::env::var_os("XRDCT_FORCE_SCALAR_CHILD").is_some() {
        println!("ACTIVE={}", bitshuffle::active_path());
        return;
    }
    let run = |value: &str| {
        let out = Command::new(std::env::current_exe().expect("test binary path"))
            .args(["env_var_forces_scalar", "--exact", "--nocapture"])
            .env("XRDCT_FORCE_SCALAR", value)
            .env("XRDCT_FORCE_SCALAR_CHILD", "1")
            .output()
            .expect("child test runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run("1").contains("ACTIVE=scalar"));
    let best = format!("ACTIVE={}", bitshuffle::best_path());
    assert!(run("0").contains(&best));
}
