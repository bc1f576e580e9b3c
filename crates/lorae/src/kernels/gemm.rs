//! Single-precision matrix products on strided views, through the `gemm` crate (the GEMM burn's
//! flex backend also uses): lorae's convolution kernels call it on their own buffers, one call per
//! batch chunk, without going through tensors.

/// A read-only matrix view: element `(i, j)` is `data[i · row_stride + j · col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Mat<'a> {
    /// `data` as a row-major `[rows, cols]` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "row-major view of the wrong length"
        );
        Mat {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (a view, nothing is copied).
    pub fn t(self) -> Self {
        Mat {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Panics unless element `(rows − 1, cols − 1)` of a non-empty view with `[row, col]` strides lies
/// inside its `len` values (overflow-checked: the GEMM calls' safety rests on it).
fn check_view(len: usize, [rows, cols]: [usize; 2], [row_stride, col_stride]: [usize; 2]) {
    let last = (rows - 1)
        .checked_mul(row_stride)
        .zip((cols - 1).checked_mul(col_stride))
        .and_then(|(r, c)| r.checked_add(c));
    assert!(
        last.is_some_and(|l| l < len),
        "matrix view reaches past its data"
    );
}

/// `dst = a · b` (or `dst += a · b` with `accumulate`), `dst` row-major `[a.rows, b.cols]`.
/// Single-threaded: the callers parallelise over batch chunks.
pub fn matmul_into(dst: &mut [f32], a: Mat<'_>, b: Mat<'_>, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions differ");
    assert_eq!(dst.len(), m * n, "destination of the wrong length");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    for v in [&a, &b] {
        check_view(v.data.len(), [v.rows, v.cols], [v.row_stride, v.col_stride]);
    }
    // SAFETY: every index the product reads (`(i, j)` below `rows × cols` of each view) was
    // bounds-checked above, `dst` holds exactly `m · n` values, and the views borrow immutably
    // while `dst` is borrowed mutably, so they cannot overlap.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// A read-only column-major `f64` view (nalgebra's layout, or a block of rows of one): element
/// `(i, j)` is `data[i + j · ld]`.
#[derive(Clone, Copy, Debug)]
pub struct ColMajor<'a> {
    /// The values from element `(0, 0)` on.
    pub data: &'a [f64],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between the starts of two columns (at least `rows`).
    pub ld: usize,
}

impl<'a> ColMajor<'a> {
    /// A whole `[rows, cols]` matrix stored column after column.
    pub fn new(data: &'a [f64], rows: usize, cols: usize) -> Self {
        ColMajor {
            data,
            rows,
            cols,
            ld: rows,
        }
    }

    /// Rows `start..start + rows` of this matrix, all columns.
    pub fn rows(self, start: usize, rows: usize) -> Self {
        assert!(start + rows <= self.rows, "row block past the matrix");
        ColMajor {
            data: &self.data[start.min(self.data.len())..],
            rows,
            ..self
        }
    }
}

/// `dst = a · b` (or `dst += a · b` with `accumulate`) for column-major `f64` views, `dst`
/// column-major `[a.rows, b.cols]`. Single-threaded, as [`matmul_into`]. (The GMM's products
/// through nalgebra's `matrixmultiply` spent 18% of a fit packing their operands.)
pub fn matmul_f64_into(dst: &mut [f64], a: ColMajor<'_>, b: ColMajor<'_>, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions differ");
    assert_eq!(dst.len(), m * n, "destination of the wrong length");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    for v in [&a, &b] {
        assert!(v.ld >= v.rows, "column stride below the rows");
        check_view(v.data.len(), [v.rows, v.cols], [1, v.ld]);
    }
    // SAFETY: every index read, `(i, j)` below `rows × cols` of each view at `i + j·ld`, was
    // bounds-checked above; `dst` holds exactly `m · n` values; the views borrow immutably while
    // `dst` is borrowed mutably, so they cannot overlap.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            m as isize,
            1,
            accumulate,
            a.data.as_ptr(),
            a.ld as isize,
            1,
            b.data.as_ptr(),
            b.ld as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        out
    }

    #[test]
    fn products_and_transposes_match_the_loop() {
        let (m, k, n) = (7, 5, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut got = vec![1.0; m * n];
        matmul_into(
            &mut got,
            Mat::row_major(&a, m, k),
            Mat::row_major(&b, k, n),
            false,
        );
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5);
        }
        // aᵀ stored [k, m] and bᵀ stored [n, k], then transposed back; accumulate doubles.
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let (av, bv) = (Mat::row_major(&at, k, m).t(), Mat::row_major(&bt, n, k).t());
        matmul_into(&mut got, av, bv, true);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - 2.0 * w).abs() < 1e-5);
        }
    }

    #[test]
    fn column_major_f64_products_and_row_blocks_match_the_loop() {
        let (m, k, n) = (7, 4, 3);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        let want =
            |i: usize, j: usize| -> f64 { (0..k).map(|p| a[i + p * m] * b[p + j * k]).sum() };
        let mut got = vec![f64::NAN; m * n];
        matmul_f64_into(
            &mut got,
            ColMajor::new(&a, m, k),
            ColMajor::new(&b, k, n),
            false,
        );
        for i in 0..m {
            for j in 0..n {
                assert!((got[i + j * m] - want(i, j)).abs() < 1e-12);
            }
        }
        // Rows 2..5 of `a`, added twice into a 3-row destination.
        let mut block = vec![0.0; 3 * n];
        for _ in 0..2 {
            let rows = ColMajor::new(&a, m, k).rows(2, 3);
            matmul_f64_into(&mut block, rows, ColMajor::new(&b, k, n), true);
        }
        for i in 0..3 {
            for j in 0..n {
                assert!((block[i + j * 3] - 2.0 * want(i + 2, j)).abs() < 1e-12);
            }
        }
    }
}
