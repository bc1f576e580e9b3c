//! `lorae reproduce … --slurm --submit` on a real single-node Slurm. The test starts `munged`,
//! `slurmctld` and `slurmd` as its own child processes, with a configuration of one node that has
//! the machine's cores, in a temporary directory. Debian's `slurm-wlm` and `munge` are installed
//! when missing (apt-get, as root). It then checks three things:
//! - the smoke budget of `all`, submitted, finishes every cell;
//! - its report lists the same cells with the same numbers as a single-process run at the same
//!   thread count;
//! - `scancel` of the running arrays, then a second submission, computes only what was left.
//!
//! The daemons are stopped by their PIDs at the end, whatever the outcome. Under `CI=true` a failed
//! install fails the test; elsewhere the test says why it did not run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemons, killed when dropped.
struct Cluster {
    conf: PathBuf,
    children: Vec<Child>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs slurm-wlm and munge when missing; false (with the reason printed) when that fails.
fn installed() -> bool {
    let programs = [
        "munged",
        "slurmctld",
        "slurmd",
        "sbatch",
        "squeue",
        "scancel",
    ];
    if programs.iter().all(|p| have(p)) {
        return true;
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let ok = (apt(&["install", "-y", "-q", "slurm-wlm", "munge"])
        || (apt(&["update", "-q"]) && apt(&["install", "-y", "-q", "slurm-wlm", "munge"])))
        && programs.iter().all(|p| have(p));
    if !ok {
        eprintln!("slurm test: apt-get install slurm-wlm munge failed");
    }
    ok
}

/// A free TCP port on localhost.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path) -> Cluster {
    for d in ["state", "spool", "log", "munge", "run"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let key = dir.join("munge/munge.key");
    let mut bytes = vec![0u8; 1024];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").unwrap(),
        &mut bytes,
    )
    .unwrap();
    std::fs::write(&key, &bytes).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o400)).unwrap();
    let socket = dir.join("munge/munge.socket");
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let d = dir.display();
    let conf = dir.join("slurm.conf");
    std::fs::write(
        &conf,
        format!(
            "ClusterName=lorae\nSlurmctldHost={host}\nSlurmUser=root\nSlurmdUser=root\n\
             AuthType=auth/munge\nAuthInfo=socket={}\nCredType=cred/munge\n\
             StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/run/slurmctld.pid\nSlurmdPidFile={d}/run/slurmd.pid\n\
             SlurmctldLogFile={d}/log/slurmctld.log\nSlurmdLogFile={d}/log/slurmd.log\n\
             SlurmctldPort={}\nSlurmdPort={}\nProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
             SchedulerType=sched/backfill\nSelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n\
             ReturnToService=2\nMpiDefault=none\nJobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\n\
             NodeName={host} CPUs={cpus} State=UNKNOWN\n\
             PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            socket.display(),
            free_port(),
            free_port()
        ),
    )
    .unwrap();
    let log = |name: &str| std::fs::File::create(dir.join("log").join(name)).unwrap();
    let mut cluster = Cluster {
        conf: conf.clone(),
        children: Vec::new(),
    };
    let munge = Command::new("munged")
        .arg("--foreground")
        .arg(format!("--key-file={}", key.display()))
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--pid-file={d}/munge/munged.pid"))
        .arg(format!("--log-file={d}/munge/munged.log"))
        .arg(format!("--seed-file={d}/munge/seed"))
        .stdout(log("munged.out"))
        .stderr(log("munged.err"))
        .spawn()
        .unwrap();
    cluster.children.push(munge);
    wait_for("munged's socket", Duration::from_secs(20), || {
        socket.exists()
    });
    for (program, args) in [("slurmctld", &["-D", "-i"][..]), ("slurmd", &["-D"][..])] {
        let child = Command::new(program)
            .args(args)
            .env("SLURM_CONF", &conf)
            .stdout(log(&format!("{program}.out")))
            .stderr(log(&format!("{program}.err")))
            .spawn()
            .unwrap();
        cluster.children.push(child);
    }
    wait_for("an idle node", Duration::from_secs(60), || {
        slurm(&cluster, "sinfo", &["-h", "-o", "%t"]).contains("idle")
    });
    cluster
}

