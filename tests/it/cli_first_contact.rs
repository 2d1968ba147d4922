//! First contact with the binary, as a new user meets it: the console without a terminal says
//! what to use instead, `init` writes a private starter config and never overwrites one, the
//! starter then loads and answers in the names both faces share, messages carry no Rust debug
//! text, `--version` names the commit and date, and completions and the manual page come out.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The secrets the starter config reads from the environment.
const STARTER_SECRETS: [&str; 4] = [
    "ORDERDECK_TIKTOK_APP_SECRET",
    "ORDERDECK_TIKTOK_ACCESS_TOKEN",
    "ORDERDECK_TIKTOK_REFRESH_TOKEN",
    "ORDERDECK_SHOPIFY_TOKEN",
];

/// `orderdeck ARGS` with `home` as HOME and XDG dirs, no terminal, nothing inherited that
/// points at a config.
fn orderdeck(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orderdeck"))
        .args(args)
        .env_remove("ORDERDECK_CONFIG")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .envs(STARTER_SECRETS.map(|v| (v, "starter-secret")))
        .stdin(Stdio::null())
        .output()
        .expect("orderdeck runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_console_without_a_terminal_says_what_to_use_instead() {
    let home = tempfile::tempdir().unwrap();
    for args in [&[][..], &["--view", "pending"], &["demo"]] {
        let out = orderdeck(home.path(), args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("needs a terminal; for scripts use `orderdeck orders`"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("os error"), "{args:?}: {stderr}");
    }
}

#[test]
fn init_writes_a_private_starter_and_never_overwrites_it() {
    let home = tempfile::tempdir().unwrap();
    let out = orderdeck(home.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = home.path().join("config/orderdeck/orderdeck.toml");
    assert!(
        text(&out.stdout).contains(&format!("wrote {}", path.display())),
        "{}",
        text(&out.stdout)
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("# orderdeck.toml, written by `orderdeck init`"));

    let again = orderdeck(home.path(), &["init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
}

#[test]
fn the_starter_config_answers_in_the_view_names_both_faces_share() {
    let home = tempfile::tempdir().unwrap();
    assert!(orderdeck(home.path(), &["init"]).status.success());
    for view in ["missing", "missing-tracking", "pending", "cancels"] {
        let out = orderdeck(home.path(), &["orders", "--view", view]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "orders --view {view}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn messages_carry_no_rust_debug_text() {
    let home = tempfile::tempdir().unwrap();
    assert!(orderdeck(home.path(), &["init"]).status.success());
    let out = orderdeck(home.path(), &["orders", "--link", "gb"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no link is named \"gb\"; links in "),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with(": uk"), "{stderr}");
    for debug in ["LinkId(", "Some(", "Response::", "{ "] {
        assert!(!stderr.contains(debug), "{debug} in: {stderr}");
    }
}

#[test]
fn version_names_the_commit_and_its_date() {
    let home = tempfile::tempdir().unwrap();
    let out = orderdeck(home.path(), &["--version"]);
    let version = text(&out.stdout);
    let expected_start = format!("orderdeck {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(version.starts_with(&expected_start), "{version}");
    let head = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| text(&o.stdout).trim().to_string());
    match head {
        // Built from a repository: the commit it was built from.
        Some(head) => assert!(
            version.contains(&format!("commit {head}, built ")),
            "{version}"
        ),
        // A source tarball: said plainly rather than guessed.
        None => assert!(version.contains("commit unknown"), "{version}"),
    }
    let date = version
        .trim_end()
        .trim_end_matches(')')
        .rsplit("built ")
        .next()
        .unwrap_or("");
    let is_date = date.len() == 10 && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok();
    assert!(is_date || date == "unknown", "{version}");
}

#[test]
fn completions_and_the_manual_page_come_out_of_the_binary() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = orderdeck(home.path(), &["completions", shell]);
        let script = text(&out.stdout);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(
            script.contains("check-config") && script.contains("orders"),
            "{shell}"
        );
    }
    let out = orderdeck(home.path(), &["man"]);
    let page = text(&out.stdout);
    assert!(out.status.success());
    assert!(page.contains(".TH orderdeck"), "{page}");
    assert!(
        page.contains("ORDERDECK ORDERS"),
        "a section per subcommand"
    );
    let bad = orderdeck(home.path(), &["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2), "an unknown shell is bad usage");
}

/// A store file cut short (a disk that filled, a bad copy) is named with what to do about it,
/// not reported as sled's internals behind a "daemon not reachable" that has nothing to do
/// with it.
#[test]
fn a_damaged_store_is_named_with_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    assert!(orderdeck(home.path(), &["init"]).status.success());
    // Opened twice, the store has a snapshot that points past the cut below (a log that is
    // only cut short is a torn tail, which sled recovers from by itself).
    for _ in 0..2 {
        assert!(orderdeck(home.path(), &["orders"]).status.success());
    }
    let store = home.path().join("data/orderdeck/store");
    let db = store.join("db");
    let bytes = std::fs::read(&db).unwrap();
    let written = bytes
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |last| last + 1);
    std::fs::write(&db, &bytes[..written / 3]).unwrap();

    let out = orderdeck(home.path(), &["orders"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("the store in {} is damaged", store.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("Restore that directory from a backup"),
        "{stderr}"
    );
    for unrelated in ["daemon", "backtrace", "Corruption {"] {
        assert!(!stderr.contains(unrelated), "{unrelated} in: {stderr}");
    }
}
