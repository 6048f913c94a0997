//! Accounts: signup, login, logout, the account page, password reset.

mod api;
mod pages;

pub use api::AccountData;
pub use pages::{
    last_error, AccountPage, AddressFields, FieldMessage, ForgotPasswordPage, FormAlert, LoginPage,
    ResetPasswordPage, SignupPage,
};
