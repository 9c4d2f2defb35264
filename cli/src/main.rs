//! `tokengate`: look inside access tokens, verify them as the library would, list an issuer's
//! keys, measure validation speed, and run a development issuer. Built on the tokengate
//! library's public API only.

#![forbid(unsafe_code)]

/// `println!` for text that may hold what a token, a key set or a server chose: control
/// characters are escaped, so that none can move the cursor, clear the screen or fake a line.
macro_rules! safe_println {
    ($($arg:tt)*) => {
        println!("{}", $crate::show::safe(&format!($($arg)*)))
    };
}

mod bench;
mod cli;
mod decode;
mod dev_issuer;
mod fail;
mod hints;
mod input;
mod inspect;
mod keys;
mod kind;
mod notes;
mod presets;
mod show;
mod verify;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::fail::Failure;

fn main() -> ExitCode {
    quiet_panics();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Verify(args) => runtime().and_then(|rt| rt.block_on(verify::run(&args))),
        Command::Keys(args) => runtime().and_then(|rt| rt.block_on(keys::run(&args))),
        Command::Bench(args) => bench::run(&args),
        Command::DevIssuer(args) => runtime().and_then(|rt| rt.block_on(dev_issuer::run(&args))),
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", show::safe(&failure.message));
            ExitCode::from(failure.code)
        }
    }
}

/// A panic is a bug, but the user still gets one line and no backtrace; output cut short by a
/// closed pipe (`tokengate inspect - | head -3`) ends the program quietly.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown");
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        let first = message.lines().next().unwrap_or_default();
        eprintln!("error: internal error ({first}); please report it with the command you ran");
        std::process::exit(i32::from(fail::UNDECIDED));
    }));
}

/// A multi-threaded runtime: discovery and key fetches, and the development issuer's server.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| Failure::undecided(format!("cannot start the async runtime: {error}")))
}
