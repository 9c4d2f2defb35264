//! One Glewlwyd process: a fresh sqlite database made from the package's own schema and a
//! minimal config, in a temporary directory of its own, on a free port of 127.0.0.1. Killed,
//! and its directory removed, when dropped (also while a failing test unwinds).

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What to do when Glewlwyd cannot run.
pub(crate) const HOW_TO_RUN: &str = "these tests run a real Glewlwyd (Debian package \
`glewlwyd`) with a sqlite database: run `bash tests/glewlwyd/run.sh`, which installs \
`glewlwyd` and `sqlite3` with apt-get when they are missing and then runs these tests";

/// Where the package put what a test instance needs.
struct Package {
    /// The sqlite schema, which also creates the administrator `admin` / `password`.
    schema: PathBuf,
    /// The folder holding the `user`, `client`, `scheme` and `plugin` module folders.
    modules: PathBuf,
}

/// Found once per test binary from the package's file list, so that nothing is hard-coded
/// that another Debian release may move.
fn package() -> &'static Package {
    static PACKAGE: OnceLock<Package> = OnceLock::new();
    PACKAGE.get_or_init(|| {
        for tool in ["glewlwyd", "sqlite3"] {
            match Command::new(tool).arg("--version").output() {
                Ok(output) if output.status.success() => {}
                Ok(output) => panic!(
                    "`{tool} --version` failed ({}): {HOW_TO_RUN}",
                    output.status
                ),
                Err(error) => panic!("`{tool}` not found ({error}): {HOW_TO_RUN}"),
            }
        }
        let listed = Command::new("dpkg")
            .args(["-L", "glewlwyd"])
            .output()
            .unwrap_or_else(|error| panic!("`dpkg -L glewlwyd`: {error}: {HOW_TO_RUN}"));
        assert!(
            listed.status.success(),
            "`dpkg -L glewlwyd` failed: {HOW_TO_RUN}"
        );
        let listed = String::from_utf8_lossy(&listed.stdout);
        let find = |suffix: &str| {
            listed
                .lines()
                .find(|line| line.ends_with(suffix))
                .map(PathBuf::from)
                .unwrap_or_else(|| panic!("the glewlwyd package has no {suffix}: {HOW_TO_RUN}"))
        };
        let oidc = find("/plugin/libprotocol_oidc.so");
        Package {
            schema: find("/install/sqlite3"),
            modules: oidc.parent().and_then(Path::parent).unwrap().to_owned(),
        }
    })
}

/// A running Glewlwyd.
pub(crate) struct Server {
    /// Where it listens: `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    child: Child,
    dir: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("[glewlwyd] its output:\n{}", self.log());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// Starts Glewlwyd with `external_url` (the base URL it writes in its discovery document)
    /// and waits until it accepts connections (at most 20 s). A free port can be taken by
    /// another process between the probe and Glewlwyd's bind: then it tries another.
    pub(crate) fn start(external_url: &str) -> Server {
        let package = package();
        let mut last_output = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut server = Server::spawn(package, port, external_url);
            match server.wait_until_listening(port) {
                Ok(()) => return server,
                Err(output) => last_output = output,
            }
        }
        panic!("Glewlwyd did not start; its output:\n{last_output}");
    }

    fn spawn(package: &Package, port: u16, external_url: &str) -> Server {
        static INSTANCES: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tokengate-glewlwyd-{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let database = dir.join("glewlwyd.db");
        let schema = std::fs::File::open(&package.schema).expect("the package's sqlite schema");
        let created = Command::new("sqlite3")
            .arg(&database)
            .stdin(schema)
            .output()
            .unwrap_or_else(|error| panic!("sqlite3: {error}: {HOW_TO_RUN}"));
        assert!(
            created.status.success(),
            "sqlite3 could not create the database: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        let config = dir.join("glewlwyd.conf");
        std::fs::write(&config, config_text(package, port, external_url, &database))
            .expect("the config file");

        let mut child = Command::new("glewlwyd")
            .arg(format!("--config-file={}", config.display()))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start glewlwyd: {error}: {HOW_TO_RUN}"));
        // Its output, shown when a test fails (see Drop); both pipes kept drained.
        let log = Arc::new(Mutex::new(String::new()));
        let pipes: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("piped stdout")),
            Box::new(child.stderr.take().expect("piped stderr")),
        ];
        for pipe in pipes {
            let sink = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        Server {
            url: format!("http://127.0.0.1:{port}"),
            child,
            dir,
            log,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Ok once the port accepts connections; its output if the process exits first.
    fn wait_until_listening(&mut self, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the readers catch up with a process that just died.
                std::thread::sleep(Duration::from_millis(100));
                return Err(format!("(exited: {status})\n{}", self.log()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                panic!(
                    "Glewlwyd is not listening after 20 s; its output:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

/// The least configuration that runs: console logs, no TLS (any `use_secure_connection` line
/// makes Glewlwyd demand certificate files), the package's modules, this instance's database.
fn config_text(package: &Package, port: u16, external_url: &str, database: &Path) -> String {
    let modules = package.modules.display();
    format!(
        r#"port={port}
bind_address="127.0.0.1"
external_url="{external_url}"
api_prefix="api"
log_mode="console"
log_level="INFO"
cookie_secure=0
session_key="GLEWLWYD2_SESSION_ID"
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="{modules}/user"
client_module_path="{modules}/client"
user_auth_scheme_module_path="{modules}/scheme"
plugin_module_path="{modules}/plugin"
hash_algorithm="SHA512"
database = {{ type = "sqlite3" path = "{database}" }};
"#,
        database = database.display()
    )
}
