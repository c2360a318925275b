//! The layering of DESIGN.md, checked on the sources (std only, so it runs even while the crate
//! does not build):
//! - the protocol core, crypto, registry and use cases name no web framework, ORM or template
//!   engine, and only `store` names Diesel;
//! - `idp` never reaches up into `web`, `cli` or `store`; `web` never reaches into `cli`, never
//!   imports `store` and never calls a store port of `AppState` directly;
//! - no `web` handler imports another, and the shared leaves of `web` import no handler;
//! - no two files of `src/` import each other, directly or through a longer loop (a `mod.rs`
//!   that only re-exports a child's item is a facade: the edge goes on to that child).
//!
//! The file-level checks read code with comments, string and char literals blanked out and
//! `#[cfg(test)]` items (and `tests.rs` files) left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
    sources(&manifest().join("src").join(layer), &mut files);
    assert!(!files.is_empty(), "layer {layer} has no sources");
    for (path, text) in files {
        for word in forbidden {
            assert!(!text.contains(word), "{path} uses {word}");
        }
    }
}

#[test]
fn the_in_memory_stores_name_no_database() {
    check("store/memory", &["diesel", "Diesel", "sql_query"]);
}

#[test]
fn the_core_layers_know_nothing_of_http_databases_or_templates() {
    for layer in ["saml", "crypto", "registry", "idp"] {
        check(layer, &["actix_web", "diesel", "tera::"]);
    }
}

#[test]
fn only_store_names_diesel() {
    let mut files = Vec::new();
    sources(&manifest().join("src"), &mut files);
    let store = manifest().join("src").join("store");
    let mut offenders = Vec::new();
    for (path, text) in &files {
        if Path::new(path).starts_with(&store) {
            continue;
        }
        let code = strip_comments_and_strings(text);
        for (at, _) in code.match_indices("diesel") {
            if !code[..at].chars().next_back().is_some_and(is_ident) {
                offenders.push(format!("{}:{}", relative(path), line_of(&code, at)));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "only src/store may name diesel: {offenders:#?}"
    );
}

/// The handler modules of `web` (one per route group), as `src/web/mod.rs` lists them under
/// its "// Handlers" comment; the leaves they share are the other files of `web`.
fn handlers() -> Vec<String> {
    let text = std::fs::read_to_string(manifest().join("src/web/mod.rs")).expect("src/web/mod.rs");
    let section = text
        .split("// Handlers")
        .nth(1)
        .expect("a '// Handlers' section in src/web/mod.rs");
    let names: Vec<String> = section
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let l = l.trim();
            ["mod ", "pub mod ", "pub(crate) mod "]
                .iter()
                .find_map(|p| l.strip_prefix(p))
        })
        .map(|l| l.trim().trim_end_matches(';').to_string())
        .collect();
    assert!(names.len() >= 8, "handlers found: {names:?}");
    names
}

#[test]
fn no_web_handler_imports_another_and_leaves_import_no_handler() {
    let mut files = Vec::new();
    sources(&manifest().join("src/web"), &mut files);
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
    sources(&manifest().join("src/idp"), &mut files);
    // Test harnesses (`tests.rs`, `testing.rs`) build the in-memory stores.
    let test_only = |p: &str| p.ends_with("/tests.rs") || p.ends_with("/testing.rs");
    for (path, text) in files.into_iter().filter(|(p, _)| !test_only(p)) {
        for word in ["crate::web", "crate::cli", "crate::store"] {
            assert!(!text.contains(word), "{path} uses {word}");
        }
    }
}

#[test]
fn web_never_reaches_up_into_cli() {
    check("web", &["crate::cli"]);
}

/// The store ports that `AppState` (and the blocking worker) hold: `web` reaches them only
/// through `idp`.
const STORE_PORTS: [&str; 8] = [
    "sessions",
    "accounts",
    "pending",
    "tokens",
    "security_keys",
    "identities",
    "rate_limiter",
    "replay_cache",
];

/// The files of `web` that may touch `AppState::stores`.
const STORE_HOLDERS: [&str; 3] = ["src/web/state.rs", "src/web/server.rs", "src/web/health.rs"];

