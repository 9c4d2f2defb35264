//! The options of the load target.

use std::path::PathBuf;
use std::time::Duration;

pub(crate) const USAGE: &str = "\
The target of scripts/load.sh: an API behind TokenLayer and files of labelled tokens.

usage: cargo run --release --example load_target -- [options]

options:
  --port P            port on 127.0.0.1 (0: any free port)                     [0]
  --tokens-file PATH  where to write the tokens             [<temp dir>/tokengate-load-<pid>.txt]
  --proofs-file PATH  where to write the DPoP proofs                 [<tokens file>.proofs]
  --rotated-file PATH where to write the tokens of the rotated key  [<tokens file>.rotated]
  --seconds S         how long the run lasts: when tokens expire, the key rotates   [30]
  --distinct N        distinct valid tokens                                  [2000]
  --expired N         expired tokens                                          [100]
  --forged-each N     forged tokens of each kind (and algorithm)                [2]
  --unscoped N        valid tokens without the required scope                  [24]
  --expiring N        tokens that expire during the run                        [16]
  --rotated N         tokens signed with the new key after the rotation        [64]
  --dpop-rate N       DPoP proofs a second (0: none)                           [20]
  --dpop-clients N    DPoP client keys (one bound token each)                   [8]
  --cache-entries N   capacity of the verified-token cache                   [1000]
  --leeway S          the gate's clock-skew leeway for exp, seconds             [2]
  --key-cooldown S    the key cache's cooldown after a refresh for a made-up kid [2]
  --lifetime S        seconds the valid tokens stay valid                   [86400]
  --reference         serve the API with, without the cache, and without the layer
  -h, --help          this text";

#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) port: u16,
    pub(crate) tokens_file: PathBuf,
    pub(crate) proofs_file: Option<PathBuf>,
    pub(crate) rotated_file: Option<PathBuf>,
    pub(crate) seconds: u64,
    pub(crate) distinct: usize,
    pub(crate) expired: usize,
    pub(crate) forged_each: usize,
    pub(crate) unscoped: usize,
    pub(crate) expiring: usize,
    pub(crate) rotated: usize,
    pub(crate) dpop_rate: u32,
    pub(crate) dpop_clients: usize,
    pub(crate) cache_entries: u64,
    pub(crate) leeway: Duration,
    pub(crate) key_cooldown: Duration,
    pub(crate) lifetime: Duration,
    pub(crate) reference: bool,
}

impl Options {
    /// Parses the arguments (without the program name); `Ok(None)` for `--help`.
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
        let mut o = Options {
            port: 0,
            tokens_file: std::env::temp_dir()
                .join(format!("tokengate-load-{}.txt", std::process::id())),
            proofs_file: None,
            rotated_file: None,
            seconds: 30,
            distinct: 2000,
            expired: 100,
            forged_each: 2,
            unscoped: 24,
            expiring: 16,
            rotated: 64,
            dpop_rate: 20,
            dpop_clients: 8,
            cache_entries: 1000,
            leeway: Duration::from_secs(2),
            key_cooldown: Duration::from_secs(2),
            lifetime: Duration::from_secs(86_400),
            reference: false,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--reference" => {
                    o.reference = true;
                    continue;
                }
                _ => {}
            }
            let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
            let number = |max: u64| -> Result<u64, String> {
                match value.parse::<u64>() {
                    Ok(n) if n <= max => Ok(n),
                    _ => Err(format!("{arg} {value:?}: not a whole number up to {max}")),
                }
            };
            let seconds = |max: u64| number(max).map(Duration::from_secs);
            match arg.as_str() {
                "--port" => o.port = number(65_535)? as u16,
                "--tokens-file" => o.tokens_file = PathBuf::from(&value),
                "--proofs-file" => o.proofs_file = Some(PathBuf::from(&value)),
                "--rotated-file" => o.rotated_file = Some(PathBuf::from(&value)),
                "--seconds" => o.seconds = number(86_400)?.max(4),
                "--distinct" => o.distinct = number(10_000_000)?.max(1) as usize,
                "--expired" => o.expired = number(10_000_000)? as usize,
                "--forged-each" => o.forged_each = number(1000)?.max(1) as usize,
                "--unscoped" => o.unscoped = number(100_000)? as usize,
                "--expiring" => o.expiring = number(100_000)? as usize,
                "--rotated" => o.rotated = number(100_000)? as usize,
                "--dpop-rate" => o.dpop_rate = number(10_000)? as u32,
                "--dpop-clients" => o.dpop_clients = number(1000)?.max(1) as usize,
                "--cache-entries" => o.cache_entries = number(100_000_000)?.max(1),
                "--leeway" => o.leeway = seconds(600)?,
                "--key-cooldown" => o.key_cooldown = seconds(86_400)?,
                "--lifetime" => {
                    o.lifetime = seconds(10 * 365 * 86_400)?.max(Duration::from_secs(60))
                }
                _ => return Err(format!("unknown argument {arg:?}")),
            }
        }
        Ok(Some(o))
    }

    /// A file beside the tokens file, unless given.
    pub(crate) fn beside(&self, given: &Option<PathBuf>, extension: &str) -> PathBuf {
        given.clone().unwrap_or_else(|| {
            let mut name = self.tokens_file.clone().into_os_string();
            name.push(extension);
            PathBuf::from(name)
        })
    }
}
