//! Where tensors live: the flex CPU backend (default) or, with the `wgpu` feature, a GPU.
//!
//! Randomness is the host's on every device: initial weights and every random tensor (VAE noise,
//! WAE prior draws, GAN noise, RAE-GP probes) are drawn by the flex backend's seeded generator
//! and moved to the device, so the same seed gives bit-identical draws on the CPU and a GPU, and
//! a run can move between machines. On the CPU the draws happen where they are used, as always.
//! (lorae's own convolution kernels are CPU kernels; on wgpu burn's modules run.)

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A compute device selectable at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// burn's flex backend (pure Rust, multi-threaded).
    #[default]
    Cpu,
    /// burn's wgpu backend (Vulkan/Metal/DX12); needs the `wgpu` cargo feature.
    Wgpu,
}

name_enum!(DeviceKind, "device", [(Cpu, "cpu"), (Wgpu, "wgpu")]);

impl DeviceKind {
    /// The plain (non-autodiff) device.
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceKind::Cpu => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            DeviceKind::Wgpu => open_wgpu(),
            #[cfg(not(feature = "wgpu"))]
            DeviceKind::Wgpu => Err(crate::error::Error::Device(
                "this lorae was built without GPU support: rebuild with `cargo build --release --features wgpu`".into(),
            )),
        }
    }
}

/// The host device: where every random draw is made.
pub fn host() -> Device {
    Device::flex()
}

/// Whether `device` is the host's backend (flex, with or without autodiff).
pub fn is_host(device: &Device) -> bool {
    // Device equality is hardware identity: it ignores autodiff.
    *device == host()
}

/// Seeds the generator that draws for `device`: the host's (a GPU device's own generator too,
/// for burn's internal draws).
pub fn seed(device: &Device, seed: u64) {
    device.seed(seed);
    if !is_host(device) {
        host().seed(seed);
    }
}

/// A tensor of `shape` drawn from `distribution` by the host's generator, on `device`.
pub fn random<const D: usize>(
    shape: impl Into<burn::tensor::Shape>,
    distribution: burn::tensor::Distribution,
    device: &Device,
) -> Tensor<D> {
    if is_host(device) {
        Tensor::random(shape, distribution, device)
    } else {
        Tensor::random(shape, distribution, &host()).to_device(device)
    }
}

/// The default wgpu device, checked by one round trip: burn panics inside its first operation
/// when no adapter is found, which becomes an error saying how to get one.
#[cfg(feature = "wgpu")]
fn open_wgpu() -> Result<Device> {
    let device = Device::wgpu(Default::default());
    let probe = device.clone();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let answer = std::panic::catch_unwind(move || {
        Tensor::<1>::from_floats([1.0f32, 2.0], &probe)
            .sum()
            .into_scalar::<f32>()
    });
    std::panic::set_hook(quiet);
    match answer {
        Ok(3.0) => Ok(device),
        Ok(v) => Err(crate::error::Error::Device(format!(
            "the wgpu device computed 1 + 2 = {v}: its driver is broken; use --device cpu"
        ))),
        Err(_) => Err(crate::error::Error::Device(
            "--device wgpu found no GPU adapter: install a Vulkan driver (Linux: your GPU vendor's, \
             or `apt-get install mesa-vulkan-drivers libvulkan1` for Mesa's software lavapipe), \
             or use Metal (macOS) / DX12 (Windows); or use --device cpu"
                .into(),
        )),
    }
}
