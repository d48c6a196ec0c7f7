//! A small Levenberg–Marquardt solver for least squares in up to three parameters.
//!
//! Small enough to read in one sitting; the USL fit is its only user. Columns are scaled to
//! unit norm before each solve so that λ (hundreds) and κ (ten-thousandths) are treated alike.

/// Most parameters a problem may have.
pub const MAX_P: usize = 3;

/// A least-squares problem: residuals and their Jacobian at θ.
pub trait Problem {
    /// Number of observations.
    fn len(&self) -> usize;
    /// Writes r_i(θ) into `out`; false when θ is outside the model's domain.
    fn residuals(&self, theta: &[f64; MAX_P], out: &mut [f64]) -> bool;
    /// Writes ∂r_i/∂θ_j into `out[i][j]`.
    fn jacobian(&self, theta: &[f64; MAX_P], out: &mut [[f64; MAX_P]]);
}

/// The minimum found: parameters and sum of squared residuals.
#[derive(Debug, Clone, Copy)]
pub struct Solution {
    pub theta: [f64; MAX_P],
    pub ssr: f64,
}

/// Sum of squared residuals at θ, or +∞ outside the domain.
pub fn ssr<P: Problem>(p: &P, theta: &[f64; MAX_P], buf: &mut [f64]) -> f64 {
    if !p.residuals(theta, buf) {
        return f64::INFINITY;
    }
    buf.iter().map(|r| r * r).sum()
}

/// Minimises Σr² over the parameters where `free[j]` is true, holding the others at `start`.
pub fn levenberg_marquardt<P: Problem>(p: &P, start: [f64; MAX_P], free: [bool; MAX_P]) -> Solution {
    let n = p.len();
    let idx: Vec<usize> = (0..MAX_P).filter(|&j| free[j]).collect();
    let mut r = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut jac = vec![[0.0; MAX_P]; n];
    let mut theta = start;
    let mut cost = ssr(p, &theta, &mut r);
    let mut mu = 1e-3;
    for _ in 0..500 {
        if idx.is_empty() || !cost.is_finite() {
            break;
        }
        p.residuals(&theta, &mut r);
        p.jacobian(&theta, &mut jac);
        let k = idx.len();
        let mut scale = [0.0; MAX_P];
        for (a, &j) in idx.iter().enumerate() {
            scale[a] = jac.iter().map(|row| row[j] * row[j]).sum::<f64>().sqrt().max(1e-300);
        }
        let mut jtj = [[0.0; MAX_P]; MAX_P];
        let mut jtr = [0.0; MAX_P];
        for (row, ri) in jac.iter().zip(&r) {
            for a in 0..k {
                let ja = row[idx[a]] / scale[a];
                jtr[a] += ja * ri;
                for b in 0..k {
                    jtj[a][b] += ja * row[idx[b]] / scale[b];
                }
            }
        }
        let mut improved = false;
        while mu < 1e12 {
            let mut m = jtj;
            for a in 0..k {
                m[a][a] += mu * jtj[a][a].max(1e-12);
            }
            let rhs: Vec<f64> = jtr[..k].iter().map(|g| -g).collect();
            let Some(step) = solve(&m, &rhs, k) else {
                mu *= 10.0;
                continue;
            };
            let mut next = theta;
            for a in 0..k {
                next[idx[a]] += step[a] / scale[a];
            }
            let next_cost = ssr(p, &next, &mut trial);
            if next_cost < cost {
                let gain = cost - next_cost;
                theta = next;
                cost = next_cost;
                mu = (mu / 3.0).max(1e-12);
                improved = gain > 1e-15 * cost.max(1e-300);
                break;
            }
            mu *= 4.0;
        }
        if !improved {
            break;
        }
    }
    Solution { theta, ssr: cost }
}

/// Solves the k×k system `m·x = rhs` by Gaussian elimination with partial pivoting.
pub fn solve(m: &[[f64; MAX_P]; MAX_P], rhs: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut a = *m;
    let mut b = rhs.to_vec();
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..k {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (dst, src) in a[row][col..k].iter_mut().zip(&pivot_row[col..k]) {
                *dst -= f * src;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let s: f64 = (row + 1..k).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The inverse of a k×k matrix, column by column; `None` when singular.
pub fn invert(m: &[[f64; MAX_P]; MAX_P], k: usize) -> Option<[[f64; MAX_P]; MAX_P]> {
    let mut inv = [[0.0; MAX_P]; MAX_P];
    for c in 0..k {
        let mut e = vec![0.0; k];
        e[c] = 1.0;
        let col = solve(m, &e, k)?;
        for r in 0..k {
            inv[r][c] = col[r];
        }
    }
    Some(inv)
}
