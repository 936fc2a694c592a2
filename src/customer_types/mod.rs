//! Customer types (SPEC 4.1): permission sets from the customer-feature catalogue. One of them
//! is the default for new customers; a type in use cannot be deleted.

mod api;
mod customer_types_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use customer_types_page::{CustomerTypeEditorPage, CustomerTypesPage};

use crate::{
    error::FieldErrors,
    permissions::CustomerFeature,
    validation::{optional_long_text, required_text, Field, DESCRIPTION_MAX_CHARS},
};
use serde::{Deserialize, Serialize};

pub const TYPE_NAME_MAX_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerTypeView {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub features: Vec<CustomerFeature>,
    pub is_default: bool,
    pub customer_count: i64,
    /// The caller may change it: they manage types, and every customer of the type is in the
    /// companies they look after.
    pub editable: bool,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerTypeList {
    pub types: Vec<CustomerTypeView>,
    pub can_manage: bool,
}

#[derive(Debug)]
pub struct CustomerTypeInput {
    pub name: String,
    pub description: Option<String>,
    pub features: Vec<CustomerFeature>,
}

// The fields of the type form, each declared once for the browser and the server.
pub const NAME: Field<String> = Field::new("name", |raw| required_text(raw, "a name", TYPE_NAME_MAX_CHARS));
pub const DESCRIPTION: Field<Option<String>> = Field::new("description", |raw| optional_long_text(raw, DESCRIPTION_MAX_CHARS));
pub const FEATURES: &str = "features";

pub fn validate_customer_type(name: &str, description: &str, features: &[String]) -> Result<CustomerTypeInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = NAME.take(&mut errors, name);
    let description = DESCRIPTION.take(&mut errors, description);
    let mut chosen = Vec::new();
    for key in features {
        match CustomerFeature::from_key(key) {
            Some(feature) => chosen.push(feature),
            None => errors.add(FEATURES, "Choose permissions from the list."),
        }
    }
    chosen.sort();
    chosen.dedup();
    match (name, description) {
        (Some(name), Some(description)) if errors.is_empty() => Ok(CustomerTypeInput { name, description, features: chosen }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_takes_features_only_from_the_catalogue() {
        let ok = validate_customer_type("Installer plus", "", &["add_gateway".into(), "create_plant".into(), "add_gateway".into()]).unwrap();
        assert_eq!(ok.features, [CustomerFeature::CreatePlant, CustomerFeature::AddGateway]);
        assert!(validate_customer_type("X", "", &["fly".into()]).unwrap_err().get("features").is_some());
        assert!(validate_customer_type("", "", &[]).unwrap_err().get("name").is_some());
    }
}
