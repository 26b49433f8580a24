//! `bgpctl`: the operator's command-line tool.
//!
//! Subcommands that talk to a running bgpd use the control socket given by the global
//! `--socket` option. `decode` works offline on captured messages.
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use bgp_core::wire::Family;
use bgpd::decode::{decode_stream, parse_hex, DecodeOptions};
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "bgpctl", version, about = "Control and inspect bgpd")]
struct Cli {
    /// bgpd's control socket.
    #[arg(long, global = true, default_value = "/run/bgpd/bgpd.sock")]
    socket: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode BGP messages (raw file or hex) and print each as one JSON line.
    Decode(DecodeArgs),
    /// Daemon subcommands (`show`, `reload`, `neighbor`), defined in `bgpd::bgpctl`.
    #[command(flatten)]
    Daemon(bgpd::bgpctl::DaemonCommand),
}

#[derive(Args, Debug)]
struct DecodeArgs {
    /// File of concatenated raw messages (or hex with --hex). Default: hex on stdin.
    file: Option<PathBuf>,
    /// Input is hex text (whitespace, newlines, `:` and `#` comments ignored).
    #[arg(long)]
    hex: bool,
    /// The session negotiated 4-octet AS numbers (RFC 6793). The default.
    #[arg(long, overrides_with = "no_as4")]
    as4: bool,
    /// The session uses 2-octet AS numbers (AS_PATH of 2-octet ASNs, AS4_PATH).
    #[arg(long = "no-as4", overrides_with = "as4")]
    no_as4: bool,
    /// Families with ADD-PATH path identifiers, e.g. `ipv4_unicast,ipv6_unicast`.
    #[arg(long, value_delimiter = ',')]
    addpath: Vec<Family>,
    /// Extended messages (RFC 8654): up to 65535 octets.
    #[arg(long)]
    extended_message: bool,
}

fn decode(args: &DecodeArgs) -> Result<(), String> {
    let bytes = match &args.file {
        Some(path) => {
            let raw = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            if args.hex {
                parse_hex(&String::from_utf8_lossy(&raw))?
            } else {
                raw
            }
        }
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| format!("stdin: {e}"))?;
            parse_hex(&text)?
        }
    };
    let opts = DecodeOptions {
        four_octet_as: !args.no_as4,
        add_path: args.addpath.clone(),
        extended_message: args.extended_message,
    };
    for line in decode_stream(&bytes, &opts) {
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Decode(args) => decode(args),
        Command::Daemon(cmd) => {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("bgpctl: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let code = runtime.block_on(bgpd::bgpctl::run(&cli.socket, cmd.clone()));
            return ExitCode::from(code as u8);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bgpctl: {e}");
            ExitCode::FAILURE
        }
    }
}
