//! `orderdeck check-config` as a user runs it: the built binary on config files in a temp
//! directory. Checks exit statuses (0 ok, 2 bad config or keymap), that every problem is
//! printed with file:line:column, and that no secret value ever reaches the output.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXAMPLE: &str = include_str!("../fixtures/orderdeck.toml");

/// Distinctive secret values: if any shows up in the output, a secret leaked.
const SECRETS: [(&str, &str); 6] = [
    ("ORDERDECK_TIKTOK_APP_SECRET", "leak-app-secret-5f1e"),
    ("ORDERDECK_UK_ACCESS_TOKEN", "leak-uk-access-9c2d"),
    ("ORDERDECK_UK_REFRESH_TOKEN", "leak-uk-refresh-3b7a"),
    ("ORDERDECK_SHOPIFY_TOKEN", "leak-shpat-8e4f"),
    ("ORDERDECK_LWA_CLIENT_SECRET", "leak-lwa-secret-1a6c"),
    ("ORDERDECK_LWA_REFRESH_TOKEN", "leak-lwa-refresh-7d0b"),
];
const FILE_SECRETS: [(&str, &str); 2] = [
    ("secrets/us-access-token", "leak-us-access-2c8e"),
    ("secrets/us-refresh-token", "leak-us-refresh-6f3a"),
];

fn orderdeck(args: &[&str], configure: impl FnOnce(&mut Command)) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orderdeck"));
    // No keymap of whoever runs the tests: a test that wants one sets its own config dir.
    command
        .args(args)
        .env_remove("ORDERDECK_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent/orderdeck-tests");
    configure(&mut command);
    command.output().expect("run orderdeck")
}

fn write_config(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let path = dir.join("orderdeck.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// A temp directory holding the `file:` secrets the example config reads.
fn example_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("secrets")).unwrap();
    for (file, value) in FILE_SECRETS {
        fs::write(dir.path().join(file), format!("{value}\n")).unwrap();
    }
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_example_config_passes_and_no_secret_is_printed() {
    let dir = example_dir();
    let path = write_config(dir.path(), EXAMPLE, 0o600);
    let out = orderdeck(&["--config", path.to_str().unwrap(), "check-config"], |c| {
        c.envs(SECRETS);
    });
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("ok (2 shops, 2 stores, 2 links)"),
        "{stdout}"
    );
    assert!(stdout.contains("app_secret secret:"), "{stdout}");
    // The Amazon store has a connector: nothing to warn about.
    assert!(!stderr.contains("warning:"), "{stderr}");
    assert!(!stdout.contains("no connector"), "{stdout}");
    for (_, value) in SECRETS.iter().chain(FILE_SECRETS.iter()) {
        assert!(
            !stdout.contains(value) && !stderr.contains(value),
            "{value} was printed"
        );
    }
}

