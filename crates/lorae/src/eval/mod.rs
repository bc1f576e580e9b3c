//! Evaluation: [`fid`] (the Fréchet Inception Distance of generated images, held as a
//! [`fid::FidScorer`]); beyond images, [`classify`] (few-label classification on codes;
//! [`classify_run`] from a run or from scratch), [`theory`] (LoRAE's rank-vs-λ and min–max
//! checks), [`tsne`] and [`entropy`] (the RRAE paper's interpolation entropy).

pub mod classify;
pub mod classify_run;
pub mod entropy;
pub mod fid;
pub mod theory;
pub mod tsne;
pub mod tsne_run;
