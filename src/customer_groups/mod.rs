//! Customer groups (SPEC 4.5): the built-in "All" that every customer is in, and named groups a
//! customer may belong to any number of. Membership is edited from a customer's Groups tab and
//! by the list's bulk action.

mod api;
mod customer_groups_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use customer_groups_page::CustomerGroupsPage;

use crate::validation::{required_text, Field};
use serde::{Deserialize, Serialize};

pub const GROUP_NAME_MAX_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    pub member_count: i64,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupList {
    /// Every customer of the account: the members of "All".
    pub all_count: i64,
    pub groups: Vec<GroupView>,
    pub can_manage: bool,
}

/// A group's name: required, at most 60 characters, and not "All" (the built-in group).
pub const NAME: Field<String> = Field::new("name", |raw| {
    let name = required_text(raw, "a group name", GROUP_NAME_MAX_CHARS)?;
    if name.eq_ignore_ascii_case("all") {
        return Err("“All” is the built-in group of every customer; choose another name.".into());
    }
    Ok(name)
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_name_is_required_and_not_all() {
        assert_eq!(NAME.check(" Key accounts ").unwrap(), "Key accounts");
        assert!(NAME.check("").is_err());
        assert!(NAME.check("ALL").unwrap_err().contains("built-in"));
        assert!(NAME.check(&"g".repeat(GROUP_NAME_MAX_CHARS + 1)).is_err());
    }
}
