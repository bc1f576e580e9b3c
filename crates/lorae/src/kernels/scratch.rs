//! Per-thread scratch buffers for the convolution kernels' column matrices and permuted copies:
//! reused from call to call instead of allocated and zero-filled per chunk (`perf record` of a
//! training step showed 3–4% in `memset` and as much in page faults behind those allocations).
//! The kernels overwrite every value they read back, so stale contents never leak.

use std::cell::RefCell;

thread_local! {
    static SLOTS: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` with two buffers of `a` and `b` floats whose contents are unspecified. Re-entrant
/// calls on one thread (none in lorae's kernels) get fresh buffers.
pub fn with2<R>(a: usize, b: usize, f: impl FnOnce(&mut [f32], &mut [f32]) -> R) -> R {
    SLOTS.with(|slots| match slots.try_borrow_mut() {
        Ok(mut slots) => {
            let [x, y] = &mut *slots;
            for (v, n) in [(&mut *x, a), (&mut *y, b)] {
                if v.len() < n {
                    v.resize(n, 0.0);
                }
            }
            f(&mut x[..a], &mut y[..b])
        }
        Err(_) => f(&mut vec![0.0; a], &mut vec![0.0; b]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_have_the_asked_lengths_and_nest() {
        with2(3, 5, |a, b| {
            assert_eq!((a.len(), b.len()), (3, 5));
            a.fill(1.0);
            with2(2, 2, |c, d| assert_eq!((c.len(), d.len()), (2, 2)));
        });
        with2(7, 1, |a, b| assert_eq!((a.len(), b.len()), (7, 1)));
    }
}
