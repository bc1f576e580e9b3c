//! `lorae reproduce … --slurm`: the plan as Slurm batch scripts. There is one array job per stage.
//! Stage 1 holds the training and supervised cells, which are independent. Stage 2 holds the cells
//! that read a trained run. Each array task runs one cell (`lorae reproduce … --cell ID`). Stage 2
//! starts `afterok` stage 1, and a last job writes the report after both.
//!
//! Cells already finished (their `result.json` exists) are left out of the arrays, so submitting
//! again after a `scancel` or a failure runs only what is left. A task killed part-way leaves its
//! cell resumable, as any killed cell is: its training resumes from the last checkpoint. The
//! scripts name the binary and the directories by absolute path, so they run from any working
//! directory on nodes that mount the same file system.

use std::path::Path;

use super::cell::{cell_dir, Cell, RESULT_FILE};
use crate::error::{Error, Result};

/// What the `#SBATCH` lines ask for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--gres` (e.g. `gpu:1`, with `--device wgpu`).
    pub gres: Option<String>,
    /// `--time` limit per task (`HH:MM:SS`, `D-HH:MM:SS`, `MM:SS`).
    pub time: Option<String>,
    /// `--cpus-per-task`; each task runs lorae with as many threads.
    pub cpus: usize,
}

/// One batch script.
#[derive(Debug, Clone, PartialEq)]
pub struct JobScript {
    /// File name under `DIR/slurm/` (`stage-1.sh`, `stage-2.sh`, `report.sh`).
    pub name: String,
    /// The script.
    pub text: String,
    /// Array tasks (0 for the report job, which is no array).
    pub tasks: usize,
}

impl SlurmOptions {
    /// Refuses values that would break an `#SBATCH` line, or that Slurm would reject later.
    pub fn validate(&self) -> Result<()> {
        if self.cpus == 0 {
            return Err(Error::invalid("cpus", 0, "each task needs at least 1 CPU"));
        }
        for (flag, value) in [("partition", &self.partition), ("gres", &self.gres)] {
            if let Some(v) = value {
                let ok = !v.is_empty()
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.:,=".contains(c));
                if !ok {
                    return Err(Error::invalid(
                        flag,
                        v,
                        "letters, digits and _ - . : , = only (a Slurm name such as `gpu` or `gpu:1`)",
                    ));
                }
            }
        }
        if let Some(t) = &self.time {
            let ok = !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_digit() || c == ':' || c == '-')
                && t.split(['-', ':']).all(|p| !p.is_empty());
            if !ok {
                return Err(Error::invalid(
                    "time",
                    t,
                    "a Slurm time limit: MM, MM:SS, HH:MM:SS or D-HH:MM:SS",
                ));
            }
        }
        Ok(())
    }
}

/// The scripts of the unfinished cells of `cells` (in plan order) for the reproduction in `dir`.
/// `command` is the shell command that runs one cell without its `--cell ID`, with absolute paths.
/// `report` is the command that writes the report.
pub fn scripts(
    cells: &[Cell],
    dir: &Path,
    command: &str,
    report: &str,
    options: &SlurmOptions,
) -> Result<Vec<JobScript>> {
    options.validate()?;
    let left = |stage: usize| -> Vec<String> {
        cells
            .iter()
            .filter(|c| (c.needs().is_some()) == (stage == 2))
            .filter(|c| !cell_dir(dir, &c.id()).join(RESULT_FILE).exists())
            .map(|c| c.id())
            .collect()
    };
    let logs = dir.join("slurm");
    let mut out = Vec::new();
    for stage in [1, 2] {
        let ids = left(stage);
        if ids.is_empty() {
            continue;
        }
        let mut text = header(&format!("lorae-stage-{stage}"), options);
        text.push_str(&format!("#SBATCH --array=0-{}\n", ids.len() - 1));
        text.push_str(&format!(
            "#SBATCH --output={}/stage-{stage}-%A_%a.out\n\nset -euo pipefail\ncells=(\n",
            logs.display()
        ));
        for id in &ids {
            text.push_str(&format!("  {id}\n"));
        }
        text.push_str(&format!(
            ")\nexec {command} --threads {} --cell \"${{cells[$SLURM_ARRAY_TASK_ID]}}\"\n",
            options.cpus
        ));
        out.push(JobScript {
            name: format!("stage-{stage}.sh"),
            text,
            tasks: ids.len(),
        });
    }
    let mut text = header("lorae-report", options);
    text.push_str(&format!(
        "#SBATCH --output={}/report-%j.out\n\nset -euo pipefail\nexec {report}\n",
        logs.display()
    ));
    out.push(JobScript {
        name: "report.sh".into(),
        text,
        tasks: 0,
    });
    Ok(out)
}

fn header(name: &str, options: &SlurmOptions) -> String {
    let mut text = format!(
        "#!/bin/bash\n# Written by `lorae reproduce … --slurm`; submit with --submit, or by hand in file order\n# (each stage --dependency=afterok:<the previous job id>).\n#SBATCH --job-name={name}\n#SBATCH --cpus-per-task={}\n#SBATCH --ntasks=1\n",
        options.cpus
    );
    for (flag, value) in [
        ("partition", &options.partition),
        ("gres", &options.gres),
        ("time", &options.time),
    ] {
        if let Some(v) = value {
            text.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    text
}
