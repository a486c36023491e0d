//! Puts the web page into the `runstore` binary, so that `runstore serve` and `runstore report`
//! work from any directory: writes `$OUT_DIR/page.rs`, a table of `(path, include_bytes!(..))`
//! for every file of `www/` (dotfiles left out), `www/pkg/` with the wasm included.
//!
//! When `www/pkg` (what `scripts/build-web` makes) is missing, the page is built here the same
//! way — `cargo build -p runstore-web --target wasm32-unknown-unknown --profile release-wasm`,
//! then `wasm-bindgen` — into `$OUT_DIR/pkg`, with a target folder of its own (`web/` in this
//! build's: `$CARGO_TARGET_DIR/web`, which `scripts/build-web` shares) so that the inner cargo
//! never waits on a lock the build running this script holds. Without the tools for that, the
//! build fails and says how to get them: it never embeds a page without its wasm.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What `www/pkg` must hold for the page to work.
const PKG_FILES: [&str; 2] = ["runstore_web_bg.wasm", "runstore_web.js"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.parent().expect("cli/ is inside the workspace").to_path_buf();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let www = root.join("www");
    println!("cargo:rerun-if-changed={}", www.display());
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let mut files = Vec::new();
    list(&www, "", &mut files);
    let have_pkg = PKG_FILES.iter().all(|f| www.join("pkg").join(f).is_file());
    if !have_pkg {
        files.retain(|(rel, _)| !rel.starts_with("pkg/"));
        let pkg = out.join("pkg");
        if let Err(why) = build_page(&root, &out, &pkg) {
            fail(&why);
        }
        let mut built = Vec::new();
        list(&pkg, "pkg/", &mut built);
        files.extend(built);
        // The page is ours: rebuild it when what it is built from changes.
        for source in ["web/src", "web/Cargo.toml", "core/src", "core/Cargo.toml", "Cargo.toml", "Cargo.lock"]
        {
            println!("cargo:rerun-if-changed={}", root.join(source).display());
        }
    }
    if !files.iter().any(|(rel, _)| rel == "index.html") {
        fail(&format!("{} has no index.html", www.display()));
    }
    files.sort();

    let mut table = String::from(
        "/// The web page's files (path relative to `www/`, bytes), put in by build.rs.\n\
         static PAGE_FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, path) in &files {
        // Not the page built into $OUT_DIR just now: written during this run, it would look
        // changed to the next build, and rerun this script every time.
        if path.starts_with(&www) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let path = path.to_str().unwrap_or_else(|| fail(&format!("{}: not UTF-8", path.display())));
        table.push_str(&format!("    ({rel:?}, include_bytes!({path:?})),\n"));
    }
    table.push_str("];\n");
    write_if_changed(&out.join("page.rs"), &table);
}

/// Stops the build with `message` and how to get going again.
fn fail(message: &str) -> ! {
    eprintln!(
        "\nerror: the `runstore` binary carries the web page, and it cannot be built here:\n  {message}\n\n\
         Install what building it takes with scripts/setup web (clang and llvm, the\n\
         wasm32-unknown-unknown target, wasm-bindgen-cli of the version Cargo.toml pins), then\n\
         build again; or put a page in www/pkg first with scripts/build-web.\n"
    );
    std::process::exit(1);
}

/// Adds every file under `dir` (recursively, dotfiles left out) as `(prefix + relative path,
/// path)`.
fn list(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            list(&path, &format!("{prefix}{name}/"), files);
        } else if path.is_file() {
            files.push((format!("{prefix}{name}"), path));
        }
    }
}

/// Writes `text` unless the file already holds it, so an unchanged table rebuilds nothing.
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    std::fs::write(path, text).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
}

