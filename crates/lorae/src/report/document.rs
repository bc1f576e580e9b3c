//! A report as paragraphs, tables and figures, written as Markdown (figures linked beside it) and
//! as one self-contained HTML file (figures embedded as `data:` URIs), from the same blocks.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;

/// A part of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph (Markdown inline syntax: `code`, **bold**).
    Para(String),
    /// A table: a header row and rows of cells.
    Table {
        /// Column titles.
        header: Vec<String>,
        /// Rows, each as long as the header.
        rows: Vec<Vec<String>>,
    },
    /// A PNG, by its path relative to the report's folder.
    Figure {
        /// Relative path.
        path: PathBuf,
        /// Caption.
        caption: String,
    },
}

/// A titled list of blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Top heading.
    pub title: String,
    /// Blocks before the first section.
    pub intro: Vec<Block>,
    /// Sections in order.
    pub sections: Vec<Section>,
}

impl Document {
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n\n", self.title);
        let blocks = |out: &mut String, blocks: &[Block]| {
            for block in blocks {
                match block {
                    Block::Para(text) => {
                        let _ = write!(out, "{text}\n\n");
                    }
                    Block::Table { header, rows } => {
                        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
                        out.push_str(&line(header));
                        out.push_str(&line(&vec!["---".to_string(); header.len()]));
                        for row in rows {
                            out.push_str(&line(row));
                        }
                        out.push('\n');
                    }
                    Block::Figure { path, caption } => {
                        let _ = write!(out, "![{caption}]({})\n\n*{caption}*\n\n", path.display());
                    }
                }
            }
        };
        blocks(&mut out, &self.intro);
        for section in &self.sections {
            let _ = write!(out, "## {}\n\n", section.title);
            blocks(&mut out, &section.blocks);
        }
        out
    }

    /// The report as one HTML file; figures are read from `dir` and embedded.
    pub fn html(&self, dir: &Path) -> Result<String> {
        let mut out = String::from(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<style>\
             body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.45}\
             table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}\
             th{background:#eee}td:first-child{text-align:left}img{max-width:100%}figcaption{font-style:italic}\
             code{background:#f3f3f3}</style>\n",
        );
        let _ = write!(
            out,
            "<title>{}</title></head><body>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        let blocks = |out: &mut String, blocks: &[Block]| -> Result<()> {
            for block in blocks {
                match block {
                    Block::Para(text) => {
                        let _ = writeln!(out, "<p>{}</p>", inline(text));
                    }
                    Block::Table { header, rows } => {
                        out.push_str("<table><tr>");
                        for h in header {
                            let _ = write!(out, "<th>{}</th>", inline(h));
                        }
                        out.push_str("</tr>\n");
                        for row in rows {
                            out.push_str("<tr>");
                            for cell in row {
                                let _ = write!(out, "<td>{}</td>", inline(cell));
                            }
                            out.push_str("</tr>\n");
                        }
                        out.push_str("</table>\n");
                    }
                    Block::Figure { path, caption } => {
                        let file = dir.join(path);
                        let bytes = std::fs::read(&file)
                            .map_err(|e| Error::io("cannot read figure", &file, e))?;
                        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                        let _ = writeln!(
                            out,
                            "<figure><img alt=\"{0}\" src=\"data:image/png;base64,{data}\"><figcaption>{0}</figcaption></figure>",
                            escape(caption)
                        );
                    }
                }
            }
            Ok(())
        };
        blocks(&mut out, &self.intro)?;
        for section in &self.sections {
            let _ = writeln!(out, "<h2>{}</h2>", escape(&section.title));
            blocks(&mut out, &section.blocks)?;
        }
        out.push_str("</body></html>\n");
        Ok(out)
    }

    /// Writes `dir/NAME.md` and `dir/NAME.html` atomically.
    pub fn write(&self, dir: &Path, name: &str) -> Result<(PathBuf, PathBuf)> {
        let (md, html) = (
            dir.join(format!("{name}.md")),
            dir.join(format!("{name}.html")),
        );
        write_atomic(&md, self.markdown().as_bytes())?;
        write_atomic(&html, self.html(dir)?.as_bytes())?;
        Ok((md, html))
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escapes `text` and turns `code` and **bold** into tags.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<b>{piece}</b>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}
