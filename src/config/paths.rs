//! Where things live: the host environment the config is read in (variables, home and XDG
//! directories), path expansion, and the `[paths]`, `[engine]` and `[approvals]` sections.
//! Everything that depends on the host goes through [`Environment`], so loading a config in a
//! test is deterministic and never reads the developer's own directories.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::reader::{Loader, Section};
use crate::domain::job::Backoff;

/// What the config may consult about the host. Not `Debug`: the variables may hold secrets.
#[derive(Clone, Default)]
pub struct Environment {
    pub vars: HashMap<String, String>,
    pub home_dir: Option<PathBuf>,
    /// `$XDG_DATA_HOME` or its default (`dirs::data_dir()`).
    pub data_dir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` or its default (`dirs::config_dir()`).
    pub config_dir: Option<PathBuf>,
}

impl Environment {
    /// This process's environment. Variables that are not UTF-8 are left out: no secret,
    /// path or name orderdeck reads from the environment can be anything but text.
    pub fn from_process() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            home_dir: dirs::home_dir(),
            data_dir: dirs::data_dir(),
            config_dir: dirs::config_dir(),
        }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// `~` and `~/…` become the home directory; relative paths are taken from `base_dir` (the
/// config's directory), so the meaning of a config does not depend on the working directory.
pub(crate) fn expand_path(
    text: &str,
    env: &Environment,
    base_dir: &Path,
) -> Result<PathBuf, String> {
    let path = if text == "~" || text.starts_with("~/") {
        let home = env
            .home_dir
            .as_ref()
            .ok_or_else(|| format!("cannot expand {text:?}: the home directory is unknown"))?;
        home.join(text.trim_start_matches('~').trim_start_matches('/'))
    } else if text.starts_with('~') {
        return Err(format!("{text:?}: only ~ and ~/… are expanded, not ~user"));
    } else {
        PathBuf::from(text)
    };
    Ok(base_dir.join(path))
}

/// `[paths]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The sled store, logs and fetched labels. Default `$XDG_DATA_HOME/orderdeck`.
    pub data_dir: PathBuf,
    /// The daemon's Unix socket. Default `$XDG_RUNTIME_DIR/orderdeck/orderdeck.sock`, else
    /// `data_dir/orderdeck.sock`.
    pub socket: PathBuf,
    /// The unix group the daemon gives its socket and the socket's directory, so the team's
    /// users in that group can connect. `None` leaves the daemon's own group.
    pub socket_group: Option<String>,
    /// Prints a label; `{file}` is replaced by the label's path.
    pub label_print_command: Option<String>,
}

/// `sun_path` holds 108 bytes including the final NUL on Linux; longer paths cannot be bound.
const MAX_SOCKET_PATH: usize = 107;

pub(crate) fn read_paths(ld: &mut Loader<'_>, section: Option<Section<'_, '_>>) -> Paths {
    let env = ld.env;
    let default_data = env.data_dir.as_ref().map(|d| d.join("orderdeck"));
    let Some(mut section) = section else {
        return defaults_or_report(ld, default_data, None, None);
    };
    let data_dir = path_value(ld, &mut section, "data_dir");
    let socket = path_value(ld, &mut section, "socket");
    let socket_group = section.checked(ld, "socket_group", false, check_group_name);
    let group_span = section.get("socket_group").map(|v| v.span());
    let label_print_command = section
        .string(ld, "label_print_command")
        .and_then(|(text, span)| {
            if text.contains("{file}") {
                Some(text.to_string())
            } else {
                ld.error(
                    &span,
                    "\"label_print_command\" in [paths] must contain {file} where the label's path \
                 goes, e.g. \"lp -d labels {file}\"",
                );
                None
            }
        });
    let span = section.span.clone();
    section.finish(ld, |_| None);
    let mut paths = defaults_or_report(ld, data_dir.or(default_data), socket, Some(&span));
    paths.label_print_command = label_print_command;
    if let (Some(_), Some(span)) = (&socket_group, group_span)
        && !paths.data_dir.as_os_str().is_empty()
        && paths.socket.starts_with(&paths.data_dir)
    {
        // The data dir (tokens, audit log) stays 0700, so the group could not reach a socket
        // inside it; and opening it to the group is not an option.
        ld.error(
            &span,
            format!(
                "\"socket_group\" in [paths] needs the socket outside the data dir, which stays \
                 private, but the socket is {}; set socket too, e.g. \
                 socket = \"/run/orderdeck/orderdeck.sock\"",
                paths.socket.display()
            ),
        );
    }
    paths.socket_group = socket_group;
    paths
}

/// A unix group name as `/etc/group` and NSS spell them: no separators, spaces or control
/// characters. Whether the group exists is the host's business, checked when the daemon starts.
fn check_group_name(text: &str) -> Result<String, String> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, ':' | '/' | '@');
    if text.is_empty() || text.starts_with('-') || text.chars().any(bad) {
        Err(format!(
            "{:?} is not a unix group name",
            crate::domain::text::sanitize(text)
        ))
    } else {
        Ok(text.to_string())
    }
}

