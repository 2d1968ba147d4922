//! Reading a parsed TOML document key by key, with spans. A [`Section`] hands out one table's
//! values by key and remembers which keys were asked for; whatever is left at `finish` is an
//! unknown key (with a did-you-mean among the keys that section knows). Every getter reports a
//! bad value to the [`Loader`] and carries on, so one mistake never hides the next.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::paths::Environment;
use super::problem::{LineIndex, Position, Problem, Problems, Severity, did_you_mean};
use super::secret::{Secret, SecretRef};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;
pub(crate) type Span = Range<usize>;

/// The state of one load: the text (for positions), what the host offers (environment, file
/// mode) and every problem found so far.
pub(crate) struct Loader<'a> {
    pub file: &'a Path,
    /// Positions in the text, computed once: a config may hold thousands of problems.
    pub lines: LineIndex<'a>,
    pub env: &'a Environment,
    /// The config's directory: relative paths in the config are relative to it.
    pub base_dir: PathBuf,
    /// The config file's permission bits; literal secrets need `mode & 0o077 == 0`.
    pub mode: u32,
    pub problems: Problems,
}

impl Loader<'_> {
    pub fn position(&self, span: &Span) -> Position {
        self.lines.position(span.start)
    }

    pub fn error(&mut self, span: &Span, message: impl Into<String>) {
        self.push(Severity::Error, Some(span), message.into());
    }

    pub fn warn(&mut self, span: &Span, message: impl Into<String>) {
        self.push(Severity::Warning, Some(span), message.into());
    }

    /// A problem with the file as a whole rather than one place in it.
    pub fn file_error(&mut self, message: impl Into<String>) {
        self.push(Severity::Error, None, message.into());
    }

    pub fn file_warning(&mut self, message: impl Into<String>) {
        self.push(Severity::Warning, None, message.into());
    }

    fn push(&mut self, severity: Severity, span: Option<&Span>, message: String) {
        let position = span.map(|span| self.position(span));
        self.problems.push(Problem {
            severity,
            file: self.file.to_path_buf(),
            position,
            message,
        });
    }
}

/// One table of the document (`[paths]`, one `[[shops]]` element, an inline table...).
pub(crate) struct Section<'t, 'i> {
    /// How messages name this table: `[paths]`, `[[shops]] "uk"`, `[[stores]] #2`.
    pub label: String,
    /// The table's header (or inline table), where "missing key" problems point.
    pub span: Span,
    table: &'t DeTable<'i>,
    known: Vec<&'static str>,
}

impl<'t, 'i> Section<'t, 'i> {
    pub fn new(label: impl Into<String>, span: Span, table: &'t DeTable<'i>) -> Self {
        Section {
            label: label.into(),
            span,
            table,
            known: Vec::new(),
        }
    }

    /// The value at `key`, if present; `key` counts as known from now on either way.
    pub fn get(&mut self, key: &'static str) -> Option<&'t Value<'i>> {
        self.known.push(key);
        self.table.get(key)
    }

    fn wrong_type(&self, ld: &mut Loader<'_>, key: &str, value: &Value<'_>, wanted: &str) {
        let found = value.get_ref().type_str();
        ld.error(
            &value.span(),
            format!("\"{key}\" in {} must be {wanted}, not {found}", self.label),
        );
    }

    pub fn string(&mut self, ld: &mut Loader<'_>, key: &'static str) -> Option<(&'t str, Span)> {
        let value = self.get(key)?;
        match value.get_ref().as_str() {
            Some(text) => Some((text, value.span())),
            None => {
                self.wrong_type(ld, key, value, "a string");
                None
            }
        }
    }

    pub fn required_string(
        &mut self,
        ld: &mut Loader<'_>,
        key: &'static str,
    ) -> Option<(&'t str, Span)> {
        if self.table.contains_key(key) {
            self.string(ld, key)
        } else {
            self.missing(ld, key);
            None
        }
    }

