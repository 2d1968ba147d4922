//! Colours. The default theme uses only the 16 ANSI colours, so it follows the person's own
//! terminal palette and costs few bytes per cell; with `NO_COLOR` set the theme is monochrome
//! and still shows selection, marks and urgency through REVERSED, BOLD and UNDERLINED.

use std::ffi::OsStr;

use ratatui::style::{Color, Modifier, Style};

use crate::domain::triage::Urgency;

/// How the person asked for colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMode {
    /// 16 colours unless `NO_COLOR` is set (to anything but the empty string).
    #[default]
    Auto,
    Ansi16,
    Monochrome,
}

impl ColorMode {
    /// The theme to use, given the value of `NO_COLOR` (see <https://no-color.org>).
    pub fn theme(self, no_color: Option<&OsStr>) -> Theme {
        match self {
            ColorMode::Ansi16 => Theme::ansi16(),
            ColorMode::Monochrome => Theme::monochrome(),
            ColorMode::Auto if no_color.is_some_and(|v| !v.is_empty()) => Theme::monochrome(),
            ColorMode::Auto => Theme::ansi16(),
        }
    }
}

/// A colour by the name `[console] colour` uses (see `config::COLOURS`).
pub fn named_colour(name: &str) -> Option<Color> {
    Some(match name {
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" => Color::Gray,
        "dark-gray" => Color::DarkGray,
        "light-red" => Color::LightRed,
        "light-green" => Color::LightGreen,
        "light-yellow" => Color::LightYellow,
        "light-blue" => Color::LightBlue,
        "light-magenta" => Color::LightMagenta,
        "light-cyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    })
}

/// Severity of a message or a health figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Success,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: &'static str,
    pub brand: Style,
    pub header: Style,
    pub lock: Style,
    pub tab: Style,
    pub tab_active: Style,
    pub border: Style,
    pub title: Style,
    pub table_header: Style,
    pub selected: Style,
    pub marked: Style,
    pub muted: Style,
    pub key: Style,
    pub input: Style,
    pub dialog: Style,
    ok: Style,
    warning: Style,
    error: Style,
    overdue: Style,
    critical: Style,
    soon: Style,
    toast_info: Style,
    toast_success: Style,
    toast_warning: Style,
    toast_error: Style,
}

impl Theme {
    pub fn ansi16() -> Theme {
        let plain = Style::new();
        Theme {
            name: "16-colour",
            brand: plain
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            header: plain,
            lock: plain.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            tab: plain,
            tab_active: plain
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            border: plain.fg(Color::DarkGray),
            title: plain.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            table_header: plain.add_modifier(Modifier::BOLD),
            selected: plain.add_modifier(Modifier::REVERSED),
            marked: plain.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            muted: plain.fg(Color::DarkGray),
            key: plain.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            input: plain.fg(Color::White),
            dialog: plain,
            ok: plain.fg(Color::Green),
            warning: plain.fg(Color::Yellow),
            error: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
            overdue: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
            critical: plain.fg(Color::Red),
            soon: plain.fg(Color::Yellow),
            toast_info: plain.fg(Color::Cyan),
            toast_success: plain.fg(Color::Green),
            toast_warning: plain.fg(Color::Black).bg(Color::Yellow),
            toast_error: plain
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        }
    }

    pub fn monochrome() -> Theme {
        let plain = Style::new();
        let bold = plain.add_modifier(Modifier::BOLD);
        Theme {
            name: "monochrome",
            brand: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            header: plain,
            lock: bold,
            tab: plain,
            tab_active: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            border: plain,
            title: bold,
            table_header: plain.add_modifier(Modifier::UNDERLINED),
            selected: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            marked: bold,
            muted: plain,
            key: bold,
            input: plain,
            dialog: plain,
            ok: plain,
            warning: bold,
            error: bold,
            overdue: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            critical: bold,
            soon: plain,
            toast_info: plain,
            toast_success: plain,
            toast_warning: bold,
            toast_error: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    pub fn urgency(&self, urgency: Urgency) -> Style {
        match urgency {
            Urgency::Overdue => self.overdue,
            Urgency::Critical => self.critical,
            Urgency::Soon => self.soon,
            Urgency::Later => Style::new(),
        }
    }

    /// Text coloured by how healthy or severe it is.
    pub fn level(&self, level: Level) -> Style {
        match level {
            Level::Info => Style::new(),
            Level::Success => self.ok,
            Level::Warning => self.warning,
            Level::Error => self.error,
        }
    }

    /// The header's environment label: on its own colour (chosen in `[console] colour`), or
    /// reversed where there is no colour (`NO_COLOR`, or none chosen).
    pub fn badge(&self, colour: Option<Color>) -> Style {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match colour {
            Some(colour) if self.name != "monochrome" => {
                let dark = matches!(
                    colour,
                    Color::Black | Color::Blue | Color::Red | Color::Magenta | Color::DarkGray
                );
                bold.bg(colour)
                    .fg(if dark { Color::White } else { Color::Black })
            }
            _ => bold.add_modifier(Modifier::REVERSED),
        }
    }

    /// A message box (toast) of this level.
    pub fn toast(&self, level: Level) -> Style {
        match level {
            Level::Info => self.toast_info,
            Level::Success => self.toast_success,
            Level::Warning => self.toast_warning,
            Level::Error => self.toast_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles(theme: &Theme) -> Vec<Style> {
        let mut all = vec![
            theme.brand,
            theme.header,
            theme.lock,
            theme.tab,
            theme.tab_active,
            theme.border,
            theme.title,
            theme.table_header,
            theme.selected,
            theme.marked,
            theme.muted,
            theme.key,
            theme.input,
            theme.dialog,
        ];
        all.extend(
            [Level::Info, Level::Success, Level::Warning, Level::Error].map(|l| theme.level(l)),
        );
        all.extend(
            [Level::Info, Level::Success, Level::Warning, Level::Error].map(|l| theme.toast(l)),
        );
        all.extend(
            [
                Urgency::Overdue,
                Urgency::Critical,
                Urgency::Soon,
                Urgency::Later,
            ]
            .map(|u| theme.urgency(u)),
        );
        all
    }

    fn is_ansi16(color: Option<Color>) -> bool {
        !matches!(color, Some(Color::Rgb(..) | Color::Indexed(_)))
    }

    #[test]
    fn the_default_theme_uses_only_the_16_ansi_colours() {
        for style in styles(&Theme::ansi16()) {
            assert!(is_ansi16(style.fg) && is_ansi16(style.bg), "{style:?}");
        }
    }

    #[test]
    fn monochrome_has_no_colour_but_still_shows_selection() {
        let mono = Theme::monochrome();
        for style in styles(&mono) {
            assert_eq!((style.fg, style.bg), (None, None), "{style:?}");
        }
        assert!(mono.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn every_configurable_colour_has_its_ansi_colour() {
        for name in crate::config::COLOURS {
            let colour = named_colour(name).unwrap_or_else(|| panic!("{name}"));
            assert!(is_ansi16(Some(colour)), "{name}");
        }
    }

    #[test]
    fn no_color_is_honoured_unless_empty() {
        assert_eq!(
            ColorMode::Auto.theme(Some(OsStr::new("1"))).name,
            "monochrome"
        );
        assert_eq!(
            ColorMode::Auto.theme(Some(OsStr::new(""))).name,
            "16-colour"
        );
        assert_eq!(ColorMode::Auto.theme(None).name, "16-colour");
        assert_eq!(
            ColorMode::Ansi16.theme(Some(OsStr::new("1"))).name,
            "16-colour"
        );
    }
}
