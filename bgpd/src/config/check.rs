//! `bgpd --check FILE`: validate a configuration and print every diagnostic.
use super::load;
use super::model::DatastoreBackend;
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
                    "; node {} takes the rest from {}",
                    config.node_name,
                    describe(&datastore.backend)
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

/// The datastore as the summary names it: `etcd https://198.18.0.250:2379 (prefix /calico)`,
/// `the Kubernetes API (in-cluster service account; Secrets from kube-system)`.
fn describe(backend: &DatastoreBackend) -> String {
    match backend {
        DatastoreBackend::Etcd(etcd) => {
            format!("etcd {} (prefix {})", etcd.endpoints.join(", "), etcd.prefix)
        }
        DatastoreBackend::Kubernetes(kubernetes) => {
            let credentials = match &kubernetes.kubeconfig {
                Some(path) => format!("kubeconfig {}", path.display()),
                None => "in-cluster service account".to_string(),
            };
            let mut text = format!(
                "the Kubernetes API ({credentials}; Secrets from {}",
                kubernetes.secrets_namespace
            );
            if let Some(label) = &kubernetes.route_reflector_label {
                text.push_str(&format!("; route reflectors labelled {label}"));
            }
            let services = kubernetes.service_cluster_ips.len()
                + kubernetes.service_external_ips.len()
                + kubernetes.service_load_balancer_ips.len();
            if services > 0 {
                text.push_str(&format!("; {services} Service ranges"));
            }
            text.push(')');
            text
        }
    }
}
