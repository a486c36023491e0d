//! A background resource monitor (the metrics collector's `ResourceMonitor`): CPU and memory
//! of the whole system, of one process and of its whole process tree (the workers it forks:
//! data loaders, DDP ranks), and every GPU through NVML (utilisation, memory, power,
//! temperature, and the tree's share of GPU memory), sampled at a fixed interval into a run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use runstore_core::event::{ResourceKind, ResourceSample};
use runstore_core::{Event, Id};

use crate::clock::now_ms;
use crate::recorder::Recorder;

/// Samples resources until dropped. Start it with [`ResourceMonitor::start`].
#[must_use = "the monitor stops when dropped"]
pub struct ResourceMonitor {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ResourceMonitor {
    /// Samples this process and its process tree every `interval` (1 s is the collector's
    /// default) into `run` (or into the store without a run); see
    /// [`ResourceMonitor::start_for_process`].
    pub fn start(recorder: &Recorder, run: Option<&Id>, interval: Duration) -> ResourceMonitor {
        ResourceMonitor::start_for_process(recorder, run, std::process::id(), interval)
    }

    /// Samples process `pid` and every process below it (followed as they appear and go)
    /// every `interval`. Samples: `cpu/system_total`, `cpu/process` and `cpu/tree` (% of the
    /// machine); `ram/system_total`, `ram/process` and `ram/tree` (MiB); `cpu/tree_processes`
    /// and `cpu/tree_threads` (counts); `disk/tree_read` and `disk/tree_write` (MiB/s); per
    /// GPU `gpuN_util` (%), `gpuN_memory`, `gpuN_memory_total` and `gpuN_tree_memory` (MiB),
    /// `gpuN_power` (W) and `gpuN_temperature` (°C).
    pub fn start_for_process(
        recorder: &Recorder,
        run: Option<&Id>,
        pid: u32,
        interval: Duration,
    ) -> ResourceMonitor {
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, run, flag) = (recorder.clone(), run.cloned(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("runstore-monitor".into())
            .spawn(move || sample_loop(&rec, run, pid, interval, &flag))
            .ok();
        ResourceMonitor { stop, thread }
    }
}

/// Totals over a process and all its descendants.
#[derive(Debug, Default, PartialEq)]
struct TreeTotals {
    /// CPU use, % of one core, summed.
    cpu: f64,
    memory_bytes: u64,
    processes: usize,
    threads: usize,
    read_bytes: u64,
    written_bytes: u64,
    /// The processes of the tree (for their share of GPU memory).
    pids: std::collections::HashSet<u32>,
}

/// Sums what `system` last read of `root` and its descendants; `None` when `root` is gone.
/// Threads, which sysinfo also lists as processes on Linux, are counted, not summed twice.
fn tree_totals(system: &sysinfo::System, root: sysinfo::Pid) -> Option<TreeTotals> {
    system.process(root)?;
    let mut children: std::collections::HashMap<sysinfo::Pid, Vec<sysinfo::Pid>> = Default::default();
    for (pid, process) in system.processes() {
        if process.thread_kind().is_none()
            && let Some(parent) = process.parent()
        {
            children.entry(parent).or_default().push(*pid);
        }
    }
    let mut totals = TreeTotals::default();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        let Some(process) = system.process(pid) else { continue };
        totals.cpu += f64::from(process.cpu_usage());
        totals.memory_bytes += process.memory();
        totals.processes += 1;
        totals.pids.insert(pid.as_u32());
        totals.threads += process.tasks().map_or(1, |tasks| tasks.len().max(1));
        let disk = process.disk_usage();
        totals.read_bytes += disk.read_bytes;
        totals.written_bytes += disk.written_bytes;
        if let Some(below) = children.get(&pid) {
            stack.extend(below);
        }
    }
    Some(totals)
}

impl Drop for ResourceMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

fn sample_loop(rec: &Recorder, run: Option<Id>, pid: u32, interval: Duration, stop: &AtomicBool) {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let Ok(mut system) = System::new_with_specifics(sysinfo::RefreshKind::nothing()) else {
        return;
    };
    let pid = Pid::from_u32(pid);
    let mut last_refresh = Instant::now();
    let mut gpus = open_gpus();
    let cpus = std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
    let mut next = Instant::now();
    // At least one sample, however short the run: a monitor stopped before its thread got
    // going (a fast run on a busy machine) left the run with no samples at all.
    loop {
        system.refresh_cpu_usage();
        system.refresh_memory();
        // Every process: the tree is found by parent links, and its members come and go.
        system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory().with_disk_usage(),
        );
        let seconds = last_refresh.elapsed().as_secs_f64().max(1e-3);
        last_refresh = Instant::now();
        let time_ms = now_ms();
        let mut samples = vec![
            (ResourceKind::Cpu, "system_total".to_string(), f64::from(system.global_cpu_usage()), "%"),
            (ResourceKind::Ram, "system_total".to_string(), system.used_memory() as f64 / MIB, "MiB"),
        ];
        if let Some(p) = system.process(pid) {
            samples.push((ResourceKind::Cpu, "process".into(), f64::from(p.cpu_usage()) / cpus, "%"));
            samples.push((ResourceKind::Ram, "process".into(), p.memory() as f64 / MIB, "MiB"));
        }
        let tree = tree_totals(&system, pid);
        if let Some(tree) = &tree {
            samples.extend([
                (ResourceKind::Cpu, "tree".into(), tree.cpu / cpus, "%"),
                (ResourceKind::Ram, "tree".into(), tree.memory_bytes as f64 / MIB, "MiB"),
                (ResourceKind::Cpu, "tree_processes".into(), tree.processes as f64, "count"),
                (ResourceKind::Cpu, "tree_threads".into(), tree.threads as f64, "count"),
                (ResourceKind::Disk, "tree_read".into(), tree.read_bytes as f64 / MIB / seconds, "MiB/s"),
                (ResourceKind::Disk, "tree_write".into(), tree.written_bytes as f64 / MIB / seconds, "MiB/s"),
            ]);
        }
        if let Some(gpus) = gpus.as_mut() {
            let pids = tree.map(|t| t.pids).unwrap_or_default();
            samples.extend(crate::gpu::samples(&gpus.read(), &pids));
        }
        for (kind, name, value, unit) in samples {
            rec.send(Event::Resource(Box::new(ResourceSample {
                run_id: run.clone(),
                time_ms,
                kind,
                name,
                value,
                unit: unit.to_string(),
            })));
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        next += interval;
        let now = Instant::now();
        if next > now {
            std::thread::park_timeout(next - now);
        } else {
            next = now;
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// NVML when the machine has it; otherwise `None`, said once per process on standard error.
fn open_gpus() -> Option<Box<dyn crate::gpu::GpuSource>> {
    static SAID: std::sync::Once = std::sync::Once::new();
    match crate::gpu::Nvml::open() {
        Ok(nvml) => Some(Box::new(nvml)),
        Err(why) => {
            SAID.call_once(|| eprintln!("runstore: GPUs are not monitored: {why}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monitor_stopped_at_once_still_samples_once() {
        let (rec, guard) = crate::Recorder::with_options(
            crate::RecorderOptions::in_memory().capture_code(false).capture_environment(false),
        )
        .unwrap();
        for _ in 0..20 {
            drop(ResourceMonitor::start(&rec, None, Duration::from_secs(60)));
        }
        rec.flush().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.db");
        rec.persist_to(&path).unwrap();
        guard.finish().unwrap();
        let store = runstore_core::Store::open_read_only(&path).unwrap();
        let cpu = store.stats().unwrap().resource_samples;
        assert!(cpu >= 20 * 2, "{cpu} samples from 20 monitors");
    }

    #[test]
    fn the_tree_of_a_process_sums_its_busy_workers() {
        use std::process::{Command, Stdio};
        // A shell that forks three busy workers (and a grandchild each), like a data loader.
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3; do (sh -c 'while :; do :; done') & done; wait"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let root = sysinfo::Pid::from_u32(child.id());
        let mut system = sysinfo::System::new_with_specifics(sysinfo::RefreshKind::nothing()).unwrap();
        let kind = sysinfo::ProcessRefreshKind::nothing().with_cpu().with_memory();
        let mut best = TreeTotals::default();
        let mut shell_cpu = 0.0f32;
        for _ in 0..8 {
            std::thread::sleep(Duration::from_millis(250));
            system.refresh_processes_specifics(sysinfo::ProcessesToUpdate::All, true, kind);
            if let Some(tree) = tree_totals(&system, root)
                && tree.cpu > best.cpu
            {
                best = tree;
                shell_cpu = system.process(root).map_or(0.0, sysinfo::Process::cpu_usage);
            }
        }
        // Kill the whole tree: the workers are in the shell's process group.
        let _ = Command::new("pkill").args(["-KILL", "-P", &child.id().to_string()]).status();
        let _ =
            Command::new("sh").args(["-c", &format!("pkill -KILL -g {} 2>/dev/null", child.id())]).status();
        let _ = child.kill();
        let _ = child.wait();
        // The shell and its 3 workers (each subshell execs its one command); the shell itself
        // only waits, so the tree's CPU is its busy workers' (% of one core: at least 30 even
        // on a loaded machine; 200 on an idle 2-core one).
        assert!(best.processes >= 4, "{best:?}");
        assert!(
            best.cpu >= 30.0 && best.cpu >= 10.0 * f64::from(shell_cpu),
            "{best:?}, the shell alone {shell_cpu}"
        );
        assert!(best.memory_bytes > 0 && best.threads >= best.processes);
    }
}
