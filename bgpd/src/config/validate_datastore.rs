//! `datastore:` validation: exactly one backend; for etcd usable endpoints and TLS files that
//! exist, for Kubernetes a namespace name and Service CIDRs without host bits.
use super::diagnostic::Seg;
use super::model::{DatastoreBackend, DatastoreConfig, EtcdConfig, KubernetesConfig};
use super::policy::parse_prefix;
use super::raw::{RawDatastore, RawEtcd, RawKubernetes};
use super::validate::Checker;
use std::path::{Path, PathBuf};

/// The Secrets namespace when neither the file nor `$POD_NAMESPACE` names one.
pub const DEFAULT_SECRETS_NAMESPACE: &str = "kube-system";

impl Checker<'_> {
    /// `datastore:`: exactly one of `etcd` and `kubernetes`.
    pub(super) fn datastore(
        &mut self,
        raw: &RawDatastore,
        base_dir: Option<&Path>,
    ) -> Option<DatastoreConfig> {
        use Seg::Key;
        let backend = match (&raw.etcd, &raw.kubernetes) {
            (Some(etcd), None) => DatastoreBackend::Etcd(self.etcd(etcd, base_dir)),
            (None, Some(kubernetes)) => {
                DatastoreBackend::Kubernetes(self.kubernetes(kubernetes, base_dir))
            }
            (Some(_), Some(_)) => {
                self.error(
                    &[Key("datastore"), Key("kubernetes")],
                    "set either `etcd` or `kubernetes`, not both".into(),
                );
                return None;
            }
            (None, None) => {
                self.error(
                    &[Key("datastore")],
                    "name a datastore: `etcd: {endpoints: [...]}` or `kubernetes: {}`".into(),
                );
                return None;
            }
        };
        Some(DatastoreConfig {
            backend,
            state_dir: raw.state_dir.clone(),
            secrets_dir: raw.secrets_dir.clone(),
        })
    }

    /// `datastore.etcd`: usable endpoints, TLS files that exist.
    fn etcd(&mut self, etcd: &RawEtcd, base_dir: Option<&Path>) -> EtcdConfig {
        use Seg::Key;
        let at = |field: &'static str| [Key("datastore"), Key("etcd"), Key(field)];
        if etcd.endpoints.is_empty() {
            self.error(&at("endpoints"), "at least one endpoint is needed".into());
        }
        for (index, endpoint) in etcd.endpoints.iter().enumerate() {
            let path = [Key("datastore"), Key("etcd"), Key("endpoints"), Seg::Index(index)];
            let rest =
                endpoint.strip_prefix("http://").or_else(|| endpoint.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') => {}
                _ => self.error(
                    &path,
                    format!("`{endpoint}` is not an endpoint like http://198.18.0.250:2379"),
                ),
            }
            if endpoint.starts_with("https://") && etcd.ca_file.is_none() {
                self.error(&at("ca_file"), format!("{endpoint} uses TLS: set ca_file"));
            }
        }
        if !etcd.prefix.starts_with('/') {
            self.error(&at("prefix"), format!("`{}` must start with `/`", etcd.prefix));
        }
        if etcd.cert_file.is_some() != etcd.key_file.is_some() {
            self.error(&at("key_file"), "set cert_file and key_file together".into());
        }
        let (ca_file, cert_file, key_file, password_file) = (
            resolve(&etcd.ca_file, base_dir),
            resolve(&etcd.cert_file, base_dir),
            resolve(&etcd.key_file, base_dir),
            resolve(&etcd.password_file, base_dir),
        );
        for (field, file) in [
            ("ca_file", &ca_file),
            ("cert_file", &cert_file),
            ("key_file", &key_file),
            ("password_file", &password_file),
        ] {
            if let Some(file) = file {
                if let Err(error) = std::fs::metadata(file) {
                    self.error(&at(field), format!("cannot read {}: {error}", file.display()));
                }
            }
        }
        if etcd.password_file.is_some() != etcd.username.is_some() {
            self.error(&at("username"), "set username and password_file together".into());
        }
        EtcdConfig {
            endpoints: etcd.endpoints.clone(),
            prefix: etcd.prefix.clone(),
            ca_file,
            cert_file,
            key_file,
            username: etcd.username.clone(),
            password_file,
        }
    }

    /// `datastore.kubernetes`: a readable kubeconfig, a namespace name, a label key, CIDRs.
    fn kubernetes(&mut self, raw: &RawKubernetes, base_dir: Option<&Path>) -> KubernetesConfig {
        use Seg::Key;
        let at = |field: &'static str| [Key("datastore"), Key("kubernetes"), Key(field)];
        let kubeconfig = resolve(&raw.kubeconfig, base_dir);
        if let Some(file) = &kubeconfig {
            if let Err(error) = std::fs::metadata(file) {
                self.error(&at("kubeconfig"), format!("cannot read {}: {error}", file.display()));
            }
        }
        let secrets_namespace = match &raw.secrets_namespace {
            Some(namespace) => {
                if !is_dns_label(namespace) {
                    self.error(
                        &at("secrets_namespace"),
                        format!("`{namespace}` is not a namespace name (1-63 characters: a-z, 0-9, `-`)"),
                    );
                }
                namespace.clone()
            }
            None => std::env::var("POD_NAMESPACE")
                .ok()
                .filter(|namespace| is_dns_label(namespace))
                .unwrap_or_else(|| DEFAULT_SECRETS_NAMESPACE.to_string()),
        };
        if let Some(label) = &raw.route_reflector_label {
            if !is_label_key(label) {
                self.error(
                    &at("route_reflector_label"),
                    format!("`{label}` is not a label key (like bgpd.io/route-reflector)"),
                );
            }
        }
        let mut cidrs = |field: &'static str, texts: &[String]| {
            let mut out = Vec::new();
            for (index, text) in texts.iter().enumerate() {
                let path = [Key("datastore"), Key("kubernetes"), Key(field), Seg::Index(index)];
                match parse_prefix(text) {
                    Ok(prefix) if !out.contains(&prefix) => out.push(prefix),
                    Ok(_) => {}
                    Err(message) => self.error(&path, message),
                }
            }
            out
        };
        KubernetesConfig {
            kubeconfig,
            secrets_namespace,
            route_reflector_label: raw.route_reflector_label.clone(),
            service_cluster_ips: cidrs("service_cluster_ips", &raw.service_cluster_ips),
            service_external_ips: cidrs("service_external_ips", &raw.service_external_ips),
            service_load_balancer_ips: cidrs(
                "service_load_balancer_ips",
                &raw.service_load_balancer_ips,
            ),
        }
    }
}

/// Relative paths are relative to the configuration file, like `password_file`.
fn resolve(file: &Option<PathBuf>, base_dir: Option<&Path>) -> Option<PathBuf> {
    file.as_ref().map(|f| match base_dir {
        Some(dir) if f.is_relative() => dir.join(f),
        _ => f.clone(),
    })
}

/// An RFC 1123 label, as Kubernetes requires of namespace names.
fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters (alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric).
fn is_label_key(text: &str) -> bool {
    let (prefix, name) = match text.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, text),
    };
    let prefix_ok =
        prefix.is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(is_dns_label));
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    prefix_ok && name_ok
}
