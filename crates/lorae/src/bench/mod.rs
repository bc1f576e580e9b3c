//! Speed against the peers: a training step against PyTorch ([`step`]), a GMM fit against
//! scikit-learn ([`gmm`]); the peers' scripts are compiled in ([`peer`]). Ratios are what these
//! report (PyTorch or scikit-learn = 1); tests never time anything.

pub mod gmm;
pub mod peer;
pub mod step;
