//! Configuration errors and warnings, each tied to a file, a line/column and a field path.
use std::fmt;

/// One step of a field path: a mapping key or a sequence index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Renders a path the way an operator writes it: `neighbors[1].hold_time`.
pub fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// An error or warning about the configuration.
///
/// Displays as `bgpd.yaml:14:5: neighbors[1].hold_time: must be 0 or at least 3 (got 2)`
/// (warnings carry `warning: ` after the location).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file name (or any label given to [`super::parse`]).
    pub origin: String,
    /// 1-based line, when the position is known.
    pub line: Option<usize>,
    /// 1-based column, when the position is known.
    pub column: Option<usize>,
    /// The field path, e.g. `neighbors[1].hold_time`; empty for whole-file problems.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Everything wrong with a configuration: at least one error, plus any warnings found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl ConfigErrors {
    /// A single whole-file error (unreadable file, YAML syntax without a position ...).
    pub fn single(origin: &str, field: &str, message: String) -> Self {
        ConfigErrors {
            errors: vec![Diagnostic {
                severity: Severity::Error,
                origin: origin.to_string(),
                line: None,
                column: None,
                field: field.to_string(),
                message,
            }],
            warnings: Vec::new(),
        }
    }
}

impl ConfigErrors {
    /// Errors and warnings together, in file order (for `bgpd --check`).
    pub fn all_in_file_order(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = self.errors.iter().chain(&self.warnings).collect();
        all.sort_by_key(|d| position_key(d));
        all
    }
}

/// Sorts diagnostics by line, then column; whole-file ones (no position) first. Stable, so
/// several diagnostics at one position keep the order they were found in.
pub fn sort_by_position(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(position_key);
}

fn position_key(diagnostic: &Diagnostic) -> (usize, usize) {
    (diagnostic.line.unwrap_or(0), diagnostic.column.unwrap_or(0))
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.errors.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_renders_like_an_operator_writes_it() {
        let path = [Seg::Key("neighbors"), Seg::Index(1), Seg::Key("hold_time")];
        assert_eq!(path_string(&path), "neighbors[1].hold_time");
        assert_eq!(path_string(&[Seg::Key("originate"), Seg::Index(0)]), "originate[0]");
        assert_eq!(path_string(&[]), "");
    }

    #[test]
    fn diagnostic_display_formats() {
        let mut d = Diagnostic {
            severity: Severity::Error,
            origin: "bgpd.yaml".into(),
            line: Some(14),
            column: Some(5),
            field: "neighbors[1].hold_time".into(),
            message: "must be 0 or at least 3 (got 2)".into(),
        };
        assert_eq!(
            d.to_string(),
            "bgpd.yaml:14:5: neighbors[1].hold_time: must be 0 or at least 3 (got 2)"
        );
        d.severity = Severity::Warning;
        d.line = None;
        d.field.clear();
        assert_eq!(d.to_string(), "bgpd.yaml: warning: must be 0 or at least 3 (got 2)");
    }
}
