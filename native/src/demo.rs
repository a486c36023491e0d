//! The demo experiment: a realistic image-classification sweep recorded through the public
//! API, so `runstore demo` shows (and tests exercise) everything a store can hold.
//!
//! Trials sweep the learning rate, each run with several seeds; every run has epochs and
//! batches, `train/loss` per batch, `val/loss` and `val/accuracy` (with per-class values) per
//! epoch, checkpoints and plots as artifacts at every level, a dataset, code and environment
//! records, resource samples and spans. One run diverges (its loss becomes NaN and is kept),
//! one fails mid-training, and the best checkpoints go into the model registry.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::{
    ArtifactSpec, Context, DatasetSpec, Error, NewModelVersion, ParamValue, Recorder, RecorderOptions,
    ResourceMonitor, Result,
};

/// What the demo records.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Learning rates of the well-behaved trials. Default: 0.1, 0.03, 0.01.
    pub learning_rates: Vec<f64>,
    /// Seeds per trial. Default: 3.
    pub seeds: u32,
    /// Epochs per run. Default: 8.
    pub epochs: u32,
    /// Batches per epoch. Default: 60.
    pub batches: u32,
    /// Classes of the per-class accuracy. Default: 10.
    pub classes: u32,
    /// Pause after each batch, so that the recording takes real time like a training job
    /// (and the resource monitor has something to sample). Default: none.
    pub batch_pause: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            learning_rates: vec![0.1, 0.03, 0.01],
            seeds: 3,
            epochs: 8,
            batches: 60,
            classes: 10,
            batch_pause: Duration::ZERO,
        }
    }
}

/// What the demo wrote.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// Runs recorded.
    pub runs: u32,
    /// Metric points logged.
    pub points: u64,
    /// Folder holding the demo's artifact files.
    pub artifacts_dir: PathBuf,
}

