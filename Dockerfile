# syntax=docker/dockerfile:1.7
# Bazaar: one image, one binary, the built site beside it.
#   docker build -t bazaar .
# Stages: tools (cargo-chef, cargo-leptos, wasm-bindgen, wasm-opt) → planner (dependency
# recipe) → builder (cached dependencies, then `cargo leptos build --release` with
# SQLX_OFFLINE) → runtime (distroless, non-root, read-only friendly).

ARG RUST_VERSION=1.95
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN} AS tools
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-chef --version 0.1.73 --locked \
 && cargo install cargo-leptos --version 0.3.8 --locked \
 && cargo install wasm-bindgen-cli --version 0.2.130 \
 && npm install --global binaryen@132
WORKDIR /src

FROM tools AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM tools AS builder
ENV SQLX_OFFLINE=true \
    CARGO_PROFILE_RELEASE_DEBUG=0
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is reused until Cargo.lock or a manifest changes.
RUN cargo chef cook --release --recipe-path recipe.json \
 && cargo chef cook --profile wasm-release --target wasm32-unknown-unknown --recipe-path recipe.json -p frontend
COPY . .
RUN cargo leptos build --release --precompress \
 && mkdir -p /out \
 && cp target/release/server target/release/hash.txt /out/ \
 && cp -r target/site /out/site

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="bazaar" \
      org.opencontainers.image.description="Bazaar online store: storefront, admin and API in one binary" \
      org.opencontainers.image.source="https://github.com/bazaar-shop/bazaar" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
COPY --from=builder --chown=0:0 /out/server /out/hash.txt /app/
COPY --from=builder --chown=0:0 /out/site /app/site
# Nothing here is written at run time: media goes to MEDIA_STORE (S3 in production, or a
# mounted volume), so the root filesystem can be read-only.
ENV APP_ENV=production \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_ADDR=0.0.0.0:8080 \
    LEPTOS_HASH_FILES=true \
    LOG_FORMAT=json \
    RUST_LOG=info
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/app/server", "healthcheck", "--url", "http://127.0.0.1:8080/health"]
ENTRYPOINT ["/app/server"]
CMD ["serve"]
