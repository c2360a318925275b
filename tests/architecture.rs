//! The layering of DESIGN.md, checked: the protocol core, crypto, registry and use cases name
//! no web framework, ORM or template engine; only `store` names Diesel.

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
