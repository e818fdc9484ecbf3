//! The `operator` binary as a process: `crd` output, probes and metrics on
//! OPERATOR_LISTEN_ADDR (fed by manifests mode too), a clear failure without a
//! cluster, and a clean exit on SIGTERM.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use liveops_testkit::TestDb;

const BINARY: &str = env!("CARGO_BIN_EXE_operator");

/// A port nothing listens on right now.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address")
}

/// A plain HTTP/1.0 GET: status code and body, or `None` when nothing answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// Polls until `/readyz` answers 200, or fails after `deadline`.
fn wait_ready(addr: SocketAddr, child: &mut Child, deadline: Duration) {
    let started = Instant::now();
    loop {
        if let Some((200, _)) = http_get(addr, "/readyz") {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the operator exited early with {status}");
        }
        assert!(
            started.elapsed() < deadline,
            "/readyz not 200 within {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `/metrics` until its text contains every line in `wanted`.
fn wait_for_metrics(addr: SocketAddr, wanted: &[&str], deadline: Duration) -> String {
    let started = Instant::now();
    loop {
        let text = http_get(addr, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default();
        if wanted.iter().all(|line| text.lines().any(|l| l == *line)) {
            return text;
        }
        assert!(
            started.elapsed() < deadline,
            "/metrics lacks {wanted:?} after {deadline:?}: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the process to exit, killing it after `deadline`.
fn wait_exit(child: &mut Child, deadline: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("the operator did not exit within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn crd_prints_both_custom_resource_definitions() {
    let output = Command::new(BINARY)
        .arg("crd")
        .output()
        .expect("run operator crd");
    assert!(output.status.success());
    let yaml = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(yaml.contains("name: events.liveops.dev"), "{yaml}");
    assert!(yaml.contains("name: rewards.liveops.dev"), "{yaml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_probes_and_metrics_then_exits_cleanly_on_sigterm() {
    let db = TestDb::new().await;
    let manifests = std::env::temp_dir().join(format!("liveops-process-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&manifests).expect("a manifests directory");
    // Ends in 2099: Scheduled for as long as anyone runs this test.
    std::fs::write(
        manifests.join("later.yaml"),
        "apiVersion: liveops.dev/v1alpha1
kind: Event
metadata:
  name: later
spec:
  displayName: Later
  startsAt: \"2099-01-01T00:00:00Z\"
  endsAt: \"2099-01-02T00:00:00Z\"
",
    )
    .expect("write an event manifest");
    let addr = free_addr();
    let mut child = Command::new(BINARY)
        .arg("--manifests")
        .arg(&manifests)
        .env("DATABASE_URL", &db.url)
        .env("OPERATOR_LISTEN_ADDR", addr.to_string())
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the operator");

    tokio::task::block_in_place(|| wait_ready(addr, &mut child, Duration::from_secs(10)));
    assert_eq!(http_get(addr, "/healthz").map(|(status, _)| status), Some(200));
    let (status, metrics) = http_get(addr, "/metrics").expect("metrics answer");
    assert_eq!(status, 200);
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics text: {metrics}");
    // Manifests mode records into the metrics the listener serves.
    tokio::task::block_in_place(|| {
        wait_for_metrics(
            addr,
            &[
                r#"liveops_operator_reconciles_total{kind="Event"} 1"#,
                r#"liveops_operator_objects{kind="Event",phase="Scheduled"} 1"#,
            ],
            Duration::from_secs(10),
        )
    });

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("send SIGTERM");
    assert!(killed.success());
    let exit = tokio::task::block_in_place(|| wait_exit(&mut child, Duration::from_secs(10)));
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
    assert!(http_get(addr, "/healthz").is_none(), "the listener is closed");
    let _ = std::fs::remove_dir_all(&manifests);
}

#[tokio::test]
async fn without_a_cluster_or_manifests_it_fails_with_a_hint() {
    let db = TestDb::new().await;
    let addr = free_addr();
    let output = Command::new(BINARY)
        .env("DATABASE_URL", &db.url)
        .env("OPERATOR_LISTEN_ADDR", addr.to_string())
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run the operator");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("use --manifests DIR"), "{stderr}");
}
