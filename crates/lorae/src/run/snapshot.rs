//! A checkpoint as one atomic unit: the model, the Adam state, the training state and the
//! metrics up to that epoch, in one directory `RUN/checkpoint-NNNN/`, made current by one atomic
//! rename of the pointer file `RUN/latest`.
//!
//! Saving epoch N writes every file into `RUN/.checkpoint-NNNN.tmp/`, syncs them and the
//! directory, renames it to `checkpoint-NNNN/`, then replaces `latest` (temporary file + rename)
//! with its name, and only then deletes the previous checkpoint. A process killed at any moment
//! leaves `latest` naming a complete checkpoint (or no `latest` before the first), so resuming
//! always reads a consistent set; leftovers (`.tmp` directories, a checkpoint that `latest` does
//! not name) are removed when the run resumes. Runs written before this layout (the files
//! directly in `RUN/`) still load and resume.

use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;

use super::checkpoint::{self, Digests, TrainState, MODEL_FILE, OPTIMIZER_FILE, STATE_FILE};
use super::metrics::{EpochMetrics, METRICS_FILE};
use crate::error::{Error, Result};
use crate::io::atomic::{read, write_atomic};
use crate::model::Autoencoder;

/// The pointer file naming the current checkpoint directory.
pub const LATEST_FILE: &str = "latest";

/// Where the files of the current checkpoint are.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The checkpoint's directory (the run directory itself for the old flat layout).
    pub dir: PathBuf,
    /// Its training state.
    pub state: TrainState,
}

impl Snapshot {
    /// Its model weights.
    pub fn model(&self) -> PathBuf {
        self.dir.join(MODEL_FILE)
    }
    /// Its Adam state.
    pub fn optimizer(&self) -> PathBuf {
        self.dir.join(OPTIMIZER_FILE)
    }
    /// Its metrics, one line per finished epoch.
    pub fn metrics(&self) -> PathBuf {
        self.dir.join(METRICS_FILE)
    }
}

/// `checkpoint-NNNN` after epoch N; `checkpoint-NNNN-SSSSSS` after S steps of epoch N + 1.
fn name(state: &TrainState) -> String {
    match state.partial {
        None => format!("checkpoint-{:04}", state.epoch),
        Some(p) => format!("checkpoint-{:04}-{:06}", state.epoch, p.steps),
    }
}

/// Writes `bytes` to a new file and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|e| Error::io("cannot write", path, e))
}

/// Syncs a directory's entries (a rename in it) to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("cannot sync directory", dir, e))
}

/// Saves the run in `run` at `state` (the end of an epoch, or a step inside the next) as its
/// current checkpoint. `history` holds the metrics of every finished epoch. `RUN/model.safetensors`
/// and `RUN/metrics.jsonl` are then refreshed as copies for readers of the run.
pub fn save(
    run: &Path,
    model: &Autoencoder,
    optim: &ModuleOptimizer,
    state: &TrainState,
    history: &[EpochMetrics],
) -> Result<()> {
    let model_bytes = checkpoint::model_bytes(model)?;
    let optim_bytes = optim
        .into_bytes()
        .map_err(|e| Error::Serialize(format!("the optimizer state: {e:?}")))?;
    let metrics = metrics_text(history)?;
    let stored = TrainState {
        digests: Some(Digests {
            model: checkpoint::sha256_hex(&model_bytes),
            optimizer: checkpoint::sha256_hex(&optim_bytes),
            metrics: checkpoint::sha256_hex(metrics.as_bytes()),
        }),
        ..state.clone()
    };
    let state_bytes = serde_json::to_vec_pretty(&stored)
        .map_err(|e| Error::Serialize(format!("the training state: {e}")))?;
    if !run.join(crate::run::CONFIG_FILE).is_file() {
        return Err(Error::bad_file(
            run,
            "the run directory was removed or emptied while training (its config.json is gone): stopped, nothing more is saved there; start the run again",
        ));
    }

    let tmp = run.join(format!(".{}.tmp", name(state)));
    let done = run.join(name(state));
    for stale in [&tmp, &done] {
        // Left by a process killed before `latest` named it: not current, safe to replace.
        if stale.exists() {
            std::fs::remove_dir_all(stale)
                .map_err(|e| Error::io("cannot remove unfinished checkpoint", stale, e))?;
        }
    }
    std::fs::create_dir(&tmp).map_err(|e| Error::io("cannot create directory", &tmp, e))?;
    write_synced(&tmp.join(MODEL_FILE), &model_bytes)?;
    write_synced(&tmp.join(OPTIMIZER_FILE), &optim_bytes)?;
    write_synced(&tmp.join(STATE_FILE), &state_bytes)?;
    write_synced(&tmp.join(METRICS_FILE), metrics.as_bytes())?;
    sync_dir(&tmp)?;
    std::fs::rename(&tmp, &done).map_err(|e| Error::io("cannot rename into", &done, e))?;
    sync_dir(run)?;
    write_atomic(
        &run.join(LATEST_FILE),
        format!("{}\n", name(state)).as_bytes(),
    )?;
    sync_dir(run)?;

    // The switch is done: copies for readers, then the superseded checkpoints go.
    write_atomic(&run.join(MODEL_FILE), &model_bytes)?;
    write_atomic(&run.join(METRICS_FILE), metrics.as_bytes())?;
    clean(run)
}

