# syntax=docker/dockerfile:1
# Container images of both binaries, from one multi-stage file:
#   docker build --target api-server -t liveops/api-server:0.1.0 .
#   docker build --target operator   -t liveops/operator:0.1.0 .
# Queries are checked against the committed .sqlx/ data (SQLX_OFFLINE), so no
# database is needed at build time. The final images hold the binary only and
# run as the distroless `nonroot` user (65532), as the chart's Pod Security
# settings expect.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true CARGO_TERM_COLOR=never
COPY . .

FROM build AS build-api-server
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,id=liveops-target-api-server \
    cargo build --locked --release -p api-server \
    && install -D target/release/api-server /out/api-server

FROM build AS build-operator
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,id=liveops-target-operator \
    cargo build --locked --release -p operator \
    && install -D target/release/operator /out/operator

# glibc of bookworm matches the build image; cc-debian12 adds libgcc for unwinding.
FROM gcr.io/distroless/cc-debian12:nonroot AS api-server
COPY --from=build-api-server /out/api-server /usr/local/bin/api-server
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/api-server"]

FROM gcr.io/distroless/cc-debian12:nonroot AS operator
COPY --from=build-operator /out/operator /usr/local/bin/operator
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/operator"]
