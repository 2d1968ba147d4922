//! TikTok tokens over time. `orderdeck.toml` holds the first tokens; refreshed ones are kept in
//! private files in the data dir (`tokens/<shop>.json`, 0600) so a restarted daemon goes on with
//! the newest pair. The access token is refreshed a day before it expires; the refresh token's
//! expiry is the end of the seller's authorization, shown on the Stores view.

use std::io::Write;
use std::path::Path;

use crate::domain::ids::ShopId;
use crate::platforms::Tokens;

use super::activity::Level;
use super::{Engine, LinkRuntime};

const REFRESH_AHEAD: chrono::Duration = chrono::Duration::days(1);

/// Tokens saved by an earlier run, if any. A file that exists but cannot be read is an error
/// naming it: going on silently with older tokens could end the seller's authorization.
pub fn load(dir: &Path, shop: &ShopId) -> Result<Option<Tokens>, String> {
    let path = dir.join(format!("{shop}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "could not read saved tokens {}: {e}",
                path.display()
            ));
        }
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        format!(
            "saved tokens {} are damaged ({e}); the tokens of orderdeck.toml are used: check they are current",
            path.display()
        )
    })
}

fn save(dir: &Path, shop: &ShopId, tokens: &Tokens) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    tmp.write_all(serde_json::to_string(tokens)?.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(format!("{shop}.json")))
        .map_err(|e| e.error)?;
    Ok(())
}

impl Engine {
    pub(crate) async fn refresh_tokens_if_due(&self, link: &LinkRuntime) {
        let tokens = link.marketplace.tokens();
        let due = tokens
            .access_expires_at
            .is_some_and(|at| at - self.now() < REFRESH_AHEAD);
        if !due {
            return;
        }
        match link.marketplace.refresh_tokens().await {
            Ok(_) => self.activity.record(
                self.now(),
                Level::Info,
                Some(&link.id),
                None,
                format!("TikTok access token of shop {} refreshed", link.shop),
            ),
            Err(e) => self.activity.record(
                self.now(),
                Level::Error,
                Some(&link.id),
                None,
                format!(
                    "could not refresh the TikTok token of shop {}: {e}",
                    link.shop
                ),
            ),
        }
    }

    /// Persists the marketplace's tokens when a refresh changed them since they were last saved.
    /// The client refreshes by itself whenever TikTok refuses an expired token — during a poll
    /// or in the middle of a job — so this runs after both: a daemon killed right after a job's
    /// refresh must not restart with the config's old pair.
    pub(crate) fn save_tokens_if_changed(&self, link: &LinkRuntime) {
        let current = link.marketplace.tokens();
        // Held while writing, so two jobs of one shop never race on the file.
        let mut saved = self.saved_tokens.lock().unwrap_or_else(|e| e.into_inner());
        let known = saved.entry(link.shop.clone()).or_insert_with(|| {
            load(&self.options.token_dir, &link.shop).unwrap_or_else(|why| {
                self.activity
                    .record(self.now(), Level::Error, Some(&link.id), None, why);
                None
            })
        });
        if known.as_ref() == Some(&current) {
            return;
        }
        match save(&self.options.token_dir, &link.shop, &current) {
            Ok(()) => *known = Some(current),
            Err(e) => self.activity.record(
                self.now(),
                Level::Error,
                Some(&link.id),
                None,
                format!("could not save refreshed tokens of shop {}: {e}", link.shop),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_tokens_file_is_an_error_naming_it_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let shop = ShopId::new("uk").unwrap();
        assert_eq!(load(dir.path(), &shop), Ok(None));
        std::fs::write(dir.path().join("uk.json"), "{\"access_token\": ").unwrap();
        let why = load(dir.path(), &shop).unwrap_err();
        assert!(why.contains("uk.json") && why.contains("damaged"), "{why}");
    }
}