fn metrics_text(history: &[EpochMetrics]) -> Result<String> {
    let mut text = String::new();
    for m in history {
        text.push_str(
            &serde_json::to_string(m).map_err(|e| Error::Serialize(format!("metrics: {e}")))?,
        );
        text.push('\n');
    }
    Ok(text)
}

/// The run's current checkpoint: the one `RUN/latest` names, else the flat files of a run
/// written before checkpoints were directories, else `None` (no epoch finished).
pub fn latest(run: &Path) -> Result<Option<Snapshot>> {
    let pointer = run.join(LATEST_FILE);
    if pointer.exists() {
        let text = String::from_utf8(read(&pointer)?).map_err(|_| {
            Error::bad_file(&pointer, "not text: it should name a checkpoint directory")
        })?;
        let dir_name = text.trim();
        let valid = dir_name
            .strip_prefix("checkpoint-")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '-'));
        let dir = run.join(dir_name);
        if !valid || !dir.is_dir() {
            return Err(Error::bad_file(
                &pointer,
                format!("names `{dir_name}`, which is not a checkpoint directory of this run: the run was changed by hand"),
            ));
        }
        let state = checkpoint::load_state(&dir.join(STATE_FILE))?;
        return Ok(Some(Snapshot { dir, state }));
    }
    let flat = run.join(STATE_FILE);
    if flat.exists() {
        let state = checkpoint::load_state(&flat)?;
        return Ok(Some(Snapshot {
            dir: run.to_path_buf(),
            state,
        }));
    }
    Ok(None)
}

/// Checks the current checkpoint's files against the digests its `state.json` recorded (a file
/// replaced by another run's, truncated or damaged is refused, naming it), and that its metrics
/// are epochs 1, 2, … up to its own. Checkpoints written before digests existed pass the first
/// check.
pub fn verify(run: &Path) -> Result<()> {
    let Some(current) = latest(run)? else {
        return Ok(());
    };
    if let Some(d) = &current.state.digests {
        for (path, want) in [
            (current.model(), &d.model),
            (current.optimizer(), &d.optimizer),
            (current.metrics(), &d.metrics),
        ] {
            if &checkpoint::sha256_hex(&read(&path)?) != want {
                return Err(Error::bad_file(
                    &path,
                    format!(
                        "does not belong to this checkpoint (its SHA-256 differs from the one {} recorded): it was replaced or damaged; put the original back, or start the run again",
                        current.dir.join(STATE_FILE).display()
                    ),
                ));
            }
        }
    }
    if current.dir == run && current.state.digests.is_none() {
        // The old flat layout appended its metrics after saving: a kill between the two left
        // one line fewer, which its resume cut back to the state (as it still does).
        return Ok(());
    }
    let epochs: Vec<usize> = crate::run::metrics::read_all(&current.metrics())?
        .iter()
        .map(|m| m.epoch)
        .collect();
    let want: Vec<usize> = (1..=current.state.epoch).collect();
    if epochs != want {
        return Err(Error::bad_file(
            current.metrics(),
            format!(
                "lists epochs {epochs:?}, but the checkpoint finished epochs 1 to {}: the file was edited or replaced",
                current.state.epoch
            ),
        ));
    }
    Ok(())
}

/// Restores `RUN/model.safetensors` and `RUN/metrics.jsonl`, the copies for readers outside lorae,
/// from the current checkpoint where they are missing or differ: a process killed after `latest`
/// switched and before the copies were written leaves a complete checkpoint without them.
/// lorae's own readers use the checkpoint's files ([`latest`]); `--resume` repairs the copies.
pub fn repair_copies(run: &Path) -> Result<()> {
    let Some(current) = latest(run)? else {
        return Ok(());
    };
    if current.dir == run {
        return Ok(()); // The old flat layout: the files are the checkpoint.
    }
    for name in [MODEL_FILE, METRICS_FILE] {
        let bytes = read(&current.dir.join(name))?;
        let copy = run.join(name);
        if std::fs::read(&copy).ok().as_deref() != Some(bytes.as_slice()) {
            write_atomic(&copy, &bytes)?;
        }
    }
    Ok(())
}

/// Removes what a killed save can leave: `.checkpoint-*.tmp` directories and checkpoint
/// directories other than the current one; and the flat files of the old layout once a
/// checkpoint directory is current.
pub fn clean(run: &Path) -> Result<()> {
    let current = match latest(run)? {
        Some(s) if s.dir != run => s.dir,
        _ => return Ok(()),
    };
    let entries = std::fs::read_dir(run).map_err(|e| Error::io("cannot list", run, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list", run, e))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let ours = file_name.starts_with("checkpoint-") || file_name.starts_with(".checkpoint-");
        if ours && path != current && path.is_dir() {
            std::fs::remove_dir_all(&path)
                .map_err(|e| Error::io("cannot remove superseded checkpoint", &path, e))?;
        } else if crate::io::atomic::is_leftover(&file_name) && path.is_file() {
            std::fs::remove_file(&path)
                .map_err(|e| Error::io("cannot remove an unfinished write", &path, e))?;
        }
    }
    for flat in [OPTIMIZER_FILE, STATE_FILE] {
        let path = run.join(flat);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io("cannot remove", &path, e))?;
        }
    }
    Ok(())
}
