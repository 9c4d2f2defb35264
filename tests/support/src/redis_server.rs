//! A private `redis-server` on 127.0.0.1, for the Redis replay store's tests (`tests/redis`)
//! and its benchmark (`benches/replay.rs`): no persistence, its own port and temporary
//! directory, killed on drop (also when a test panics).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a started server may take to answer `PING`.
const STARTUP: Duration = Duration::from_secs(20);

/// A running `redis-server`.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers `PING`. Panics, saying what
    /// to run, when `redis-server` is not installed.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// The same with more `redis-server` arguments, e.g. `["--requirepass", "secret"]`.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tokengate-redis-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory for redis-server");
        let mut server = RedisServer {
            child: None,
            port: 0,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        // Another process may take the free port before redis-server binds it: try again.
        for _ in 0..5 {
            server.port = free_port();
            if server.launch() {
                return server;
            }
        }
        panic!("redis-server did not start: {}", server.log());
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The process id, for signals (`kill -STOP`).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running redis-server").id()
    }

    /// Kills the server (SIGKILL: it goes away as after a crash, its port closed).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty, and waits until it answers `PING`.
    pub fn restart(&mut self) {
        self.kill();
        // The port may stay busy for a moment after the kill.
        let deadline = Instant::now() + STARTUP;
        while !self.launch() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not restart: {}",
                self.log()
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// Starts redis-server on `self.port`: whether it answers `PING`.
    fn launch(&mut self) -> bool {
        let log = std::fs::File::create(self.dir.join("redis.log")).expect("redis-server's log");
        let spawned = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("redis-server's log"))
            .stderr(log)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not installed: run `bash tests/redis/run.sh` (it installs the \
                 Debian package redis-server with apt-get, then runs these tests)"
            ),
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        self.child = Some(child);
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if self.answers_ping() {
                return true;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() {
                self.child = None;
                return false;
            }
            sleep(Duration::from_millis(20));
        }
        self.kill();
        false
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0; 64];
        let Ok(n) = stream
            .write_all(b"PING\r\n")
            .and_then(|()| stream.read(&mut reply))
        else {
            return false;
        };
        // A server with `--requirepass` answers, but with NOAUTH.
        reply[..n].starts_with(b"+PONG") || reply[..n].starts_with(b"-NOAUTH")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listened on a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}
