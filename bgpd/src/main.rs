//! `bgpd`: the BGP daemon. `bgpd --config FILE` runs it; `bgpd --check FILE` validates a
//! configuration and exits (non-zero, with file:line:column and field of every error).
use std::path::PathBuf;
use std::process::ExitCode;

use bgpd::config::{self, LogFormat};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "bgpd", version, about = "BGP speaker and route distributor for Kubernetes nodes")]
struct Args {
    /// Configuration file to run with.
    #[arg(long, short = 'c', value_name = "FILE", default_value = "/etc/bgpd/bgpd.yaml")]
    config: PathBuf,
    /// Validate FILE and exit.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    check: Option<PathBuf>,
    /// Log format (overrides the configuration's `log.format`).
    #[arg(long, value_enum)]
    log_format: Option<CliLogFormat>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum CliLogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.check {
        return config::check_command(path);
    }
    let cfg = match config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let format = match args.log_format {
        Some(CliLogFormat::Json) => LogFormat::Json,
        Some(CliLogFormat::Text) => LogFormat::Text,
        None => cfg.log.format,
    };
    bgpd::logging::init(format, &cfg.log.level);
    for w in cfg.warnings() {
        tracing::warn!("{w}");
    }
    // Headroom for sessions, raised by the program, not by the library (tests and embedders
    // keep their own limit); the HTTP endpoint's cap is sized from the limit in force.
    match bgpd::fd_limit::raise_soft_to_hard() {
        Ok(limit) => tracing::info!(limit, "descriptor limit (RLIMIT_NOFILE)"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the descriptor limit"),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(bgpd::daemon::run(args.config, cfg));
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    ExitCode::from(code as u8)
}
