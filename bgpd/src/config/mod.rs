//! The YAML configuration (schema: docs/configuration.md): loading, validation with
//! file:line:column diagnostics, `bgpd --check`, and the diff that drives reloads.
mod check;
mod diagnostic;
mod diff;
mod locate;
mod model;
pub mod originate_guard;
mod policy;
mod raw;
mod validate;
mod validate_datastore;
pub use validate::{default_policy, neighbor_ttl};

#[cfg(test)]
mod diff_tests;
#[cfg(test)]
mod tests;

pub use check::check_command;
pub use diagnostic::{ConfigErrors, Diagnostic, Severity};
pub use diff::{ConfigDiff, NeighborChange};
pub use model::{
    AddPathConfig, Config, DatastoreBackend, DatastoreConfig, EtcdConfig, FileSets,
    GracefulRestartConfig, KernelConfig, KubernetesConfig, LogConfig, LogFormat, MaxPrefixes,
    NeighborConfig, NeighborSource, Password, DEFAULT_LOG_LEVEL,
};
pub use policy::{parse_prefix, Policy, PolicyAction, PolicyRule};
pub use raw::default_listen;

use std::path::Path;

/// Reads and validates the configuration file at `path`. Relative `password_file` paths are
/// resolved against the file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|error| ConfigErrors::single(&origin, "", format!("cannot read: {error}")))?;
    parse_in(&text, &origin, path.parent())
}

/// Parses and validates configuration text; `origin` names it in diagnostics.
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigErrors> {
    parse_in(text, origin, None)
}

fn parse_in(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<Config, ConfigErrors> {
    // Parse the whole document first: serde_yaml reads lazily, so deserializing straight
    // into the structs would report `local_as: [64512` (unclosed) as a type error on
    // `local_as` instead of the syntax error it is. This pass also tells an empty file
    // (nothing but comments) from one that lacks fields.
    match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Err(error) => return Err(yaml_error(origin, &error)),
        Ok(serde_yaml::Value::Null) => {
            return Err(ConfigErrors::single(
                origin,
                "",
                "the file is empty (at least router_id and local_as are needed)".to_string(),
            ))
        }
        Ok(_) => {}
    }
    // Deserialize from the text again (not from the Value) so that errors keep positions.
    let raw: raw::RawConfig =
        serde_yaml::from_str(text).map_err(|error| yaml_error(origin, &error))?;
    validate::Checker::new(text, origin).finish(raw, base_dir)
}

/// Turns a serde_yaml error into a diagnostic. Its text reads `path: message at line L
/// column C` (libyaml syntax errors: `problem at line L column C, while parsing ...`); the
/// position is taken from the error's location and removed from the text, and the field
/// path split off.
fn yaml_error(origin: &str, error: &serde_yaml::Error) -> ConfigErrors {
    let mut text = error.to_string();
    let location = error.location();
    if let Some(location) = &location {
        let at = format!(" at line {} column {}", location.line(), location.column());
        if let Some(start) = text.find(&at) {
            text.replace_range(start..start + at.len(), "");
        }
    }
    let (field, message) = match text.split_once(": ") {
        Some((field, message)) if looks_like_path(field) => {
            (field.to_string(), message.to_string())
        }
        _ => (String::new(), text),
    };
    ConfigErrors {
        errors: vec![Diagnostic {
            severity: Severity::Error,
            origin: origin.to_string(),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            field,
            message,
        }],
        warnings: Vec::new(),
    }
}

/// serde_yaml paths look like `neighbors[1].hold_time`: no spaces, identifier characters.
fn looks_like_path(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'))
}