    /// A string passed through `check`, whose refusal is reported at the value as
    /// `"key" in <label>: <why>`. `required` reports an absent key too.
    pub fn checked<T>(
        &mut self,
        ld: &mut Loader<'_>,
        key: &'static str,
        required: bool,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let (text, span) = if required {
            self.required_string(ld, key)?
        } else {
            self.string(ld, key)?
        };
        check(text)
            .map_err(|why| ld.error(&span, format!("\"{key}\" in {}: {why}", self.label)))
            .ok()
    }

    pub fn missing(&mut self, ld: &mut Loader<'_>, key: &'static str) {
        self.known.push(key);
        ld.error(&self.span, format!("{} is missing \"{key}\"", self.label));
    }

    pub fn boolean(&mut self, ld: &mut Loader<'_>, key: &'static str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(value) => value.get_ref().as_bool().unwrap_or_else(|| {
                self.wrong_type(ld, key, value, "true or false");
                default
            }),
        }
    }

    /// A whole number in `range`, or `default` when absent.
    pub fn integer(
        &mut self,
        ld: &mut Loader<'_>,
        key: &'static str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> u32 {
        let Some(value) = self.get(key) else {
            return default;
        };
        let Some(int) = value.get_ref().as_integer() else {
            self.wrong_type(ld, key, value, "a whole number");
            return default;
        };
        match u32::from_str_radix(int.as_str(), int.radix()) {
            Ok(n) if range.contains(&n) => n,
            _ => {
                ld.error(
                    &value.span(),
                    format!(
                        "\"{key}\" in {} must be between {} and {}",
                        self.label,
                        range.start(),
                        range.end()
                    ),
                );
                default
            }
        }
    }

    /// A humantime duration written as text (`"60s"`, `"1m 30s"`) within `range`.
    pub fn duration(
        &mut self,
        ld: &mut Loader<'_>,
        key: &'static str,
        default: Duration,
        range: std::ops::RangeInclusive<Duration>,
    ) -> Duration {
        let Some(value) = self.get(key) else {
            return default;
        };
        let Some(text) = value.get_ref().as_str() else {
            self.wrong_type(ld, key, value, "a duration written as text, e.g. \"60s\"");
            return default;
        };
        let show = |d: &Duration| humantime::format_duration(*d).to_string();
        match humantime::parse_duration(text) {
            Ok(d) if range.contains(&d) => d,
            Ok(d) => {
                ld.error(
                    &value.span(),
                    format!(
                        "\"{key}\" in {} is {}; use between {} and {}",
                        self.label,
                        show(&d),
                        show(range.start()),
                        show(range.end())
                    ),
                );
                default
            }
            Err(e) => {
                ld.error(
                    &value.span(),
                    format!(
                        "\"{key}\" in {}: {text:?} is not a duration ({e}); write e.g. \"60s\", \"5m\"",
                        self.label
                    ),
                );
                default
            }
        }
    }

    /// A secret (literal, `env:NAME` or `file:PATH`). A literal is refused when the config file
    /// can be read by anyone but its owner: the fix is spelled out.
    pub fn secret(
        &mut self,
        ld: &mut Loader<'_>,
        key: &'static str,
        required: bool,
    ) -> Option<Secret> {
        let (text, span) = if required {
            self.required_string(ld, key)?
        } else {
            self.string(ld, key)?
        };
        let reference = SecretRef::parse(text);
        if matches!(reference, SecretRef::Literal(_)) && ld.mode & 0o077 != 0 {
            let message = format!(
                "\"{key}\" in {} is a literal secret, but {} is readable by group or others (mode {:o}); run `chmod 600 {}`, or write the value as env:NAME or file:PATH",
                self.label,
                ld.file.display(),
                ld.mode & 0o777,
                ld.file.display()
            );
            ld.error(&span, message);
            return None;
        }
        match reference.resolve(ld.env, &ld.base_dir) {
            Ok(secret) => Some(secret),
            Err(why) => {
                ld.error(&span, format!("\"{key}\" in {}: {why}", self.label));
                None
            }
        }
    }

    /// An http(s) URL, or `default` when absent.
    pub fn url(
        &mut self,
        ld: &mut Loader<'_>,
        key: &'static str,
        default: &str,
    ) -> Option<url::Url> {
        if self.table.contains_key(key) {
            self.checked(ld, key, false, check_url)
        } else {
            self.known.push(key);
            check_url(default).ok()
        }
    }

    /// A list of strings (`["alice", "@ops"]`), each with its span.
    pub fn string_list(&mut self, ld: &mut Loader<'_>, key: &'static str) -> Vec<(&'t str, Span)> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let Some(items) = value.get_ref().as_array() else {
            self.wrong_type(ld, key, value, "a list of strings");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref().as_str() {
                Some(text) => out.push((text, item.span())),
                None => self.wrong_type(ld, key, item, "a list of strings"),
            }
        }
        out
    }

    /// A sub-table (`[links.settings]` or an inline `{ ... }`).
    pub fn table(
        &mut self,
        ld: &mut Loader<'_>,
        key: &'static str,
    ) -> Option<(&'t DeTable<'i>, Span)> {
        let value = self.get(key)?;
        match value.get_ref().as_table() {
            Some(table) => Some((table, value.span())),
            None => {
                self.wrong_type(ld, key, value, "a table");
                None
            }
        }
    }

    /// Reports every key nobody asked for. `hint` may explain a key the section does not
    /// know (e.g. one that belongs to another platform); otherwise a near miss is suggested.
    pub fn finish(self, ld: &mut Loader<'_>, hint: impl Fn(&str) -> Option<String>) {
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if self.known.contains(&name) {
                continue;
            }
            let mut message = format!("unknown key \"{name}\" in {}", self.label);
            if let Some(near) = did_you_mean(name, self.known.iter().copied()) {
                message.push_str(&format!(" (did you mean \"{near}\"?)"));
            } else if let Some(why) = hint(name) {
                message.push_str(&format!(" ({why})"));
            }
            ld.error(&key.span(), message);
        }
    }
}

