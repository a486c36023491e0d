//! A background resource monitor (the metrics collector's `ResourceMonitor`): CPU and memory
//! of the whole system and of this process, and GPU utilisation and memory when
//! `nvidia-smi` is present, sampled at a fixed interval into a run.

use std::process::Command;
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
    /// Samples every `interval` (1 s is the collector's default) into `run` (or into the
    /// store without a run). Samples: `cpu/system_total` and `cpu/process` (%),
    /// `ram/system_total` and `ram/process` (MiB), `gpuN_util` (%) and `gpuN_memory` (MiB).
    pub fn start(recorder: &Recorder, run: Option<&Id>, interval: Duration) -> ResourceMonitor {
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, run, flag) = (recorder.clone(), run.cloned(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("runstore-monitor".into())
            .spawn(move || sample_loop(&rec, run, interval, &flag))
            .ok();
        ResourceMonitor { stop, thread }
    }
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

fn sample_loop(rec: &Recorder, run: Option<Id>, interval: Duration, stop: &AtomicBool) {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let Ok(mut system) = System::new_with_specifics(sysinfo::RefreshKind::nothing()) else {
        return;
    };
    let pid = Pid::from_u32(std::process::id());
    let has_gpu = crate::capture::gpu_names().is_some();
    let cpus = std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
    let mut next = Instant::now();
    // At least one sample, however short the run: a monitor stopped before its thread got
    // going (a fast run on a busy machine) left the run with no samples at all.
    loop {
        system.refresh_cpu_usage();
        system.refresh_memory();
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            false,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
        let time_ms = now_ms();
        let mut samples = vec![
            (ResourceKind::Cpu, "system_total".to_string(), f64::from(system.global_cpu_usage()), "%"),
            (ResourceKind::Ram, "system_total".to_string(), system.used_memory() as f64 / MIB, "MiB"),
        ];
        if let Some(p) = system.process(pid) {
            samples.push((ResourceKind::Cpu, "process".into(), f64::from(p.cpu_usage()) / cpus, "%"));
            samples.push((ResourceKind::Ram, "process".into(), p.memory() as f64 / MIB, "MiB"));
        }
        if has_gpu {
            samples.extend(gpu_samples());
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

/// `gpuN_util` (%) and `gpuN_memory` (MiB) for every NVIDIA GPU.
fn gpu_samples() -> Vec<(ResourceKind, String, f64, &'static str)> {
    let Ok(out) = Command::new("nvidia-smi")
        .args(["--query-gpu=index,utilization.gpu,memory.used", "--format=csv,noheader,nounits"])
        .output()
    else {
        return Vec::new();
    };
    parse_gpu_csv(&String::from_utf8_lossy(&out.stdout))
}

fn parse_gpu_csv(text: &str) -> Vec<(ResourceKind, String, f64, &'static str)> {
    let mut samples = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if let [index, util, mem] = fields[..]
            && let (Ok(util), Ok(mem)) = (util.parse::<f64>(), mem.parse::<f64>())
        {
            samples.push((ResourceKind::Gpu, format!("gpu{index}_util"), util, "%"));
            samples.push((ResourceKind::Gpu, format!("gpu{index}_memory"), mem, "MiB"));
        }
    }
    samples
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
    fn parses_nvidia_smi_csv() {
        let s = parse_gpu_csv("0, 97, 40123\n1, [N/A], 12\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1, "gpu0_util");
        assert_eq!(s[0].2, 97.0);
        assert_eq!(s[1].2, 40123.0);
    }
}
