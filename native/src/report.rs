//! Self-contained HTML reports: the web page, its wasm and the data in ONE file that opens
//! from disk with no server and no network — the offline way to share results.
//!
//! The page's ES modules are joined into one inline module (imports dropped, exports
//! unmarked; the modules keep distinct top-level names, which [`build_report`] checks), the
//! worker (the wasm-bindgen glue plus `worker.js`) starts from a `blob:` URL, and the wasm and
//! each `.db` travel as base64 text that the page decodes into bytes and `File`s.

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use runstore_core::Store;

use crate::page::{GLUE, Page, WASM};
use crate::{Error, Result};

/// The page's modules, dependencies before the modules that import them.
const MODULES: [&str; 12] = [
    "dom.js",
    "chart.js",
    "run-colors.js",
    "client.js",
    "run-table.js",
    "runs-view.js",
    "chart-view.js",
    "workspace-view.js",
    "hparams-view.js",
    "detail-view.js",
    "sql-view.js",
    "app.js",
];

/// What went into a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    /// Bytes of the HTML file.
    pub html_bytes: usize,
    /// Bytes of the databases before encoding.
    pub data_bytes: usize,
    /// Bytes of the wasm module before encoding.
    pub wasm_bytes: usize,
}

/// Text safe inside a `<script>` element: no `</script` can end it early.
fn script_safe(text: &str) -> String {
    text.replace("</", "<\\/")
}

/// Joins the page's modules into one module body.
fn bundle(page: &Page) -> Result<String> {
    let mut out = String::new();
    let mut names = BTreeSet::new();
    for module in MODULES {
        let source = page.read_to_string(module)?;
        out.push_str(&format!("// ---- {module}\n"));
        for line in source.lines() {
            if line.starts_with("import ") {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            if let Some(name) = top_level_name(line)
                && !names.insert(name.to_string())
            {
                return Err(Error::Report(format!(
                    "{module} declares `{name}` again; top-level names must differ"
                )));
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// The name a top-level declaration line introduces (`function f`, `const X =`, `class C`).
fn top_level_name(line: &str) -> Option<&str> {
    let rest = ["async function ", "function ", "const ", "let ", "class "]
        .iter()
        .find_map(|k| line.strip_prefix(k))?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Builds the report for `dbs` from `page` (whose `pkg/` holds the wasm: built into the
/// `runstore` binary, or by `scripts/build-web` into `www/pkg`). Each database is copied
/// consistently, even while it is being recorded into.
pub fn build_report(page: &Page, dbs: &[PathBuf]) -> Result<(String, ReportSummary)> {
    let index = page.read_to_string("index.html")?;
    let css = page.read_to_string("style.css")?;
    let glue = page.read_to_string(GLUE)?;
    let worker = page.read_to_string("worker.js")?;
    let wasm = page.read(WASM)?;
    let mut data = String::new();
    let mut data_bytes = 0;
    for db in dbs {
        let mut store = Store::open_read_only(db)?;
        let bytes = store.to_bytes()?;
        data_bytes += bytes.len();
        let name = db.file_name().map_or_else(|| "data.db".into(), |n| n.to_string_lossy().into_owned());
        data.push_str(&format!(
            "<script type=\"application/x-runstore-db\" data-name=\"{}\">{}</script>\n",
            html_attribute(&name),
            STANDARD.encode(&bytes)
        ));
    }
    let worker_source =
        serde_json::to_string(&format!("{glue}\n{worker}")).map_err(runstore_core::Error::from)?;
    let inline = format!(
        "<script>\n{}\n</script>\n<script type=\"application/octet-stream\" id=\"runstore-wasm\">{}</script>\n{data}",
        script_safe(&format!(
            "const runstoreBytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));\n\
             globalThis.runstoreInline = {{\n\
             \x20 workerSource: {worker_source},\n\
             \x20 wasm: () => runstoreBytes(document.getElementById(\"runstore-wasm\").textContent),\n\
             \x20 files: () => [...document.querySelectorAll(\"script[type='application/x-runstore-db']\")]\n\
             \x20   .map((s) => new File([runstoreBytes(s.textContent)], s.dataset.name)),\n\
             }};"
        )),
        STANDARD.encode(&wasm)
    );
    let module = format!("<script type=\"module\">\n{}</script>", script_safe(&bundle(page)?));
    let stylesheet = "<link rel=\"stylesheet\" href=\"style.css\">";
    let entry = "<script type=\"module\" src=\"app.js\"></script>";
    if !index.contains(stylesheet) || !index.contains(entry) {
        return Err(Error::Report(format!(
            "{page}: index.html no longer links style.css and app.js as expected"
        )));
    }
    let html = index
        .replace(stylesheet, &format!("<style>\n{css}</style>"))
        .replace("<title>runstore</title>", "<title>runstore report</title>")
        .replace(entry, &format!("{inline}{module}"));
    let summary = ReportSummary { html_bytes: html.len(), data_bytes, wasm_bytes: wasm.len() };
    Ok((html, summary))
}

fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_names_are_found() {
        assert_eq!(top_level_name("function h(tag) {"), Some("h"));
        assert_eq!(top_level_name("async function loadRuns() {"), Some("loadRuns"));
        assert_eq!(top_level_name("const $ = (id) => 1;"), Some("$"));
        assert_eq!(top_level_name("  const inner = 1;"), None);
        assert_eq!(top_level_name("class Client {"), Some("Client"));
    }

    #[test]
    fn the_page_modules_bundle_without_clashes() {
        let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
        let bundled = bundle(&Page::Dir(www)).unwrap();
        assert!(!bundled.lines().any(|l| l.starts_with("import ")));
        assert!(bundled.contains("function drawChart"));
    }

    #[test]
    fn every_module_the_page_imports_is_bundled_after_what_it_imports() {
        let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
        for (position, module) in MODULES.iter().enumerate() {
            let source = std::fs::read_to_string(www.join(module)).unwrap();
            for line in source.lines().filter(|l| l.starts_with("import ")) {
                let imported = line.rsplit("\"./").next().unwrap().trim_end_matches("\";");
                let at = MODULES.iter().position(|m| *m == imported);
                assert!(
                    at.is_some_and(|at| at < position),
                    "{module} imports {imported}, which MODULES lacks or lists later"
                );
            }
        }
    }

    #[test]
    fn scripts_cannot_be_closed_by_their_content() {
        assert_eq!(script_safe("a = '</script><b>'"), "a = '<\\/script><b>'");
    }
}
