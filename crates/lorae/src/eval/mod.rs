//! Evaluation of generated images: the Fréchet Inception Distance. [`fid`] holds the statistics
//! and the distance, [`inception`] the FID Inception-v3 network (weights read by
//! [`inception_weights`]; [`inception_host`] runs it one image at a time on the CPU), [`features`] the input conventions and batching, [`source`] what a
//! set of images can be (a folder, a dataset split, cached statistics), [`score`] statistics
//! of a source with the dataset cache and the default weights. Beyond images: [`classify`] (few-label
//! classification on codes; [`classify_run`] from a run or from scratch), [`theory`] (LoRAE's rank-vs-λ and min–max checks), [`tsne`].

pub mod classify;
pub mod classify_run;
pub mod features;
pub mod fid;
pub mod inception;
pub mod inception_host;
pub mod inception_weights;
pub mod score;
pub mod source;
pub mod theory;
pub mod tsne;
pub mod tsne_run;
