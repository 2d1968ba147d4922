//! `orderdeck init`: writes a commented starter `orderdeck.toml` where orderdeck looks for it
//! (`--config`, `ORDERDECK_CONFIG`, else `$XDG_CONFIG_HOME/orderdeck/orderdeck.toml`), private
//! (0600, so literal secrets are accepted later), in a directory created private too. It never
//! overwrites: an existing file is refused with its path, and the file is created with
//! `create_new`, so two `init`s racing cannot both write.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::Context;

use crate::config::{ConfigPath, Principal};
use crate::service::identity::Account;

/// The starter config; `__ADMIN__` becomes the current user.
const STARTER: &str = include_str!("starter.toml");

/// Writes the starter config at `at` and says what to do next.
pub fn run(at: &ConfigPath) -> anyhow::Result<()> {
    let path = at.path();
    write_starter(path, &Account::current().name)?;
    let mut out = super::output::stdout();
    writeln!(out, "wrote {} (private, mode 600)", path.display())?;
    writeln!(
        out,
        "next: fill in what is marked FILL IN, then `orderdeck check-config`; \
         `orderdeck demo` shows orderdeck on simulated shops meanwhile"
    )?;
    Ok(())
}

/// The starter text for `user` (listed as admin when it is a name `[access]` accepts).
pub fn starter(user: &str) -> String {
    let admin = match Principal::parse(user) {
        Ok(_) => toml_edit::Value::from(user).to_string().trim().to_string(),
        Err(_) => String::new(),
    };
    STARTER.replace("__ADMIN__", &admin)
}

fn write_starter(path: &Path, user: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} already exists; init never overwrites a config (check it with `orderdeck check-config`)",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    };
    file.write_all(starter(user).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::config::{Config, Environment};

    #[test]
    fn the_starter_loads_once_its_secrets_are_there() {
        let text = starter("alice");
        let vars = [
            "ORDERDECK_TIKTOK_APP_SECRET",
            "ORDERDECK_TIKTOK_ACCESS_TOKEN",
            "ORDERDECK_TIKTOK_REFRESH_TOKEN",
            "ORDERDECK_SHOPIFY_TOKEN",
        ];
        let env = Environment {
            vars: vars.iter().map(|v| (v.to_string(), "x".into())).collect(),
            data_dir: Some("/data".into()),
            ..Environment::default()
        };
        let config = Config::parse(&text, Path::new("orderdeck.toml"), 0o600, &env)
            .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(config.links.len(), 1);
        assert!(text.contains("admin = [\"alice\"]"), "{text}");
    }

    #[test]
    fn init_writes_a_private_file_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orderdeck").join("orderdeck.toml");
        write_starter(&path, "alice").expect("written");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, "# mine").unwrap();
        let error = write_starter(&path, "alice").unwrap_err().to_string();
        assert!(error.contains("already exists"), "{error}");
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine");
    }
}
