//! `server`: the Bazaar binary. Parses the command line and configuration, then hands off.

use clap::{Parser, Subcommand};
use server::{cli, config::Config, telemetry};
use std::process::ExitCode;

// Rendering a page allocates thousands of small strings; with glibc malloc that was over a
// third of the server's CPU on the product page (BENCHMARKS.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        /// Products per top-level category (10 departments; Electronics and Home & Kitchen
        /// file theirs under two subcategories each).
        #[arg(long, default_value_t = 24)]
        products_per_category: usize,
        /// Products in all, spread evenly over the 10 departments (rounded up to a multiple
        /// of 10): `--products 100000` builds a large catalog for load tests.
        #[arg(long, conflicts_with = "products_per_category")]
        products: Option<usize>,
    },
    /// Exit 0 when the server at `--url` answers 200 (the container's HEALTHCHECK; distroless
    /// images have no curl).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:3000/health")]
        url: String,
    },
    /// Print the OpenAPI document (the one `GET /api/openapi.json` serves) and exit.
    Openapi,
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
    if let Some(Command::Healthcheck { url }) = &cli.command {
        return match cli::healthcheck(url).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Openapi) = &cli.command {
        return match server::api::openapi::build().to_pretty_json() {
            Ok(doc) => {
                println!("{doc}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = telemetry::init(config.log_format, config.otel_endpoint.as_deref());
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => cli::serve(config).await,
        Command::Migrate => cli::migrate(&config).await,
        Command::Seed {
            products_per_category,
            products,
        } => {
            let per_category = products.map_or(products_per_category, |n| n.div_ceil(10));
            cli::seed(&config, per_category).await
        }
        Command::CreateAdmin { email, name, .. } => cli::create_admin(&config, &email, &name).await,
        Command::Healthcheck { .. } | Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "exiting with an error");
            ExitCode::FAILURE
        }
    }
}
