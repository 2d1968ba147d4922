//! A daemon per test: simulated platforms in this process, the real `orderdeck serve` as a child
//! process on a config in a temp dir, and clients acting as different unix users.
//!
//! When the tests run as root, clients run as existing system accounts (`daemon`, `bin`, `sys`,
//! `nobody`) through `CommandExt::{uid, gid}`: the CLI itself, or this test binary re-executed
//! as a client process (see [`Daemon::as_user`]) for requests the CLI has no command for. The
//! socket is given to `nogroup` and every client runs with that gid, as a team's users would
//! be in the socket's group. Without root there is one uid, and [`team`] returns `None`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::unistd::{Group, User};
use orderdeck::cli::runtime::{Local, open_local};
use orderdeck::config::Config;
use orderdeck::domain::clock::SystemClock;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::triage::OrderView;
use orderdeck::sandbox::scenario::{Scenario, Size};
use orderdeck::sandbox::set::SandboxSet;
use orderdeck::service::api::{OrderQuery, Request, Response, ServiceError};
use orderdeck::service::client::Client;
use orderdeck::service::identity::Account;
use orderdeck::service::inproc::InProcessClient;
use orderdeck::service::remote::RemoteClient;
use serde::{Deserialize, Serialize};

/// The environment variable that turns this test binary into a client process.
pub const CLIENT_ENV: &str = "ORDERDECK_DAEMON_TEST_CLIENT";
/// What the client process prints before each answer, to find them among libtest's lines.
const ANSWER_MARK: &str = "@@answer ";

/// An SSH_CONNECTION value the client processes present (audited as "from").
pub const SSH_FROM: &str = "203.0.113.7 50022 192.0.2.1 22";

/// A unix account a client runs as.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub uid: u32,
    /// The gid the client process gets: the socket's group.
    pub gid: u32,
}

/// The accounts of a multi-uid run, one per role (and one with none).
#[derive(Debug, Clone)]
pub struct Team {
    pub viewer: Person,
    pub support: Person,
    pub operator: Person,
    pub nobody: Person,
    /// The socket's group, every client's gid.
    pub group: String,
}

/// The `[access]` lines for [`team`]: `support` through the user's own group, to exercise
/// group entries; `nobody` is listed nowhere; root (the test itself) is admin.
pub const TEAM_ACCESS: &str =
    "viewer = [\"daemon\"]\nsupport = [\"@bin\"]\noperator = [\"sys\"]\nadmin = [\"root\"]";

/// The team when running as root on a host with the usual system accounts, else `None`.
pub fn team() -> Option<Team> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let group = Group::from_name("nogroup").ok().flatten()?;
    let person = |name: &str| {
        let user = User::from_name(name).ok().flatten()?;
        Some(Person {
            name: name.to_string(),
            uid: user.uid.as_raw(),
            gid: group.gid.as_raw(),
        })
    };
    Some(Team {
        viewer: person("daemon")?,
        support: person("bin")?,
        operator: person("sys")?,
        nobody: person("nobody")?,
        group: group.name,
    })
}

/// Says that the multi-uid part of `test` is skipped, and what runs instead.
pub fn note_single_uid(test: &str, instead: &str) {
    eprintln!("{test}: not running as root, so the multi-uid part is skipped; {instead}");
}

pub struct Options {
    pub orders_per_shop: usize,
    pub access: String,
    pub two_person: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            orders_per_shop: 12,
            access: match team() {
                Some(_) => TEAM_ACCESS.to_string(),
                None => format!("admin = [\"{}\"]", current_user()),
            },
            two_person: false,
        }
    }
}

pub fn current_user() -> String {
    orderdeck::service::identity::Account::current().name
}

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub set: SandboxSet,
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// The daemon's config (literal sandbox secrets: 0600, root's own).
    pub config: PathBuf,
    /// What the team's users read: only where the socket and data are (0644).
    pub client_config: PathBuf,
    child: Option<Child>,
    starts: usize,
    pub team: Option<Team>,
}

impl Daemon {
    /// Simulated platforms, configs, and a running daemon.
    pub async fn start(options: Options) -> Daemon {
        let mut daemon = Daemon::prepare(options).await;
        daemon.spawn().await;
        daemon
    }

    /// Everything but the daemon process.
    pub async fn prepare(options: Options) -> Daemon {
        let now = chrono::Utc::now().timestamp();
        let scenario = Scenario::generate(
            7,
            Size {
                shops: 1,
                orders_per_shop: options.orders_per_shop,
            },
            now,
        );
        let set = SandboxSet::start(scenario, [127, 0, 0, 1].into())
            .await
            .expect("sandbox starts");
        let dir = tempfile::Builder::new()
            .prefix("od-daemon-")
            .tempdir()
            .expect("temp dir");
        // Other uids must reach the socket's directory inside: traverse, not list.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let data_dir = dir.path().join("data");
        let socket = dir.path().join("run").join("orderdeck.sock");
        let team = team();
        let mut toml = set
            .config_toml(&data_dir, &socket, &options.access)
            .expect("config");
        // [paths] is the last section config_toml writes.
        let group = match &team {
            Some(team) => Some(team.group.clone()),
            None => own_group(),
        };
        if let Some(group) = group {
            toml.push_str(&format!("socket_group = \"{group}\"\n"));
        }
        toml.push_str(&format!(
            "\n[approvals]\ntwo_person = {}\n",
            options.two_person
        ));
        let config = dir.path().join("orderdeck.toml");
        write_file(&config, &toml, 0o600);
        let client_config = dir.path().join("client.toml");
        let client_toml = format!(
            "# A team member's config: where the daemon is. Access is the daemon's business.\n\
             [access]\n\n[paths]\ndata_dir = \"{}\"\nsocket = \"{}\"\n",
            data_dir.display(),
            socket.display()
        );
        write_file(&client_config, &client_toml, 0o644);
        Daemon {
            dir,
            set,
            data_dir,
            socket,
            config,
            client_config,
            child: None,
            starts: 0,
            team,
        }
    }

