//! `orderdeck serve`'s socket: [`bind`] prepares it (directory 0750, socket 0660, both given to
//! the configured `socket_group` so a team can connect); [`serve`] (in `connection`) answers on
//! it, within [`SocketLimits`].
//!
//! Invariants:
//! - one daemon per socket: [`bind`] takes an exclusive lock on `<socket>.lock` first, so two
//!   daemons starting at once cannot both "replace a stale socket"; a socket that still answers
//!   is refused, one left by a crashed daemon is replaced, anything that is not a socket is left
//!   alone;
//! - only a directory orderdeck owns is re-moded: one it creates, or one owned by the daemon's
//!   user that holds nothing but the socket and its lock (e.g. systemd's `RuntimeDirectory=`),
//!   never a shared one like `/run` or `/tmp`;
//! - the socket file lives as long as the [`Listener`]: dropping it (at shutdown, or when
//!   startup fails after binding) removes the file.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{Gid, Group};
use tokio::net::{UnixListener, UnixStream};

pub use super::admission::SocketLimits;
pub use super::connection::{SHUTDOWN_GRACE, serve, serve_with};

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "another orderdeck daemon is already serving {0}; use it (commands and consoles connect automatically) or stop it first"
    )]
    AlreadyRunning(PathBuf),
    #[error("{0} exists and is not a socket; refusing to replace it (check `socket` in [paths])")]
    NotASocket(PathBuf),
    #[error("socket_group {0:?} in [paths] is not a group on this host")]
    UnknownGroup(String),
    #[error(
        "cannot give {path} to group {group}: {source} (the daemon's user must be a member of the group)"
    )]
    Chown {
        path: PathBuf,
        group: String,
        source: std::io::Error,
    },
    #[error("cannot prepare the socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The bound socket. Dropping it removes the socket file.
#[derive(Debug)]
pub struct Listener {
    pub(super) listener: UnixListener,
    path: PathBuf,
}

impl Drop for Listener {
    fn drop(&mut self) {
        // The instance lock is still held, so the file is this daemon's own.
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(socket = %self.path.display(), "could not remove the socket: {e}");
        }
    }
}

/// Held for the daemon's whole life (until after the store is closed): while it is, no other
/// daemon binds the same socket.
#[derive(Debug)]
pub struct InstanceLock {
    _lock: Flock<File>,
}

/// Binds the socket at `path` (see the module docs), giving it to `group` when set.
pub async fn bind(
    path: &Path,
    group: Option<&str>,
) -> Result<(Listener, InstanceLock), ListenError> {
    let io = |at: &Path| {
        let at = at.to_path_buf();
        move |source| ListenError::Io { path: at, source }
    };
    let group = match group {
        None => None,
        Some(name) => match Group::from_name(name) {
            Ok(Some(g)) => Some((name.to_string(), g.gid)),
            Ok(None) => return Err(ListenError::UnknownGroup(name.to_string())),
            Err(e) => return Err(io(path)(std::io::Error::from(e))),
        },
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let created = match std::fs::metadata(dir) {
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(dir)
                .map_err(io(dir))?;
            true
        }
        Err(e) => return Err(io(dir)(e)),
    };
    let lock = lock_instance(path)?;
    remove_stale(path).await?;
    let listener = UnixListener::bind(path).map_err(io(path))?;
    let listener = Listener {
        listener,
        path: path.to_path_buf(),
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io(path))?;
    if let Some((name, gid)) = &group {
        give(path, name, *gid)?;
    }
    if created || dedicated(dir, path).map_err(io(dir))? {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750)).map_err(io(dir))?;
        if let Some((name, gid)) = &group {
            give(dir, name, *gid)?;
        }
    } else if let Some((name, _)) = &group {
        tracing::warn!(
            dir = %dir.display(),
            "the socket's directory holds other files, so its mode and group are left as they are; \
             make sure members of {name} may enter it"
        );
    }
    Ok((listener, InstanceLock { _lock: lock }))
}

fn lock_instance(socket: &Path) -> Result<Flock<File>, ListenError> {
    let mut name = socket.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|source| ListenError::Io {
            path: lock_path.clone(),
            source,
        })?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(lock),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
            Err(ListenError::AlreadyRunning(socket.to_path_buf()))
        }
        Err((_, e)) => Err(ListenError::Io {
            path: lock_path,
            source: e.into(),
        }),
    }
}

/// Removes a socket left by a daemon that died; refuses a live one and anything not a socket.
async fn remove_stale(path: &Path) -> Result<(), ListenError> {
    let io = |source| ListenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ListenError::NotASocket(path.to_path_buf()));
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(ListenError::AlreadyRunning(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            tracing::info!(socket = %path.display(), "replacing a stale socket left by a daemon that did not shut down cleanly");
            std::fs::remove_file(path).map_err(io)
        }
        Err(e) => Err(io(e)),
    }
}

/// Whether `dir` is the daemon's own: owned by its user and holding only the socket and lock.
fn dedicated(dir: &Path, socket: &Path) -> std::io::Result<bool> {
    if std::fs::metadata(dir)?.uid() != nix::unistd::geteuid().as_raw() {
        return Ok(false);
    }
    let own = |name: &std::ffi::OsStr| {
        let mut lock = socket.file_name().unwrap_or_default().to_owned();
        lock.push(".lock");
        Some(name) == socket.file_name() || name == lock
    };
    for entry in std::fs::read_dir(dir)? {
        if !own(&entry?.file_name()) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn give(path: &Path, group: &str, gid: Gid) -> Result<(), ListenError> {
    std::os::unix::fs::chown(path, None, Some(gid.as_raw())).map_err(|source| ListenError::Chown {
        path: path.to_path_buf(),
        group: group.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_daemon_per_socket_and_stale_sockets_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run").join("orderdeck.sock");
        let (first, lock) = bind(&path, None).await.unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&path), mode(path.parent().unwrap())), (0o660, 0o750));
        // Live: refused, and the live socket is left alone.
        let again = bind(&path, None).await.unwrap_err();
        assert!(matches!(again, ListenError::AlreadyRunning(_)), "{again}");
        assert!(path.exists());
        drop(first);
        assert!(!path.exists(), "dropping the listener removes the socket");
        drop(lock);

        // Stale: a socket nobody listens on (a daemon that was killed).
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let (replaced, lock) = bind(&path, None).await.unwrap();
        assert!(UnixStream::connect(&path).await.is_ok());
        drop((replaced, lock));

        // Not a socket: never removed.
        std::fs::write(&path, "keep me").unwrap();
        let refused = bind(&path, None).await.unwrap_err();
        assert!(matches!(refused, ListenError::NotASocket(_)), "{refused}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }

    #[tokio::test]
    async fn shared_directories_keep_their_mode_and_groups_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("someone-elses-file"), "").unwrap();
        let path = dir.path().join("orderdeck.sock");
        let bound = bind(&path, None).await.unwrap();
        let dir_mode = std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            dir_mode, 0o755,
            "a directory holding other files is not re-moded"
        );
        drop(bound);
        let unknown = bind(&path, Some("no-such-group-od")).await.unwrap_err();
        assert!(matches!(unknown, ListenError::UnknownGroup(_)), "{unknown}");
    }
}