/// `web` names no `crate::store` and calls no store port (`state.sessions.get(…)`,
/// `worker.accounts.…`, `state.stores.…`) outside the files that hold the bundle. Test code
/// (`#[cfg(test)]`, `tests.rs`) may build stores.
#[test]
fn web_never_calls_a_store() {
    let krate = Crate::load();
    let mut offenders = Vec::new();
    for (index, file) in krate.files.iter().enumerate() {
        if !file.rel.starts_with("src/web/") {
            continue;
        }
        let mut ports = STORE_PORTS.to_vec();
        // The bundle itself: held by `state`, read by the server loop (purge, audit buffer)
        // and readiness (the database ping, the gauges); handlers go through `idp`.
        if !STORE_HOLDERS.contains(&file.rel.as_str()) {
            ports.push("stores");
        }
        offenders.extend(store_port_calls(file, &ports));
        offenders.extend(store_imports(&krate, index));
    }
    assert!(
        offenders.is_empty(),
        "web reaches the store only through idp (or AppState methods):\n{}",
        offenders.join("\n")
    );
}

/// `crate::store` in file `index`, and its imports of a file of `src/store/` however spelled
/// (`use crate::{store::X}`, `super::super::store`), one line each.
fn store_imports(krate: &Crate, index: usize) -> Vec<String> {
    let file = &krate.files[index];
    let mut lines: BTreeMap<usize, String> = BTreeMap::new();
    for ((_, to), edge) in krate.edges_from(index) {
        let target = &krate.files[to].rel;
        if target.starts_with("src/store/") {
            lines.insert(edge.line, format!("imports {target}"));
        }
    }
    for (at, _) in file.code.match_indices("crate::store") {
        lines.insert(line_of(&file.code, at), "crate::store".to_string());
    }
    let rel = &file.rel;
    lines
        .into_iter()
        .map(|(line, what)| format!("{rel}:{line} {what}"))
        .collect()
}

/// `state.PORT.` / `worker.PORT.` in `file`'s code (whitespace around the dots ignored, so a
/// chain split over lines is found too).
fn store_port_calls(file: &SourceFile, ports: &[&str]) -> Vec<String> {
    let (compact, lines) = compact_dots(&file.code);
    let mut found = Vec::new();
    for owner in ["state", "worker"] {
        for port in ports {
            let pattern = format!("{owner}.{port}.");
            for (at, _) in compact.match_indices(&pattern) {
                if !compact[..at].chars().next_back().is_some_and(is_ident) {
                    let line = lines[compact[..at].chars().count()];
                    found.push(format!("{}:{} {pattern}", file.rel, line));
                }
            }
        }
    }
    found
}

/// `code` without the whitespace next to a `.`, and the line of each remaining char.
fn compact_dots(code: &str) -> (String, Vec<usize>) {
    let chars: Vec<char> = code.chars().collect();
    let (mut out, mut lines, mut line) = (String::new(), Vec::new(), 1);
    for (i, &ch) in chars.iter().enumerate() {
        if ch.is_whitespace() {
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let prev = out.chars().next_back();
            if next != Some(&'.') && prev != Some('.') {
                out.push(' ');
                lines.push(line);
            }
        } else {
            out.push(ch);
            lines.push(line);
        }
        if ch == '\n' {
            line += 1;
        }
    }
    lines.push(line);
    (out, lines)
}

#[test]
fn no_import_cycle_between_files() {
    let krate = Crate::load();
    assert!(
        krate.files.len() > 20,
        "found only {} files",
        krate.files.len()
    );
    let cycles: Vec<Vec<usize>> = strongly_connected(&krate)
        .into_iter()
        .filter(|component| component.len() > 1)
        .collect();
    let report: Vec<String> = cycles.iter().map(|c| krate.describe(c)).collect();
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) between files of src/ (break one edge of each):\n\n{}",
        cycles.len(),
        report.join("\n")
    );
}

