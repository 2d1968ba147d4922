//! Build script: tells `--version` which git commit this is and when it was made (see
//! `build/version.rs`). The date is `SOURCE_DATE_EPOCH` when set, else the commit's own date —
//! never the wall clock — so the same commit always builds the same binary. Without git or a
//! repository (a source tarball) both fall back to "unknown". It reruns only when HEAD moves.

use std::path::Path;
use std::process::Command;

#[path = "build/version.rs"]
mod version;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/version.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    watch_head();
    let commit = git(&["rev-parse", "--short=10", "HEAD"])
        .and_then(|out| version::commit(&out))
        .unwrap_or_else(|| "unknown".into());
    let date = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|epoch| version::date_of_epoch(&epoch))
        .or_else(|| {
            git(&["log", "-1", "--format=%ct", "HEAD"]).and_then(|t| version::date_of_epoch(&t))
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ORDERDECK_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=ORDERDECK_BUILD_DATE={date}");
}

/// Reruns this script when HEAD moves: HEAD itself (a checkout) and the branch it points to (a
/// commit), wherever git keeps them (a worktree's `.git` is a file). Only paths that exist are
/// watched: Cargo reruns a script on every build while a watched path is missing.
fn watch_head() {
    let mut paths = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        paths.push(git(&["rev-parse", "--git-path", branch.trim()]));
        paths.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    }
    for path in paths.into_iter().flatten() {
        let path = path.trim();
        if Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// What git prints for `args`, run in the crate's directory; `None` without git or a repository.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