fn path_value(
    ld: &mut Loader<'_>,
    section: &mut Section<'_, '_>,
    key: &'static str,
) -> Option<PathBuf> {
    let (text, span) = section.string(ld, key)?;
    let checked = if text.is_empty() {
        Err("is empty".to_string())
    } else {
        expand_path(text, ld.env, &ld.base_dir)
    };
    match checked {
        Ok(path) if key == "socket" && path.as_os_str().len() > MAX_SOCKET_PATH => {
            ld.error(
                &span,
                format!(
                    "\"socket\" in [paths] is longer than {MAX_SOCKET_PATH} bytes, the most a \
                     Unix socket path can hold; choose a shorter path"
                ),
            );
            None
        }
        Ok(path) => Some(path),
        Err(why) => {
            ld.error(&span, format!("\"{key}\" in [paths]: {why}"));
            None
        }
    }
}

fn defaults_or_report(
    ld: &mut Loader<'_>,
    data_dir: Option<PathBuf>,
    socket: Option<PathBuf>,
    span: Option<&std::ops::Range<usize>>,
) -> Paths {
    let data_dir = data_dir.unwrap_or_else(|| {
        // Only when the host has no home directory (a bare service account): say so.
        let message = "cannot find a data directory (no $XDG_DATA_HOME or home directory); \
                       set data_dir in [paths]";
        match span {
            Some(span) => ld.error(span, message),
            None => ld.file_error(message),
        }
        PathBuf::new()
    });
    let socket = socket.unwrap_or_else(|| match ld.env.var("XDG_RUNTIME_DIR") {
        Some(run) if Path::new(run).is_absolute() => {
            Path::new(run).join("orderdeck").join("orderdeck.sock")
        }
        _ => data_dir.join("orderdeck.sock"),
    });
    Paths {
        data_dir,
        socket,
        socket_group: None,
        label_print_command: None,
    }
}

/// `[engine]`: tuning that rarely needs changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Jobs run at once against one platform account (a shop or a store).
    pub concurrency_per_account: u32,
    /// Whole-request limit, connect and body included.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// A failed job's first retry waits up to this; each further retry doubles the ceiling
    /// (with full jitter), up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            concurrency_per_account: 4,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry_initial: Backoff::default().base,
            retry_max: Backoff::default().cap,
        }
    }
}

pub(crate) fn read_engine(ld: &mut Loader<'_>, section: Option<Section<'_, '_>>) -> EngineConfig {
    let defaults = EngineConfig::default();
    let Some(mut section) = section else {
        return defaults;
    };
    // Platforms throttle per account (Shopify's cost bucket, TikTok's QPS): a handful at once
    // is plenty, and more only earns 429s.
    let concurrency_per_account = section.integer(
        ld,
        "concurrency_per_account",
        defaults.concurrency_per_account,
        1..=32,
    );
    let secs = Duration::from_secs;
    let request_timeout = section.duration(
        ld,
        "request_timeout",
        defaults.request_timeout,
        secs(1)..=secs(600),
    );
    let connect_value = section.get("connect_timeout").map(|v| v.span());
    let connect_timeout = section.duration(
        ld,
        "connect_timeout",
        defaults.connect_timeout,
        secs(1)..=secs(120),
    );
    if connect_timeout > request_timeout {
        ld.error(
            &connect_value.unwrap_or_else(|| section.span.clone()),
            "\"connect_timeout\" in [engine] is longer than request_timeout, which already includes connecting",
        );
    }
    // Sub-second values are for test rigs that crash and restart the daemon many times a minute.
    let millis = Duration::from_millis;
    let problems_before = ld.problems.0.len();
    let retry_initial = section.duration(
        ld,
        "retry_initial",
        defaults.retry_initial,
        millis(10)..=secs(600),
    );
    let max_value = section.get("retry_max").map(|v| v.span());
    let retry_max = section.duration(
        ld,
        "retry_max",
        defaults.retry_max,
        millis(10)..=secs(24 * 3600),
    );
    // Compared only when both were accepted: a refused value is reported already, and the
    // default standing in for it must not start a second complaint.
    if ld.problems.0.len() == problems_before && retry_max < retry_initial {
        ld.error(
            &max_value.unwrap_or_else(|| section.span.clone()),
            "\"retry_max\" in [engine] is shorter than retry_initial, the first retry's wait",
        );
    }
    section.finish(ld, |_| None);
    EngineConfig {
        concurrency_per_account,
        request_timeout,
        connect_timeout,
        retry_initial,
        retry_max,
    }
}

/// `[approvals]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApprovalsConfig {
    /// Every resync request needs a second person's approval, even an operator's own.
    pub two_person: bool,
}

pub(crate) fn read_approvals(
    ld: &mut Loader<'_>,
    section: Option<Section<'_, '_>>,
) -> ApprovalsConfig {
    let Some(mut section) = section else {
        return ApprovalsConfig::default();
    };
    let two_person = section.boolean(ld, "two_person", false);
    section.finish(ld, |_| None);
    ApprovalsConfig { two_person }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_and_relative_paths_expand() {
        let env = Environment {
            home_dir: Some("/home/ann".into()),
            ..Environment::default()
        };
        let base = Path::new("/etc/orderdeck");
        let got = |t| expand_path(t, &env, base);
        assert_eq!(got("~/x").unwrap(), Path::new("/home/ann/x"));
        assert_eq!(got("~").unwrap(), Path::new("/home/ann"));
        assert_eq!(got("data").unwrap(), Path::new("/etc/orderdeck/data"));
        assert_eq!(got("/var/lib/od").unwrap(), Path::new("/var/lib/od"));
        assert!(got("~bob/x").is_err());
        let homeless = Environment::default();
        assert!(expand_path("~/x", &homeless, base).is_err());
    }
}
