//! TikTok shipping labels: a person's reprint (fetch now, save, optionally print), and saving a
//! label PDF so a crash never leaves half of one.

use std::io::Write;
use std::path::Path;

use crate::domain::audit::AuditEntry;
use crate::domain::ids::{PackageId, TiktokOrderId};
use crate::domain::order::{Flow, FlowStatus, Order};
use crate::store::Change;

use super::Engine;
use super::execute::Failure;
use super::operations::OperationError;
use crate::domain::reactor::set_flow;

impl Engine {
    /// Fetches the label now and saves it; runs the print command when asked and one is
    /// configured. Returns the path and whether it was printed.
    pub async fn reprint_label(
        &self,
        id: &TiktokOrderId,
        print: bool,
        audit: Vec<AuditEntry>,
    ) -> Result<(String, bool), OperationError> {
        let order = self.store.order(id)?.ok_or_else(|| {
            OperationError::NotFound(format!("order {id} is not in orderdeck's store"))
        })?;
        let link = self.runtime(&order.link)?;
        let fetched = self.run_label(&link, &order, true).await;
        self.save_tokens_if_changed(&link);
        let path = fetched.map_err(|f| match f {
            Failure::Platform(e) => OperationError::Platform(e.to_string()),
            Failure::Stuck(why) => OperationError::Invalid(why),
            Failure::Blocked(blocked) => OperationError::Invalid(blocked.reason),
            Failure::Store(e) => OperationError::Store(e),
        })?;
        // Printing is asked "where a printer is configured": without one, the saved PDF is the
        // whole answer (the caller says where it is), not a failure.
        let printed = match (print, &self.options.print_command) {
            (true, Some(command)) => {
                run_print(command, &path, PRINT_TIMEOUT)
                    .await
                    .map_err(OperationError::Platform)?;
                true
            }
            (true, None) | (false, _) => false,
        };
        let _guard = self.locks.lock(id).await;
        let mut order = self.store.order(id)?.unwrap_or(order);
        let now = self.now();
        order.label_file = Some(path.clone());
        set_flow(&mut order, Flow::Label, FlowStatus::Done { at: now }, now);
        order.note(
            now,
            Some(Flow::Label),
            if printed {
                format!("label reprinted ({path})")
            } else {
                format!("label saved to {path}")
            },
        );
        self.commit(Change {
            orders: vec![order],
            audit,
            ..Change::default()
        })
        .await?;
        Ok((path, printed))
    }
}

/// Saves a label PDF as `<label_dir>/<order>-<package>.pdf` (written to a temporary file and
/// renamed, so a crash never leaves half a label). The directory is private (0700).
pub(crate) fn save_label(
    dir: &Path,
    order: &Order,
    package: &PackageId,
    pdf: &[u8],
) -> std::io::Result<String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let name = format!(
        "{}-{}.pdf",
        order.id,
        package.as_str().replace(['/', '\\', ':'], "_")
    );
    let path = dir.join(name);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(pdf)?;
    tmp.as_file().sync_all()?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path.display().to_string())
}

/// How long the print command may take before it is stopped (a stuck spooler must not hold a
/// person's request, or the daemon, forever).
const PRINT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs the configured print command with `{file}` replaced by the label's path (no shell),
/// as a child process awaited off the runtime's workers, stopped after `timeout`.
async fn run_print(command: &str, path: &str, timeout: std::time::Duration) -> Result<(), String> {
    let words = shell_words::split(command)
        .map_err(|e| format!("label_print_command does not parse: {e}"))?;
    let args: Vec<String> = words
        .into_iter()
        .map(|w| w.replace("{file}", path))
        .collect();
    let (program, rest) = args.split_first().ok_or("label_print_command is empty")?;
    let child = tokio::process::Command::new(program)
        .args(rest)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(timeout, child).await {
        Ok(result) => result.map_err(|e| format!("could not run {program}: {e}"))?,
        Err(_) => {
            return Err(format!(
                "{program} did not finish within {} s and was stopped; the label is saved at {path}",
                timeout.as_secs()
            ));
        }
    };
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed ({}): {}",
            output.status,
            crate::domain::text::sanitize(String::from_utf8_lossy(&output.stderr).trim())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_print_command_that_hangs_is_stopped_and_the_label_path_named() {
        let why = run_print(
            "sleep 30",
            "/tmp/l.pdf",
            std::time::Duration::from_millis(200),
        )
        .await
        .unwrap_err();
        assert!(
            why.contains("did not finish") && why.contains("/tmp/l.pdf"),
            "{why}"
        );
        assert_eq!(
            run_print("true {file}", "/tmp/l.pdf", PRINT_TIMEOUT).await,
            Ok(())
        );
        let failed = run_print("false", "/tmp/l.pdf", PRINT_TIMEOUT)
            .await
            .unwrap_err();
        assert!(failed.starts_with("false failed"), "{failed}");
    }
}
