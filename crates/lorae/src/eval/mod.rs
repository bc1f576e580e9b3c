//! Evaluation of generated images: the Fréchet Inception Distance ([`fid`]).

pub mod fid;
