//! The command line: options, their defaults, and the usage text.

use std::thread;

use tokengate::Algorithm;

pub(crate) const USAGE: &str = "\
Throughput of tokengate's token validation (build with --release).

usage: cargo run --release --example throughput -- [options]

options:
  --alg LIST              signature algorithms of the tokens, comma-separated, mixed evenly:
                          rs256, ps256, es256, eddsa (or any other JWA name tokengate
                          supports)                                          [rs256]
  --threads N             worker threads                         [available parallelism]
  --distinct-tokens N     distinct valid tokens (each with its own jti)          [1000]
  --seconds S             how long to run (decimals allowed)                       [10]
  --invalid-share F       share of invalid tokens in the list, 0 <= F < 1: half with a
                          tampered signature, half expired                          [0]
  --no-cache              turn the verified-token cache off (TokenCacheSettings::disabled())
  --layer                 one GET through an axum Router + TokenLayer        [default]
  --gate                  Gate::validate alone
  -h, --help              this text";

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One GET through an axum `Router` wrapped in `TokenLayer`.
    Layer,
    /// `Gate::validate` alone.
    Gate,
}

/// The command line.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) threads: usize,
    pub(crate) distinct_tokens: usize,
    pub(crate) seconds: f64,
    pub(crate) invalid_share: f64,
    pub(crate) cache: bool,
    pub(crate) mode: Mode,
}

impl Options {
    /// Parses the arguments (without the program name); `Ok(None)` for `--help`.
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        let mut options = Options {
            algorithms: vec![Algorithm::RS256],
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
            distinct_tokens: 1000,
            seconds: 10.0,
            invalid_share: 0.0,
            cache: true,
            mode: Mode::Layer,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            // `--name value` and `--name=value` alike.
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            let mut value = |what: &str| -> Result<String, String> {
                match inline {
                    Some(value) => Ok(value.to_owned()),
                    None => args.next().ok_or_else(|| format!("{name} needs {what}")),
                }
            };
            match name.as_str() {
                "-h" | "--help" => return Ok(None),
                "--alg" => options.algorithms = parse_algorithms(&value("a list of algorithms")?)?,
                "--threads" => {
                    options.threads = parse_count(&name, &value("a number of threads")?)?;
                }
                "--distinct-tokens" => {
                    options.distinct_tokens = parse_count(&name, &value("a number of tokens")?)?;
                }
                "--seconds" => {
                    let text = value("a duration in seconds")?;
                    options.seconds = match text.parse::<f64>() {
                        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => s,
                        _ => return Err(format!("--seconds {text:?}: not in (0, 86400]")),
                    };
                }
                "--invalid-share" => {
                    let text = value("a share between 0 and 1")?;
                    options.invalid_share = match text.parse::<f64>() {
                        Ok(share) if (0.0..1.0).contains(&share) => share,
                        _ => return Err(format!("--invalid-share {text:?}: not in [0, 1)")),
                    };
                }
                "--no-cache" | "--layer" | "--gate" if inline.is_some() => {
                    return Err(format!("{name} takes no value"));
                }
                "--no-cache" => options.cache = false,
                "--layer" => options.mode = Mode::Layer,
                "--gate" => options.mode = Mode::Gate,
                _ => return Err(format!("unknown argument {arg:?}")),
            }
        }
        Ok(Some(options))
    }

    /// How many invalid tokens join the `distinct_tokens` valid ones, so that they make up
    /// `invalid_share` of the list.
    pub(crate) fn invalid_tokens(&self) -> usize {
        let share = self.invalid_share;
        (self.distinct_tokens as f64 * share / (1.0 - share)).round() as usize
    }
}

fn parse_algorithms(list: &str) -> Result<Vec<Algorithm>, String> {
    let mut algorithms = Vec::new();
    for name in list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let alg = Algorithm::ALL
            .iter()
            .copied()
            .find(|alg| alg.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("--alg: unknown algorithm {name:?}"))?;
        if !algorithms.contains(&alg) {
            algorithms.push(alg);
        }
    }
    if algorithms.is_empty() {
        return Err("--alg: no algorithm given".into());
    }
    Ok(algorithms)
}

fn parse_count(name: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=10_000_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name} {text:?}: not a whole number from 1 to 10,000,000"
        )),
    }
}
