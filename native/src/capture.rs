//! Automatic provenance: the environment (OS, host, CPU, memory, GPU, runtimes) and the code
//! (git commit, branch, dirty flag, tracked files) of the recording process. Each is captured
//! once per process and reused for every run.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use runstore_core::event::{CodeRecord, EnvironmentRecord};

/// The host name, if the OS tells it.
pub fn hostname() -> Option<String> {
    sysinfo::System::host_name().ok().filter(|h| !h.is_empty())
}

/// OS, host, CPU model and count, total memory, GPUs (through NVML when present) and
/// the runtime versions of this process.
pub fn environment() -> EnvironmentRecord {
    static CACHE: OnceLock<EnvironmentRecord> = OnceLock::new();
    CACHE.get_or_init(capture_environment).clone()
}

fn capture_environment() -> EnvironmentRecord {
    use sysinfo::{CpuRefreshKind, RefreshKind, System};
    let system = System::new_with_specifics(
        RefreshKind::nothing()
            .with_memory(sysinfo::MemoryRefreshKind::nothing().with_ram())
            .with_cpu(CpuRefreshKind::nothing()),
    )
    .ok();
    let cpu = system
        .as_ref()
        .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string()))
        .filter(|b| !b.is_empty());
    let cpu_count = std::thread::available_parallelism().map(|n| n.get() as i64).ok();
    let memory_bytes = system.as_ref().map(|s| s.total_memory() as i64);
    EnvironmentRecord {
        os: System::name().ok(),
        os_version: System::long_os_version().ok().or_else(|| System::os_version().ok()),
        hostname: hostname(),
        cpu,
        cpu_count,
        memory_bytes,
        gpu: gpu_names(),
        runtimes: Some(serde_json::json!({
            "runstore": env!("CARGO_PKG_VERSION"),
            "arch": std::env::consts::ARCH,
            "os_family": std::env::consts::FAMILY,
            "kernel": System::kernel_version().ok(),
        })),
        packages: None,
    }
}

/// GPU names from NVML, comma-separated; `None` without NVIDIA GPUs or driver.
pub fn gpu_names() -> Option<String> {
    crate::gpu::Nvml::open().ok()?.names()
}

/// The git state of the current directory's repository, and the entry point of this process.
/// `None` when git is missing or the directory is not in a repository (the entry point is
/// still recorded then).
pub fn code() -> Option<CodeRecord> {
    static CACHE: OnceLock<Option<CodeRecord>> = OnceLock::new();
    CACHE.get_or_init(|| capture_code(Path::new("."))).clone()
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// Most tracked files listed in a code record; bigger repositories are cut (and say so).
const MAX_FILES: usize = 5000;

/// Captures the git state of the repository containing `dir`.
pub fn capture_code(dir: &Path) -> Option<CodeRecord> {
    let entrypoint = std::env::args().next();
    let Some(root) = git(dir, &["rev-parse", "--show-toplevel"]) else {
        return Some(CodeRecord { entrypoint, ..Default::default() });
    };
    let commit = git(dir, &["rev-parse", "HEAD"]);
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]);
    let status = git(dir, &["status", "--porcelain", "--untracked-files=no"]).unwrap_or_default();
    let modified: Vec<&str> = status.lines().filter_map(|l| l.get(3..)).collect();
    // `ls-files -s` gives each tracked file's git blob hash from the index, without reading
    // the files; modified files also get the SHA-256 of what is on disk now.
    let listing = git(dir, &["ls-files", "-s"]).unwrap_or_default();
    let total = listing.lines().count();
    let mut files: Vec<serde_json::Value> = listing
        .lines()
        .take(MAX_FILES)
        .filter_map(|line| {
            let (meta, path) = line.split_once('\t')?;
            let blob = meta.split_whitespace().nth(1)?;
            let mut entry = serde_json::json!({ "path": path, "git_blob": blob });
            if modified.contains(&path) {
                let on_disk = Path::new(&root).join(path);
                if let Ok((_, sha)) = crate::hash::file_sha256(&on_disk) {
                    entry["sha256"] = sha.into();
                    entry["modified"] = true.into();
                }
            }
            Some(entry)
        })
        .collect();
    if total > MAX_FILES {
        files.push(serde_json::json!({ "truncated": total - MAX_FILES }));
    }
    Some(CodeRecord {
        git_commit: commit,
        git_branch: branch,
        git_dirty: Some(!modified.is_empty()),
        repo_root: Some(root),
        entrypoint,
        files: Some(serde_json::Value::Array(files)),
    })
}
