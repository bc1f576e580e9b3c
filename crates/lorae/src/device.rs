//! Where tensors live: the flex CPU backend (default) or, with the `wgpu` feature, a GPU.

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
            DeviceKind::Wgpu => Ok(Device::wgpu(Default::default())),
            #[cfg(not(feature = "wgpu"))]
            DeviceKind::Wgpu => Err(crate::error::Error::Unsupported(
                "this lorae was built without GPU support: rebuild with `cargo build --release --features wgpu`".into(),
            )),
        }
    }
}
