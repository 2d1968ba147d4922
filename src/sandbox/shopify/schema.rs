//! The schema the simulated Admin API enforces: Shopify's real 2025-10 SDL (from a live
//! introspection), embedded and parsed once. A request is prepared in Shopify's order — parse,
//! validate, pick the operation, coerce variables — and refused the way Shopify refuses it:
//! HTTP 200, top-level `errors` with `message`, `locations`, `path` and `extensions.code`,
//! no `data`.
//!
//! The most common mistakes get graphql-ruby's exact wording and codes, checked on the syntax
//! tree first (`undefinedField`, `argumentNotAccepted`, `missingRequiredArguments`); they are
//! also where API versions differ (`orderCancel(refundMethod:)` exists from 2025-07, and
//! before it `refund` was required). Anything else apollo-compiler finds is reported with its
//! own message and the code `GRAPHQL_VALIDATION_FAILED`.

use std::collections::HashSet;
use std::sync::LazyLock;

use apollo_compiler::ast;
use apollo_compiler::parser::{LineColumn, Parser, SourceMap};
use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema};
use serde_json::{Value, json};

use super::Release;

const SDL: &str = include_str!("../../../tests/fixtures/platforms/shopify-admin-2025-10.graphql");

/// Limits on incoming documents, so a hostile one cannot exhaust the parser.
const RECURSION_LIMIT: usize = 64;
const TOKEN_LIMIT: usize = 50_000;

static SCHEMA: LazyLock<Result<Valid<Schema>, String>> = LazyLock::new(|| {
    Schema::parse_and_validate(SDL, "shopify-admin-2025-10.graphql")
        .map_err(|e| format!("the embedded Shopify schema does not load: {}", e.errors))
});

/// The parsed schema (parsed on first use; `ShopifySandbox::start` forces it).
pub fn schema() -> Result<&'static Valid<Schema>, String> {
    SCHEMA.as_ref().map_err(Clone::clone)
}

/// A request ready to execute.
pub struct Prepared {
    pub document: Valid<ExecutableDocument>,
    pub operation_name: Option<String>,
    pub variables: Valid<JsonMap>,
}

/// Prepares a request or answers Shopify's top-level errors for it.
pub fn prepare(
    schema: &Valid<Schema>,
    query: &str,
    operation_name: Option<&str>,
    variables: &JsonMap,
    release: Release,
) -> Result<Prepared, Vec<Value>> {
    let ast = Parser::new()
        .recursion_limit(RECURSION_LIMIT)
        .token_limit(TOKEN_LIMIT)
        .parse_ast(query, "query.graphql")
        .map_err(|e| {
            e.errors
                .iter()
                .map(|d| apollo_error(d.to_json(), "PARSE_ERROR"))
                .collect::<Vec<_>>()
        })?;
    let shopify_worded = ShopifyChecks::run(schema, &ast, release);
    if !shopify_worded.is_empty() {
        return Err(shopify_worded);
    }
    let document = ast.to_executable_validate(schema).map_err(|e| {
        e.errors
            .iter()
            .map(|d| apollo_error(d.to_json(), "GRAPHQL_VALIDATION_FAILED"))
            .collect::<Vec<_>>()
    })?;
    let operation = document
        .operations
        .get(operation_name)
        .map_err(|e| vec![json!({ "message": e.message().to_string(), "extensions": { "code": "OPERATION_NOT_FOUND" } })])?;
    let variables = coerce_variable_values(schema, operation, variables).map_err(|e| {
        let mut error = apollo_error(e.to_graphql_error(&document.sources), "INVALID_VARIABLE");
        error["message"] = json!(format!(
            "Variables were provided invalid values: {}",
            e.message()
        ));
        vec![error]
    })?;
    Ok(Prepared {
        operation_name: operation.name.as_ref().map(|n| n.to_string()),
        document,
        variables,
    })
}

fn apollo_error(error: apollo_compiler::response::GraphQLError, code: &str) -> Value {
    let mut value =
        serde_json::to_value(&error).unwrap_or_else(|_| json!({ "message": error.message }));
    value["extensions"] = json!({ "code": code });
    value
}

/// Version differences in the arguments of one field.
struct ArgumentRule {
    type_name: &'static str,
    field: &'static str,
    argument: &'static str,
}

/// Before 2025-07, `refundMethod` does not exist and `refund: Boolean!` is required.
const REFUND_METHOD: ArgumentRule = ArgumentRule {
    type_name: "Mutation",
    field: "orderCancel",
    argument: "refundMethod",
};
const REFUND: ArgumentRule = ArgumentRule {
    type_name: "Mutation",
    field: "orderCancel",
    argument: "refund",
};

/// The checks worded like graphql-ruby, on the syntax tree.
struct ShopifyChecks<'a> {
    schema: &'a Valid<Schema>,
    ast: &'a ast::Document,
    hidden: Vec<ArgumentRule>,
    required: Vec<ArgumentRule>,
    errors: Vec<Value>,
    visiting: HashSet<String>,
}

