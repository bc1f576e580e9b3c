//! Reading pretrained weights written by PyTorch, without Python: a minimal [`pickle`] reader and
//! the zip-format [`torch`] checkpoint around it (state dicts and TorchScript archives).

pub mod legacy;
pub mod pickle;
pub mod torch;
