//! `bgpd --check FILE`: validate a configuration and print every diagnostic.
use super::load;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Prints errors and warnings (`file:line:col: field: message`) to stderr and a summary to
/// stdout. Exit code 1 if there is any error, 0 otherwise (warnings alone pass).
pub fn check_command(path: &Path) -> ExitCode {
    let (report, ok) = check_report(path);
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    for line in &report.diagnostics {
        let _ = writeln!(stderr, "{line}");
    }
    println!("{}", report.summary);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub(crate) struct CheckReport {
    pub diagnostics: Vec<String>,
    pub summary: String,
}

pub(crate) fn check_report(path: &Path) -> (CheckReport, bool) {
    let name = path.display();
    match load(path) {
        Ok(config) => {
            let diagnostics: Vec<String> =
                config.warnings().iter().map(|w| w.to_string()).collect();
            let mut summary = format!(
                "{name}: OK ({} neighbors, {} originated prefixes, {} warnings)",
                config.neighbors.len(),
                config.originate.len(),
                diagnostics.len()
            );
            if let Some(datastore) = &config.datastore {
                summary.push_str(&format!(
                    "; node {} takes the rest from etcd {} (prefix {})",
                    config.node_name,
                    datastore.etcd.endpoints.join(", "),
                    datastore.etcd.prefix
                ));
            }
            (CheckReport { diagnostics, summary }, true)
        }
        Err(errors) => {
            let diagnostics: Vec<String> =
                errors.all_in_file_order().iter().map(|d| d.to_string()).collect();
            let summary = format!(
                "{name}: {} errors, {} warnings",
                errors.errors.len(),
                errors.warnings.len()
            );
            (CheckReport { diagnostics, summary }, false)
        }
    }
}
