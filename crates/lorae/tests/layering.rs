//! The library's layering has no back-edge: a module uses only modules of its own layer or
//! below (`use crate::X` and `crate::X::…` paths in code; comments are not dependencies). A new
//! top-level module must be given a layer here, which is the point: it has to find its home.

use std::path::Path;

/// Bottom to top. Modules on one line are one layer (they may not use each other either way
/// unless listed as the same layer; same-layer use is allowed).
const LAYERS: &[&[&str]] = &[
    &["error", "say", "note"],
    &["limits", "tensor", "device", "io"],
    &["kernels", "weights"],
    &["config"],
    &["data"],
    &["model"],
    &["latent"],
    &["run"],
    &["train"],
    &["sampler"],
    &["eval"],
    &["report"],
    &["reproduce"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a source file belongs to (`train/step.rs` → `train`, `limits.rs` →
/// `limits`); `lib.rs` declares them all and is skipped.
fn owner(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib").then(|| name.to_string())
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::NAME` in the code lines of `text`.
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !name.starts_with(char::is_uppercase) {
                found.push((n + 1, name));
            }
            rest = after;
        }
    }
    found
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    all.sort();
    let mut back_edges = Vec::new();
    for file in &all {
        let Some(module) = owner(&src, file) else {
            continue;
        };
        let Some(own) = layer(&module) else {
            back_edges.push(format!(
                "{}: module `{module}` has no layer in tests/layering.rs",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (line, target) in uses(&text) {
            match layer(&target) {
                Some(t) if t <= own => {}
                Some(_) => back_edges.push(format!(
                    "{}:{line}: `{module}` uses `{target}`, a layer above it",
                    file.display()
                )),
                None => back_edges.push(format!(
                    "{}:{line}: `crate::{target}` has no layer in tests/layering.rs",
                    file.display()
                )),
            }
        }
    }
    assert!(back_edges.is_empty(), "{}", back_edges.join("\n"));
}

#[test]
fn the_scanner_sees_uses_and_skips_comments() {
    let text = "use crate::train::step;\n// crate::reproduce is not a use\nlet x = crate::latent::Codes::new();\n/// [`crate::eval`]\nuse crate::Error;";
    let found: Vec<String> = uses(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(found, vec!["train", "latent"]);
    assert!(layer("train") > layer("run"));
    assert!(layer("nowhere").is_none());
}
