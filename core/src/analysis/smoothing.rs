//! Smoothing of chart series, computed as TensorBoard and W&B compute it. The raw series
//! stays available: smoothing returns a new `y`. NaN and ±Inf points are passed through
//! unchanged and do not disturb the smoothed values around them.

/// How to smooth a series.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Smoothing {
    /// No smoothing.
    None,
    /// TensorBoard's debiased exponential moving average over points: `weight` in [0, 1),
    /// 0.6 is TensorBoard's default.
    Ema {
        /// Weight of the past, in [0, 1).
        weight: f64,
    },
    /// W&B's time-weighted, debiased EMA: the decay follows the x distance between points
    /// (scaled to a 1000-wide view), so uneven spacing is handled; `weight` in [0, 1).
    TimeWeightedEma {
        /// Smoothing parameter, in [0, 1).
        weight: f64,
    },
    /// Mean over a centred window of `window` points (W&B's running average).
    RunningAverage {
        /// Points in the window.
        window: usize,
    },
}

/// The smoothed values of `y` (with x positions `x`, used by the time-weighted EMA).
pub fn smooth(x: &[f64], y: &[f64], how: Smoothing) -> Vec<f64> {
    match how {
        Smoothing::None => y.to_vec(),
        Smoothing::Ema { weight } => ema(y, weight.clamp(0.0, 0.999_999)),
        Smoothing::TimeWeightedEma { weight } => time_weighted_ema(x, y, weight),
        Smoothing::RunningAverage { window } => running_average(y, window.max(1)),
    }
}

fn ema(y: &[f64], weight: f64) -> Vec<f64> {
    let mut last = 0.0;
    let mut n = 0i32;
    y.iter()
        .map(|&v| {
            if !v.is_finite() {
                return v;
            }
            last = last * weight + (1.0 - weight) * v;
            n += 1;
            let debias = if weight == 1.0 { 1.0 } else { 1.0 - weight.powi(n) };
            last / debias
        })
        .collect()
}

fn time_weighted_ema(x: &[f64], y: &[f64], weight: f64) -> Vec<f64> {
    const VIEWPORT_SCALE: f64 = 1000.0;
    let w = weight.max(0.0).sqrt().min(0.999);
    let finite_x: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    let range = match (finite_x.first(), finite_x.last()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => 1.0,
    };
    let (mut last_y, mut debias) = (0.0, 0.0);
    let mut prev_x = x.first().copied().unwrap_or(0.0);
    x.iter()
        .zip(y)
        .map(|(&xi, &v)| {
            if !v.is_finite() {
                return v;
            }
            let decay = w.powf((xi - prev_x) / range * VIEWPORT_SCALE);
            prev_x = xi;
            last_y = last_y * decay + v;
            debias = debias * decay + 1.0;
            last_y / debias
        })
        .collect()
}

fn running_average(y: &[f64], window: usize) -> Vec<f64> {
    let finite: Vec<usize> = (0..y.len()).filter(|&i| y[i].is_finite()).collect();
    let mut prefix = vec![0.0; finite.len() + 1];
    for (k, &i) in finite.iter().enumerate() {
        prefix[k + 1] = prefix[k] + y[i];
    }
    let (before, after) = ((window - 1) / 2, window / 2);
    let mut out = y.to_vec();
    for (k, &i) in finite.iter().enumerate() {
        let lo = k.saturating_sub(before);
        let hi = (k + after + 1).min(finite.len());
        out[i] = (prefix[hi] - prefix[lo]) / (hi - lo) as f64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn ema_is_debiased_like_tensorboard() {
        let y = [1.0, 2.0, 3.0];
        let s = smooth(&[0.0, 1.0, 2.0], &y, Smoothing::Ema { weight: 0.5 });
        // last: 0.5, 1.25, 2.125; debias: 0.5, 0.75, 0.875
        assert_eq!(s, vec![1.0, 1.25 / 0.75, 2.125 / 0.875]);
        assert_eq!(smooth(&[0.0], &[5.0], Smoothing::Ema { weight: 0.9 }), vec![5.0]);
    }

    #[test]
    fn non_finite_points_pass_through() {
        let y = [1.0, f64::NAN, 3.0, f64::INFINITY];
        for how in [
            Smoothing::Ema { weight: 0.6 },
            Smoothing::TimeWeightedEma { weight: 0.6 },
            Smoothing::RunningAverage { window: 3 },
        ] {
            let s = smooth(&[0.0, 1.0, 2.0, 3.0], &y, how);
            assert!(s[1].is_nan() && s[3] == f64::INFINITY, "{how:?}: {s:?}");
            assert!(s[0].is_finite() && s[2].is_finite(), "{how:?}: {s:?}");
        }
    }

    #[test]
    fn time_weighted_ema_follows_x_spacing() {
        // Evenly spaced: the same decay at each step; a constant series stays constant.
        let x: Vec<f64> = (0..5).map(f64::from).collect();
        let s = smooth(&x, &[2.0; 5], Smoothing::TimeWeightedEma { weight: 0.9 });
        assert!(s.iter().all(|v| (v - 2.0).abs() < 1e-12));
        // A far point forgets the past more than a near one.
        let near = smooth(
            &[0.0, 1.0, 2.0, 1000.0],
            &[0.0, 0.0, 10.0, 10.0],
            Smoothing::TimeWeightedEma { weight: 0.5 },
        );
        assert!(near[2] < 10.0 && near[3] > near[2]);
    }

    #[test]
    fn running_average_is_centred() {
        let s = smooth(&[], &[1.0, 2.0, 3.0, 4.0, 5.0], Smoothing::RunningAverage { window: 3 });
        assert_eq!(s, vec![1.5, 2.0, 3.0, 4.0, 4.5]);
        assert_eq!(smooth(&[], &[1.0, 2.0], Smoothing::RunningAverage { window: 1 }), vec![1.0, 2.0]);
    }
}
