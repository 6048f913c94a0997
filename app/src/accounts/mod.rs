//! Accounts: signup, login, logout, the account page, password reset.

mod api;
mod pages;

pub use api::{current_user, AccountData};
pub use pages::{
    last_error, AccountPage, AddressFields, FieldMessage, ForgotPasswordPage, FormAlert, LoginPage,
    ResetPasswordPage, SignupPage,
};