/// An absolute http(s) URL with a host and nothing after the path: a base for API calls.
pub(crate) fn check_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{text:?} must start with https:// (or http:// for a local sandbox)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{text:?} must be a plain base URL, without user, query or fragment"
        ));
    }
    Ok(url)
}

/// Printable ASCII without spaces: ids and keys copied from a platform's console.
pub(crate) fn plain_text(text: &str, what: &str) -> Result<String, String> {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{:?} is not {what}",
            crate::domain::text::sanitize(text)
        ))
    }
}

/// The elements of a top-level `[[name]]` array of tables, each with a 1-based number for
/// messages about elements that have no usable name.
pub(crate) fn array_of_tables<'t, 'i>(
    ld: &mut Loader<'_>,
    root: &mut Section<'t, 'i>,
    key: &'static str,
) -> Vec<(usize, Span, &'t DeTable<'i>)> {
    let Some(value) = root.get(key) else {
        return Vec::new();
    };
    let Some(items) = value.get_ref().as_array() else {
        ld.error(
            &value.span(),
            format!("\"{key}\" must be a list of tables: write each entry under [[{key}]]"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.get_ref().as_table() {
            Some(table) => out.push((i + 1, item.span(), table)),
            None => ld.error(
                &item.span(),
                format!("entries of \"{key}\" must be tables: write each entry under [[{key}]]"),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_plain_http_bases() {
        assert!(check_url("https://open-api.tiktokglobalshop.com").is_ok());
        assert!(check_url("http://127.0.0.1:8080/shopify").is_ok());
        for bad in [
            "open-api.tiktokglobalshop.com",
            "ftp://x.example",
            "https://x.example/?a=1",
            "https://user@x.example",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
