//! Speed against the peers: a training step against PyTorch ([`step`]), a whole MNIST epoch with
//! its evaluation against PyTorch ([`epoch`]), a GMM fit against
//! scikit-learn ([`gmm`]), FID feature extraction against pytorch-fid ([`fid`]); the peers'
//! scripts are compiled in ([`peer`]). Ratios are what these report; tests never time anything.

pub mod epoch;
pub mod fid;
pub mod gmm;
pub mod peer;
pub mod step;