/// Builds the page's wasm and its JS glue into `pkg`, as `scripts/build-web` does.
fn build_page(root: &Path, out: &Path, pkg: &Path) -> Result<(), String> {
    let wanted = wanted_wasm_bindgen(root)?;
    let mut missing = Vec::new();
    if !wasm32_installed() {
        missing.push(
            "the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`)".to_string(),
        );
    }
    match tool_version("wasm-bindgen") {
        Some(have) if have == wanted => {}
        Some(have) => missing.push(format!("wasm-bindgen-cli {wanted} (found {have})")),
        None => missing.push(format!("wasm-bindgen-cli {wanted} (`wasm-bindgen` is not on PATH)")),
    }
    if tool_version("clang").is_none() {
        missing.push("clang, which compiles SQLite for wasm32 (Debian: clang llvm)".to_string());
    }
    if !missing.is_empty() {
        return Err(format!("www/pkg is missing, and building it needs {}", missing.join(", ")));
    }

    let target_dir = web_target_dir(out);
    println!(
        "cargo:warning=www/pkg is missing, so the web page in runstore is built from web/ (in {}); scripts/build-web puts one in www/pkg",
        target_dir.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args([
            "build",
            "-p",
            "runstore-web",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "release-wasm",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    if Path::new(&root.join("Cargo.lock")).is_file() {
        build.arg("--locked");
    }
    // What the outer cargo set for this script must not steer the inner build (clippy's
    // wrapper would lint it, and this script's flags are for the host).
    for var in
        ["RUSTC_WORKSPACE_WRAPPER", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"]
    {
        build.env_remove(var);
    }
    run(&mut build)?;

    let wasm = target_dir.join("wasm32-unknown-unknown/release-wasm/runstore_web.wasm");
    let _ = std::fs::remove_dir_all(pkg);
    // The same flags as scripts/build-web.
    run(Command::new("wasm-bindgen")
        .args(["--target", "no-modules", "--remove-name-section", "--remove-producers-section", "--out-dir"])
        .arg(pkg)
        .arg(&wasm))?;
    match PKG_FILES.iter().find(|f| !pkg.join(f).is_file()) {
        Some(lacking) => Err(format!("wasm-bindgen did not write {}", pkg.join(lacking).display())),
        None => Ok(()),
    }
}

/// Runs a command, its output going to cargo's log (standard output too: this script's own
/// standard output speaks to cargo); an error says which command failed.
fn run(command: &mut Command) -> Result<(), String> {
    let status = command.stdout(std::io::stderr()).status().map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{command:?} failed ({status})")) }
}

/// The target folder of the page's wasm build: `web/` in the target folder of this build
/// (which `scripts/build-web` uses too, so neither builds what the other did).
fn web_target_dir(out: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        // Relative to the directory cargo was started in; the workspace root is a fair guess.
        return if dir.is_absolute() { dir.join("web") } else { out.join("web-target") };
    }
    // $OUT_DIR is TARGET/[TRIPLE/]PROFILE/build/runstore-cli-HASH/out; the target folder
    // holds CACHEDIR.TAG.
    out.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map_or_else(|| out.join("web-target"), |dir| dir.join("web"))
}

/// The version of the `wasm-bindgen` crate pinned in the workspace's Cargo.toml (`=X.Y.Z`).
fn wanted_wasm_bindgen(root: &Path) -> Result<String, String> {
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("wasm-bindgen = \"=")?.strip_suffix('"'))
        .map(str::to_string)
        .ok_or_else(|| "Cargo.toml pins no wasm-bindgen version (`wasm-bindgen = \"=X.Y.Z\"`)".to_string())
}

/// Whether rustc has the wasm32-unknown-unknown standard library.
fn wasm32_installed() -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc).args(["--print", "sysroot"]).output() else { return false };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Path::new(&sysroot).join("lib/rustlib/wasm32-unknown-unknown/lib").is_dir()
}

/// The second word of `TOOL --version` (`wasm-bindgen 0.2.130` → `0.2.130`); `None` if the
/// tool does not run.
fn tool_version(tool: &str) -> Option<String> {
    let output = Command::new(tool).arg("--version").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    Some(text.split_whitespace().nth(1).unwrap_or_default().to_string())
}