impl<'a> ShopifyChecks<'a> {
    fn run(schema: &'a Valid<Schema>, ast: &'a ast::Document, release: Release) -> Vec<Value> {
        let (hidden, required) = if release.has_cancel_refund_method() {
            (Vec::new(), Vec::new())
        } else {
            (vec![REFUND_METHOD], vec![REFUND])
        };
        let mut checks = ShopifyChecks {
            schema,
            ast,
            hidden,
            required,
            errors: Vec::new(),
            visiting: HashSet::new(),
        };
        for definition in &ast.definitions {
            if let ast::Definition::OperationDefinition(op) = definition {
                let Some(root) = schema.root_operation(op.operation_type) else {
                    continue;
                };
                // graphql-ruby's paths start with "query Name" / "mutation Name".
                let label = match &op.name {
                    Some(name) => format!("{} {name}", op.operation_type.name()),
                    None => op.operation_type.name().to_string(),
                };
                checks.selections(root.as_str(), &op.selection_set, &[label]);
            }
        }
        checks.errors
    }

    fn sources(&self) -> &SourceMap {
        &self.ast.sources
    }

    fn selections(&mut self, type_name: &str, selections: &[ast::Selection], path: &[String]) {
        for selection in selections {
            match selection {
                ast::Selection::Field(field) => self.field(type_name, field, path),
                ast::Selection::InlineFragment(inline) => {
                    let on = inline
                        .type_condition
                        .as_ref()
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| type_name.to_string());
                    self.selections(&on, &inline.selection_set, path);
                }
                ast::Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.to_string();
                    // A fragment spread inside itself is apollo's error to report.
                    if !self.visiting.insert(name.clone()) {
                        continue;
                    }
                    let fragment = self.ast.definitions.iter().find_map(|d| match d {
                        ast::Definition::FragmentDefinition(f)
                            if f.name == spread.fragment_name =>
                        {
                            Some(f)
                        }
                        _ => None,
                    });
                    if let Some(fragment) = fragment {
                        self.selections(
                            fragment.type_condition.as_str(),
                            &fragment.selection_set,
                            path,
                        );
                    }
                    self.visiting.remove(&name);
                }
            }
        }
    }

    fn field(&mut self, type_name: &str, field: &Node<ast::Field>, path: &[String]) {
        if field.name.starts_with("__") {
            return;
        }
        let mut here = path.to_vec();
        here.push(field.name.to_string());
        let at = locations(field, self.sources());
        let Ok(definition) = self.schema.type_field(type_name, &field.name) else {
            // Unknown parent types are apollo's to report; unknown fields are worded like Shopify.
            if self.schema.types.contains_key(type_name) {
                self.errors.push(json!({
                    "message": format!("Field '{}' doesn't exist on type '{type_name}'", field.name),
                    "locations": at, "path": here,
                    "extensions": { "code": "undefinedField", "typeName": type_name, "fieldName": field.name.as_str() },
                }));
            }
            return;
        };
        let hidden = |argument: &str| {
            self.hidden.iter().any(|r| {
                r.type_name == type_name && r.field == field.name.as_str() && r.argument == argument
            })
        };
        for argument in &field.arguments {
            let known = definition.arguments.iter().any(|a| a.name == argument.name);
            if !known || hidden(argument.name.as_str()) {
                let mut arg_path = here.clone();
                arg_path.push(argument.name.to_string());
                self.errors.push(json!({
                    "message": format!("Field '{}' doesn't accept argument '{}'", field.name, argument.name),
                    "locations": locations(argument, self.sources()), "path": arg_path,
                    "extensions": { "code": "argumentNotAccepted", "name": field.name.as_str(),
                        "typeName": "Field", "argumentName": argument.name.as_str() },
                }));
            }
        }
        let missing: Vec<&str> = self
            .required
            .iter()
            .filter(|r| r.type_name == type_name && r.field == field.name.as_str())
            .filter(|r| !field.arguments.iter().any(|a| a.name == r.argument))
            .map(|r| r.argument)
            .collect();
        if !missing.is_empty() {
            self.errors.push(json!({
                "message": format!("Field '{}' is missing required arguments: {}", field.name, missing.join(", ")),
                "locations": at, "path": here,
                "extensions": { "code": "missingRequiredArguments", "className": "Field",
                    "name": field.name.as_str(), "arguments": missing.join(", ") },
            }));
        }
        let inner = definition.ty.inner_named_type().to_string();
        self.selections(&inner, &field.selection_set, &here);
    }
}

fn locations<T>(node: &Node<T>, sources: &SourceMap) -> Value {
    match node.line_column_range(sources) {
        Some(range) => {
            let LineColumn { line, column } = range.start;
            json!([{ "line": line, "column": column }])
        }
        None => json!([]),
    }
}