fn slurm(cluster: &Cluster, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "gave up waiting for {what} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `lorae reproduce EXPERIMENTS --budget smoke --out DIR --slurm --submit`: the job lines printed.
fn submit(cluster: &Cluster, dir: &Path, experiments: &[&str]) -> Vec<String> {
    let mut args = vec!["reproduce"];
    args.extend(experiments);
    args.extend([
        "--budget",
        "smoke",
        "--out",
        dir.to_str().unwrap(),
        "--slurm",
        "--submit",
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_lorae"))
        .args(&args)
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until the queue is empty and the report exists.
fn finish(cluster: &Cluster, dir: &Path) {
    wait_for("the jobs", Duration::from_secs(1200), || {
        slurm(cluster, "squeue", &["-h"]).trim().is_empty()
    });
    assert!(
        dir.join("report.md").exists(),
        "the report job did not write {}: see {}",
        dir.join("report.md").display(),
        dir.join("slurm").display()
    );
}

/// Every cell's result without its timings.
fn results(dir: &Path) -> Vec<(String, serde_json::Value)> {
    fn strip(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => m
                .into_iter()
                .filter(|(k, _)| !k.contains("second"))
                .map(|(k, v)| (k, strip(v)))
                .collect(),
            serde_json::Value::Array(a) => a.into_iter().map(strip).collect(),
            v => v,
        }
    }
    let mut out: Vec<(String, serde_json::Value)> = std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|cell| {
            let text = std::fs::read_to_string(cell.join("result.json"))
                .unwrap_or_else(|e| panic!("{}: {e}", cell.display()));
            let name = cell.file_name().unwrap().to_string_lossy().into_owned();
            (name, strip(serde_json::from_str(&text).unwrap()))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The tasks of a submission's stage arrays, from the lines `ID PATH (N cells)`.
fn tasks(lines: &[String]) -> usize {
    lines
        .iter()
        .filter_map(|l| {
            l.split(" (")
                .nth(1)?
                .strip_suffix(" cells)")?
                .parse::<usize>()
                .ok()
        })
        .sum()
}

#[test]
#[ignore = "needs Slurm (installed when missing, as root), MNIST and the FID weights (.ci/run has them and runs --include-ignored)"]
fn slurm_runs_the_smoke_budget_like_one_process_and_resubmits_only_what_is_left() {
    crate::common::fetched(&["mnist/train-images-idx3-ubyte", "fid-weights/default_1.pt"]);
    if !installed() {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true: Slurm could not be installed, so the slurm test cannot run"
        );
        eprintln!("slurm test not run: Slurm is not installed and could not be (run as root)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cluster = start(&tmp.path().join("slurm"));

    // The smoke budget of every experiment, through the scheduler and in one process.
    let submitted = tmp.path().join("submitted");
    let started = Instant::now();
    let lines = submit(&cluster, &submitted, &["all"]);
    assert_eq!(lines.len(), 3, "two stages and the report: {lines:?}");
    finish(&cluster, &submitted);
    eprintln!(
        "slurm: smoke budget of all in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let single = tmp.path().join("single");
    let started = Instant::now();
    let (ok, _, err) = crate::common::lorae(&[
        "--threads",
        "1",
        "reproduce",
        "all",
        "--budget",
        "smoke",
        "--no-progress",
        "--out",
        single.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    eprintln!(
        "one process: smoke budget of all in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let (a, b) = (results(&submitted), results(&single));
    assert_eq!(
        a.iter().map(|c| &c.0).collect::<Vec<_>>(),
        b.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x, y, "cell {name}");
    }
    assert_eq!(tasks(&lines), a.len(), "every cell was a task: {lines:?}");

    // Cancelled part-way, then submitted again: only what was left runs.
    let cancelled = tmp.path().join("cancelled");
    let experiments = ["shapes-spectra", "mnist-fid"];
    let first = submit(&cluster, &cancelled, &experiments);
    let done = |dir: &Path| {
        std::fs::read_dir(dir.join("cells")).map_or(0, |d| {
            d.filter(|e| e.as_ref().unwrap().path().join("result.json").exists())
                .count()
        })
    };
    wait_for("the first finished cells", Duration::from_secs(600), || {
        done(&cancelled) >= 4
    });
    let ids: Vec<String> = first
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let mut args = vec!["--full"];
    args.extend(ids.iter().map(String::as_str));
    slurm(&cluster, "scancel", &args);
    wait_for(
        "the cancelled jobs to leave",
        Duration::from_secs(120),
        || slurm(&cluster, "squeue", &["-h"]).trim().is_empty(),
    );
    let finished = done(&cancelled);
    assert!(
        !cancelled.join("report.md").exists(),
        "cancelled too late: the report was written"
    );
    let second = submit(&cluster, &cancelled, &experiments);
    let total = tasks(&first);
    assert!(
        tasks(&second) <= total - finished,
        "the second submission has {} tasks; {total} cells, {finished} finished: {second:?}",
        tasks(&second)
    );
    finish(&cluster, &cancelled);
    assert_eq!(done(&cancelled), total);
}
