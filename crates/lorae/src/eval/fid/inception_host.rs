//! The FID Inception network on the host (burn's flex backend), one image at a time on plain
//! buffers: the same layers and kernels as [`FidInception::forward`], but each block's output is
//! allocated once and every branch writes its last layer straight into its own channel range,
//! where the tensor version computes each branch into a tensor of its own and then concatenates
//! them (`Tensor::cat`: memmove and memset, 5% and 3% of `lorae bench fid` in `perf record`).
//! With one image, a branch's channels `[c0, c0 + c)` of a `[C, H, W]` output are one contiguous
//! run of `c·H·W` values, so "its slice" is a plain sub-slice.
//!
//! The values are those of the tensor version to the bit: the same GEMMs over the same buffers,
//! and the input preparation and final average pool are the tensor version's own
//! (`inception_host_matches_the_tensor_network` in the tests compares them).

use burn::prelude::*;
use burn::tensor::module::adaptive_avg_pool2d;

use super::inception::{BlockA, BlockB, BlockC, BlockD, BlockE, ConvBn, FidInception};
use crate::error::{Error, Result};
use crate::kernels::flex::with_host_values;
use crate::kernels::pool::{out_side, pool3x3_into, Pool3};
use crate::kernels::{conv::conv_forward_into, ConvShape};
use crate::tensor::tensor_values;

/// One image's activations, `[c, h, w]` row-major.
pub(super) struct Act {
    v: Vec<f32>,
    c: usize,
    hw: [usize; 2],
}

/// A block's `[Σ c, h, w]` output, filled branch by branch in channel order.
struct Concat {
    act: Act,
    filled: usize,
}

impl Concat {
    fn new(channels: usize, hw: [usize; 2]) -> Self {
        let act = Act {
            v: vec![0.0; channels * hw[0] * hw[1]],
            c: channels,
            hw,
        };
        Concat { act, filled: 0 }
    }

    /// The next `c` channels' values; an error if they run past the block's channels.
    fn next(&mut self, c: usize) -> Result<&mut [f32]> {
        let plane = self.act.hw[0] * self.act.hw[1];
        if self.filled + c > self.act.c {
            return Err(Error::Numerical(format!(
                "Inception block output overfilled: {} + {c} of {} channels",
                self.filled, self.act.c
            )));
        }
        let range = self.filled * plane..(self.filled + c) * plane;
        self.filled += c;
        Ok(&mut self.act.v[range])
    }

    fn finish(self) -> Result<Act> {
        if self.filled != self.act.c {
            return Err(Error::Numerical(format!(
                "Inception block output has {} of its {} channels",
                self.filled, self.act.c
            )));
        }
        Ok(self.act)
    }
}

fn not_on_host() -> Error {
    Error::Device("the host Inception path needs its weights on the CPU (flex)".into())
}

impl ConvBn {
    /// Output channels.
    fn c_out(&self) -> usize {
        self.weight.dims()[0]
    }

    /// The layer's shape for one image `x`, checking its channels.
    fn host_shape(&self, x: &Act) -> Result<ConvShape> {
        let [out, cin, _, _] = self.weight.dims();
        if x.c != cin {
            return Err(Error::Numerical(format!(
                "Inception convolution expects {cin} channels, got {}",
                x.c
            )));
        }
        ConvShape::conv(1, cin, out, x.hw, self.geometry()).ok_or_else(|| {
            Error::Numerical(format!("Inception convolution does not fit {:?}", x.hw))
        })
    }

    /// `relu(conv(x) + bias)` into `out` (`c_out · H' · W'` values); returns `[H', W']`.
    fn run_into(&self, x: &Act, out: &mut [f32]) -> Result<[usize; 2]> {
        let s = self.host_shape(x)?;
        let len = s.c_out * s.out_hw[0] * s.out_hw[1];
        if out.len() != len {
            return Err(Error::Numerical(format!(
                "Inception branch slice holds {} values, the convolution writes {len}",
                out.len()
            )));
        }
        with_host_values(&self.weight, |w| {
            with_host_values(&self.bias, |b| {
                conv_forward_into(&x.v, w, Some(b), true, &s, out)
            })
        })
        .flatten()
        .ok_or_else(not_on_host)?;
        Ok(s.out_hw)
    }

    fn run(&self, x: &Act) -> Result<Act> {
        let s = self.host_shape(x)?;
        let mut v = vec![0.0; s.c_out * s.out_hw[0] * s.out_hw[1]];
        let hw = self.run_into(x, &mut v)?;
        Ok(Act { v, c: s.c_out, hw })
    }
}

/// Output side pair of a 3×3 pool.
fn pool_hw(x: &Act, stride: usize, padding: usize) -> Result<[usize; 2]> {
    let side = |n| out_side(n, stride, padding);
    side(x.hw[0])
        .zip(side(x.hw[1]))
        .map(|(h, w)| [h, w])
        .ok_or_else(|| Error::Numerical(format!("3×3 pool does not fit {:?}", x.hw)))
}

fn pool_into(x: &Act, stride: usize, padding: usize, kind: Pool3, out: &mut [f32]) -> Result<()> {
    pool3x3_into(&x.v, x.hw, stride, padding, kind, out)
        .map(|_| ())
        .ok_or_else(|| Error::Numerical(format!("3×3 pool does not fit {:?}", x.hw)))
}

fn pool(x: &Act, stride: usize, padding: usize, kind: Pool3) -> Result<Act> {
    let hw = pool_hw(x, stride, padding)?;
    let mut v = vec![0.0; x.c * hw[0] * hw[1]];
    pool_into(x, stride, padding, kind, &mut v)?;
    Ok(Act { v, c: x.c, hw })
}

