//! GPUs through NVML, NVIDIA's management library, loaded when the monitor starts (no CUDA
//! at build time; a machine without the driver gets one line saying so). Behind
//! [`GpuSource`], so the sampling is tested with a fake.

use std::collections::HashSet;

use runstore_core::event::ResourceKind;

/// One GPU at one moment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GpuReading {
    /// NVML's index of the device.
    pub index: u32,
    /// Utilisation, %.
    pub util_percent: Option<f64>,
    /// Memory in use and in all, bytes.
    pub memory_used: Option<u64>,
    pub memory_total: Option<u64>,
    /// Power draw, W.
    pub power_watts: Option<f64>,
    /// Temperature, °C.
    pub temperature_c: Option<f64>,
    /// Processes with memory on the device: (pid, bytes).
    pub processes: Vec<(u32, u64)>,
}

/// Where GPU readings come from: NVML, or a fake in tests.
pub(crate) trait GpuSource: Send {
    /// Every device now.
    fn read(&mut self) -> Vec<GpuReading>;
}

/// NVML, initialised once per monitor.
pub(crate) struct Nvml(nvml_wrapper::Nvml);

impl Nvml {
    /// Loads the driver's NVML; `Err` says why not (no driver, no GPU).
    pub fn open() -> Result<Nvml, String> {
        let nvml = nvml_wrapper::Nvml::init().map_err(|e| format!("NVML not available ({e})"))?;
        match nvml.device_count() {
            Ok(0) => Err("NVML reports no GPU".into()),
            Ok(_) => Ok(Nvml(nvml)),
            Err(e) => Err(format!("NVML cannot count the GPUs ({e})")),
        }
    }

    /// The devices' names, comma-separated.
    pub fn names(&self) -> Option<String> {
        let count = self.0.device_count().ok()?;
        let names: Vec<String> =
            (0..count).filter_map(|i| self.0.device_by_index(i).ok()?.name().ok()).collect();
        (!names.is_empty()).then(|| names.join(", "))
    }
}

impl GpuSource for Nvml {
    fn read(&mut self) -> Vec<GpuReading> {
        use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
        use nvml_wrapper::enums::device::UsedGpuMemory;
        let count = self.0.device_count().unwrap_or(0);
        (0..count)
            .filter_map(|index| {
                let device = self.0.device_by_index(index).ok()?;
                let memory = device.memory_info().ok();
                let processes = device
                    .running_compute_processes()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(device.running_graphics_processes().unwrap_or_default())
                    .filter_map(|p| match p.used_gpu_memory {
                        UsedGpuMemory::Used(bytes) => Some((p.pid, bytes)),
                        UsedGpuMemory::Unavailable => None,
                    })
                    .collect();
                Some(GpuReading {
                    index,
                    util_percent: device.utilization_rates().ok().map(|u| f64::from(u.gpu)),
                    memory_used: memory.as_ref().map(|m| m.used),
                    memory_total: memory.as_ref().map(|m| m.total),
                    power_watts: device.power_usage().ok().map(|mw| f64::from(mw) / 1000.0),
                    temperature_c: device.temperature(TemperatureSensor::Gpu).ok().map(f64::from),
                    processes,
                })
            })
            .collect()
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// The samples of `readings`: per GPU `gpuN_util` (%), `gpuN_memory` and `gpuN_memory_total`
/// (MiB), `gpuN_power` (W), `gpuN_temperature` (°C), and `gpuN_tree_memory` (MiB used by the
/// processes in `tree`).
pub(crate) fn samples(
    readings: &[GpuReading],
    tree: &HashSet<u32>,
) -> Vec<(ResourceKind, String, f64, &'static str)> {
    let mut out = Vec::new();
    for r in readings {
        let n = r.index;
        let mut push = |name: &str, value: Option<f64>, unit: &'static str| {
            if let Some(value) = value {
                out.push((ResourceKind::Gpu, format!("gpu{n}_{name}"), value, unit));
            }
        };
        push("util", r.util_percent, "%");
        push("memory", r.memory_used.map(|b| b as f64 / MIB), "MiB");
        push("memory_total", r.memory_total.map(|b| b as f64 / MIB), "MiB");
        push("power", r.power_watts, "W");
        push("temperature", r.temperature_c, "°C");
        let tree_bytes: u64 = r.processes.iter().filter(|(pid, _)| tree.contains(pid)).map(|(_, b)| b).sum();
        push("tree_memory", Some(tree_bytes as f64 / MIB), "MiB");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two GPUs, one of them shared with a process outside the tree.
    struct FakeGpus;

    impl GpuSource for FakeGpus {
        fn read(&mut self) -> Vec<GpuReading> {
            vec![
                GpuReading {
                    index: 0,
                    util_percent: Some(97.0),
                    memory_used: Some(40 << 30),
                    memory_total: Some(80 << 30),
                    power_watts: Some(612.5),
                    temperature_c: Some(71.0),
                    processes: vec![(100, 30 << 30), (999, 10 << 30)],
                },
                GpuReading {
                    index: 1,
                    util_percent: None,
                    memory_used: Some(0),
                    memory_total: Some(80 << 30),
                    power_watts: None,
                    temperature_c: Some(35.0),
                    processes: vec![],
                },
            ]
        }
    }

    #[test]
    fn readings_become_samples_with_the_trees_share_of_memory() {
        let tree: HashSet<u32> = [100, 101].into();
        let samples = samples(&FakeGpus.read(), &tree);
        let get = |name: &str| samples.iter().find(|s| s.1 == name).map(|s| s.2);
        assert_eq!(get("gpu0_util"), Some(97.0));
        assert_eq!(get("gpu0_memory"), Some(40.0 * 1024.0));
        assert_eq!(get("gpu0_memory_total"), Some(80.0 * 1024.0));
        assert_eq!(get("gpu0_power"), Some(612.5));
        assert_eq!(get("gpu0_temperature"), Some(71.0));
        assert_eq!(
            get("gpu0_tree_memory"),
            Some(30.0 * 1024.0),
            "the process outside the tree is not counted"
        );
        assert_eq!(get("gpu1_util"), None, "a reading NVML could not give is left out, not zero");
        assert_eq!(get("gpu1_tree_memory"), Some(0.0));
        assert!(samples.iter().all(|s| s.0 == ResourceKind::Gpu));
    }

    #[test]
    fn a_real_gpu_is_read_when_there_is_one() {
        match Nvml::open() {
            Ok(mut nvml) => {
                let readings = nvml.read();
                assert!(!readings.is_empty());
                assert!(readings.iter().all(|r| r.memory_total.unwrap_or(0) > 0), "{readings:?}");
                assert!(nvml.names().is_some());
            }
            Err(why) => eprintln!("skipped: no GPU to read here: {why}"),
        }
    }
}