    /// A prepared daemon whose store the test opens in its own process instead (to seed it, or
    /// to serve it itself), with a client for the test's user, who may only view.
    pub async fn viewer_in_process() -> (Daemon, Local, Arc<InProcessClient>) {
        let daemon = Daemon::prepare(Options {
            access: format!("viewer = [\"{}\"]", current_user()),
            ..Options::default()
        })
        .await;
        let config = Config::load(&daemon.config).expect("config loads");
        let local = open_local(&config, Arc::new(SystemClock), false).expect("store opens");
        let client = InProcessClient::new(
            local.service.clone(),
            Account::current().actor(&config.access, None),
        );
        (daemon, local, client)
    }

    /// Starts `orderdeck serve` and waits until it answers.
    pub async fn spawn(&mut self) {
        self.starts += 1;
        let log = self.stderr_path(self.starts);
        let child = self
            .serve_command()
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("orderdeck serve starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if RemoteClient::connect(&self.socket).await.is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "orderdeck serve exited with {status}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not answer within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn serve_command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_orderdeck"));
        command
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .env("ORDERDECK_LOG", "orderdeck=info,warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        command
    }

    /// The daemon's stderr (its log) of the `n`th start.
    pub fn stderr_path(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("serve-{n}.log"))
    }

    pub fn log(&self, n: usize) -> String {
        std::fs::read_to_string(self.stderr_path(n)).unwrap_or_default()
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        let child = self.child.as_ref().expect("the daemon runs");
        nix::unistd::Pid::from_raw(child.id() as i32)
    }

    /// Sends `signal` and waits (up to 30 s) for the daemon to exit.
    pub async fn stop_with(&mut self, signal: nix::sys::signal::Signal) -> ExitStatus {
        nix::sys::signal::kill(self.pid(), signal).expect("signal sent");
        let mut child = self.child.take().expect("the daemon runs");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not exit within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A client as the test's own user (root: admin).
    pub async fn client(&self) -> Arc<RemoteClient> {
        RemoteClient::connect(&self.socket)
            .await
            .expect("connects")
            .0
    }

    /// The CLI, as `person` (or as the test's own user), with the team's client config.
    /// Async: the simulated platforms the daemon calls run on this test's runtime.
    pub async fn cli(&self, person: Option<&Person>, args: &[&str]) -> Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"));
        command
            .arg("--config")
            .arg(&self.client_config)
            .args(args)
            .env("SSH_CONNECTION", SSH_FROM)
            .stdin(Stdio::null());
        if let Some(p) = person {
            command.uid(p.uid).gid(p.gid);
        }
        command.output().await.expect("orderdeck runs")
    }

    /// The CLI with the daemon's own config, as the test's user (for in-process use).
    pub async fn cli_as_owner(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("orderdeck runs")
    }

    /// Sends `requests` over one connection from a client process running as `person`, and
    /// returns each answer. The process is this test binary, run as [`client_process`].
    pub async fn as_user(
        &self,
        person: &Person,
        requests: &[Request],
    ) -> Vec<Result<Response, ServiceError>> {
        let spec = ClientSpec {
            socket: self.socket.clone(),
            requests: requests.to_vec(),
        };
        let output = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "daemon::client_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CLIENT_ENV, serde_json::to_string(&spec).unwrap())
            .env("SSH_CONNECTION", SSH_FROM)
            .uid(person.uid)
            .gid(person.gid)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("client process runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let answers: Vec<_> = stdout
            .lines()
            // libtest may have started the line ("test client_process ... ").
            .filter_map(|l| l.split_once(ANSWER_MARK).map(|(_, answer)| answer))
            .map(|l| serde_json::from_str(l).expect("answer line"))
            .collect();
        assert_eq!(
            answers.len(),
            requests.len(),
            "client process as {}: {}\n{}",
            person.name,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
        answers
    }

    /// Orders the daemon has stored (after its first poll), waiting up to 20 s for `at_least`.
    pub async fn orders(&self, client: &dyn Client, at_least: usize) -> Vec<TiktokOrderId> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let page = match client
                .call(Request::Orders(OrderQuery::first_page(OrderView::All, 500)))
                .await
            {
                Ok(Response::Orders(page)) => page,
                other => panic!("orders: {other:?}"),
            };
            if page.rows.len() >= at_least {
                return page.rows.into_iter().map(|r| r.id).collect();
            }
            assert!(
                Instant::now() < deadline,
                "the daemon stored {} orders",
                page.rows.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn write_file(path: &Path, text: &str, mode: u32) {
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The test user's primary group, which a non-root daemon may give its socket to.
fn own_group() -> Option<String> {
    Group::from_gid(nix::unistd::Gid::effective())
        .ok()
        .flatten()
        .map(|g| g.name)
}

/// What a client process is asked to do.
#[derive(Serialize, Deserialize)]
struct ClientSpec {
    socket: PathBuf,
    requests: Vec<Request>,
}

/// The body of a client process (see [`Daemon::as_user`]).
pub fn client_process(spec: &str) {
    let spec: ClientSpec = serde_json::from_str(spec).expect("client spec");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (client, _) = RemoteClient::connect(&spec.socket)
            .await
            .expect("the client process connects");
        for request in spec.requests {
            let answer = client.call(request).await;
            println!("{ANSWER_MARK}{}", serde_json::to_string(&answer).unwrap());
        }
    });
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
