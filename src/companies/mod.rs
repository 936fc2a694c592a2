//! Companies (SPEC 3.1): the account's own company at the root, distributors and installers
//! below it to any depth. Create, rename, move (never under itself), delete (with what goes
//! named first). Every function works within the caller's scope (SPEC 2.4).

mod api;
mod companies_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use companies_page::CompaniesPage;

use crate::validation::{required_text, Field, NAME_MAX_CHARS};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompanyKind {
    Root,
    Distributor,
    Installer,
}

impl CompanyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CompanyKind::Root => "root",
            CompanyKind::Distributor => "distributor",
            CompanyKind::Installer => "installer",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [CompanyKind::Root, CompanyKind::Distributor, CompanyKind::Installer]
            .into_iter()
            .find(|k| k.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            CompanyKind::Root => "Your business",
            CompanyKind::Distributor => "Distributor",
            CompanyKind::Installer => "Installer",
        }
    }
}

/// A company in the tree as the caller sees it: `depth` counts from the top of their scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyNode {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: CompanyKind,
    pub depth: usize,
    pub user_count: i64,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyTree {
    /// Depth-first, siblings by name: the order the tree is drawn in.
    pub nodes: Vec<CompanyNode>,
    pub can_manage: bool,
}

impl CompanyTree {
    /// `id` and every company below it.
    pub fn subtree(&self, id: i64) -> Vec<&CompanyNode> {
        let Some(start) = self.nodes.iter().position(|n| n.id == id) else {
            return Vec::new();
        };
        let depth = self.nodes[start].depth;
        std::iter::once(&self.nodes[start])
            .chain(self.nodes[start + 1..].iter().take_while(|n| n.depth > depth))
            .collect()
    }
}

/// What deleting a company takes with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletionPreview {
    pub name: String,
    /// The companies that go, the company itself first.
    pub companies: Vec<String>,
    /// People who still belong to one of them; while there are any, nothing is deleted.
    pub users: i64,
    /// Customers one of them owns; while there are any, nothing is deleted either.
    pub customers: i64,
}

/// Orders companies depth first with siblings by name, from rows in any order.
pub fn arrange(rows: Vec<(i64, Option<i64>, String, CompanyKind, i64, i32)>, top: i64) -> Vec<CompanyNode> {
    fn visit(
        id: i64,
        depth: usize,
        rows: &[(i64, Option<i64>, String, CompanyKind, i64, i32)],
        out: &mut Vec<CompanyNode>,
    ) {
        let Some(row) = rows.iter().find(|r| r.0 == id) else { return };
        out.push(CompanyNode {
            id: row.0,
            parent_id: row.1,
            name: row.2.clone(),
            kind: row.3,
            depth,
            user_count: row.4,
            version: row.5,
        });
        let mut children: Vec<_> = rows.iter().filter(|r| r.1 == Some(id)).collect();
        children.sort_by_key(|r| (r.2.to_lowercase(), r.0));
        for child in children {
            visit(child.0, depth + 1, rows, out);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    visit(top, 0, &rows, &mut out);
    out
}

pub fn validate_company_name(name: &str) -> Result<String, String> {
    required_text(name, "a company name", NAME_MAX_CHARS)
}

/// Only distributors and installers can be created; the root exists once per account.
pub fn validate_new_kind(kind: &str) -> Result<CompanyKind, String> {
    match CompanyKind::parse(kind) {
        Some(kind @ (CompanyKind::Distributor | CompanyKind::Installer)) => Ok(kind),
        _ => Err("Choose Distributor or Installer.".into()),
    }
}

/// Why a company cannot be deleted yet, in words for the user.
pub fn blocked_deletion(preview: &DeletionPreview) -> String {
    let mut what = Vec::new();
    if preview.users > 0 {
        what.push(format!("{} {}", preview.users, if preview.users == 1 { "person" } else { "people" }));
    }
    if preview.customers > 0 {
        what.push(format!("{} {}", preview.customers, if preview.customers == 1 { "customer" } else { "customers" }));
    }
    format!(
        "{} cannot be deleted: {} still {} to it or to a company below it. Move or remove them first.",
        preview.name,
        what.join(" and "),
        if preview.users + preview.customers == 1 { "belongs" } else { "belong" }
    )
}

// The fields of the company dialogs, each declared once for the browser and the server.
pub const NAME: Field<String> = Field::new("name", validate_company_name);
pub const KIND: Field<CompanyKind> = Field::new("kind", validate_new_kind);
pub const PARENT: &str = "parent_id";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, parent: Option<i64>, name: &str) -> (i64, Option<i64>, String, CompanyKind, i64, i32) {
        (id, parent, name.into(), CompanyKind::Distributor, 0, 1)
    }

    #[test]
    fn the_tree_is_drawn_depth_first_with_siblings_by_name() {
        let rows = vec![row(5, Some(2), "zeta"), row(1, None, "Root"), row(2, Some(1), "Beta"), row(3, Some(1), "alpha"), row(4, Some(2), "Eta")];
        let nodes = arrange(rows, 1);
        let order: Vec<(i64, usize)> = nodes.iter().map(|n| (n.id, n.depth)).collect();
        assert_eq!(order, [(1, 0), (3, 1), (2, 1), (4, 2), (5, 2)]);
        let tree = CompanyTree { nodes, can_manage: true };
        assert_eq!(tree.subtree(2).iter().map(|n| n.id).collect::<Vec<_>>(), [2, 4, 5]);
        assert_eq!(tree.subtree(3).len(), 1);
    }

    #[test]
    fn a_scope_shows_only_its_own_branch() {
        let rows = vec![row(2, Some(1), "Branch"), row(4, Some(2), "Leaf")];
        let nodes = arrange(rows, 2);
        assert_eq!(nodes.iter().map(|n| (n.id, n.depth)).collect::<Vec<_>>(), [(2, 0), (4, 1)]);
    }

    #[test]
    fn only_distributors_and_installers_are_created() {
        assert_eq!(validate_new_kind("installer"), Ok(CompanyKind::Installer));
        assert!(validate_new_kind("root").is_err());
        assert!(validate_new_kind("").is_err());
        assert!(validate_company_name(" ").is_err());
    }
}