impl BlockA {
    fn host(&self, x: &Act) -> Result<Act> {
        let [b1, b5_1, b5_2, d1, d2, d3, pool_conv] = &self.0;
        let cs = [b1, b5_2, d3, pool_conv].map(ConvBn::c_out);
        let mut y = Concat::new(cs.iter().sum(), x.hw); // [256 | 288, 35, 35]
        b1.run_into(x, y.next(cs[0])?)?;
        b5_2.run_into(&b5_1.run(x)?, y.next(cs[1])?)?;
        d3.run_into(&d2.run(&d1.run(x)?)?, y.next(cs[2])?)?;
        pool_conv.run_into(&pool(x, 1, 1, Pool3::AvgExcludePad)?, y.next(cs[3])?)?;
        y.finish()
    }
}

impl BlockB {
    fn host(&self, x: &Act) -> Result<Act> {
        let [b3, d1, d2, d3] = &self.0;
        let hw = pool_hw(x, 2, 0)?; // [17, 17]
        let mut y = Concat::new(b3.c_out() + d3.c_out() + x.c, hw); // [768, 17, 17]
        b3.run_into(x, y.next(b3.c_out())?)?;
        d3.run_into(&d2.run(&d1.run(x)?)?, y.next(d3.c_out())?)?;
        pool_into(x, 2, 0, Pool3::Max, y.next(x.c)?)?;
        y.finish()
    }
}

impl BlockC {
    fn host(&self, x: &Act) -> Result<Act> {
        let [b1, s1, s2, s3, d1, d2, d3, d4, d5, pool_conv] = &self.0;
        let cs = [b1, s3, d5, pool_conv].map(ConvBn::c_out);
        let mut y = Concat::new(cs.iter().sum(), x.hw); // [768, 17, 17]
        b1.run_into(x, y.next(cs[0])?)?;
        s3.run_into(&s2.run(&s1.run(x)?)?, y.next(cs[1])?)?;
        let t = d4.run(&d3.run(&d2.run(&d1.run(x)?)?)?)?;
        d5.run_into(&t, y.next(cs[2])?)?;
        pool_conv.run_into(&pool(x, 1, 1, Pool3::AvgExcludePad)?, y.next(cs[3])?)?;
        y.finish()
    }
}

impl BlockD {
    fn host(&self, x: &Act) -> Result<Act> {
        let [t1, t2, s1, s2, s3, s4] = &self.0;
        let hw = pool_hw(x, 2, 0)?; // [8, 8]
        let mut y = Concat::new(t2.c_out() + s4.c_out() + x.c, hw); // [1280, 8, 8]
        t2.run_into(&t1.run(x)?, y.next(t2.c_out())?)?;
        s4.run_into(&s3.run(&s2.run(&s1.run(x)?)?)?, y.next(s4.c_out())?)?;
        pool_into(x, 2, 0, Pool3::Max, y.next(x.c)?)?;
        y.finish()
    }
}

impl BlockE {
    fn host(&self, x: &Act) -> Result<Act> {
        let [b1, t1, t2a, t2b, d1, d2, d3a, d3b, pool_conv] = &self.convs;
        let cs = [b1, t2a, t2b, d3a, d3b, pool_conv].map(ConvBn::c_out);
        let mut y = Concat::new(cs.iter().sum(), x.hw); // [2048, 8, 8]
        b1.run_into(x, y.next(cs[0])?)?;
        let t = t1.run(x)?; // [384, 8, 8]
        t2a.run_into(&t, y.next(cs[1])?)?;
        t2b.run_into(&t, y.next(cs[2])?)?;
        let u = d2.run(&d1.run(x)?)?; // [384, 8, 8]
        d3a.run_into(&u, y.next(cs[3])?)?;
        d3b.run_into(&u, y.next(cs[4])?)?;
        let kind = if self.max_pool {
            Pool3::Max
        } else {
            Pool3::AvgExcludePad
        };
        pool_conv.run_into(&pool(x, 1, 1, kind)?, y.next(cs[5])?)?;
        y.finish()
    }
}

impl FidInception {
    /// Pool3 features of one image `x` `[1, 3, 299, 299]` in [−1, 1] on the host: `[2048]`,
    /// equal to [`FidInception::forward`]'s.
    pub fn forward_host(&self, x: Tensor<4>) -> Result<Vec<f32>> {
        let [b, c, h, w] = x.dims();
        if b != 1 {
            return Err(Error::Numerical(format!(
                "the host Inception path takes one image, got {b}"
            )));
        }
        let device = x.device();
        let x = Act {
            v: tensor_values(x)?,
            c,
            hw: [h, w],
        };
        let [s1, s2, s3, s4, s5] = &self.stem;
        let x = s3.run(&s2.run(&s1.run(&x)?)?)?; // [64, 147, 147]
        let x = pool(&x, 2, 0, Pool3::Max)?; // [64, 73, 73]
        let x = s5.run(&s4.run(&x)?)?; // [192, 71, 71]
        let mut x = pool(&x, 2, 0, Pool3::Max)?; // [192, 35, 35]
        for block in &self.mixed_5 {
            x = block.host(&x)?; // [256 | 288 | 288, 35, 35]
        }
        x = self.mixed_6a.host(&x)?; // [768, 17, 17]
        for block in &self.mixed_6 {
            x = block.host(&x)?; // [768, 17, 17]
        }
        x = self.mixed_7a.host(&x)?; // [1280, 8, 8]
        for block in &self.mixed_7 {
            x = block.host(&x)?; // [2048, 8, 8]
        }
        // The final average as the tensor version takes it, so the features match to the bit.
        let Act { v, c, hw } = x;
        let t = Tensor::<4>::from_data(TensorData::new(v, [1, c, hw[0], hw[1]]), &device);
        tensor_values(adaptive_avg_pool2d(t, [1, 1])) // [2048]
    }
}