/// A small deterministic generator (xorshift64*), so the demo is the same on every machine.
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Noise {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in [-1, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (x as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// How a demo run behaves.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    Converges,
    Diverges,
    Fails { at_epoch: u32 },
}

/// Records the demo into a new file at `out`, with artifact files in `<out>.artifacts/`.
/// Refuses to overwrite an existing file.
pub fn record_demo(out: &Path, options: &DemoOptions) -> Result<DemoSummary> {
    if out.exists() {
        return Err(Error::io(
            out,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "exists; the demo writes a new file"),
        ));
    }
    let artifacts_dir = PathBuf::from(format!("{}.artifacts", out.display()));
    std::fs::create_dir_all(&artifacts_dir).map_err(|e| Error::io(&artifacts_dir, e))?;
    let write = |name: &str, content: String| -> Result<PathBuf> {
        let path = artifacts_dir.join(name);
        std::fs::write(&path, content).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    };

    let (rec, guard) = Recorder::with_options(RecorderOptions::file(out))?;
    let exp = rec.experiment_with_description(
        "mnist-sweep",
        "Learning-rate sweep of a small CNN on MNIST, three seeds per rate (runstore demo)",
    )?;
    exp.tags(&[("project", "runstore-demo"), ("dataset", "mnist")]);
    exp.params([("batch_size", ParamValue::Int(64)), ("optimizer", "sgd".into())]);
    let sweep = json!({
        "learning_rates": options.learning_rates, "seeds": options.seeds, "epochs": options.epochs,
    });
    let config = write("sweep.json", format!("{sweep:#}\n"))?;
    exp.artifact(ArtifactSpec::file("sweep config", "config", &config))?;

    // The data every run reads: a deterministic CSV, hashed when recorded.
    let mut data = String::from("pixel_mean,pixel_std,label\n");
    let mut noise = Noise::new(7);
    for i in 0..500 {
        data.push_str(&format!(
            "{:.4},{:.4},{}\n",
            0.13 + 0.05 * noise.next(),
            0.31 + 0.02 * noise.next(),
            i % 10
        ));
    }
    let dataset = write("mnist-train-sample.csv", data)?;

    let mut plan: Vec<(f64, u32, Fate)> = Vec::new();
    for &lr in &options.learning_rates {
        for seed in 0..options.seeds {
            plan.push((lr, seed, Fate::Converges));
        }
    }
    plan.push((1.0, 0, Fate::Diverges));
    plan.push((0.05, 0, Fate::Fails { at_epoch: options.epochs / 2 }));

    let mut points = 0u64;
    let mut best: Vec<(f64, String, PathBuf, crate::Id)> = Vec::new();
    for (i, &(lr, seed, fate)) in plan.iter().enumerate() {
        let trial = exp.trial(&format!("lr={lr}"))?;
        trial.config(&json!({"lr": lr, "model": {"name": "cnn-small", "channels": [32, 64]}}));
        let name = match fate {
            Fate::Converges => format!("lr={lr} seed={seed}"),
            Fate::Diverges => format!("lr={lr} seed={seed} (diverges)"),
            Fate::Fails { .. } => format!("lr={lr} seed={seed} (fails)"),
        };
        let run = trial.start_run(&name);
        let monitor = ResourceMonitor::start(&rec, Some(run.id()), Duration::from_millis(20));
        run.params([("lr", lr)]);
        run.params([("seed", i64::from(seed))]);
        run.config(&json!({"batch_size": 64, "epochs": options.epochs, "model": {"name": "cnn-small", "dropout": 0.25}}));
        run.tags(&[("model", "cnn-small"), ("sweep", "lr")]);
        run.dataset(DatasetSpec::input("mnist-train-sample").file(&dataset).shape(500, 3).schema(json!({
            "pixel_mean": "float32", "pixel_std": "float32", "label": "int64"
        })))?;
        let train_loss = run.series("train/loss", &Context::phase("train"));
        let train_acc = run.series("train/accuracy", &Context::phase("train"));
        let lr_series = run.series("learning_rate", &Context::phase("train"));
        let mut noise = Noise::new(1000 + i as u64);
        let speed = (lr / 0.1).powf(0.6) * 0.012;
        let mut step = 0i64;
        // The diverging run blows up after 40% of its steps and is NaN after 55%.
        let total = i64::from(options.epochs * options.batches);
        let (onset, nan_from) = (total * 2 / 5, total * 11 / 20);
        let mut val_loss = f64::NAN;
        let mut failed: Option<String> = None;
        'epochs: for epoch in 0..options.epochs {
            run.start_epoch(epoch);
            let mut datagen = run.time("data_generation");
            datagen.attribute("round", epoch).attribute("samples_generated", options.batches * 64);
            datagen.attribute("memory_used_mb", 180.0 + 10.0 * noise.next());
            datagen.finish();
            for batch in 0..options.batches {
                run.start_batch(batch);
                if let Fate::Fails { at_epoch } = fate
                    && epoch == at_epoch
                    && batch == options.batches / 3
                {
                    failed = Some(format!("CUDA error: out of memory (simulated) at epoch {epoch}"));
                    break 'epochs;
                }
                let t = step as f64;
                let loss = match fate {
                    Fate::Diverges if step > onset => {
                        if step > nan_from {
                            f64::NAN
                        } else {
                            (0.05 * (t - onset as f64)).exp() * 2.0
                        }
                    }
                    _ => 0.05 + 2.2 * (-speed * t).exp() + 0.04 * noise.next() * (-speed * t / 2.0).exp(),
                };
                train_loss.log(step, loss);
                train_acc.log(step, (1.0 - loss / 2.5).clamp(0.0, 1.0));
                lr_series.log(step, lr * 0.5f64.powi((epoch / 3) as i32));
                points += 3;
                if batch == 0 && epoch == 0 {
                    let sample =
                        write(&format!("run{i}-batch0.txt"), format!("first batch of run {name}\n"))?;
                    run.batch_artifact(
                        epoch,
                        batch,
                        ArtifactSpec::file("first batch sample", "sample", &sample),
                    )?;
                }
                run.end_batch(batch);
                step += 1;
                if !options.batch_pause.is_zero() {
                    std::thread::sleep(options.batch_pause);
                }
            }
            let t = step as f64;
            val_loss = match fate {
                Fate::Diverges if step > onset => f64::NAN,
                _ => 0.08 + 2.0 * (-speed * t * 0.9).exp() + 0.02 * noise.next(),
            };
            let val_acc = if val_loss.is_nan() { f64::NAN } else { (1.0 - val_loss / 2.3).clamp(0.0, 0.995) };
            let per_class: Vec<(String, f64)> = (0..options.classes)
                .map(|c| {
                    (
                        format!("class_{c}"),
                        (val_acc + 0.03 * noise.next() - 0.01 * f64::from(c % 3)).clamp(0.0, 1.0),
                    )
                })
                .collect();
            let per_class_refs: Vec<(&str, f64)> = per_class.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let mut eval = run.time("evaluate");
            eval.attribute("round", epoch);
            run.series("val/loss", &Context::phase("val")).log(step, val_loss);
            run.log_labelled("val/accuracy", &Context::phase("val"), step, val_acc, &per_class_refs);
            eval.finish();
            points += 2 + u64::from(options.classes);
            let confusion = write(
                &format!("run{i}-epoch{epoch}-confusion.txt"),
                format!("confusion matrix, epoch {epoch}, val/accuracy {val_acc:.4}\n"),
            )?;
            run.epoch_artifact(epoch, ArtifactSpec::file("confusion matrix", "plot", &confusion))?;
            run.end_epoch(epoch);
        }
        drop(monitor);
        match (fate, failed) {
            (_, Some(error)) => run.fail(&error),
            (Fate::Diverges, None) => {
                run.results(json!({"final_val_loss": "NaN", "note": "diverged"}));
                run.fail("loss became NaN");
            }
            _ => {
                let checkpoint = write(
                    &format!("run{i}-model.ckpt"),
                    format!("weights of {name}: val_loss={val_loss:.5}\n"),
                )?;
                run.artifact(ArtifactSpec::file("final checkpoint", "model", &checkpoint))?;
                run.results(json!({"final_val_loss": val_loss, "epochs": options.epochs}));
                if seed == 0 {
                    best.push((val_loss, format!("lr={lr}"), checkpoint, run.id().clone()));
                }
                run.finish();
            }
        }
    }

    // The registry: the seed-0 checkpoint of each trial, best one in production.
    let model = rec.model("mnist-cnn", "Small CNN for MNIST digits")?;
    rec.tag_model(&model, &[("task", "classification")]);
    let mut best_version = (f64::INFINITY, 0);
    for (val_loss, trial, path, run_id) in &best {
        let mut version = NewModelVersion::from_file("mnist-cnn", path)?;
        version.description = format!("{trial}, val/loss {val_loss:.4}");
        version.source_run = Some(run_id.clone());
        version.tags = vec![("type".into(), "classification".into()), ("trial".into(), trial.clone())];
        let number = rec.register_model_version(version)?;
        if *val_loss < best_version.0 {
            best_version = (*val_loss, number);
        }
    }
    if best_version.1 > 0 {
        rec.set_model_alias("mnist-cnn", "production", best_version.1)?;
        rec.set_model_alias("mnist-cnn", "staging", best.len() as i64)?;
    }
    exp.set_status("completed", Some(json!({"best_val_loss": best_version.0, "runs": plan.len()})));
    rec.flush()?;
    guard.finish()?;
    Ok(DemoSummary { runs: plan.len() as u32, points, artifacts_dir })
}
