//! Several real `saml-idp serve` nodes behind a real nginx (round robin, `X-Forwarded-For`),
//! and a PostgreSQL of the test's own (`initdb` and `pg_ctl` in a temporary directory, on a
//! free port) that the test may stop and start without disturbing any other test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::process::{free_port, Server, BIN};

/// Whether this process runs as root (PostgreSQL refuses to; nginx needs `user root`).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The newest PostgreSQL server binaries Debian installed (`/usr/lib/postgresql/N/bin`).
fn postgres_bin(name: &str) -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql (scripts/install-deps)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin").join(name);
            bin.exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().expect("initdb and pg_ctl").1
}

/// A PostgreSQL cluster of this test only.
pub struct TempPostgres {
    pub port: u16,
    data: PathBuf,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl TempPostgres {
    pub fn start() -> TempPostgres {
        let dir = tempfile::tempdir().expect("dir");
        let root = is_root();
        let home = dir.path().join("pg");
        std::fs::create_dir(&home).expect("pg dir");
        if root {
            // The server runs as `postgres`, which must reach its directory.
            run(Command::new("chmod").arg("0755").arg(dir.path()));
            run(Command::new("chown").args(["postgres:postgres"]).arg(&home));
        }
        let pg = TempPostgres {
            port: free_port(),
            data: home.join("data"),
            socket: home.clone(),
            _dir: dir,
        };
        let mut initdb = pg.as_owner(&postgres_bin("initdb"));
        initdb
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&pg.data);
        run(&mut initdb);
        pg.pg_ctl_start();
        pg
    }

    fn as_owner(&self, program: &Path) -> Command {
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            self.socket.display()
        );
        let mut cmd = self.as_owner(&postgres_bin("pg_ctl"));
        cmd.args(["-w", "-t", "30", "-l"])
            .arg(self.socket.join("server.log"))
            .args(["-o", &options, "-D"])
            .arg(&self.data)
            .arg("start");
        run(&mut cmd);
    }

    /// Stops the server (`-m fast`: open transactions are rolled back, clients disconnected).
    pub fn stop(&self) {
        let mut cmd = self.as_owner(&postgres_bin("pg_ctl"));
        cmd.args(["-w", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop");
        run(&mut cmd);
    }

    pub fn start_again(&self) {
        self.pg_ctl_start();
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let mut cmd = self.as_owner(&postgres_bin("pg_ctl"));
        let _ = cmd
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// nginx in front of `upstreams`: round robin, `X-Forwarded-For`, a request that cannot
/// reach a node (refused, reset, timed out) goes to the next one. One process
/// (`master_process off`), so that killing it on drop leaves no worker behind.
pub struct Nginx {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start(upstreams: &[u16]) -> Nginx {
        let dir = tempfile::tempdir().expect("dir");
        let port = free_port();
        let servers: String = upstreams
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=0;\n"))
            .collect();
        let user = if is_root() { "user root;\n" } else { "" };
        let prefix = dir.path().display();
        let config = format!(
            "{user}master_process off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n\
             error_log {prefix}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n\
               proxy_temp_path {prefix}/proxy;\n  fastcgi_temp_path {prefix}/fastcgi;\n\
               uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n\
               upstream saml_idp {{\n{servers}    keepalive 32;\n  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 1m;\n\
                 location / {{\n      proxy_pass http://saml_idp;\n      proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n\
                   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                   proxy_set_header X-Forwarded-Proto $scheme;\n      proxy_connect_timeout 2s;\n\
                   proxy_read_timeout 15s;\n\
                   proxy_next_upstream error timeout non_idempotent;\n\
                   proxy_next_upstream_tries 3;\n    }}\n  }}\n}}\n"
        );
        let file = super::write(dir.path(), "nginx.conf", config.as_bytes());
        let child = Command::new("nginx")
            .args(["-e", &format!("{prefix}/error.log"), "-p"])
            .arg(dir.path())
            .arg("-c")
            .arg(&file)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts (scripts/install-deps installs it)");
        let nginx = Nginx {
            port,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen");
            thread::sleep(Duration::from_millis(50));
        }
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `saml-idp ARGS` with the cluster's configuration: (success, stdout, stderr).
pub fn cli(dir: &Path, common_args: &[&str], args: &[&str]) -> (bool, String, String) {
    super::run(
        Command::new(BIN)
            .current_dir(dir)
            .env_remove("SAML_IDP_CONFIG")
            .env_remove("SAML_IDP_DATABASE_URL")
            .env_remove("SAML_IDP_DATA_DIR")
            .env("SAML_IDP_DATA_KEY", super::TEST_DATA_KEY)
            .args(common_args)
            .args(args),
    )
}

/// `saml-idp serve` on `port` (a node restarted keeps its port, as behind a real proxy).
pub fn node(dir: &Path, port: u16, common_args: &[&str]) -> Server {
    super::process::start_on(dir, port, common_args)
}
