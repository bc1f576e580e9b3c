//! The synthetic shapes dataset of the IRMAE paper (appendix 5.1.1).
//!
//! Each 32×32 RGB image holds one square or circle on a black background: colour uniform in RGB,
//! size uniform in 3..=8, centre x and y uniform in 8..=24. Intrinsic dimension 7
//! (3 colour, 2 position, 1 size, 1 shape). "Size" is the half-extent: the circle's radius and
//! half the square's side, so a shape spans `centre ± size` pixels (clipped at the border).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{DataSource, ImageSet, Splits};
use crate::error::Result;

/// Image side in pixels.
pub const SIDE: usize = 32;
/// Inclusive range of the shape size.
pub const SIZE_RANGE: (i32, i32) = (3, 8);
/// Inclusive range of the centre coordinates.
pub const CENTRE_RANGE: (i32, i32) = (8, 24);

/// The latent factors of one shape image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeParams {
    /// True for a circle, false for a square.
    pub circle: bool,
    /// RGB colour.
    pub colour: [u8; 3],
    /// Half-extent in pixels.
    pub size: i32,
    /// Centre column.
    pub cx: i32,
    /// Centre row.
    pub cy: i32,
}

impl ShapeParams {
    /// Draws one set of factors.
    pub fn sample(rng: &mut impl Rng) -> Self {
        ShapeParams {
            circle: rng.random_bool(0.5),
            colour: [rng.random(), rng.random(), rng.random()],
            size: rng.random_range(SIZE_RANGE.0..=SIZE_RANGE.1),
            cx: rng.random_range(CENTRE_RANGE.0..=CENTRE_RANGE.1),
            cy: rng.random_range(CENTRE_RANGE.0..=CENTRE_RANGE.1),
        }
    }

    /// Whether pixel (row, col) is inside the shape.
    pub fn covers(&self, row: i32, col: i32) -> bool {
        let (dx, dy) = (col - self.cx, row - self.cy);
        if self.circle {
            dx * dx + dy * dy <= self.size * self.size
        } else {
            dx.abs() <= self.size && dy.abs() <= self.size
        }
    }

    /// Renders into a 3×32×32 channel-major buffer.
    pub fn render(&self, out: &mut [u8]) {
        out.fill(0);
        let plane = SIDE * SIDE;
        for row in 0..SIDE {
            for col in 0..SIDE {
                if self.covers(row as i32, col as i32) {
                    for (c, &value) in self.colour.iter().enumerate() {
                        out[c * plane + row * SIDE + col] = value;
                    }
                }
            }
        }
    }
}

/// Generates `n` images (and their factors) from `seed`.
pub fn generate(n: usize, seed: u64) -> (ImageSet, Vec<ShapeParams>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let len = 3 * SIDE * SIDE;
    let mut pixels = vec![0u8; n * len];
    let mut params = Vec::with_capacity(n);
    for image in pixels.chunks_exact_mut(len) {
        let p = ShapeParams::sample(&mut rng);
        p.render(image);
        params.push(p);
    }
    let labels = params.iter().map(|p| p.circle as u8).collect();
    let set = ImageSet {
        pixels,
        shape: [3, SIDE, SIDE],
        labels: Some(labels),
    };
    (set, params)
}

/// The shapes data source: train and eval drawn from independent streams of one seed.
#[derive(Debug, Clone)]
pub struct Shapes {
    /// Training images.
    pub train_size: usize,
    /// Evaluation images.
    pub test_size: usize,
    /// Generator seed.
    pub seed: u64,
}

impl DataSource for Shapes {
    fn load(&self) -> Result<Splits> {
        let (train, _) = generate(self.train_size, self.seed);
        let (eval, _) = generate(self.test_size, self.seed ^ 0xE7A1_0000_0000_0001);
        Ok(Splits { train, eval })
    }
}
