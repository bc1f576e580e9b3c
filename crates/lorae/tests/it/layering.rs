//! The library's layering has no back-edge: a module uses only modules of its own layer or
//! below (`use crate::X` and `crate::X::…` paths in code; comments are not dependencies). A new
//! top-level module must be given a layer here, which is the point: it has to find its home.

use std::path::Path;

/// Bottom to top. Modules on one line are one layer (they may not use each other either way
/// unless listed as the same layer; same-layer use is allowed).
const LAYERS: &[&[&str]] = &[
    &["error", "names", "say", "note"],
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
    &["bench"],
    &["reproduce"],
    &["explore"],
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

/// Every `crate::NAME` in the code lines of `text`, grouped imports (`use crate::{a, b::c}`)
/// included, with its line number.
fn uses(text: &str) -> Vec<(usize, String)> {
    // Comment lines become empty (kept, so that offsets still give line numbers).
    let code: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::").map(|i| from + i) {
        let start = at + "crate::".len();
        let after = &code[start..];
        if after.starts_with('{') {
            // The group's top-level items, up to its matching brace.
            let (mut depth, mut item_start) = (0, 1);
            for (i, c) in after.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' | ',' if depth == 1 => {
                        let item = &after[item_start..i];
                        let name = ident(item);
                        let at = start + item_start + (item.len() - item.trim_start().len());
                        if !name.is_empty() && !name.starts_with(char::is_uppercase) {
                            found.push((line_of(at), name));
                        }
                        item_start = i + 1;
                        if c == '}' {
                            break;
                        }
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() && !name.starts_with(char::is_uppercase) {
                found.push((line_of(at), name));
            }
        }
        from = start;
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
                "{}: module `{module}` has no layer in tests/it/layering.rs",
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
                    "{}:{line}: `crate::{target}` has no layer in tests/it/layering.rs",
                    file.display()
                )),
            }
        }
    }
    assert!(back_edges.is_empty(), "{}", back_edges.join("\n"));
}

#[test]
fn the_scanner_sees_uses_and_skips_comments() {
    let text = "use crate::train::step;\n// crate::reproduce is not a use\nlet x = crate::latent::Codes::new();\n/// [`crate::eval`]\nuse crate::Error;\nuse crate::{\n    run::lock,\n    sampler::{draw, Sampler},\n    Error,\n};";
    let found: Vec<(usize, String)> = uses(text);
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, vec!["train", "latent", "run", "sampler"]);
    assert_eq!(
        (found[0].0, found[1].0, found[2].0, found[3].0),
        (1, 3, 7, 8)
    );
    assert!(layer("train") > layer("run"));
    assert!(layer("nowhere").is_none());
}
