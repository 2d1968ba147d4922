//! The commands in a pipe, as scripts use them: the real binary on an in-process store filled
//! from the simulated platforms. Every command that prints ends quietly (exit 0, nothing on
//! stderr about it, no panic) when the reader of its output is gone — the `| head -1` case,
//! made deterministic by a pipe whose read end is closed before the command starts — and piped
//! tables are never cut with `…`. JSON ids are as the README documents them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use orderdeck::sandbox::scenario::{Scenario, Size};
use orderdeck::sandbox::set::SandboxSet;

/// Simulated platforms (kept alive), a config pointing at them, and a private home.
struct Rig {
    dir: tempfile::TempDir,
    config: PathBuf,
    _set: SandboxSet,
}

impl Rig {
    async fn start(access: &str) -> Rig {
        let scenario = Scenario::generate(
            11,
            Size {
                shops: 1,
                orders_per_shop: 12,
            },
            chrono::Utc::now().timestamp(),
        );
        let set = SandboxSet::start(scenario, [127, 0, 0, 1].into())
            .await
            .expect("sandbox starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = write_config(
            dir.path(),
            "orderdeck.toml",
            &set.config_toml(
                &dir.path().join("data"),
                &dir.path().join("od.sock"),
                access,
            )
            .expect("config"),
        );
        Rig {
            dir,
            config,
            _set: set,
        }
    }

    /// The same store and platforms with another `[access]` (to act as another role).
    fn config_as(&self, name: &str, access: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.config).expect("config");
        let start = text.find("[access]\n").expect("an [access] section") + "[access]\n".len();
        let end = start + text[start..].find('\n').expect("a line");
        let text = format!("{}{access}{}", &text[..start], &text[end..]);
        write_config(self.dir.path(), name, &text)
    }

    /// Runs `orderdeck --config CONFIG ARGS` with stdout as given.
    async fn run(&self, config: &Path, args: &[&str], stdout: Stdio) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"))
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("ORDERDECK_CONFIG")
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .output()
            .await
            .expect("orderdeck runs")
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(&self.config, args, Stdio::piped()).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "orderdeck {args:?}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("config written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// A stdout whose reader is already gone: every write fails with EPIPE, as under `head -1`
/// once head has read its line.
fn closed_pipe() -> Stdio {
    let (read, write) = nix::unistd::pipe().expect("a pipe");
    drop(read);
    Stdio::from(write)
}

/// The rig after a first sync, with the id of one order it stored and that order's link.
async fn synced() -> (Rig, String, String) {
    let rig = Rig::start("default_role = \"admin\"").await;
    rig.ok(&["sync", "--once"]).await;
    let rows: serde_json::Value =
        serde_json::from_str(&rig.ok(&["orders", "--json"]).await).expect("JSON");
    let id = rows[0]["id"].as_str().expect("an order id").to_string();
    let link = rows[0]["link"].as_str().expect("its link").to_string();
    (rig, id, link)
}

#[tokio::test]
async fn every_printing_command_ends_quietly_when_its_reader_goes_away() {
    let (rig, id, link) = synced().await;
    let fresh = rig.dir.path().join("fresh").join("orderdeck.toml");
    let commands: Vec<Vec<&str>> = vec![
        vec!["sync", "--once"],
        vec!["orders"],
        vec!["orders", "--json"],
        vec!["orders", "--view", "missing"],
        vec!["orders", "--view", "cancellations"],
        vec!["order", &id],
        vec!["order", &id, "--json"],
        vec!["resync", &id, "--flow", "import", "--reason", "pipe test"],
        vec!["requests"],
        vec!["requests", "--json"],
        vec!["audit"],
        vec!["audit", "--json"],
        vec!["settings", "show"],
        vec!["settings", "set", &link, "restock_on_cancel", "off"],
        vec!["check-config"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["--help"],
        vec!["--version"],
    ];
    for args in &commands {
        let out = rig.run(&rig.config, args, closed_pipe()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "orderdeck {args:?}: {stderr}");
        for noise in ["panicked", "Broken pipe", "os error 32"] {
            assert!(!stderr.contains(noise), "orderdeck {args:?}: {stderr}");
        }
    }
    let out = rig.run(&fresh, &["init"], closed_pipe()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fresh.exists(),
        "init wrote its file before it had nothing to say it to"
    );
}

#[tokio::test]
async fn piped_tables_are_whole() {
    let (rig, id, _) = synced().await;
    let reason = "the customer called twice about this order and the warehouse says the SKU \
                  arrived this morning, so try the import again";
    rig.ok(&["resync", &id, "--flow", "import", "--reason", reason])
        .await;
    let audit = rig.ok(&["audit"]).await;
    assert!(audit.contains(reason), "the reason is cut:\n{audit}");
    assert!(!audit.contains('…'), "{audit}");
}

#[tokio::test]
async fn request_ids_in_json_are_the_numbers_the_readme_documents() {
    let (rig, id, _) = synced().await;
    let support = rig.config_as("support.toml", "default_role = \"support\"");
    let out = rig
        .run(
            &support,
            &["resync", &id, "--flow", "import", "--reason", "json ids"],
            Stdio::piped(),
        )
        .await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("waits for an operator"), "{said}");
    let rows: serde_json::Value =
        serde_json::from_str(&rig.ok(&["requests", "--json"]).await).expect("JSON");
    let number = rows[0]["id"].as_u64().expect("the id is a number");
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains("Request\n  and job ids are numbers: `\"id\": 12` is the request"),
        "the README documents request ids as numbers"
    );
    // The tables' spelling works wherever an id is typed.
    let approved = rig.ok(&["approve", &format!("R{number}")]).await;
    assert!(approved.contains(&format!("R{number}")), "{approved}");
}