// ---- Reading sources -------------------------------------------------------------------------

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// `path` relative to the crate root (`src/web/error.rs`).
fn relative(path: &str) -> String {
    Path::new(path)
        .strip_prefix(manifest())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// `text` with comments, string, byte-string, raw-string and char literals blanked out
/// (newlines kept, so line numbers hold); lifetimes and loop labels stay.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let end = literal_end(&chars, i);
        if end > i {
            out.extend(
                chars[i..end]
                    .iter()
                    .map(|&c| if c == '\n' { '\n' } else { ' ' }),
            );
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Where the comment or literal that starts at `i` ends (exclusive); `i` if none starts there.
fn literal_end(c: &[char], i: usize) -> usize {
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let after_ident = i > 0 && is_ident(c[i - 1]);
    match at(i) {
        '/' if at(i + 1) == '/' => (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len()),
        '/' if at(i + 1) == '*' => block_comment_end(c, i),
        '"' => quoted_end(c, i + 1, '"'),
        '\'' => char_literal_end(c, i),
        'r' | 'b' | 'c' if !after_ident => prefixed_literal_end(c, i),
        _ => i,
    }
}

fn block_comment_end(c: &[char], start: usize) -> usize {
    let (mut depth, mut k) = (0, start);
    while k + 1 < c.len() {
        if c[k] == '/' && c[k + 1] == '*' {
            depth += 1;
            k += 2;
        } else if c[k] == '*' && c[k + 1] == '/' {
            depth -= 1;
            k += 2;
            if depth == 0 {
                return k;
            }
        } else {
            k += 1;
        }
    }
    c.len()
}

/// The end of a literal whose body starts at `k` and closes with an unescaped `close`.
fn quoted_end(c: &[char], mut k: usize, close: char) -> usize {
    while k < c.len() {
        if c[k] == '\\' {
            k += 2;
        } else if c[k] == close {
            return k + 1;
        } else {
            k += 1;
        }
    }
    c.len()
}

/// `'x'` or `'\n'` is a char literal; `'a` (lifetime) or `'outer:` (label) is not.
fn char_literal_end(c: &[char], i: usize) -> usize {
    if c.get(i + 1) == Some(&'\\') {
        quoted_end(c, i + 1, '\'')
    } else if c.get(i + 2) == Some(&'\'') {
        i + 3
    } else {
        i
    }
}

/// `b"…"`, `c"…"`, `b'x'`, `r"…"`, `r#"…"#`, `br##"…"##`; `i` for an identifier (or `r#ident`).
fn prefixed_literal_end(c: &[char], i: usize) -> usize {
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let mut k = i;
    if matches!(at(k), 'b' | 'c') {
        k += 1;
    }
    if at(k) == 'r' {
        let hashes = (k + 1..c.len()).take_while(|&h| c[h] == '#').count();
        let body = k + 1 + hashes;
        if at(body) != '"' {
            return i;
        }
        let closes = |q: usize| c[q] == '"' && (1..=hashes).all(|h| at(q + h) == '#');
        return (body + 1..c.len())
            .find(|&q| closes(q))
            .map_or(c.len(), |q| q + 1 + hashes);
    }
    match (k > i, at(k)) {
        (true, '"') => quoted_end(c, k + 1, '"'),
        (true, '\'') if at(i) == 'b' => {
            let end = char_literal_end(c, k);
            if end == k {
                i
            } else {
                end
            }
        }
        _ => i,
    }
}

/// `code` (already stripped) with every `#[cfg(test)]` item blanked, up to its `;` or to the
/// brace that closes its block.
fn without_test_items(code: &str) -> String {
    let mut c: Vec<char> = code.chars().collect();
    let attr: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + attr.len() <= c.len() {
        if c[i..i + attr.len()] == attr[..] {
            let end = item_end(&c, i + attr.len());
            c[i..end]
                .iter_mut()
                .filter(|ch| **ch != '\n')
                .for_each(|ch| *ch = ' ');
            i = end;
        } else {
            i += 1;
        }
    }
    c.into_iter().collect()
}

/// The end of the item that starts at `from`: its first `;` or its brace-matched block.
fn item_end(c: &[char], from: usize) -> usize {
    let mut nesting = 0i32;
    for k in from..c.len() {
        match c[k] {
            '(' | '[' => nesting += 1,
            ')' | ']' => nesting -= 1,
            ';' if nesting == 0 => return k + 1,
            '{' if nesting == 0 => return matching_brace(c, k),
            _ => {}
        }
    }
    c.len()
}

fn matching_brace(c: &[char], open: usize) -> usize {
    let mut depth = 0;
    for (k, &ch) in c.iter().enumerate().skip(open) {
        if ch == '{' {
            depth += 1;
        } else if ch == '}' {
            depth -= 1;
            if depth == 0 {
                return k + 1;
            }
        }
    }
    c.len()
}

// ---- `use` declarations ----------------------------------------------------------------------

/// One imported name of a `use` tree: `use a::{b, c::d as e}` has the leaves `a::b` (name `b`)
/// and `a::c::d` (name `e`); a glob leaf is the path of the module it opens.
#[derive(Debug, Clone)]
struct UseLeaf {
    path: Vec<String>,
    glob: bool,
    name: String,
}

#[derive(Debug)]
struct UseDecl {
    line: usize,
    /// Declared outside any block (a module-level import, visible to child modules).
    top_level: bool,
    /// `pub use` (any visibility): a re-export.
    public: bool,
    /// Char range of the declaration, `use` to `;`.
    span: (usize, usize),
    leaves: Vec<UseLeaf>,
}

/// Every `use` declaration of `code` (stripped), at any depth.
fn use_decls(code: &str) -> Vec<UseDecl> {
    let c: Vec<char> = code.chars().collect();
    let (mut decls, mut depth, mut line, mut i) = (Vec::new(), 0, 1, 0);
    while i < c.len() {
        match c[i] {
            '{' => depth += 1,
            '}' => depth -= 1,
            '\n' => line += 1,
            'u' if starts_use(&c, i) => {
                let end = (i..c.len()).find(|&k| c[k] == ';').unwrap_or(c.len());
                let tree: String = c[i + 3..end].iter().collect();
                let mut leaves = Vec::new();
                parse_use_tree(&use_tokens(&tree), &mut 0, Vec::new(), &mut leaves);
                decls.push(UseDecl {
                    line,
                    top_level: depth == 0,
                    public: is_public(&c[..i]),
                    span: (i, end),
                    leaves,
                });
                line += tree.matches('\n').count();
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    decls
}

/// Whether the text before an item ends with `pub` or `pub(…)`.
fn is_public(before: &[char]) -> bool {
    let text: String = before.iter().collect();
    let mut text = text.trim_end();
    if text.ends_with(')') {
        text = text.rfind('(').map_or(text, |open| text[..open].trim_end());
    }
    text.ends_with("pub")
        && !text[..text.len() - 3]
            .chars()
            .next_back()
            .is_some_and(is_ident)
}

fn starts_use(c: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).map(|k| c[k]);
    c[i..].starts_with(&['u', 's', 'e'])
        && c.get(i + 3).is_some_and(|ch| ch.is_whitespace())
        && !before.is_some_and(|ch| is_ident(ch) || ch == ':' || ch == '$')
}

fn use_tokens(tree: &str) -> Vec<String> {
    let c: Vec<char> = tree.chars().collect();
    let (mut tokens, mut i) = (Vec::new(), 0);
    while i < c.len() {
        if is_ident(c[i]) || c[i] == '#' {
            let end = (i..c.len())
                .find(|&k| !(is_ident(c[k]) || c[k] == '#'))
                .unwrap_or(c.len());
            tokens.push(c[i..end].iter().collect::<String>().replace("r#", ""));
            i = end;
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            tokens.push("::".to_string());
            i += 2;
        } else {
            if !c[i].is_whitespace() {
                tokens.push(c[i].to_string());
            }
            i += 1;
        }
    }
    tokens
}

/// Parses one use tree at `tokens[*pos]` under `prefix`, pushing its leaves.
fn parse_use_tree(tokens: &[String], pos: &mut usize, prefix: Vec<String>, out: &mut Vec<UseLeaf>) {
    let mut path = prefix;
    while let Some(token) = tokens.get(*pos) {
        *pos += 1;
        match token.as_str() {
            "::" => continue,
            "*" => {
                return out.push(UseLeaf {
                    path,
                    glob: true,
                    name: "*".into(),
                })
            }
            "{" => {
                while tokens.get(*pos).is_some_and(|t| t != "}") {
                    parse_use_tree(tokens, pos, path.clone(), out);
                    if tokens.get(*pos).is_some_and(|t| t == ",") {
                        *pos += 1;
                    }
                }
                *pos += 1;
                return;
            }
            _ => path.push(token.clone()),
        }
        if tokens.get(*pos).is_some_and(|t| t == "::") {
            continue;
        }
        if path.last().is_some_and(|s| s == "self") && path.len() > 1 {
            path.pop();
        }
        let mut name = path.last().cloned().unwrap_or_default();
        if tokens.get(*pos).is_some_and(|t| t == "as") {
            name = tokens.get(*pos + 1).cloned().unwrap_or_default();
            *pos += 2;
        }
        return out.push(UseLeaf {
            path,
            glob: false,
            name,
        });
    }
}

// ---- The crate's files and module tree -------------------------------------------------------

struct SourceFile {
    /// `src/web/error.rs`
    rel: String,
    /// `["web", "error"]`; `[]` for `src/lib.rs`.
    module: Vec<String>,
    /// Stripped, without `#[cfg(test)]` items.
    code: String,
    lines: Vec<String>,
    uses: Vec<UseDecl>,
}

/// Where an import edge was seen: its line and the line's text.
#[derive(Debug, Clone)]
struct Edge {
    line: usize,
    text: String,
}

struct Crate {
    files: Vec<SourceFile>,
    by_module: BTreeMap<Vec<String>, usize>,
    edges: BTreeMap<(usize, usize), Edge>,
}

/// The library's files (not `main.rs`, a crate of its own; not `tests.rs` or `tests/`).
fn library_files() -> Vec<SourceFile> {
    let mut raw = Vec::new();
    sources(&manifest().join("src"), &mut raw);
    let mut files: Vec<SourceFile> = raw
        .into_iter()
        .map(|(path, text)| (relative(&path), text))
        .filter(|(rel, _)| {
            let parts: Vec<&str> = rel.split('/').collect();
            rel != "src/main.rs"
                && !parts.contains(&"tests")
                && !rel.ends_with("/tests.rs")
                && !rel.ends_with("/testing.rs")
        })
        .map(|(rel, text)| {
            let code = without_test_items(&strip_comments_and_strings(&text));
            SourceFile {
                module: module_of(&rel),
                uses: use_decls(&code),
                lines: text.lines().map(str::to_string).collect(),
                rel,
                code,
            }
        })
        .collect();
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    files
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`; `src/lib.rs` is the crate root.
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_start_matches("src/")
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || (p == "lib" && parts.len() == 1))
    {
        parts.pop();
    }
    parts
}

impl Crate {
    fn load() -> Crate {
        let files = library_files();
        let by_module = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        let mut krate = Crate {
            files,
            by_module,
            edges: BTreeMap::new(),
        };
        for from in 0..krate.files.len() {
            for (to, line) in krate.imports_of(from) {
                let text = krate.files[from]
                    .lines
                    .get(line - 1)
                    .cloned()
                    .unwrap_or_default();
                krate.edges.entry((from, to)).or_insert(Edge {
                    line,
                    text: text.trim().into(),
                });
            }
        }
        krate
    }

    fn edges_from(&self, from: usize) -> impl Iterator<Item = ((usize, usize), &Edge)> + '_ {
        self.edges
            .range((from, 0)..(from + 1, 0))
            .map(|(k, e)| (*k, e))
    }

    /// The files that file `from` imports, each with a line where it does.
    fn imports_of(&self, from: usize) -> Vec<(usize, usize)> {
        let file = &self.files[from];
        let aliases = self.module_aliases(from);
        let mut found = Vec::new();
        let rest = without_uses(file);
        for decl in &file.uses {
            // A facade's re-export is no import of its own unless its code uses the name.
            let facade = self.is_facade_file(from) && decl.public;
            for leaf in decl
                .leaves
                .iter()
                .filter(|l| !facade || mentions(&rest, &l.name))
            {
                let Some((module, item)) = self.resolve(&file.module, &leaf.path, &aliases) else {
                    continue;
                };
                let facade = self.is_facade_file(self.by_module[&module]);
                if item.is_none() && !leaf.glob && facade {
                    continue; // `use crate::idp;`: the paths through it are the edges
                }
                if let Some(to) = self.target(&module, item.as_deref(), 0) {
                    found.push((to, decl.line));
                }
            }
        }
        for (path, line) in code_paths(&rest, &aliases, &self.children(&file.module)) {
            if let Some((module, item)) = self.resolve(&file.module, &path, &aliases) {
                if let Some(to) = self.target(&module, item.as_deref(), 0) {
                    found.push((to, line));
                }
            }
        }
        found.retain(|(to, _)| *to != from);
        found
    }

    /// Names that file `index` imports as crate modules (`use super::render;`), to their paths.
    fn module_aliases(&self, index: usize) -> BTreeMap<String, Vec<String>> {
        let file = &self.files[index];
        let none = BTreeMap::new();
        let mut aliases = BTreeMap::new();
        for leaf in file.uses.iter().flat_map(|d| &d.leaves).filter(|l| !l.glob) {
            if let Some((module, None)) = self.resolve(&file.module, &leaf.path, &none) {
                aliases.insert(leaf.name.clone(), module);
            }
        }
        aliases
    }

    fn children(&self, module: &[String]) -> BTreeSet<String> {
        self.by_module
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .filter_map(|m| m.last().cloned())
            .collect()
    }

    /// The deepest module file that `path`, seen from `current`, names, and the item named
    /// under it (if any); `None` for a path outside the crate.
    fn resolve(
        &self,
        current: &[String],
        path: &[String],
        aliases: &BTreeMap<String, Vec<String>>,
    ) -> Option<(Vec<String>, Option<String>)> {
        let first = path.first()?;
        let (mut module, mut rest) = match first.as_str() {
            "crate" | "$crate" => (Vec::new(), &path[1..]),
            "self" | "super" => (current.to_vec(), path),
            _ if self.by_module.contains_key(&[current, &path[..1]].concat()) => {
                (current.to_vec(), path)
            }
            _ => (aliases.get(first)?.clone(), &path[1..]),
        };
        while let Some(segment) = rest.first() {
            match segment.as_str() {
                "self" => {}
                "super" => {
                    module.pop()?;
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        for segment in rest {
            module.push(segment.clone());
            if !self.by_module.contains_key(&module) {
                let item = module.pop();
                return self
                    .by_module
                    .contains_key(&module)
                    .then_some((module, item));
            }
        }
        self.by_module
            .contains_key(&module)
            .then_some((module, None))
    }

    /// A `mod.rs` or `lib.rs`: a module that may only re-export its children's items.
    fn is_facade_file(&self, index: usize) -> bool {
        let rel = &self.files[index].rel;
        rel.ends_with("/mod.rs") || rel == "src/lib.rs"
    }

    /// The file that defines `item` of `module`: a re-export in a `mod.rs`/`lib.rs` is followed
    /// to the file it comes from; `None` if it comes from outside the crate.
    fn target(&self, module: &[String], item: Option<&str>, depth: usize) -> Option<usize> {
        let index = self.by_module[module];
        let Some(item) = item else { return Some(index) };
        if depth > 8 || !self.is_facade_file(index) {
            return Some(index);
        }
        let file = &self.files[index];
        let top_level = file
            .uses
            .iter()
            .filter(|d| d.top_level)
            .flat_map(|d| &d.leaves);
        if let Some(leaf) = top_level.clone().find(|l| !l.glob && l.name == item) {
            let (next, next_item) = self.resolve(module, &leaf.path, &BTreeMap::new())?;
            return self.target(&next, next_item.as_deref(), depth + 1);
        }
        if defines(&file.code, item) {
            return Some(index);
        }
        let globbed = top_level
            .filter(|l| l.glob)
            .filter_map(|l| self.resolve(module, &l.path, &BTreeMap::new()))
            .filter_map(|(m, i)| i.is_none().then_some(self.by_module[&m]))
            .find(|&i| defines(&self.files[i].code, item));
        Some(globbed.unwrap_or(index))
    }

    /// One cycle: its files and every edge between them, with an example line.
    fn describe(&self, component: &[usize]) -> String {
        let mut out = String::from("cycle:\n");
        for &i in component {
            out += &format!("    {}\n", self.files[i].rel);
        }
        out += "  edges:\n";
        for (&(from, to), edge) in &self.edges {
            if component.contains(&from) && component.contains(&to) {
                let text: String = edge.text.chars().take(100).collect();
                let (a, b) = (&self.files[from].rel, &self.files[to].rel);
                out += &format!("    {a}:{} -> {b} ({text})\n", edge.line);
            }
        }
        out
    }
}

/// Whether `code` defines `item` itself (not by a `use`).
fn defines(code: &str, item: &str) -> bool {
    let kinds = [
        "fn", "struct", "enum", "trait", "type", "const", "static", "union", "mod",
    ];
    let declared = |prefix: String| {
        code.match_indices(&prefix).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + prefix.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
    };
    kinds.iter().any(|k| declared(format!("{k} {item}")))
        || declared(format!("macro_rules! {item}"))
}

/// `file`'s code with its `use` declarations blanked.
fn without_uses(file: &SourceFile) -> Vec<char> {
    let mut c: Vec<char> = file.code.chars().collect();
    for decl in &file.uses {
        c[decl.span.0..decl.span.1]
            .iter_mut()
            .filter(|ch| **ch != '\n')
            .for_each(|ch| *ch = ' ');
    }
    c
}

/// Whether the identifier `name` occurs in `code`.
fn mentions(code: &[char], name: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    (0..code.len()).any(|i| {
        code[i..].starts_with(&name)
            && !(i > 0 && is_ident(code[i - 1]))
            && !code.get(i + name.len()).is_some_and(|&ch| is_ident(ch))
    })
}

/// Qualified paths in `c` (code without its `use` declarations): those starting with
/// `crate::`, `super::`, `self::`, a child module or a module the file imported.
fn code_paths(
    c: &[char],
    aliases: &BTreeMap<String, Vec<String>>,
    children: &BTreeSet<String>,
) -> Vec<(Vec<String>, usize)> {
    let starts = |word: &str| {
        matches!(word, "crate" | "$crate" | "super" | "self")
            || aliases.contains_key(word)
            || children.contains(word)
    };
    let (mut found, mut line, mut i) = (Vec::new(), 1, 0);
    while i < c.len() {
        if c[i] == '\n' {
            line += 1;
        }
        let boundary = i == 0 || !(is_ident(c[i - 1]) || matches!(c[i - 1], ':' | '.' | '$'));
        if !(boundary && (is_ident(c[i]) || c[i] == '$')) {
            i += 1;
            continue;
        }
        let (path, end) = path_at(c, i);
        if path.len() > 1 && starts(&path[0]) {
            found.push((path, line));
        }
        i = end.max(i + 1);
    }
    found
}

/// The `a::b::c` path starting at `i`, and where it ends.
fn path_at(c: &[char], i: usize) -> (Vec<String>, usize) {
    let (mut path, mut k) = (Vec::new(), i);
    loop {
        let start = k;
        if c.get(k) == Some(&'$') {
            k += 1;
        }
        while k < c.len() && is_ident(c[k]) {
            k += 1;
        }
        if k == start {
            break;
        }
        path.push(c[start..k].iter().collect::<String>());
        let more = c.get(k) == Some(&':') && c.get(k + 1) == Some(&':');
        if !(more && c.get(k + 2).is_some_and(|&ch| is_ident(ch))) {
            break;
        }
        k += 2;
    }
    (path, k)
}

// ---- Strongly connected components (Tarjan) --------------------------------------------------

struct Tarjan {
    next: BTreeMap<usize, Vec<usize>>,
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    components: Vec<Vec<usize>>,
}

fn strongly_connected(krate: &Crate) -> Vec<Vec<usize>> {
    let n = krate.files.len();
    let mut next: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(from, to) in krate.edges.keys() {
        next.entry(from).or_default().push(to);
    }
    let mut t = Tarjan {
        next,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.components
}

impl Tarjan {
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.counter);
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for w in self.next.get(&v).cloned().unwrap_or_default() {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            component.sort_unstable();
            self.components.push(component);
        }
    }
}
