//! The files and folders of the out-of-line modules a file declares under
//! `#[cfg(test)]`, which the scan leaves out as rustc would not build them
//! into the application.

use std::path::{Path, PathBuf};

use syn::ext::IdentExt as _;
use syn::{Attribute, Item, Meta};

use super::is_cfg_test;

/// The files and folders of the out-of-line modules that `file` declares
/// under `#[cfg(test)]`, found as rustc finds them: `name.rs` and `name/`
/// next to a `mod.rs`, `lib.rs` or `main.rs`, under `<stem>/` for other
/// files, inline modules adding folders, and `#[path = "..."]` honoured.
pub(super) fn test_modules(file: &Path, ast: &syn::File, out: &mut Vec<PathBuf>) {
    let file_dir = file.parent().unwrap_or(Path::new(""));
    let mod_rs = matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("mod.rs" | "lib.rs" | "main.rs")
    );
    let dir = if mod_rs {
        file_dir.to_path_buf()
    } else {
        file_dir.join(file.file_stem().unwrap_or_default())
    };
    test_modules_in(&ast.items, file_dir, &dir, false, out);
}

fn test_modules_in(
    items: &[Item],
    file_dir: &Path,
    dir: &Path,
    inline: bool,
    out: &mut Vec<PathBuf>,
) {
    for item in items {
        let Item::Mod(m) = item else { continue };
        let name = m.ident.unraw().to_string();
        let test = is_cfg_test(&m.attrs);
        match &m.content {
            Some((_, items)) => {
                // The out-of-line children of an inline test module are
                // test-only too; they live in its folder.
                if test {
                    out.push(dir.join(&name));
                }
                test_modules_in(items, file_dir, &dir.join(&name), true, out);
            }
            None if test => match path_attr(&m.attrs) {
                Some(path) => {
                    // Relative to the file's folder at the top level, to
                    // the inline modules' folder inside them.
                    let target = if inline {
                        dir.join(path)
                    } else {
                        file_dir.join(path)
                    };
                    let children = if target.file_name().is_some_and(|n| n == "mod.rs") {
                        target.parent().map(Path::to_path_buf)
                    } else {
                        Some(target.with_extension(""))
                    };
                    out.push(target);
                    out.extend(children);
                }
                None => {
                    out.push(dir.join(format!("{name}.rs")));
                    out.push(dir.join(&name));
                }
            },
            None => {}
        }
    }
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}
