# Bazaar: one image, one binary, the built site beside it.
#   docker build -t bazaar .      on a machine that reaches Docker Hub and gcr.io
#   ./scripts/images.sh           offline: builds local stand-ins for both base images first
#                                 and passes them as RUST_IMAGE and RUNTIME_IMAGE
# Stages: tools (cargo-chef, cargo-leptos, wasm-bindgen, wasm-opt; unchanged by the source)
# → planner (the dependency recipe) → builder (dependencies cooked in their own layer, then
# `cargo leptos build --release` with SQLX_OFFLINE) → runtime (distroless, non-root,
# read-only ready). Works with the classic builder: no BuildKit-only syntax.

ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# checkov cannot resolve a build argument; both defaults above are pinned tags.
# checkov:skip=CKV_DOCKER_7:the base images are build arguments with pinned defaults
FROM ${RUST_IMAGE} AS tools
ARG CARGO_CHEF_VERSION=0.1.73
ARG CARGO_LEPTOS_VERSION=0.3.8
ARG WASM_BINDGEN_VERSION=0.2.130
ARG BINARYEN_VERSION=132
# with-ca.sh and tools.sh, plus ca/extra.crt when the build was handed a CA bundle. Only the
# build stages see it: the runtime stage takes nothing from them but the built files.
COPY docker/build/ /usr/local/share/bazaar-build/
RUN /usr/local/share/bazaar-build/with-ca.sh /usr/local/share/bazaar-build/tools.sh
WORKDIR /src

FROM tools AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM tools AS builder
# What cargo-leptos sets for this project's release build: its LEPTOS_* settings here, and
# RUSTFLAGS="--cfg erase_components" (always-erase-components) on the cook commands only,
# since cargo-leptos appends its flag to any RUSTFLAGS it finds. Cooking with the very same
# flags, and the frontend into cargo-leptos's own target/front, is what lets the last step
# reuse the cooked dependencies instead of compiling them again.
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never \
    LEPTOS_OUTPUT_NAME=bazaar \
    LEPTOS_SITE_ROOT=target/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:3000 \
    LEPTOS_RELOAD_PORT=3001 \
    LEPTOS_LIB_DIR=frontend \
    LEPTOS_BIN_DIR=server \
    LEPTOS_JS_MINIFY=true \
    LEPTOS_HASH_FILES=true \
    LEPTOS_HASH_FILE_NAME=hash.txt
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is reused until Cargo.lock or a manifest changes.
RUN RUSTFLAGS="--cfg erase_components" /usr/local/share/bazaar-build/with-ca.sh \
      cargo chef cook --release --recipe-path recipe.json --package server --bin server --no-default-features \
 && RUSTFLAGS="--cfg erase_components" /usr/local/share/bazaar-build/with-ca.sh \
      cargo chef cook --profile wasm-release --target wasm32-unknown-unknown --target-dir target/front \
      --recipe-path recipe.json --package frontend --no-default-features
COPY . .
# cargo-leptos asks `cargo metadata`, which fetches the crates of every platform.
RUN /usr/local/share/bazaar-build/with-ca.sh cargo leptos build --release --precompress \
 && mkdir -p /out \
 && cp target/release/server target/release/hash.txt /out/ \
 && strip --strip-unneeded /out/server \
 && cp -r target/site /out/site

FROM ${RUNTIME_IMAGE} AS runtime
LABEL org.opencontainers.image.title="bazaar" \
      org.opencontainers.image.description="Bazaar online store: storefront, admin and API in one binary" \
      org.opencontainers.image.source="https://github.com/bazaar-shop/bazaar" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
COPY --from=builder --chown=0:0 /out/server /out/hash.txt /app/
COPY --from=builder --chown=0:0 /out/site /app/site
# Nothing here is written at run time: media goes to MEDIA_STORE (S3 in production, or a
# mounted volume), so the root filesystem can be read-only.
# MIMALLOC_PURGE_DELAY=-1: the allocator keeps the pages it frees; returning them to the OS
# every second put the page p99 at 40-70 ms under load (BENCHMARKS.md, "The allocator").
ENV APP_ENV=production \
    MIMALLOC_PURGE_DELAY=-1 \
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
