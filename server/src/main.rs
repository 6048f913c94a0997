//! `server`: the Bazaar binary. Parses the command line and configuration, then hands off.

use clap::{Parser, Subcommand};
use server::{cli, config::Config, telemetry};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "server",
    version,
    about = "Bazaar: one binary for the whole store"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations, then serve the store (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo catalog (idempotent: safe to run again).
    Seed {
        /// Products per category (10 categories).
        #[arg(long, default_value_t = 24)]
        products_per_category: usize,
    },
    /// Create the first merchant (or promote an existing account) with the admin role.
    CreateAdmin {
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "Admin")]
        name: String,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => cli::serve(config).await,
        Command::Migrate => cli::migrate(&config).await,
        Command::Seed {
            products_per_category,
        } => cli::seed(&config, products_per_category).await,
        Command::CreateAdmin { email, name, .. } => cli::create_admin(&config, &email, &name).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "exiting with an error");
            ExitCode::FAILURE
        }
    }
}
