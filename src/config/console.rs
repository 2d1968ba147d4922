//! `[console]`: how this deployment's consoles look and behave — an environment label shown in
//! the header with its colour (so a console on "PROD EU" never looks like one on staging, as
//! k9s skins each context), and whether the mouse is taken (on by default; off keeps the
//! terminal's own text selection).

use super::problem::did_you_mean;
use super::reader::{Loader, Section};

/// The colours a label may have: the 16 a terminal always has, in the spelling used here.
pub const COLOURS: [&str; 16] = [
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "dark-gray",
    "light-red",
    "light-green",
    "light-yellow",
    "light-blue",
    "light-magenta",
    "light-cyan",
    "white",
];

/// The longest label the header makes room for.
const MAX_LABEL: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// Shown in the header, e.g. "PROD EU".
    pub label: Option<String>,
    /// One of [`COLOURS`].
    pub colour: Option<&'static str>,
    pub mouse: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            label: None,
            colour: None,
            mouse: true,
        }
    }
}

pub(crate) fn read_console(ld: &mut Loader<'_>, section: Option<Section<'_, '_>>) -> ConsoleConfig {
    let Some(mut section) = section else {
        return ConsoleConfig::default();
    };
    let label = section.checked(ld, "label", false, check_label);
    // Both spellings: people write the one they use.
    let colour = match section.get("color").is_some() {
        true => section.checked(ld, "color", false, check_colour),
        false => section.checked(ld, "colour", false, check_colour),
    };
    let mouse = section.boolean(ld, "mouse", true);
    section.get("colour");
    section.finish(ld, |_| None);
    ConsoleConfig {
        label,
        colour,
        mouse,
    }
}

fn check_label(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("the label is empty; leave it out instead".into());
    }
    if text.chars().any(char::is_control) {
        return Err("the label may not hold control characters".into());
    }
    if text.chars().count() > MAX_LABEL {
        return Err(format!("the label is longer than {MAX_LABEL} characters"));
    }
    Ok(text.trim().to_string())
}

fn check_colour(text: &str) -> Result<&'static str, String> {
    let wanted = text.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    let wanted = match wanted.as_str() {
        "grey" => "gray".to_string(),
        "dark-grey" => "dark-gray".to_string(),
        other => other.to_string(),
    };
    if let Some(known) = COLOURS.iter().find(|c| **c == wanted) {
        return Ok(known);
    }
    let near = did_you_mean(&wanted, COLOURS.iter().copied())
        .map(|c| format!(" (did you mean \"{c}\"?)"))
        .unwrap_or_default();
    Err(format!(
        "{:?} is not a terminal colour{near}; use one of {}",
        crate::domain::text::sanitize(text),
        COLOURS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, Environment};

    fn load(console: &str) -> Result<Config, String> {
        let text = format!("[console]\n{console}\n");
        let env = Environment {
            data_dir: Some("/data".into()),
            ..Environment::default()
        };
        Config::parse(&text, Path::new("od.toml"), 0o600, &env).map_err(|p| p.to_string())
    }

    #[test]
    fn a_label_its_colour_and_the_mouse_are_read() {
        let config = load("label = \"PROD EU\"\ncolour = \"Red\"\nmouse = false").unwrap();
        assert_eq!(config.console.label.as_deref(), Some("PROD EU"));
        assert_eq!(config.console.colour, Some("red"));
        assert!(!config.console.mouse);
        let config = load("color = \"light blue\"").unwrap();
        assert_eq!(config.console.colour, Some("light-blue"));
        assert!(config.console.mouse, "the mouse is on unless turned off");
    }

    #[test]
    fn an_unknown_colour_is_refused_at_its_place_with_a_suggestion() {
        let error = load("colour = \"rde\"").unwrap_err();
        assert!(
            error.contains("od.toml:2:10: \"colour\" in [console]"),
            "{error}"
        );
        assert!(error.contains("did you mean \"red\"?"), "{error}");
        let error = load("lable = \"x\"").unwrap_err();
        assert!(error.contains("did you mean \"label\"?"), "{error}");
    }
}
