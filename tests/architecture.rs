//! The layering of DESIGN.md, checked: the protocol core, crypto, registry and use cases name
//! no web framework, ORM or template engine; only `store` names Diesel, and not its
//! in-memory implementations.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("src dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            out.push((path.display().to_string(), text));
        }
    }
}

fn check(layer: &str, forbidden: &[&str]) {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(layer),
        &mut files,
    );
    assert!(!files.is_empty(), "layer {layer} has no sources");
    for (path, text) in files {
        for word in forbidden {
            assert!(!text.contains(word), "{path} uses {word}");
        }
    }
}

#[test]
fn the_core_layers_know_nothing_of_http_databases_or_templates() {
    for layer in ["saml", "crypto", "registry", "idp"] {
        check(layer, &["actix_web", "diesel", "tera::"]);
    }
}

#[test]
fn the_in_memory_stores_name_no_database() {
    check("store/memory", &["diesel", "Diesel", "sql_query"]);
}

#[test]
fn only_store_names_diesel() {
    for layer in ["web", "cli", "config.rs", "clock.rs", "ids.rs"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(layer);
        let mut files = Vec::new();
        if path.is_dir() {
            sources(&path, &mut files);
        } else {
            files.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).expect("read"),
            ));
        }
        for (file, text) in files {
            assert!(!text.contains("diesel"), "{file} names diesel");
        }
    }
}

/// The handler modules of `web` (one per route group), as `src/web/mod.rs` lists them under
/// its "// Handlers" comment; the leaves they share are the other files of `web`.
fn handlers() -> Vec<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/mod.rs"))
            .expect("src/web/mod.rs");
    let section = text
        .split("// Handlers")
        .nth(1)
        .expect("a '// Handlers' section in src/web/mod.rs");
    let names: Vec<String> = section
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    assert!(names.len() >= 8, "handlers found: {names:?}");
    names
}

#[test]
fn no_web_handler_imports_another_and_leaves_import_no_handler() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut files = Vec::new();
    sources(&web, &mut files);
    let handlers = handlers();
    for (path, text) in &files {
        let name = Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if name == "mod" || name == "tests" {
            continue;
        }
        for handler in handlers.iter().filter(|h| h.as_str() != name) {
            for pattern in [
                format!("super::{handler}::"),
                format!("super::{{{handler}"),
                format!(", {handler}::"),
                format!("web::{handler}::"),
                format!("super::{handler};"),
            ] {
                assert!(
                    !text.contains(&pattern),
                    "{path} imports the handler module {handler} ({pattern})"
                );
            }
            let grouped = text
                .lines()
                .filter(|l| l.trim_start().starts_with("use super::{"))
                .any(|l| {
                    l.split(['{', '}', ',', ' '])
                        .any(|item| item.trim() == handler.as_str())
                });
            assert!(!grouped, "{path} imports the handler module {handler}");
        }
    }
}

#[test]
fn idp_never_reaches_up_into_web_or_cli() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/idp"),
        &mut files,
    );
    for (path, text) in files {
        for word in ["crate::web", "crate::cli", "crate::store"] {
            assert!(!text.contains(word), "{path} uses {word}");
        }
    }
}

#[test]
fn web_never_reaches_up_into_cli() {
    check("web", &["crate::cli"]);
}