#[test]
fn three_mistakes_are_all_reported_with_file_line_column() {
    let dir = example_dir();
    let config = EXAMPLE
        // 1: a misspelt key in the second shop
        .replace("shop_cipher = \"GCP_", "shop_chiper = \"GCP_")
        // 2: a link to a store that does not exist
        .replace("store = \"us-fulfilment\"", "store = \"us-fulfillment\"")
        // 3: a setting value that is not a duration
        .replace(
            "missing_tracking_after = \"36h\"",
            "missing_tracking_after = \"a day\"",
        );
    let path = write_config(dir.path(), &config, 0o600);
    let out = orderdeck(&["--config", path.to_str().unwrap(), "check-config"], |c| {
        c.envs(SECRETS);
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let p = path.display();
    for expected in [
        format!(
            "{p}:34:1: unknown key \"shop_chiper\" in [[shops]] \"us\" (did you mean \"shop_cipher\"?)"
        ),
        format!(
            "{p}:81:9: \"store\" in [[links]] \"us-amazon\": no [[stores]] entry is named \"us-fulfillment\" (did you mean \"us-fulfilment\"?)"
        ),
        format!(
            "{p}:86:26: [links.settings] of [[links]] \"us-amazon\": missing_tracking_after: \"a day\" is not a duration"
        ),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    // Exactly those three, plus the count.
    let prefix = format!("{p}:");
    let problems = stderr.lines().filter(|l| l.starts_with(&prefix));
    assert_eq!(problems.count(), 3, "{stderr}");
    assert!(stderr.contains("orderdeck: 3 problems in "), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_literal_secret_in_a_world_readable_file_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = EXAMPLE.replace(
        "access_token = \"env:ORDERDECK_SHOPIFY_TOKEN\"",
        "access_token = \"shpat_literal_value_4e1d\"",
    );
    let path = write_config(dir.path(), &config, 0o644);
    let out = orderdeck(&["--config", path.to_str().unwrap(), "check-config"], |c| {
        c.envs(SECRETS);
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let p = path.display();
    assert!(
        stderr.contains(&format!(
            "{p}:41:16: \"access_token\" in [[stores]] \"main\" is a literal secret"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "(mode 644); run `chmod 600 {p}`, or write the value as env:NAME or file:PATH"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("shpat_literal_value_4e1d"), "{stderr}");
}

#[test]
fn a_config_path_that_does_not_exist_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = orderdeck(
        &["--config", missing.to_str().unwrap(), "check-config"],
        |_| {},
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: config file does not exist",
            missing.display()
        )),
        "{stderr}"
    );

    // Through the environment variable too.
    let out = orderdeck(&["check-config"], |c| {
        c.env("ORDERDECK_CONFIG", &missing);
    });
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("config file does not exist"));
}

#[test]
fn a_missing_default_config_says_where_it_looked_and_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = orderdeck(&["check-config"], |c| {
        c.env("XDG_CONFIG_HOME", dir.path()).env("HOME", dir.path());
    });
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let expected = dir.path().join("orderdeck/orderdeck.toml");
    assert!(
        stderr.contains(&format!(
            "{}: no config file here (the default location)",
            expected.display()
        )),
        "{stderr}"
    );
    // What to do next, without the README: try it, or start a config.
    assert!(stderr.contains("`orderdeck demo`"), "{stderr}");
    assert!(stderr.contains("`orderdeck init`"), "{stderr}");
}

#[test]
fn orders_json_lists_what_the_store_holds_even_when_empty() {
    let dir = example_dir();
    let me = text(&Command::new("id").arg("-un").output().unwrap().stdout)
        .trim()
        .to_string();
    let data = dir.path().join("data");
    let config = EXAMPLE
        .replace(
            "viewer = [\"@warehouse\"]",
            &format!("viewer = [\"@warehouse\", \"{me}\"]"),
        )
        .replace(
            "socket = \"/run/orderdeck/orderdeck.sock\"",
            &format!(
                "socket = \"{}\"\ndata_dir = \"{}\"",
                dir.path().join("od.sock").display(),
                data.display()
            ),
        );
    let path = write_config(dir.path(), &config, 0o600);
    let out = orderdeck(
        &["--config", path.to_str().unwrap(), "orders", "--json"],
        |c| {
            c.envs(SECRETS);
        },
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let rows: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("orders --json prints JSON");
    assert_eq!(rows, serde_json::json!([]), "a fresh store holds no orders");
    assert!(
        data.join("store").is_dir(),
        "the store was created in the configured data dir"
    );
}

/// A config dir holding `keymap` as the user's console keymap.
fn keymap_home(keymap: &str) -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("orderdeck/keymap.toml");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, keymap).unwrap();
    (home, path)
}

#[test]
fn the_user_keymap_is_checked_too_and_each_problem_has_its_place() {
    let dir = example_dir();
    let path = write_config(dir.path(), EXAMPLE, 0o600);
    let (home, keymap) = keymap_home(
        "[global]\n\"ctlr-r\" = \"refresh\"\n\"R\" = \"resynk\"\n[list]\n\"g\" = \"top\"\n",
    );
    let out = orderdeck(&["--config", path.to_str().unwrap(), "check-config"], |c| {
        c.envs(SECRETS).env("XDG_CONFIG_HOME", home.path());
    });
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("ok (2 shops"),
        "the config itself is fine: {stdout}"
    );
    let k = keymap.display();
    for expected in [
        format!("{k}:2:1: unknown key name \"ctlr-r\""),
        format!("{k}:3:7: unknown action \"resynk\" (did you mean \"resync\"?)"),
        format!("{k}:5:1: \"g\" in [list] hides the chord \"g g\" in [list]"),
        format!("orderdeck: 3 problems in {k}; fix them and run `orderdeck check-config` again"),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn a_good_keymap_passes_and_a_bad_config_is_still_reported() {
    let dir = example_dir();
    let path = write_config(dir.path(), EXAMPLE, 0o600);
    let (home, keymap) = keymap_home("[orders]\n\"R\" = \"resync\"\n");
    let out = orderdeck(&["--config", path.to_str().unwrap(), "check-config"], |c| {
        c.envs(SECRETS).env("XDG_CONFIG_HOME", home.path());
    });
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("keymap {}: ok", keymap.display())),
        "{stdout}"
    );

    let broken = write_config(dir.path(), "[[links]]\nshop = 1\n", 0o600);
    let (home, keymap) = keymap_home("[list]\n\"j\" = \"dwon\"\n");
    let out = orderdeck(
        &["--config", broken.to_str().unwrap(), "check-config"],
        |c| {
            c.env("XDG_CONFIG_HOME", home.path());
        },
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:2:7: unknown action \"dwon\"",
            keymap.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:2:", broken.display())),
        "the config's own problems follow: {stderr}"
    );
}
