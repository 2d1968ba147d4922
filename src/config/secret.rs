//! Secrets: API keys and tokens. A config value is a literal, `env:NAME` or `file:PATH`; once
//! resolved it lives in a [`Secret`], whose `Debug` and `Display` show only a fingerprint so a
//! secret can be logged, printed in `check-config` or put in an error without leaking. The value
//! itself is reachable only through [`Secret::expose`], which makes every use easy to audit.

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::files::{MAX_TEXT_FILE, read_text};
use super::paths::{Environment, expand_path};

/// A credential. Deliberately not `Serialize`: it never leaves the process by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it (a header, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `secret:` and the first 4 bytes of the value's SHA-256 in hex: enough to tell two
    /// secrets apart or to see that a rotation took effect, useless for recovering the value.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        format!("secret:{}…", hex::encode(&digest[..4]))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

/// How a secret is written in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretRef<'a> {
    /// The value itself, in the file: only allowed when the file is private (mode 600).
    Literal(&'a str),
    /// `env:NAME`: read from the environment when the config is loaded.
    Env(&'a str),
    /// `file:PATH`: read from a regular file of at most [`MAX_TEXT_FILE`] bytes (trailing
    /// newline trimmed); `~` and relative paths allowed.
    File(&'a str),
}

impl<'a> SecretRef<'a> {
    pub(crate) fn parse(text: &'a str) -> SecretRef<'a> {
        if let Some(name) = text.strip_prefix("env:") {
            SecretRef::Env(name.trim())
        } else if let Some(path) = text.strip_prefix("file:") {
            SecretRef::File(path.trim())
        } else {
            SecretRef::Literal(text)
        }
    }

    /// The secret's value. `base_dir` anchors relative `file:` paths (the config's directory,
    /// so the result does not depend on where orderdeck was started). Errors say what to fix
    /// but never include a value.
    pub(crate) fn resolve(self, env: &Environment, base_dir: &Path) -> Result<Secret, String> {
        match self {
            SecretRef::Literal("") => Err("is empty".into()),
            SecretRef::Literal(value) => Ok(Secret::new(value)),
            SecretRef::Env("") => {
                Err("env: needs a variable name, e.g. env:ORDERDECK_UK_APP_SECRET".into())
            }
            SecretRef::Env(name) => match env.var(name) {
                Some("") => Err(format!("environment variable {name} is empty")),
                Some(value) => Ok(Secret::new(value)),
                None => Err(format!("environment variable {name} is not set")),
            },
            SecretRef::File("") => {
                Err("file: needs a path, e.g. file:/etc/orderdeck/uk-app-secret".into())
            }
            SecretRef::File(path) => {
                let path = expand_path(path, env, base_dir)?;
                let file = read_text(&path, MAX_TEXT_FILE)
                    .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
                // Editors and `echo` add a final newline; it is never part of a token.
                let value = file.text.trim_end_matches(['\n', '\r']);
                if value.is_empty() {
                    return Err(format!("secret file {} is empty", path.display()));
                }
                Ok(Secret::new(value))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(vars: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Environment::default()
        }
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        for shown in [format!("{secret}"), format!("{secret:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                shown.starts_with("secret:") && shown.ends_with('…'),
                "{shown}"
            );
            assert_eq!(shown.chars().count(), "secret:".len() + 8 + 1);
        }
        assert_eq!(secret.expose(), "hunter2-very-secret");
        // Same value, same fingerprint; different value, different fingerprint.
        assert_eq!(
            secret.fingerprint(),
            Secret::new("hunter2-very-secret").fingerprint()
        );
        assert_ne!(secret.fingerprint(), Secret::new("hunter3").fingerprint());
    }

    #[test]
    fn fingerprint_is_the_sha256_prefix() {
        // SHA-256("abc") = ba7816bf...
        assert_eq!(Secret::new("abc").fingerprint(), "secret:ba7816bf…");
    }

    #[test]
    fn references_are_recognised_by_prefix() {
        assert_eq!(SecretRef::parse("env: X "), SecretRef::Env("X"));
        assert_eq!(SecretRef::parse("file:~/t"), SecretRef::File("~/t"));
        assert_eq!(SecretRef::parse("abc"), SecretRef::Literal("abc"));
    }

    #[test]
    fn env_references_read_the_environment() {
        let env = env_with(&[("UK_SECRET", "s3"), ("EMPTY", "")]);
        let dir = Path::new("/");
        let got = SecretRef::Env("UK_SECRET").resolve(&env, dir).unwrap();
        assert_eq!(got.expose(), "s3");
        let err = SecretRef::Env("MISSING").resolve(&env, dir).unwrap_err();
        assert_eq!(err, "environment variable MISSING is not set");
        assert!(SecretRef::Env("EMPTY").resolve(&env, dir).is_err());
        assert!(SecretRef::Env("").resolve(&env, dir).is_err());
        assert!(SecretRef::Literal("").resolve(&env, dir).is_err());
    }

    #[test]
    fn file_references_trim_the_final_newline_and_resolve_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "tok en\r\n").unwrap();
        std::fs::write(dir.path().join("blank"), "\n").unwrap();
        let env = env_with(&[]);
        let got = SecretRef::File("token").resolve(&env, dir.path()).unwrap();
        assert_eq!(got.expose(), "tok en");
        let err = SecretRef::File("blank")
            .resolve(&env, dir.path())
            .unwrap_err();
        assert!(err.contains("is empty"), "{err}");
        let err = SecretRef::File("nope")
            .resolve(&env, dir.path())
            .unwrap_err();
        assert!(err.starts_with("cannot read secret file "), "{err}");
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn file_references_read_only_small_regular_files_and_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_with(&[]);
        let resolve = |path: &str| SecretRef::File(path).resolve(&env, dir.path());
        // A FIFO would block the read until someone writes (forever, usually).
        let fifo = super::super::files::TestFifo::new(dir.path(), "tok\n");
        let err = resolve("fifo").unwrap_err();
        assert_eq!(
            err,
            format!(
                "cannot read secret file {}: it is a FIFO (named pipe), not a regular file; point to a file",
                fifo.path.display()
            )
        );
        // /dev/zero never ends: reading it whole would exhaust memory. Every device is refused
        // by its type before it is opened; /dev/null stands for them here.
        let err = resolve("/dev/null").unwrap_err();
        assert!(
            err.starts_with("cannot read secret file /dev/null: it is a character device"),
            "{err}"
        );
        std::fs::write(
            dir.path().join("big"),
            "x".repeat(MAX_TEXT_FILE as usize + 1),
        )
        .unwrap();
        let err = resolve("big").unwrap_err();
        assert!(err.contains("big: it is larger than 1024 KiB"), "{err}");
        std::fs::write(dir.path().join("latin1"), b"caf\xe9\n").unwrap();
        let err = resolve("latin1").unwrap_err();
        assert!(
            err.contains(
                "latin1: it is not UTF-8 text (the first invalid byte is at line 1, column 4)"
            ),
            "{err}"
        );
    }

    #[test]
    fn file_references_expand_the_home_directory() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("t"), "v\n").unwrap();
        let env = Environment {
            home_dir: Some(home.path().to_path_buf()),
            ..Environment::default()
        };
        let got = SecretRef::File("~/t")
            .resolve(&env, Path::new("/elsewhere"))
            .unwrap();
        assert_eq!(got.expose(), "v");
    }
}
